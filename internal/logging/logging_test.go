package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
