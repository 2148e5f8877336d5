package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// The rotation story in serve, on a store of two profiles (whose write time
// cannot say whose key changed, so only serve's own memory can prove it):
// the key of anthropic:default is rejected and a cooldown begins; the user
// pastes a new key, which the zero-token check accepts at the next snapshot
// (not 15 minutes later). cooldown.stale fires with the Reset cooldown
// button. With recovery.reset_after_rotation the reset is asked for once
// per window (not again at later evaluations; again after a reset that did
// not start), and its reply is announced on every route; without it, never.
// No secret in any payload.
func TestResetAfterRotation(t *testing.T) {
	keyA, keyB, keyC := sandbox.APIKey("rot-old"), sandbox.APIKey("rot-new"), sandbox.APIKey("rot-backup")
	for _, tc := range []struct {
		name    string
		setting bool
		busy    int // resets that do not start first
		calls   int
	}{
		{name: "setting off: alert and button only", setting: false, calls: 0},
		{name: "setting on: one reset, announced", setting: true, calls: 1},
		{name: "setting on, busy once: tried again, then once", setting: true, busy: 1, calls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: []string{keyB, keyC}})
			defer fake.Close()
			d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
			mustNil(t, err)
			mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
			profiles := func(key string) map[string]any {
				return map[string]any{"version": 1, "profiles": map[string]any{
					"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": key},
					"anthropic:backup":  map[string]any{"type": "api_key", "provider": "anthropic", "key": keyC}}}
			}
			mustNil(t, d.SharedStore(profiles(keyA), nil))
			f := newFixtureOn(t, d, filepath.Join(t.TempDir(), "bot.db"))
			f.svc.Targets[0].BaseURLFlag = fake.URL()
			f.svc.Checker = diagnostics.NewChecker(diagnostics.CheckerOptions{})
			f.svc.KeyCheckEvery = 15 * time.Minute
			f.svc.ResetAfterRotation = tc.setting
			var reqs []AutoResetRequest
			f.svc.AutoReset = func(ctx context.Context, req AutoResetRequest) (bot.Message, error) {
				reqs = append(reqs, req)
				if len(reqs) <= tc.busy {
					return bot.Message{}, errors.New("another action is running on this target")
				}
				return bot.Message{Kind: bot.KindReply, Title: "Reset after a key rotation on prod: anthropic:default",
					Text: []bot.Span{bot.T("Cleared anthropic:default.")}}, nil
			}
			ctx := context.Background()
			mustNil(t, f.svc.Load(ctx))
			mustNil(t, f.svc.CheckKeys(ctx, "prod")) // serve's first round: A is rejected
			now := time.Now()
			mustNil(t, d.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
				"cooldownUntil": now.Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1,
				"failureCounts": map[string]int{"auth": 1}, "lastFailureAt": now.Add(-time.Second).UnixMilli()}}}))
			mustNil(t, f.svc.Evaluate(ctx, "prod")) // the watcher's snapshot: cooldown.active, A still in place
			if len(reqs) != 0 {
				t.Fatalf("reset before any rotation: %+v", reqs)
			}
			mustNil(t, d.SetRow("authProfiles.store", profiles(keyB))) // paste-api-key: the cooldown stays
			before := fake.Count("/v1/models")
			for range 3 {
				mustNil(t, f.svc.Evaluate(ctx, "prod"))
			}
			if fake.Count("/v1/models") != before+1 {
				t.Errorf("the new key was checked %d times, want once at once", fake.Count("/v1/models")-before)
			}
			rep, err := f.svc.Report(ctx, "prod", false)
			mustNil(t, err)
			if !hasCode(rep.Findings, diagnostics.CodeCooldownStale) {
				t.Fatalf("no cooldown.stale in a chat report after the rotation: %v", rep.Findings)
			}
			if len(reqs) != tc.calls {
				t.Fatalf("%d resets asked for, want %d", len(reqs), tc.calls)
			}
			if tc.calls > 0 {
				r := reqs[len(reqs)-1]
				if r.Target != "prod" || strings.Join(r.Profiles, ",") != "anthropic:default" || len(r.State) == 0 || r.State[0].Kind != "cooldown" {
					t.Errorf("request %+v", r)
				}
			}

			items, err := f.store.DueOutbox(ctx, time.Now().Add(time.Hour), 100)
			mustNil(t, err)
			var staleAlert, announced int
			for _, it := range items {
				for _, k := range []string{keyA, keyB, keyC} {
					if strings.Contains(string(it.Payload), k[8:32]) {
						t.Fatalf("outbox item %s leaks a key", it.Ref)
					}
				}
				var m bot.Message
				mustNil(t, json.Unmarshal(it.Payload, &m))
				switch {
				case strings.HasPrefix(it.Ref, "autoreset:"):
					announced++
					if m.Ref != it.Ref || m.Target != "prod" || !strings.Contains(m.Title, "Reset after a key rotation") {
						t.Errorf("announcement %+v", m)
					}
				case hasItem(m, diagnostics.CodeCooldownStale):
					staleAlert++
					if !hasButton(m, "reset:anthropic:default|prod") {
						t.Errorf("the cooldown.stale alert has no Reset button: %+v", m.Buttons)
					}
				}
			}
			if staleAlert != 2 {
				t.Errorf("cooldown.stale alerted %d times, want once per route (2)", staleAlert)
			}
			if want := 2 * min(tc.calls-tc.busy, 1); tc.calls > 0 && announced != want || tc.calls == 0 && announced != 0 {
				t.Errorf("%d announcements, want %d", announced, want)
			}
		})
	}
}

func hasCode(fs []diagnostics.Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

func hasItem(m bot.Message, code string) bool {
	for _, it := range m.Items {
		if it.Code == code {
			return true
		}
	}
	return false
}

func hasButton(m bot.Message, action string) bool {
	for _, b := range m.Buttons {
		if b.Action == action {
			return true
		}
	}
	return false
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
