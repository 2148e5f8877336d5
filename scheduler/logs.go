package scheduler

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

const (
	defaultLogDir        = "/tmp/openclaw"
	logEventTTL          = 15 * time.Minute
	maxLogLine           = 64 << 10
	defaultLogPollPeriod = 500 * time.Millisecond
)

// logPatterns map exact OpenClaw 2026.9.6 texts (OPENCLAW.md §8) to codes.
var logPatterns = []struct {
	needle, code, title string
}{
	{`No API key found for provider "anthropic"`, diagnostics.CodeLogNoAPIKey, "OpenClaw found no Anthropic credential for a request"},
	{`OAuth token refresh failed for anthropic`, diagnostics.CodeLogOAuthRefresh, "OpenClaw could not refresh an Anthropic OAuth login"},
	{`authentication failed, HTTP 401`, diagnostics.CodeLogAuthRejected, "Anthropic rejected OpenClaw's credential (HTTP 401)"},
	{`401 authentication_error`, diagnostics.CodeLogAuthRejected, "Anthropic rejected OpenClaw's credential (HTTP 401)"},
}

// LogEvent is one matching log line.
type LogEvent struct {
	At    time.Time
	Code  string
	Title string
	Line  string // scrubbed, truncated
}

// LogFollower tails OpenClaw's JSON log (/tmp/openclaw/openclaw-YYYY-MM-DD.log),
// following the daily file, from its end: old lines are not replayed.
type LogFollower struct {
	Dir   string        // default /tmp/openclaw
	Every time.Duration // poll period, default 500ms
	Now   func() time.Time

	mu     sync.Mutex
	events map[string]LogEvent // by code: the latest
}

// Run follows the log until ctx ends.
func (f *LogFollower) Run(ctx context.Context) {
	if f.Dir == "" {
		f.Dir = defaultLogDir
	}
	if f.Every <= 0 {
		f.Every = defaultLogPollPeriod
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	var (
		path   string
		offset int64
		ino    uint64
	)
	tick := time.NewTicker(f.Every)
	defer tick.Stop()
	for {
		p := filepath.Join(f.Dir, "openclaw-"+f.Now().Format("2006-01-02")+".log")
		fi, err := os.Stat(p)
		switch {
		case err != nil:
		case p != path || inode(fi) != ino || fi.Size() < offset:
			first := path == ""
			path, ino = p, inode(fi)
			offset = 0
			if first { // start at the end: do not replay history
				offset = fi.Size()
			}
		}
		if err == nil && fi.Size() > offset {
			offset = f.read(path, offset)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (f *LogFollower) read(path string, offset int64) int64 {
	fh, err := os.Open(path)
	if err != nil {
		return offset
	}
	defer fh.Close()
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return offset
	}
	r := bufio.NewReaderSize(fh, maxLogLine)
	for {
		line, err := r.ReadString('\n')
		if err != nil { // partial last line: read it again next time
			return offset
		}
		offset += int64(len(line))
		f.Feed(line)
	}
}

// Feed matches one log line (exported for tests and for logs.tail over the
// gateway).
func (f *LogFollower) Feed(line string) {
	msg := line
	var obj map[string]any
	if json.Unmarshal([]byte(line), &obj) == nil {
		var parts []string
		for _, k := range sortedMapKeys(obj) {
			if s, ok := obj[k].(string); ok {
				parts = append(parts, s)
			}
		}
		msg = strings.Join(parts, " ")
	}
	for _, p := range logPatterns {
		if !strings.Contains(msg, p.needle) {
			continue
		}
		now := time.Now()
		if f.Now != nil {
			now = f.Now()
		}
		short := text.Truncate(redact.String(strings.TrimSpace(msg)), 301)
		f.mu.Lock()
		if f.events == nil {
			f.events = map[string]LogEvent{}
		}
		f.events[p.code] = LogEvent{At: now, Code: p.code, Title: p.title, Line: short}
		f.mu.Unlock()
		return
	}
}

// Findings returns the log-derived findings still within their TTL.
func (f *LogFollower) Findings(now time.Time) []diagnostics.Finding {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []diagnostics.Finding
	for _, code := range sortedMapKeys(f.events) {
		e := f.events[code]
		if now.Sub(e.At) > logEventTTL {
			continue
		}
		out = append(out, diagnostics.Finding{
			Code: e.Code, Severity: diagnostics.Critical, Subject: "anthropic",
			Title:    e.Title + " (seen in OpenClaw's log " + e.At.UTC().Format(time.RFC3339) + ")",
			Evidence: e.Line,
			Remedy: []string{
				"Run `openclaw-bot diagnose --probe` on the install: it shows which credential is in use and whether Anthropic accepts it.",
				"Keys that come only from the environment never get a cooldown: OpenClaw keeps sending a rejected env key; replace it where it is set and restart the gateway.",
			},
		})
	}
	return out
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
