package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

func TestLoggerScrubsSecrets(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		var buf bytes.Buffer
		l, err := New(&buf, "", format, redact.NewScrubber("my-configured-signing-secret"))
		if err != nil {
			t.Fatal(err)
		}
		l.Info().Str("key", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA").Stringer("secret", redact.Secret("xoxb-111-222-abc")).
			Err(errors.New(`Post "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage": EOF`)).
			Msg("using my-configured-signing-secret")
		out := buf.String()
		for _, leak := range []string{"sk-ant-api03-AAAA", "xoxb-111", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "my-configured-signing-secret"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: leaked %q: %s", format, leak, out)
			}
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s: nothing redacted? %s", format, out)
		}
	}
	if _, err := New(&bytes.Buffer{}, "verbose", "json", nil); err == nil {
		t.Error("bad level accepted")
	}
}

// The level of a running logger changes (a config reload); bad levels are
// refused and leave it as it was.
func TestLevelChanges(t *testing.T) {
	var buf strings.Builder
	log, lv, err := NewLeveled(&buf, "warn", "json", redact.NewScrubber())
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("hidden")
	log.Warn().Msg("shown-1")
	if err := lv.Set("debug"); err != nil {
		t.Fatal(err)
	}
	log.Debug().Msg("shown-2")
	log.Trace().Msg("hidden-trace")
	if err := lv.Set("loud"); err == nil || lv.Get() != zerolog.DebugLevel {
		t.Errorf("Set(loud) = %v, level %s", err, lv.Get())
	}
	out := buf.String()
	for _, want := range []string{"shown-1", "shown-2"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
	for _, not := range []string{"hidden"} {
		if strings.Contains(out, not) {
			t.Errorf("%s logged below the level: %s", not, out)
		}
	}
}
