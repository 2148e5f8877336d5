package telegram

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without zoneinfo

	"github.com/openclaw-bot/openclaw-bot/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

var fixedNow = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func cooldownAlert() bot.Message {
	until := fixedNow.Add(4 * time.Minute)
	return bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevCritical,
		Target:   "local",
		Title:    "local: Anthropic profile anthropic:default is in cooldown",
		Items: []bot.Item{{
			Code:     "cooldown.active",
			Severity: bot.SevCritical,
			Subject:  "anthropic:default",
			Title:    "anthropic:default is in cooldown (rate_limit)",
			Details:  bot.Line(bot.T("OpenClaw skips this profile until the cooldown ends; "), bot.B("no other Anthropic profile"), bot.T(" is configured.")),
			Until:    until,
			Remedy: [][]bot.Span{
				bot.Line(bot.T("wait, or reset it now: "), bot.C("/cooldown_reset anthropic:default")),
				bot.Line(bot.C("openclaw models auth order set --provider anthropic anthropic:default anthropic:backup --agent main")),
			},
		}, {
			Code:     "env.shadowed",
			Severity: bot.SevWarning,
			Subject:  "ANTHROPIC_API_KEY",
			Title:    "ANTHROPIC_API_KEY in the gateway environment shadows the stored key",
			Details:  bot.Line(bot.T("found in "), bot.C("~/.openclaw/.env"), bot.T(" line 3")),
		}},
		Buttons: []bot.Button{
			{Text: "Reset cooldown", Action: "a:7f3c9e", Style: "danger"},
			{Text: "Re-check", Action: "a:7f3c9f"},
			{Text: "Silence 1h", Action: "a:7f3ca0"},
		},
		Footer: bot.Line(bot.T("target "), bot.C("local"), bot.T(" · state "), bot.C("~/.openclaw"), bot.T(" · checked "), bot.At(fixedNow.Add(-3*time.Minute))),
		Ref:    "alert:local:g1",
	}
}

func resolvedEdit() bot.Message {
	m := cooldownAlert()
	m.Kind = bot.KindResolved
	m.Severity = bot.SevResolved
	m.Title = "local: resolved: Anthropic profile anthropic:default is usable again"
	for i := range m.Items {
		m.Items[i].Resolved = true
	}
	m.Buttons = nil
	m.Footer = bot.Line(bot.T("resolved after 12m · target "), bot.C("local"))
	return m
}

func reminder() bot.Message {
	m := cooldownAlert()
	m.Kind = bot.KindReminder
	m.Items = m.Items[:1]
	m.Items[0].Until = fixedNow.Add(3*time.Hour + 25*time.Minute)
	m.Buttons = m.Buttons[1:]
	return m
}

func replyWithCode() bot.Message {
	return bot.Message{
		Kind:     bot.KindReply,
		Severity: bot.SevInfo,
		Title:    "Reset the cooldown of anthropic:default on local?",
		Text: []bot.Span{
			bot.T("This will run:\n"),
			bot.C("openclaw models auth cooldown clear \\\n  --profile anthropic:default \\\n  --agent main\n"),
			bot.T("\nA backup is kept; "), bot.C("/undo 42"), bot.T(" restores it. Valid until "), bot.At(fixedNow.Add(2 * time.Minute)), bot.T("."),
		},
		Buttons: []bot.Button{{Text: "Confirm", Action: "p:9b1d", Style: "primary"}, {Text: "Cancel", Action: "x:9b1d"}},
		Footer:  bot.Line(bot.T("requested by "), bot.B("@alice"), bot.T(" · audit "), bot.C("#42")),
	}
}

const hostileText = `<b>&</b> <a href=x>`

func hostile() bot.Message {
	h := hostileText
	return bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevWarning,
		Target:   h,
		Title:    h + ` "quoted" 'single'`,
		Items: []bot.Item{{
			Code: h, Severity: bot.SevWarning, Subject: h, Title: h,
			Details: bot.Line(bot.T(h), bot.B(h), bot.C(h)),
			Until:   fixedNow.Add(90 * time.Second),
			Remedy:  [][]bot.Span{bot.Line(bot.C(h)), bot.Line(bot.C(strings.Repeat(h, 5))), bot.Line(bot.T(h), bot.C(h))},
		}},
		Text:    bot.Line(bot.T(h+"\x1b[31m\x00 &amp; &lt;"), bot.C(h+"\n"+h)),
		Buttons: []bot.Button{{Text: h, Action: "a:1"}, {Text: "too long", Action: strings.Repeat("x", 65)}},
		Footer:  bot.Line(bot.T(h), bot.B(h), bot.C(h)),
	}
}

func manyItems(n int) bot.Message {
	m := bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevCritical,
		Title:    "local: 200 profiles in cooldown",
		Footer:   bot.Line(bot.T("target "), bot.C("local")),
	}
	for i := range n {
		m.Items = append(m.Items, bot.Item{
			Code:     "cooldown.active",
			Severity: bot.SevCritical,
			Subject:  "anthropic:p" + itoa(i),
			Title:    "anthropic:p" + itoa(i) + " is in cooldown",
			Until:    fixedNow.Add(time.Duration(i+1) * time.Minute),
			Remedy:   [][]bot.Span{bot.Line(bot.C("/cooldown_reset anthropic:p" + itoa(i)))},
		})
	}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }

// golden compares got with testdata/golden/name (or rewrites it with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/telegram -run Golden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
