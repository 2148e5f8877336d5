package fleet

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"

	slackbot "github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/bot/telegram"
	"github.com/openclaw-bot/openclaw-bot/store"
)

type botMessage = bot.Message

var update = flag.Bool("update", false, "rewrite testdata/golden")

// The instance.silent alert and its resolved edit as Slack and Telegram
// render them: golden files (go test ./fleet -run TestGolden -update).
func TestGolden(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	in := store.Instance{Name: "host-b", Host: "web-b.example", PID: 4242, Heartbeat: now.Add(-35 * time.Second),
		Targets: []string{"web-3", "web-4"}}
	alert := silentMessage(in, now, 10*time.Second, "instance:host-b:1796526000000")
	in.SilentSince, in.SilentRef = now, alert.Ref
	resolved := resolvedMessage(in, now.Add(7*time.Minute))
	if alert.Ref != resolved.Ref {
		t.Fatalf("the resolved notice edits %q, the alert is %q", resolved.Ref, alert.Ref)
	}
	for _, tc := range []struct {
		name string
		got  []byte
	}{
		{"silent.slack.json", slackJSON(t, alert, now)},
		{"resolved.slack.json", slackJSON(t, resolved, now.Add(7*time.Minute))},
		{"silent.telegram.html", telegramHTML(alert, now)},
		{"resolved.telegram.html", telegramHTML(resolved, now.Add(7*time.Minute))},
	} {
		path := filepath.Join("testdata", "golden", tc.name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./fleet -run TestGolden -update)", err)
		}
		if !bytes.Equal(tc.got, want) {
			t.Errorf("%s differs from the golden file\n--- got ---\n%s", path, tc.got)
		}
	}
	if err := telegram.Validate(alert); err != nil {
		t.Errorf("Telegram refuses the alert: %v", err)
	}
}

func slackJSON(t *testing.T, msg botMessage, now time.Time) []byte {
	t.Helper()
	text, blocks := slackbot.RenderAt(msg, now)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Text   string          `json:"text"`
		Blocks []goslack.Block `json:"blocks"`
	}{text, blocks}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func telegramHTML(msg botMessage, now time.Time) []byte {
	text, kb := telegram.Render(msg, time.UTC, now)
	out := text + "\n"
	if kb != nil {
		b, _ := json.Marshal(kb)
		out += string(b) + "\n"
	}
	return []byte(out)
}
