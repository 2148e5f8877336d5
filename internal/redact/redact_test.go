package redact

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverFormats(t *testing.T) {
	s := Secret("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789")
	type wrap struct {
		Key Secret
		P   *Secret
	}
	w := wrap{Key: s, P: &s}
	js, _ := json.Marshal(w)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, w, w, s, s), string(js)} {
		if strings.Contains(out, s.Reveal()) {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789" {
		t.Fatal("Reveal changed the value")
	}
}

// Mask must match OpenClaw's maskApiKey so evidence lines up with
// `openclaw models status` output.
func TestMaskLikeOpenClaw(t *testing.T) {
	for in, want := range map[string]string{
		"sk-ant-api03-WCjHjV6orawMCh1aighFMCKT4UAKKX2baro1yj9l6sast-PfnYEHH4HXNqz9dvxDr3SvlGHdhg-xG13D1A3dBY-1pXanXJBAA": "sk-ant-a...XanXJBAA",
		"garbage-key-123": "ga...23",
		"abcdef":          "a...f",
		"":                "",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrubber(t *testing.T) {
	sc := NewScrubber("my-slack-signing-secret", "abc")
	in := "post to https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage failed; " +
		"key sk-ant-api03-XXXXXXXXXXXXXXXX, xoxb-1234-5678-abcdef, xapp-1-A0-123, secret my-slack-signing-secret, abc stays"
	out := sc.String(in)
	for _, leak := range []string{"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "sk-ant-api03-XXXX", "xoxb-1234", "xapp-1-A0", "my-slack-signing-secret"} {
		if strings.Contains(out, leak) {
			t.Errorf("leaked %q in %q", leak, out)
		}
	}
	if !strings.Contains(out, "abc stays") {
		t.Errorf("short values must not be scrubbed: %q", out)
	}
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint("x1"), Fingerprint("x2")
	if a == b || !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+12 || Fingerprint("") != "" {
		t.Fatalf("fingerprints %q %q", a, b)
	}
}
