package console

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

var fixedNow = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

func alert() bot.Message {
	return bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevCritical,
		Target:   "local",
		Title:    "Anthropic profile anthropic:default is in cooldown",
		Items: []bot.Item{{
			Code: "cooldown.active", Severity: bot.SevCritical, Subject: "anthropic:default",
			Title:   "anthropic:default is in cooldown (rate_limit)",
			Details: bot.Line(bot.T("OpenClaw skips this profile; "), bot.B("no other profile"), bot.T(" is configured.")),
			Until:   fixedNow.Add(4 * time.Minute),
			Remedy: [][]bot.Span{
				bot.Line(bot.T("reset it now: "), bot.C("/cooldown_reset anthropic:default")),
				bot.Line(bot.C("openclaw models auth order set --provider anthropic anthropic:default anthropic:backup")),
			},
		}, {
			Code: "env.shadowed", Severity: bot.SevWarning, Subject: "ANTHROPIC_API_KEY",
			Title: "ANTHROPIC_API_KEY shadows the stored key", Resolved: true,
		}},
		Text: []bot.Span{
			bot.T("Details:\n"), bot.C("line one\nline two\n"), bot.T("checked "), bot.At(fixedNow.Add(-2 * time.Hour)),
		},
		Buttons: []bot.Button{{Text: "Confirm", Action: "p:1"}, {Text: "Cancel", Action: "x:1"}},
		Footer:  bot.Line(bot.T("state "), bot.C("~/.openclaw"), bot.T(" · hostile \x1b[2J<b>&</b>")),
	}
}

func TestGolden(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rem := alert()
	rem.Kind = bot.KindReminder
	res := alert()
	res.Kind, res.Severity, res.Buttons = bot.KindResolved, bot.SevResolved, nil
	for name, got := range map[string]string{
		"alert_berlin.txt": Render(alert(), loc, fixedNow),
		"reminder.txt":     Render(rem, nil, fixedNow),
		"resolved.txt":     Render(res, time.UTC, time.Time{}),
	} {
		path := filepath.Join("testdata", "golden", name)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if string(want) != got+"\n" {
			t.Errorf("%s:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
		}
		if strings.Contains(got, "\x1b") {
			t.Errorf("%s: terminal escape passed through", name)
		}
	}
}

func TestNotifier(t *testing.T) {
	var buf bytes.Buffer
	n := NewNotifier(&buf, nil)
	n.Now = func() time.Time { return fixedNow }
	if n.Name() != "console" {
		t.Fatal(n.Name())
	}
	s, err := n.Send(context.Background(), "console", alert(), nil)
	if err != nil || s.ID != "1" || s.Channel != "console" {
		t.Fatalf("%+v %v", s, err)
	}
	s2, err := n.Send(context.Background(), "console", alert(), &s)
	if err != nil || s2 != s {
		t.Fatalf("%+v %v", s2, err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "[CRITICAL] ") || !strings.Contains(out, "\n\n[update] [CRITICAL] ") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(out, "until 2026-11-25 13:04 UTC (in 4m)") {
		t.Errorf("time:\n%s", out)
	}
	msg := alert()
	msg.Title = "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
	buf.Reset()
	n.Send(context.Background(), "", msg, nil)
	if strings.Contains(buf.String(), "abcdefghijkl") {
		t.Error("secret printed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var re *bot.RetryError
	if _, err := n.Send(ctx, "", msg, nil); !errors.As(err, &re) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	var buf bytes.Buffer
	n := NewNotifier(&buf, time.UTC)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := n.Send(context.Background(), "", alert(), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := strings.Count(buf.String(), "[CRITICAL] Anthropic profile"); got != 20 {
		t.Errorf("%d messages", got)
	}
	// Messages are not interleaved: every block starts with the header.
	for _, block := range strings.Split(strings.TrimSpace(buf.String()), "\n\n[CRITICAL]") {
		if strings.Count(block, "  - critical:") != 1 {
			t.Fatalf("interleaved output:\n%s", block)
		}
	}
}
