package actions

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
	"github.com/openclaw-bot/openclaw-bot/store"
)

type diag struct {
	t       diagnostics.Target
	checker *diagnostics.Checker
}

func (d diag) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	r, _, err := (&diagnostics.Inspector{Checker: d.checker, CachedOnly: !probe}).Inspect(ctx, d.t, "")
	return r, err
}
func (d diag) Targets() []string { return []string{d.t.Name} }

func text(m bot.Message) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n")
	for _, it := range m.Items {
		b.WriteString(it.Title + "\n")
	}
	for _, s := range m.Text {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Through the chat router, as an on-call person would: preview, Confirm,
// the cooldown is gone from OpenClaw's state, the key is checked; undo
// restores the previous state.
func TestResetAndUndoThroughTheRouter(t *testing.T) {
	key := sandbox.APIKey("actions")
	d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
	must(t, err)
	must(t, d.Config("2026.9.6", nil, "anthropic:default", "anthropic:other"))
	until := time.Now().Add(time.Hour).UnixMilli()
	state := map[string]any{"version": 1, "lastGood": map[string]any{"anthropic": "anthropic:other"}, "usageStats": map[string]any{
		"anthropic:default": map[string]any{"cooldownUntil": until, "cooldownReason": "auth", "errorCount": 3, "failureCounts": map[string]int{"auth": 3}, "lastUsed": 42, "futureField": "kept"},
		"anthropic:other":   map[string]any{"cooldownUntil": until, "cooldownReason": "rate_limit", "errorCount": 1}}}
	must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
		"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": key},
		"anthropic:other":   map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("other")}}}, state))
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: []string{key}})
	defer fake.Close()

	tgt := diagnostics.Target{Name: "local", BaseURLFlag: fake.URL(),
		Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir(), Getenv: func(string) string { return "" }},
		Env:    openclaw.EnvSources{NoProc: true}}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	must(t, err)
	defer st.Close()
	checker := diagnostics.NewChecker(diagnostics.CheckerOptions{})
	var changed []string
	acts := New(Options{Targets: []Target{{Target: tgt}}, Checker: checker, BackupDir: filepath.Join(t.TempDir(), "backups"),
		AfterChange: func(_ context.Context, target string) { changed = append(changed, target) }})
	rt := router.New(router.Options{Store: st, Diagnoser: diag{tgt, checker}, Actions: acts})
	ctx := context.Background()
	ask := func(text string) bot.Reply {
		return rt.Handle(ctx, bot.Request{Surface: bot.SurfaceConsole, UserID: "console", Private: true, Text: text})
	}
	press := func(r bot.Reply, label string) bot.Reply {
		t.Helper()
		for _, b := range r.Message.Buttons {
			if b.Text == label {
				return rt.Press(ctx, bot.Press{Surface: bot.SurfaceConsole, UserID: "console", Private: true, Action: b.Action})
			}
		}
		t.Fatalf("no %s button in %q", label, text(r.Message))
		return bot.Reply{}
	}
	window := func(id string) bool {
		loc, _ := openclaw.Locate(tgt.Locate)
		snap, err := openclaw.ReadSnapshot(ctx, loc, openclaw.ReadOptions{Env: tgt.Env})
		must(t, err)
		u, _ := snap.Usage("main", id)
		_, ok := u.Active(time.Now())
		return ok
	}

	preview := ask("cooldown reset anthropic:default")
	if !strings.Contains(text(preview.Message), "anthropic:default") {
		t.Fatalf("preview: %s", text(preview.Message))
	}
	done := press(preview, "Confirm")
	got := text(done.Message)
	if !strings.Contains(got, "cleared, key accepted") {
		t.Fatalf("reset reply: %s", got)
	}
	// The commands it gives act on this install, not on ~/.openclaw.
	refresh := "OPENCLAW_STATE_DIR=" + d.Path + " openclaw gateway call models.authRefresh"
	if !strings.Contains(got, refresh) {
		t.Errorf("reset reply lacks %q: %s", refresh, got)
	}
	if len(changed) != 1 || changed[0] != "local" {
		t.Errorf("AfterChange calls %v: the alert must be re-evaluated after a reset", changed)
	}
	if window("anthropic:default") || !window("anthropic:other") {
		t.Fatal("the reset must clear anthropic:default only")
	}
	row := readRow(t, d.Path)
	for _, keep := range []string{`"futureField":"kept"`, `"lastUsed":42`, `"lastGood"`, `"rate_limit"`} {
		if !strings.Contains(row, keep) {
			t.Errorf("the reset lost %s: %s", keep, row)
		}
	}
	if fake.Count("/v1/messages") != 0 {
		t.Error("verification spent tokens")
	}

	audit, err := st.Audit(ctx, 5)
	must(t, err)
	var id int64
	for _, e := range audit {
		if e.Command == "cooldown reset" && e.BackupPath != "" {
			id = e.ID
		}
	}
	if id == 0 {
		t.Fatalf("no audit entry with a backup: %+v", audit)
	}
	undo := press(ask(fmt.Sprintf("undo %d", id)), "Confirm")
	if !strings.Contains(text(undo.Message), "Restored") {
		t.Fatalf("undo: %s", text(undo.Message))
	}
	if !window("anthropic:default") {
		t.Fatal("undo did not restore the cooldown")
	}
	if !strings.Contains(text(undo.Message), refresh) {
		t.Errorf("undo reply lacks %q: %s", refresh, text(undo.Message))
	}

	// A key Anthropic rejects: cleared, and the rotation command names this install.
	other := text(press(ask("cooldown reset anthropic:other"), "Confirm").Message)
	paste := `| OPENCLAW_STATE_DIR=` + d.Path + ` openclaw models auth paste-api-key --provider anthropic --profile-id anthropic:other`
	if !strings.Contains(other, "still rejected") || !strings.Contains(other, paste) {
		t.Errorf("reset of a rejected key: want %q in %s", paste, other)
	}
}

func readRow(t *testing.T, stateDir string) string {
	t.Helper()
	rows, _, err := openclaw.ReadStateDB(context.Background(), filepath.Join(stateDir, "state", "openclaw.sqlite"))
	must(t, err)
	return string(rows[openclaw.KeyProfileState])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// doctor --fix may refresh OAuth/token logins; a failed refresh destroys
// one for good, so they must be named.
func TestDoctorFixRefusesUnnamedOAuth(t *testing.T) {
	d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
	must(t, err)
	must(t, d.Config("2026.9.6", nil))
	must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:oauth": map[string]any{
		"type": "oauth", "provider": "anthropic", "access": "sk-ant-oat01-FAKE", "refresh": "sk-ant-ort01-FAKE", "expires": time.Now().Add(time.Hour).UnixMilli()}}}, nil))
	tgt := diagnostics.Target{Name: "local", Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir(), Getenv: func(string) string { return "" }},
		Env: openclaw.EnvSources{NoProc: true}}
	acts := New(Options{Targets: []Target{{Target: tgt, CLI: &run.CLI{Bin: "/nonexistent/openclaw"}}}, BackupDir: t.TempDir()})
	_, err = acts.DoctorFix(context.Background(), "local", nil)
	if err == nil || !strings.Contains(err.Error(), "anthropic:oauth") || !strings.Contains(err.Error(), "destroys a login") {
		t.Fatalf("want a refusal naming anthropic:oauth, got %v", err)
	}
}

// One action per target at a time: a second is refused clearly.
func TestOneActionPerTarget(t *testing.T) {
	acts := New(Options{Targets: []Target{{Target: diagnostics.Target{Name: "local"}}}})
	_, release, err := acts.begin("local")
	must(t, err)
	defer release()
	if _, _, err := acts.begin("local"); err == nil || !strings.Contains(err.Error(), "another action is running") {
		t.Fatalf("second action: %v", err)
	}
}
