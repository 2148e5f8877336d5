// Package logging builds the bot's zerolog logger: JSON by default, console
// when the output is a terminal, and every byte passed through the secret
// scrubber as the last line of defence.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// New returns a logger writing to w. level is debug|info|warn|error
// (default info); format is auto|json|console.
func New(w io.Writer, level, format string, scrub *redact.Scrubber) (zerolog.Logger, error) {
	l, _, err := NewLeveled(w, level, format, scrub)
	return l, err
}

// NewLeveled is New plus the handle that changes the level of the running
// logger (a config reload).
func NewLeveled(w io.Writer, level, format string, scrub *redact.Scrubber) (zerolog.Logger, *Level, error) {
	lv := &Level{}
	if err := lv.Set(level); err != nil {
		return zerolog.Nop(), nil, err
	}
	out := io.Writer(&scrubWriter{w: w, s: scrub})
	switch format {
	case "", "auto":
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339}
		}
	case "console":
		out = zerolog.ConsoleWriter{Out: out, NoColor: true, TimeFormat: time.RFC3339}
	case "json":
	default:
		return zerolog.Nop(), nil, fmt.Errorf("log.format %q: use auto, json or console", format)
	}
	// The logger passes everything; the writer drops what is below the
	// current level, so a reload can change it.
	lw := &levelWriter{w: out, min: lv}
	return zerolog.New(lw).Level(zerolog.TraceLevel).With().Timestamp().Str("svc", "openclaw-bot").Logger(), lv, nil
}

// Level is the running logger's level; safe for concurrent use.
type Level struct{ v atomic.Int32 }

// Set changes the level: trace|debug|info|warn|error ("" = info).
func (l *Level) Set(level string) error {
	if strings.TrimSpace(level) == "" {
		level = "info" // zerolog parses "" as NoLevel, which logs nothing useful
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl < zerolog.TraceLevel || lvl > zerolog.ErrorLevel {
		return fmt.Errorf("log.level %q: use trace, debug, info, warn or error", level)
	}
	l.v.Store(int32(lvl))
	return nil
}

// Get is the current level.
func (l *Level) Get() zerolog.Level { return zerolog.Level(l.v.Load()) }

// levelWriter writes only events at or above the current level.
type levelWriter struct {
	w   io.Writer
	min *Level
}

func (l *levelWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

func (l *levelWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	if level < l.min.Get() {
		return len(p), nil
	}
	return l.w.Write(p)
}

// scrubWriter removes secrets from every write. It reports len(p) so
// zerolog never sees a short write.
type scrubWriter struct {
	w io.Writer
	s *redact.Scrubber
}

func (s *scrubWriter) Write(p []byte) (int, error) {
	_, err := io.WriteString(s.w, s.s.String(string(p)))
	return len(p), err
}
