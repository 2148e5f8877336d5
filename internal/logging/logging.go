// Package logging builds the bot's zerolog logger: JSON by default, console
// when the output is a terminal, and every byte passed through the secret
// scrubber as the last line of defence.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// New returns a logger writing to w. level is debug|info|warn|error
// (default info); format is auto|json|console.
func New(w io.Writer, level, format string, scrub *redact.Scrubber) (zerolog.Logger, error) {
	if strings.TrimSpace(level) == "" {
		level = "info" // zerolog parses "" as NoLevel, which logs nothing useful
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("log.level %q: use debug, info, warn or error", level)
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
		return zerolog.Nop(), fmt.Errorf("log.format %q: use auto, json or console", format)
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Str("svc", "openclaw-bot").Logger(), nil
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
