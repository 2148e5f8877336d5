package telegram

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

func TestParseCommand(t *testing.T) {
	const me = "thebot"
	for _, tc := range []struct {
		text, bot, want string
		ok              bool
	}{
		{"/status", me, "status", true},
		{"/status@thebot", me, "status", true},
		{"/status@TheBot", me, "status", true},
		{"/status@thebot", "@thebot", "status", true},
		{"/STATUS", me, "status", true},
		{"/status all", me, "status all", true},
		{"/status   local \n  anthropic:x ", me, "status local anthropic:x", true},
		{"/status\nlocal", me, "status local", true},
		{"/openclaw status", me, "status", true},
		{"/openclaw", me, "help", true},
		{"/openclaw   ", me, "help", true},
		{"/openclaw@thebot cooldown reset anthropic:default", me, "cooldown reset anthropic:default", true},
		{"/openclaw cooldown_reset anthropic:default", me, "cooldown reset anthropic:default", true},
		{"/openclaw probe_spend", me, "probe --spend", true},
		{"/openclaw probe --spend", me, "probe --spend", true},
		{"/openclaw ___ doctor_fix", me, "doctor fix", true},
		{"/openclaw Status", me, "Status", true},
		{"/cooldown_reset anthropic:default", me, "cooldown reset anthropic:default", true},
		{"/cooldown_reset@thebot anthropic:default", me, "cooldown reset anthropic:default", true},
		{"/cooldown reset all", me, "cooldown reset all", true},
		{"/doctor_fix", me, "doctor fix", true},
		{"/doctor", me, "doctor", true},
		{"/probe_spend", me, "probe --spend", true},
		{"/probe --spend", me, "probe --spend", true},
		{"/undo 42", me, "undo 42", true},
		{"/start", me, "help", true},
		{"/whoami", me, "whoami", true},
		{"/silence local 1h", me, "silence local 1h", true},
		// Addressed to this bot: unknown commands go through (the handler
		// answers "unknown command").
		{"/weather@thebot", me, "weather", true},
		{"/foo_bar@thebot x", me, "foo bar x", true},
		// Not for us.
		{"/status@otherbot", me, "", false},
		{"/openclaw@otherbot status", me, "", false},
		{"/cooldown_reset@otherbot x", me, "", false},
		{"/status@", me, "", false},
		{"/status@thebot@x", me, "", false},
		{"/weather", me, "", false},
		{"status", me, "", false},
		{"hello /status", me, "", false},
		{" /status", me, "", false},
		{"", me, "", false},
		{"/", me, "", false},
		{"/ status", me, "", false},
		{"/___", me, "", false},
		{"/stätus", me, "", false},
		{"/" + strings.Repeat("a", 33), me, "", false},
		{"/status-all", me, "", false},
		// Unknown bot name: addressed commands are not checked.
		{"/status@anybot", "", "status", true},
	} {
		got, ok := ParseCommand(tc.text, tc.bot, testMenu)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCommand(%q, %q) = %q, %v; want %q, %v", tc.text, tc.bot, got, ok, tc.want, tc.ok)
		}
	}
}

// testMenu stands for the router's registry (the handler's Commands);
// bot/router TestTelegramMenu checks the real one the same way.
var testMenu = func() []bot.CommandInfo {
	var out []bot.CommandInfo
	for _, n := range []string{"status", "diagnose", "cooldowns", "silences", "whoami", "help", "check", "silence", "unsilence",
		"ack", "doctor", "cooldown reset", "undo", "audit", "restart", "doctor fix", "probe --spend"} {
		tg := strings.ReplaceAll(strings.ReplaceAll(n, "--", ""), " ", "_")
		out = append(out, bot.CommandInfo{Name: n, Telegram: tg, Description: "The " + n + " command"})
	}
	return out
}()

// Every command of the menu parses to the grammar it stands for, and its
// name is valid for setMyCommands.
func TestCommandsMenu(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	want := map[string]string{
		"cooldown_reset": "cooldown reset", "doctor_fix": "doctor fix", "probe_spend": "probe --spend",
		"openclaw": "help",
	}
	seen := map[string]bool{}
	for _, c := range newMenu(testMenu).list {
		if !nameRE.MatchString(c.Command) || seen[c.Command] {
			t.Errorf("invalid or duplicate command %q", c.Command)
		}
		seen[c.Command] = true
		if n := len([]rune(c.Description)); n < 3 || n > 256 {
			t.Errorf("%s: description length %d", c.Command, n)
		}
		g, ok := ParseCommand("/"+c.Command, "thebot", testMenu)
		w := want[c.Command]
		if w == "" {
			w = c.Command
		}
		if !ok || g != w {
			t.Errorf("/%s → %q, %v; want %q", c.Command, g, ok, w)
		}
	}
	for _, c := range []string{"status", "diagnose", "cooldowns", "silences", "help", "whoami", "check", "silence",
		"unsilence", "ack", "cooldown_reset", "undo", "audit", "restart", "doctor_fix", "probe_spend", "doctor"} {
		if !seen[c] {
			t.Errorf("contract command %q missing from the menu", c)
		}
	}
}

var botNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

func FuzzParseCommand(f *testing.F) {
	for _, s := range [][2]string{
		{"/status", "thebot"},
		{"/openclaw@thebot cooldown reset anthropic:default", "thebot"},
		{"/cooldown_reset anthropic:default", "thebot"},
		{"/status@otherbot", "thebot"},
		{"/probe_spend", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, botName string) {
		g, ok := ParseCommand(text, botName, testMenu)
		if !ok {
			if g != "" {
				t.Fatalf("not ok but grammar %q", g)
			}
			return
		}
		if !strings.HasPrefix(text, "/") {
			t.Fatalf("%q accepted without a leading /", text)
		}
		if g == "" || g != strings.Join(strings.Fields(g), " ") {
			t.Fatalf("grammar %q is not normalised", g)
		}
		// The grammar is a fixed point of the /openclaw form.
		if g2, ok2 := ParseCommand("/openclaw "+g, botName, testMenu); !ok2 || g2 != g {
			t.Fatalf("/openclaw %q → %q, %v; want %q", g, g2, ok2, g)
		}
		name := strings.TrimPrefix(strings.TrimSpace(botName), "@")
		if botNameRE.MatchString(name) {
			if g2, ok2 := ParseCommand("/openclaw@"+name+" "+g, botName, testMenu); !ok2 || g2 != g {
				t.Fatalf("/openclaw@%s %q → %q, %v", name, g, g2, ok2)
			}
			// A command addressed to another bot is never accepted.
			tok := text
			if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
				tok = text[:i]
			}
			if _, at, found := strings.Cut(tok, "@"); found && !strings.EqualFold(at, name) {
				t.Fatalf("%q accepted for bot %q", text, botName)
			}
			if _, ok2 := ParseCommand("/openclaw@"+name+"x "+g, botName, testMenu); ok2 {
				t.Fatalf("command for %sx accepted by %s", name, name)
			}
		}
	})
}

// A preview is told by its buttons' payloads (bot.Action), not their texts:
// an alert with buttons labelled Confirm/Cancel is no preview, a Confirm
// and Cancel payload under other labels is one (also after a restart,
// from the keyboard Telegram reports).
func TestPreviewByPayload(t *testing.T) {
	in := &inbound{previews: map[previewKey]time.Time{}}
	for _, tc := range []struct {
		buttons []bot.Button
		preview bool
	}{
		{[]bot.Button{{Text: "Confirm", Action: "check:prod"}, {Text: "Cancel", Action: "silence:prod:1h"}}, false},
		{[]bot.Button{{Text: "Yes", Action: "ok:9b1d"}, {Text: "No", Action: "no:9b1d"}}, true},
		{[]bot.Button{{Text: "Confirm", Action: "ok:"}, {Text: "Cancel", Action: "no:"}}, false},
		{[]bot.Button{{Text: "Re-check", Action: "check:prod"}}, false},
	} {
		if got := previewMessage(bot.Message{Buttons: tc.buttons}); got != tc.preview {
			t.Errorf("previewMessage(%+v) = %v", tc.buttons, got)
		}
		if got := in.isPreview(1, 2, Keyboard(tc.buttons)); got != tc.preview {
			t.Errorf("isPreview(keyboard %+v) = %v", tc.buttons, got)
		}
	}
}
