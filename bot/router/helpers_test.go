package router

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Fake credentials. Every reply of every test is checked for them.
const (
	keyProd    = "sk-ant-api03-PRODxSECRETxWCjHjV6orawMCh1aighFMCKT4UAKKX2baro1yj9l6sast-PfnYEHH4HXNqz9dvxDr3SvlGHdhg-xG13D1A3dBY-1pXanXJBAA"
	keyBackup  = "sk-ant-api03-BACKUPxSECRETx9dvxDr3SvlGHdhgxG13D1A3dBY1pXanXJBAAWCjHjV6orawMCh1aighFMCKT4UAKKX2baro1yj9l6sastPfnYEHH4"
	keyEnv     = "sk-ant-api03-ENVxSECRETxaighFMCKT4UAKKX2baro1yj9l6sastPfnYEHH4HXNqz9dvxDr3SvlGHdhgxG13D1A3dBY1pXanXJBAAWCjHjV6ora"
	keyStaging = "sk-ant-api03-STAGINGxSECRETxFMCKT4UAKKX2baro1yj9l6sastPfnYEHH4HXNqz9dvxDr3SvlGHdhgxG13D1A3dBY1pXanXJBAAWCjHjV6ora"
	slackToken = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
	tgToken    = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
)

var fakeSecrets = []string{keyProd, keyBackup, keyEnv, keyStaging, slackToken, tgToken}

// AssertNoSecretLeak fails when any text of the reply holds a credential
// of the fake reports (or extra), a tail of one long enough to identify
// it, or anything credential-shaped.
func AssertNoSecretLeak(t testing.TB, rep bot.Reply, extra ...string) {
	t.Helper()
	secrets := append(append([]string{}, fakeSecrets...), extra...)
	for _, s := range allText(rep) {
		for _, sec := range secrets {
			// The secret itself, or any 24-byte slice of it (a truncation
			// or a partial echo is a leak too). Masks show 8+8 chars.
			for i := 0; i+24 <= len(sec); i += 8 {
				if strings.Contains(s, sec[i:i+24]) {
					t.Fatalf("reply leaks a credential (%s…): %q", sec[:10], s)
				}
			}
			if len(sec) < 24 && strings.Contains(s, sec) {
				t.Fatalf("reply leaks a credential: %q", s)
			}
		}
		if redact.String(s) != s {
			t.Fatalf("reply holds something credential-shaped: %q", s)
		}
	}
}

// allText is every string of a reply a user could see.
func allText(rep bot.Reply) []string {
	m := rep.Message
	out := []string{m.Title, m.Target, m.Ref, rep.Toast}
	spans := func(ss []bot.Span) {
		for _, s := range ss {
			out = append(out, s.Text)
		}
	}
	for _, it := range m.Items {
		out = append(out, it.Code, it.Subject, it.Title)
		spans(it.Details)
		for _, r := range it.Remedy {
			spans(r)
		}
	}
	spans(m.Text)
	spans(m.Footer)
	for _, b := range m.Buttons {
		out = append(out, b.Text, b.Action)
	}
	return out
}

// flat is the reply's visible text in one string, for assertions.
func flat(rep bot.Reply) string { return strings.Join(allText(rep), "\n") }

// ---- fixtures ----

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// long profile id: an alert button cuts it (bot.Action.Format).
var longProfile = "anthropic:" + strings.Repeat("very-long-profile-name-", 4) + "end"

func prodReport(now time.Time) diagnostics.Report {
	return diagnostics.Report{
		Target:   "prod",
		OpenClaw: diagnostics.OpenClawInfo{Version: "2026.9.6", StateDir: "/srv/openclaw", Layout: "sqlite"},
		Verdict:  "down",
		Profiles: []diagnostics.ProfileStatus{
			{ID: "anthropic:default", Provider: "anthropic", Type: "api_key", Source: "store", Secret: redact.Mask(keyProd),
				Health: "invalid", Reason: "auth", Until: now.Add(30 * time.Minute), Check: "rejected"},
			{ID: "anthropic:backup", Provider: "anthropic", Type: "api_key", Source: "store", Secret: redact.Mask(keyBackup),
				Health: "ok", Check: "accepted"},
			{ID: longProfile, Provider: "anthropic", Type: "api_key", Source: "store", Secret: redact.Mask(keyBackup),
				Health: "cooldown", Reason: "rate_limit", Model: "claude-opus-5", Until: now.Add(10 * time.Minute)},
			{ID: "env:ANTHROPIC_API_KEY", Provider: "anthropic", Type: "api_key", Source: "env", Secret: redact.Mask(keyEnv),
				Health: "unverified", Shadowed: true},
		},
		Findings: []diagnostics.Finding{
			{Code: diagnostics.CodeKeyRejected, Severity: diagnostics.Critical, Subject: "anthropic:default",
				Title: "Anthropic rejects the key of anthropic:default (401)",
				// A buggy rule leaking a key: the router must scrub it.
				Evidence: "GET /v1/models answered 401 authentication_error for " + keyProd + "; see `openclaw-bot status --probe`.",
				Remedy: []string{
					`Store a valid key: printf '%s' "$NEW_ANTHROPIC_KEY" | OPENCLAW_STATE_DIR=/srv/openclaw openclaw models auth paste-api-key --provider anthropic --profile-id anthropic:default`,
					"Check it without spending tokens: `openclaw-bot status --probe`.",
				}},
			{Code: diagnostics.CodeCooldownActive, Severity: diagnostics.Critical, Subject: "anthropic:default",
				Title:    "anthropic:default is in cooldown (auth)",
				Evidence: "usageStats[anthropic:default]: cooldownReason=auth; errorCount=3.",
				Remedy:   []string{"Restarting the gateway does NOT clear it."},
				Until:    now.Add(30 * time.Minute)},
			{Code: diagnostics.CodeEnvShadowed, Severity: diagnostics.Warning, Subject: "env:ANTHROPIC_API_KEY",
				Title: "ANTHROPIC_API_KEY is set but never used", Evidence: "ANTHROPIC_API_KEY=" + redact.Mask(keyEnv) + " from .env",
				File: "/srv/openclaw/.env", Line: 1,
				Remedy: []string{"Otherwise remove ANTHROPIC_API_KEY from /srv/openclaw/.env."}},
		},
		CheckedAt: now,
	}
}

func stagingReport(now time.Time) diagnostics.Report {
	return diagnostics.Report{
		Target:   "staging",
		OpenClaw: diagnostics.OpenClawInfo{Version: "2026.9.6", StateDir: "/srv/staging", Layout: "sqlite"},
		Verdict:  "ok",
		Profiles: []diagnostics.ProfileStatus{
			{ID: "anthropic:default", Provider: "anthropic", Type: "api_key", Source: "store", Secret: redact.Mask(keyStaging),
				Health: "ok", Check: "accepted"},
		},
		Findings:  []diagnostics.Finding{},
		CheckedAt: now,
	}
}

// fakeDiag returns canned reports; "broken" fails; "boom" panics.
type fakeDiag struct {
	mu      sync.Mutex
	targets []string
	now     func() time.Time
	probes  []string // targets reported with probe
	calls   int
	// mod, when set, changes the canned reports (what OpenClaw wrote since).
	mod func(target string, r *diagnostics.Report)
}

func (d *fakeDiag) setMod(f func(target string, r *diagnostics.Report)) {
	d.mu.Lock()
	d.mod = f
	d.mu.Unlock()
}

func (d *fakeDiag) Targets() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.targets...)
}

func (d *fakeDiag) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	r, err := d.report(ctx, target, probe)
	d.mu.Lock()
	mod := d.mod
	d.mu.Unlock()
	if err == nil && mod != nil {
		mod(target, &r)
	}
	return r, err
}

func (d *fakeDiag) report(_ context.Context, target string, probe bool) (diagnostics.Report, error) {
	d.mu.Lock()
	d.calls++
	if probe {
		d.probes = append(d.probes, target)
	}
	d.mu.Unlock()
	now := d.now()
	switch target {
	case "prod":
		r := prodReport(now)
		r.Probed = probe
		return r, nil
	case "staging":
		return stagingReport(now), nil
	case "": // no named targets: the one default install
		r := prodReport(now)
		r.Target = "local"
		return r, nil
	case "legacy":
		r := stagingReport(now)
		r.Target, r.Verdict = "legacy", "down"
		r.Findings = []diagnostics.Finding{{Code: diagnostics.CodeStoreLegacyUnmigrated, Severity: diagnostics.Critical,
			Subject: "anthropic", Title: "legacy credentials beside SQLite"}}
		return r, nil
	case "claude":
		// Issue #11: Claude Code's own login and a fenced OAuth login are
		// no logins doctor --fix could refresh.
		r := stagingReport(now)
		r.Target = "claude"
		r.Profiles = []diagnostics.ProfileStatus{
			{ID: diagnostics.ClaudeKeyID, Provider: "claude-cli", Type: "oauth", Source: diagnostics.SourceConfig, Health: "ok", Location: "a Claude Code login of user alice (uid 1000) in /home/alice/.claude/.credentials.json"},
			{ID: "anthropic:oauth", Provider: "anthropic", Type: "oauth", Source: "store", Secret: "refresh-fence:pending", Health: "expired"},
		}
		return r, nil
	case "boom":
		panic("diagnoser exploded with " + keyProd)
	}
	return diagnostics.Report{}, errors.New("cannot read " + target + ": key " + keyProd + " unreadable")
}

type actionCall struct {
	Command, Target string
	Args            []string
	// Expected is what ExpectedState gave the action: the profiles whose
	// state the preview showed, and its digest ("" when none).
	Expected []string
	Digest   string
}

// fakeActions records calls; resets take a backup.
type fakeActions struct {
	mu    sync.Mutex
	calls []actionCall
	fail  error
}

func (a *fakeActions) record(ctx context.Context, cmd, target string, args []string) (bot.Message, error) {
	a.mu.Lock()
	ids, digest, _ := ExpectedState(ctx)
	a.calls = append(a.calls, actionCall{Command: cmd, Target: target, Args: append([]string(nil), args...), Expected: ids, Digest: digest})
	fail := a.fail
	a.mu.Unlock()
	if fail != nil {
		return bot.Message{}, fail
	}
	if cmd == CmdCooldownReset {
		NoteBackup(ctx, "/var/lib/openclaw-bot/backups/"+target+"-1.json")
		NoteAfter(ctx, []byte(`{"cleared":true}`))
	}
	return bot.Message{Title: cmd + " done on " + target}, nil
}

func (a *fakeActions) ResetCooldown(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdCooldownReset, t, args)
}
func (a *fakeActions) Undo(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdUndo, t, args)
}
func (a *fakeActions) Restart(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdRestart, t, args)
}
func (a *fakeActions) DoctorFix(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdDoctorFix, t, args)
}
func (a *fakeActions) ProbeSpend(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdProbeSpend, t, args)
}
func (a *fakeActions) DoctorLint(ctx context.Context, t string, args []string) (bot.Message, error) {
	return a.record(ctx, CmdDoctor, t, args)
}

func (a *fakeActions) Calls() []actionCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]actionCall(nil), a.calls...)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Users and places.
const (
	uAdmin    = "UADMIN1"
	uResp     = "URESP1"
	uView     = "UVIEW1"
	uStranger = "USTRANGER1"
	tgAdmin   = "1001"
	tgResp    = "1002"
	tgView    = "1003"
	tgStr     = "1004"

	chAlert = "CALERT1"
	chOther = "COTHER1"
	chDM    = "DUSER1"
	tgAlert = "-1001234567890"
	tgOther = "-1009999999999"
)

var testAccess = config.Access{
	Admins:     []string{uAdmin, tgAdmin},
	Responders: []string{uResp, tgResp},
	Viewers:    []string{uView, tgView},
}

type env struct {
	t     *testing.T
	st    *store.Store
	rt    *Router
	diag  *fakeDiag
	act   *fakeActions
	clock *clock
}

func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: t0}
	e := &env{t: t, st: st, clock: c, act: &fakeActions{},
		diag: &fakeDiag{targets: []string{"prod", "staging"}, now: c.Now}}
	opts := Options{
		Store: st, Diagnoser: e.diag, Actions: e.act, Access: testAccess,
		AlertChannel: chAlert, AlertChat: tgAlert, Now: c.Now,
		Scrubber: redact.NewScrubber(keyProd, keyBackup, keyEnv, keyStaging),
	}
	for _, m := range mods {
		m(&opts)
	}
	e.rt = New(opts)
	return e
}

// slack users in places.
func slackIn(user, where string) Who {
	return Who{Surface: bot.SurfaceSlack, UserID: user, Name: "name-" + user, Where: where, Private: where == chDM}
}

func tgIn(user, where string) Who {
	w := Who{Surface: bot.SurfaceTelegram, UserID: user, Name: "tg-" + user, Where: where}
	if where == "dm" {
		w.Where, w.Private = user, true
	}
	return w
}

var console = Who{Surface: bot.SurfaceConsole, UserID: "console", Name: "operator"}

func (e *env) handle(w Who, text string) bot.Reply {
	e.t.Helper()
	rep := e.rt.Handle(context.Background(), bot.Request{Surface: w.Surface, UserID: w.UserID, UserName: w.Name,
		Where: w.Where, Private: w.Private, Text: text})
	AssertNoSecretLeak(e.t, rep)
	return rep
}

func (e *env) press(w Who, action string) bot.Reply {
	e.t.Helper()
	rep := e.rt.Press(context.Background(), bot.Press{Surface: w.Surface, UserID: w.UserID, UserName: w.Name,
		Where: w.Where, Private: w.Private, Action: action})
	AssertNoSecretLeak(e.t, rep)
	return rep
}

func (e *env) lastAudit() store.AuditEntry {
	e.t.Helper()
	list, err := e.st.Audit(context.Background(), 1)
	if err != nil || len(list) != 1 {
		e.t.Fatalf("audit: %v %v", list, err)
	}
	return list[0]
}

func (e *env) auditCount() int {
	e.t.Helper()
	list, err := e.st.Audit(context.Background(), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// buttons returns the Confirm and Cancel actions of a preview.
func buttons(t *testing.T, rep bot.Reply) (ok, no string) {
	t.Helper()
	bs := rep.Message.Buttons
	if len(bs) != 2 || bs[0].Text != "Confirm" || bs[1].Text != "Cancel" {
		t.Fatalf("want exactly the buttons Confirm and Cancel, got %+v (reply %q)", bs, flat(rep))
	}
	for _, b := range bs {
		if len(b.Action) > 64 {
			t.Fatalf("action %q is over 64 bytes", b.Action)
		}
	}
	if !strings.HasPrefix(bs[0].Action, "ok:") || !strings.HasPrefix(bs[1].Action, "no:") ||
		bs[0].Action[3:] != bs[1].Action[3:] {
		t.Fatalf("actions %q %q", bs[0].Action, bs[1].Action)
	}
	if !rep.Ephemeral {
		t.Fatal("a preview must be ephemeral")
	}
	return bs[0].Action, bs[1].Action
}
