package router

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// FuzzParse: the parser never panics; what it accepts prints back to the
// same command; what it refuses has a bounded message and says why.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"status", "cooldown reset all prod", "silence 1d12h prod a:b x.y", "help /cooldown_reset@bot", "doctor fix anthropic:oauth prod"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text, testTargets)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("Parse(%q): %v is not a *ParseError with a message", text, err)
			}
			if len(pe.Error()) > 600 {
				t.Fatalf("Parse(%q): error of %d bytes", text, len(pe.Error()))
			}
			return
		}
		if _, ok := SpecOf(cmd.Name); !ok {
			t.Fatalf("Parse(%q) = unknown command %q", text, cmd.Name)
		}
		again, err := Parse(cmd.String(), testTargets)
		if err != nil || again != cmd {
			t.Fatalf("Parse(%q) = %+v; its form %q parses to %+v, %v", text, cmd, cmd.String(), again, err)
		}
		if cmd.Duration < 0 || cmd.Duration > MaxSilence {
			t.Fatalf("Parse(%q): duration %v", text, cmd.Duration)
		}
	})
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The log gets one line per command and never a secret: not from pasted
// text, diagnoser errors, action errors or panics.
func TestLogsNoSecrets(t *testing.T) {
	fresh := "sk-ant-api03-LOGGEDxPASTEDxKEYx0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-0123456789AA"
	var buf syncBuf
	log := zerolog.New(&buf)
	e := newEnv(t, noLimit, func(o *Options) { o.Log = &log })
	e.diag.targets = append(e.diag.targets, "broken", "boom")
	e.act.fail = errors.New("failed with " + keyProd)
	w := slackIn(uAdmin, chAlert)
	for _, text := range []string{"status prod", "status broken", "status boom", "cooldown reset " + fresh, "statsu " + tgToken,
		"diagnose prod", "restart prod"} {
		e.handle(w, text)
	}
	ok, _ := buttons(t, e.handle(w, "restart prod"))
	e.press(w, ok)
	out := buf.String()
	if n := strings.Count(out, `"message":"chat command"`); n != 9 {
		t.Fatalf("%d command log lines, want 9:\n%s", n, out)
	}
	for _, s := range append([]string{fresh}, fakeSecrets...) {
		if strings.Contains(out, s[:24]) || strings.Contains(out, s[len(s)-16:]) {
			t.Fatalf("log leaks %s…:\n%s", s[:10], out)
		}
	}
	if redact.String(out) != out {
		t.Fatalf("log holds something credential-shaped:\n%s", out)
	}
}
