package router

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/store"
)

func noLimit(o *Options) { o.RateLimit = RateLimit{PerMinute: -1} }

// One sample invocation per command (all valid for the fake targets).
var samples = []struct {
	text string
	need Role
}{
	{"status", RoleReader},
	{"diagnose prod", RoleReader},
	{"cooldowns", RoleReader},
	{"silences", RoleReader},
	{"whoami", RoleReader},
	{"help", RoleReader},
	{"check prod", RoleResponder},
	{"silence 1h prod", RoleResponder},
	{"unsilence abcdefgh", RoleResponder},
	{"ack 999", RoleResponder},
	{"doctor prod", RoleResponder},
	{"cooldown reset anthropic:default prod", RoleResponder},
	{"undo 1", RoleResponder},
	{"audit 3", RoleAdmin},
	{"restart prod", RoleAdmin},
	{"doctor fix prod", RoleAdmin},
	{"probe --spend prod", RoleAdmin},
}

func TestSamplesCoverEveryCommand(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range samples {
		c, err := Parse(s.text, testTargets)
		if err != nil {
			t.Fatal(err)
		}
		seen[c.Name] = true
		if spec, _ := SpecOf(c.Name); spec.Role != s.need {
			t.Errorf("%s: sample role %v, spec %v", c.Name, s.need, spec.Role)
		}
	}
	for _, s := range Specs() {
		if !seen[s.Name] {
			t.Errorf("no sample for %s", s.Name)
		}
	}
}

// TestRoleMatrix: every command × role × place, on Slack and Telegram.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, noLimit)
	type user struct {
		name string
		role Role // listed role (None for a stranger)
		who  func(place string) Who
	}
	slackUser := func(id string) func(string) Who {
		return func(place string) Who {
			switch place {
			case "allowed":
				return slackIn(id, chAlert)
			case "other":
				return slackIn(id, chOther)
			}
			return slackIn(id, chDM)
		}
	}
	tgUser := func(id string) func(string) Who {
		return func(place string) Who {
			switch place {
			case "allowed":
				return tgIn(id, tgAlert)
			case "other":
				return tgIn(id, tgOther)
			}
			return tgIn(id, "dm")
		}
	}
	users := []user{
		{"slack stranger", RoleNone, slackUser(uStranger)},
		{"slack viewer", RoleViewer, slackUser(uView)},
		{"slack responder", RoleResponder, slackUser(uResp)},
		{"slack admin", RoleAdmin, slackUser(uAdmin)},
		{"telegram stranger", RoleNone, tgUser(tgStr)},
		{"telegram viewer", RoleViewer, tgUser(tgView)},
		{"telegram responder", RoleResponder, tgUser(tgResp)},
		{"telegram admin", RoleAdmin, tgUser(tgAdmin)},
		{"console", RoleAdmin, func(string) Who { return console }},
	}
	for _, u := range users {
		for _, place := range []string{"allowed", "other", "dm"} {
			for _, s := range samples {
				name := fmt.Sprintf("%s/%s/%s", u.name, place, s.text)
				w := u.who(place)
				have := u.role
				if have == RoleNone && place == "allowed" {
					have = RoleReader
				}
				want := have >= s.need
				before := e.auditCount()
				rep := e.handle(w, s.text)
				refused := strings.HasPrefix(rep.Message.Title, "Not allowed")
				if refused == want {
					t.Errorf("%s: allowed=%v, want %v (reply %q)", name, !refused, want, rep.Message.Title)
					continue
				}
				if got := e.auditCount(); got != before+1 {
					t.Errorf("%s: %d audit rows written, want 1", name, got-before)
				}
				a := e.lastAudit()
				if a.Actor != w.UserID || a.Surface != w.Surface || a.Where != w.Where {
					t.Errorf("%s: audit row %+v", name, a)
				}
				if !refused {
					continue
				}
				if a.Outcome != OutcomeRefused || !rep.Ephemeral {
					t.Errorf("%s: refusal outcome %q ephemeral %v", name, a.Outcome, rep.Ephemeral)
				}
				// The refusal says which role is needed, and the caller's own
				// id, never who has the role.
				text := flat(rep)
				needName := s.need.String()
				if s.need == RoleReader {
					needName = "viewer"
				}
				if !strings.Contains(text, needName) || !strings.Contains(text, w.UserID) {
					t.Errorf("%s: refusal does not name the role %q and the caller's id: %q", name, needName, text)
				}
				for _, other := range []string{uAdmin, uResp, uView, tgAdmin, tgResp, tgView} {
					if other != w.UserID && strings.Contains(text, other) {
						t.Errorf("%s: refusal names another user %s: %q", name, other, text)
					}
				}
			}
		}
	}
}

// With access.slack_channels set, the alert channel is no longer open.
func TestAllowedChannelsList(t *testing.T) {
	e := newEnv(t, noLimit, func(o *Options) {
		o.Access.SlackChannels = []string{chOther}
		o.Access.TelegramChats = []string{tgOther}
	})
	for _, tc := range []struct {
		who  Who
		want bool
	}{
		{slackIn(uStranger, chOther), true},
		{slackIn(uStranger, chAlert), false},
		{tgIn(tgStr, tgOther), true},
		{tgIn(tgStr, tgAlert), false},
		{tgIn(tgStr, "dm"), false},
		{Who{Surface: "irc", UserID: "x", Where: chOther}, false},
	} {
		rep := e.handle(tc.who, "status")
		if got := !strings.HasPrefix(rep.Message.Title, "Not allowed"); got != tc.want {
			t.Errorf("%+v: allowed %v, want %v", tc.who, got, tc.want)
		}
	}
}

func TestConfirmFlow(t *testing.T) {
	e := newEnv(t, noLimit)
	alice := slackIn(uResp, chAlert)
	rep := e.handle(alice, "cooldown reset anthropic:default prod")
	ok, _ := buttons(t, rep)
	text := flat(rep)
	// The preview: the window, until as a time, what the key check said,
	// and the rejected key called out before Confirm.
	if len(rep.Message.Items) != 1 || rep.Message.Items[0].Until != t0.Add(30*time.Minute) {
		t.Fatalf("preview items %+v", rep.Message.Items)
	}
	for _, want := range []string{"known rejected", "last key check: rejected", "reason auth", "paste-api-key", "Confirm clears"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q: %s", want, text)
		}
	}
	if strings.Index(text, "known rejected") > strings.Index(text, "Confirm clears") {
		t.Error("the rejected-key warning must come before what Confirm does")
	}
	if a := e.lastAudit(); a.Outcome != OutcomePreviewed || a.Command != CmdCooldownReset || !strings.Contains(string(a.Before), `"health":"invalid"`) {
		t.Fatalf("preview audit %+v", a)
	}
	if len(e.act.Calls()) != 0 {
		t.Fatal("a preview must not act")
	}

	// Someone else (even an admin) cannot confirm it.
	rep = e.press(slackIn(uAdmin, chAlert), ok)
	if !strings.Contains(rep.Message.Title, "Only the person who asked") || len(e.act.Calls()) != 0 {
		t.Fatalf("confirm by another user: %q, calls %v", rep.Message.Title, e.act.Calls())
	}
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Actor != uAdmin {
		t.Fatalf("audit %+v", a)
	}
	// Nor the same id on another surface.
	e.press(Who{Surface: bot.SurfaceTelegram, UserID: uResp, Where: tgAlert}, ok)
	if len(e.act.Calls()) != 0 {
		t.Fatal("confirmed from another surface")
	}

	// The requester can; the action runs once with what the preview showed.
	rep = e.press(alice, ok)
	calls := e.act.Calls()
	if len(calls) != 1 || calls[0].Command != CmdCooldownReset || calls[0].Target != "prod" ||
		!slices.Equal(calls[0].Args, []string{"anthropic:default"}) {
		t.Fatalf("calls %+v (reply %q)", calls, flat(rep))
	}
	if rep.Ephemeral || !strings.Contains(flat(rep), "Confirmed by name-"+uResp) {
		t.Fatalf("result reply %+v", rep)
	}
	a := e.lastAudit()
	if a.Outcome != OutcomeOK || a.BackupPath == "" || string(a.After) != `{"cleared":true}` ||
		!slices.Equal(a.Args, []string{"prod", "anthropic:default"}) || len(a.Before) == 0 {
		t.Fatalf("confirm audit %+v", a)
	}
	if !strings.Contains(flat(rep), fmt.Sprintf("undo %d", a.ID)) {
		t.Fatalf("the result should say how to undo: %q", flat(rep))
	}

	// Twice: nothing more happens.
	rep = e.press(alice, ok)
	if !strings.Contains(rep.Message.Title, "Already confirmed") || len(e.act.Calls()) != 1 {
		t.Fatalf("second confirm: %q calls %d", rep.Message.Title, len(e.act.Calls()))
	}
}

func TestConfirmExpires(t *testing.T) {
	e := newEnv(t, noLimit)
	bob := slackIn(uAdmin, chAlert)
	ok, _ := buttons(t, e.handle(bob, "restart prod"))
	e.clock.Add(2 * time.Minute)
	rep := e.press(bob, ok)
	if !strings.Contains(rep.Message.Title, "expired") || len(e.act.Calls()) != 0 {
		t.Fatalf("after 2 minutes: %q calls %v", rep.Message.Title, e.act.Calls())
	}
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Error != "confirm: expired" {
		t.Fatalf("audit %+v", a)
	}
	// Just inside the window works.
	ok, _ = buttons(t, e.handle(bob, "restart prod"))
	e.clock.Add(2*time.Minute - time.Second)
	e.press(bob, ok)
	if len(e.act.Calls()) != 1 {
		t.Fatal("confirm within 2 minutes did not act")
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, noLimit)
	bob := slackIn(uAdmin, chDM)
	ok, no := buttons(t, e.handle(bob, "doctor fix prod"))
	// Cancel by someone else does nothing; the owner's preview stays.
	rep := e.press(slackIn(uResp, chDM), no)
	if !strings.Contains(rep.Message.Title, "Only the person who asked") {
		t.Fatalf("cancel by another: %q", rep.Message.Title)
	}
	rep = e.press(bob, no)
	if !strings.Contains(rep.Message.Title, "Cancelled") || e.lastAudit().Outcome != OutcomeCancelled {
		t.Fatalf("cancel: %q %+v", rep.Message.Title, e.lastAudit())
	}
	rep = e.press(bob, ok)
	if !strings.Contains(rep.Message.Title, "Already") || len(e.act.Calls()) != 0 {
		t.Fatalf("confirm after cancel: %q calls %v", rep.Message.Title, e.act.Calls())
	}
	rep = e.press(bob, "ok:doesnotexist")
	if !strings.Contains(rep.Message.Title, "Unknown confirmation") || len(e.act.Calls()) != 0 {
		t.Fatalf("unknown id: %q", rep.Message.Title)
	}
}

// A role taken away between preview and Confirm: nothing happens.
func TestConfirmRechecksRole(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uResp, chAlert)
	ok, _ := buttons(t, e.handle(w, "cooldown reset anthropic:default prod"))
	e.rt.access.cfg.Responders = nil
	rep := e.press(w, ok)
	if !strings.HasPrefix(rep.Message.Title, "Not allowed") || len(e.act.Calls()) != 0 {
		t.Fatalf("%q calls %v", rep.Message.Title, e.act.Calls())
	}
}

func TestConcurrentConfirmActsOnce(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uAdmin, chAlert)
	ok, _ := buttons(t, e.handle(w, "probe --spend prod"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := e.rt.Press(context.Background(), bot.Press{Surface: w.Surface, UserID: w.UserID, Where: w.Where, Action: ok})
			AssertNoSecretLeak(t, rep)
		}()
	}
	wg.Wait()
	calls := e.act.Calls()
	if len(calls) != 1 || calls[0].Command != CmdProbeSpend {
		t.Fatalf("calls %+v", calls)
	}
	// The probe gets the Anthropic profiles the preview listed, not the
	// shadowed env key.
	if !slices.Equal(calls[0].Args, []string{"anthropic:default", "anthropic:backup", longProfile}) {
		t.Fatalf("probe args %v", calls[0].Args)
	}
}

func TestActionFailure(t *testing.T) {
	e := newEnv(t, noLimit)
	e.act.fail = errors.New("gateway unreachable; token " + keyProd)
	w := slackIn(uAdmin, chAlert)
	ok, _ := buttons(t, e.handle(w, "restart prod"))
	rep := e.press(w, ok)
	if !strings.Contains(rep.Message.Title, "failed") || !strings.Contains(flat(rep), "gateway unreachable") {
		t.Fatalf("%q", flat(rep))
	}
	a := e.lastAudit()
	if a.Outcome != OutcomeFailed || !strings.Contains(a.Error, "gateway unreachable") || strings.Contains(a.Error, keyProd) {
		t.Fatalf("audit %+v", a)
	}
}

func TestResetAllAndResolution(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uResp, chAlert)

	// No target: only prod has anthropic:default in a window.
	rep := e.handle(w, "cooldown reset anthropic:default")
	buttons(t, rep)
	if rep.Message.Target != "prod" {
		t.Fatalf("target %q", rep.Message.Target)
	}
	// all: every profile in a window on prod.
	rep = e.handle(w, "cooldown reset all")
	ok, _ := buttons(t, rep)
	if len(rep.Message.Items) != 2 || !strings.Contains(rep.Message.Title, "2 cooldowns") {
		t.Fatalf("reset all preview %q items %d", rep.Message.Title, len(rep.Message.Items))
	}
	e.press(w, ok)
	if c := e.act.Calls(); len(c) != 1 || !slices.Equal(c[0].Args, []string{"anthropic:default", longProfile}) {
		t.Fatalf("calls %+v", c)
	}
	// Not in cooldown: nothing to reset, no buttons.
	rep = e.handle(w, "cooldown reset anthropic:backup prod")
	if len(rep.Message.Buttons) != 0 || !strings.Contains(rep.Message.Title, "not in cooldown") {
		t.Fatalf("%q", rep.Message.Title)
	}
	rep = e.handle(w, "cooldown reset all staging")
	if len(rep.Message.Buttons) != 0 || !strings.Contains(rep.Message.Title, "nothing to reset") {
		t.Fatalf("%q", rep.Message.Title)
	}
	// Unknown profile: the known ones are listed.
	rep = e.handle(w, "cooldown reset anthropic:nope prod")
	if !strings.Contains(flat(rep), "anthropic:backup") || e.lastAudit().Outcome != OutcomeRefused {
		t.Fatalf("%q", flat(rep))
	}
	// A one-install command with several targets asks which.
	rep = e.handle(slackIn(uAdmin, chAlert), "restart")
	if !strings.Contains(rep.Message.Title, "Which target?") || !strings.Contains(flat(rep), "restart prod") {
		t.Fatalf("%q", flat(rep))
	}
}

func TestAlertButtons(t *testing.T) {
	e := newEnv(t, noLimit)
	stranger := slackIn(uStranger, chAlert)
	resp := slackIn(uResp, chAlert)

	// The role check comes first: a stranger gets a refusal, no preview.
	rep := e.press(stranger, "reset:anthropic:default")
	if !strings.Contains(rep.Message.Title, "needs the responder role") || len(rep.Message.Buttons) != 0 {
		t.Fatalf("stranger press: %q", rep.Message.Title)
	}
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Command != CmdCooldownReset {
		t.Fatalf("audit %+v", a)
	}
	// A responder gets the same preview as the typed command.
	typed := e.handle(resp, "cooldown reset anthropic:default")
	pressed := e.press(resp, "reset:anthropic:default")
	buttons(t, pressed)
	if typed.Message.Title != pressed.Message.Title || len(typed.Message.Items) != len(pressed.Message.Items) {
		t.Fatalf("press %q vs typed %q", pressed.Message.Title, typed.Message.Title)
	}
	// A button naming its alert's target previews that target's reset.
	onProd := e.press(resp, bot.Action{Verb: bot.VerbReset, Arg: "anthropic:default", For: "prod"}.Format())
	buttons(t, onProd)
	if onProd.Message.Target != "prod" || onProd.Message.Title != typed.Message.Title {
		t.Fatalf("reset button of prod's alert: %q on %q", onProd.Message.Title, onProd.Message.Target)
	}
	if rep := e.press(resp, "reset:anthropic:default|gone"); !strings.Contains(flat(rep), "not configured any more") {
		t.Errorf("reset button of a removed target: %q", flat(rep))
	}
	// A profile id cut by Format is found again.
	action := bot.Action{Verb: bot.VerbReset, Arg: longProfile}.Format()
	if action == "reset:"+longProfile {
		t.Fatal("fixture: the long profile should be cut")
	}
	rep = e.press(resp, action)
	buttons(t, rep)
	if !strings.Contains(rep.Message.Title, longProfile) {
		t.Fatalf("cut profile: %q", rep.Message.Title)
	}
	// reset:all
	rep = e.press(resp, "reset:all")
	buttons(t, rep)

	// check:<target> answers like `check prod`, with the probe.
	rep = e.press(resp, "check:prod")
	if !strings.HasPrefix(rep.Message.Title, "Key check — prod:") || !slices.Contains(e.diag.probes, "prod") {
		t.Fatalf("check press: %q probes %v", rep.Message.Title, e.diag.probes)
	}
	rep = e.press(stranger, "check:prod")
	if !strings.Contains(rep.Message.Title, "needs the responder role") {
		t.Fatalf("%q", rep.Message.Title)
	}
	// silence:<target>:1h silences right away (no Confirm for silence).
	rep = e.press(resp, "silence:prod:1h")
	sil, err := e.st.Silences(context.Background(), t0)
	if err != nil || len(sil) != 1 || sil[0].Target != "prod" || !sil[0].Ends.Equal(t0.Add(time.Hour)) {
		t.Fatalf("silences %+v %v (reply %q)", sil, err, flat(rep))
	}
	// Rubbish buttons.
	for _, a := range []string{"bogus:1", "reset:", "silence:prod", "silence:prod:99d", "check:gone", "nothing"} {
		rep = e.press(resp, a)
		if !strings.Contains(rep.Message.Title, "not valid") || e.lastAudit().Outcome != OutcomeRefused {
			t.Errorf("%q: %q", a, rep.Message.Title)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	w := slackIn(uStranger, chAlert)
	for i := range DefaultBurst {
		if rep := e.handle(w, "whoami"); strings.Contains(strings.ToLower(flat(rep)), "slow down") {
			t.Fatalf("request %d limited", i+1)
		}
	}
	rep := e.handle(w, "whoami")
	if !strings.Contains(strings.ToLower(flat(rep)), "slow down") || !rep.Ephemeral {
		t.Fatalf("over the limit: %q", flat(rep))
	}
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Command != CmdWhoami {
		t.Fatalf("audit %+v", a)
	}
	// Presses count too; other users are not affected.
	if rep := e.press(w, "check:prod"); !strings.Contains(strings.ToLower(flat(rep)), "slow down") {
		t.Fatalf("press over the limit: %q", flat(rep))
	}
	if rep := e.handle(slackIn(uView, chAlert), "whoami"); strings.Contains(strings.ToLower(flat(rep)), "slow down") {
		t.Fatal("another user was limited")
	}
	// 10 a minute: one more after 6 s.
	e.clock.Add(6 * time.Second)
	if rep := e.handle(w, "whoami"); strings.Contains(strings.ToLower(flat(rep)), "slow down") {
		t.Fatal("still limited after refill")
	}
	if rep := e.handle(w, "whoami"); !strings.Contains(strings.ToLower(flat(rep)), "slow down") {
		t.Fatal("refill gave more than one token")
	}
}

func TestLimiterPrune(t *testing.T) {
	l := newLimiter(RateLimit{})
	for i := range maxBuckets + 10 {
		l.allow(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Hour))
	}
	if len(l.buckets) > maxBuckets {
		t.Fatalf("%d buckets", len(l.buckets))
	}
	if !newLimiter(RateLimit{PerMinute: -1}).allow("x", t0) {
		t.Fatal("off limiter refused")
	}
}

func TestSecretPaste(t *testing.T) {
	fresh := "sk-ant-api03-FRESHxPASTEDxKEYx0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV-0123456789AA"
	e := newEnv(t)
	for _, tc := range []struct {
		text, secret string
		want         []string
	}{
		{"cooldown reset " + fresh, fresh, []string{"Anthropic console", "paste-api-key --provider anthropic", "printf '%s'", "--profile-id"}},
		{"here is the new key: " + fresh + " please store it", fresh, []string{"revoke", "paste-api-key"}},
		{"status " + slackToken, slackToken, []string{"Slack", "slack.bot_token"}},
		{"/start " + tgToken, tgToken, []string{"@BotFather", "/revoke"}},
		{"x openclaw-oauth-refresh-fence:v1:abc:def", "openclaw-oauth-refresh-fence:v1:abc:def", []string{"auth login"}},
	} {
		// Refused everywhere, even for a stranger in another channel, and
		// even over the rate limit.
		for _, w := range []Who{slackIn(uStranger, chOther), slackIn(uAdmin, chAlert), console} {
			rep := e.rt.Handle(context.Background(), bot.Request{Surface: w.Surface, UserID: w.UserID, UserName: w.Name, Where: w.Where, Text: tc.text})
			AssertNoSecretLeak(t, rep, tc.secret)
			text := flat(rep)
			for _, want := range tc.want {
				if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
					t.Errorf("%q: reply lacks %q: %s", tc.secret[:8], want, text)
				}
			}
			if !rep.Ephemeral || rep.Message.Severity != bot.SevCritical {
				t.Errorf("warning should be ephemeral and critical: %+v", rep)
			}
			a := e.lastAudit()
			row := fmt.Sprintf("%s %q %s %s %s %s", a.Command, a.Args, a.Error, a.Before, a.After, a.BackupPath)
			if a.Outcome != OutcomeRefused || strings.Contains(row, tc.secret) || strings.Contains(row, tc.secret[len(tc.secret)-12:]) {
				t.Fatalf("audit row %+v", a)
			}
		}
	}
	if len(e.act.Calls()) != 0 {
		t.Fatal("acted on a pasted secret")
	}
}

func TestAuditRows(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uView, chOther)
	e.handle(w, "status prod")
	a := e.lastAudit()
	if a.Actor != uView || a.ActorName != "name-"+uView || a.Surface != bot.SurfaceSlack || a.Where != chOther ||
		a.Command != CmdStatus || !slices.Equal(a.Args, []string{"prod"}) || a.Outcome != OutcomeOK ||
		a.Error != "" || a.Duration <= 0 || !a.At.Equal(t0) {
		t.Fatalf("ok row %+v", a)
	}
	e.handle(w, "restart prod")
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Command != CmdRestart || !strings.Contains(a.Error, "needs the admin role") {
		t.Fatalf("refused row %+v", a)
	}
	e.handle(w, "statsu prod")
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Command != "(unknown)" || !slices.Equal(a.Args, []string{"statsu prod"}) {
		t.Fatalf("unknown row %+v", a)
	}
	e.handle(w, "status broken")
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || a.Command != "(usage)" {
		t.Fatalf("usage row %+v", a)
	}
	// A target that cannot be read: failed, error scrubbed.
	e.diag.targets = append(e.diag.targets, "broken")
	e.handle(w, "status broken")
	if a := e.lastAudit(); a.Outcome != OutcomeFailed || !strings.Contains(a.Error, "cannot read broken") || strings.Contains(a.Error, keyProd) {
		t.Fatalf("failed row %+v", a)
	}
	// `audit n` lists the latest, newest first (admin only).
	rep := e.handle(slackIn(uAdmin, chDM), "audit 3")
	text := flat(rep)
	if !strings.Contains(rep.Message.Title, "latest 3") || !strings.Contains(text, "status broken") ||
		!strings.Contains(text, "→ failed") || !strings.Contains(text, "name-"+uView+" ("+uView+")") {
		t.Fatalf("audit reply %s", text)
	}
	hasTime := false
	for _, s := range rep.Message.Text {
		hasTime = hasTime || s.IsTime()
	}
	if !hasTime {
		t.Fatal("audit lines should carry times")
	}
}

func TestReplies(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uStranger, chAlert)

	rep := e.handle(w, "status prod")
	m := rep.Message
	if m.Kind != bot.KindReply || m.Severity != bot.SevCritical || !strings.HasPrefix(m.Title, "prod: DOWN") || rep.Ephemeral {
		t.Fatalf("status %+v", m)
	}
	text := flat(rep)
	for _, want := range []string{"anthropic:default", "anthropic:backup", "invalid", "key check: rejected", "key check: accepted",
		redact4(keyProd), "not used (shadowed)", "OpenClaw 2026.9.6"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q: %s", want, text)
		}
	}
	if len(m.Items) != 3 || len(m.Items[0].Remedy) != 0 || len(m.Items[0].Details) != 0 {
		t.Fatalf("status items: titles only, got %+v", m.Items)
	}

	// Several targets: one block each, subjects prefixed.
	rep = e.handle(w, "status")
	if !strings.Contains(rep.Message.Title, "2 targets: DOWN") || !strings.Contains(flat(rep), "staging: OK") {
		t.Fatalf("multi status %q", flat(rep))
	}

	rep = e.handle(w, "diagnose prod")
	var code []string
	for _, it := range rep.Message.Items {
		for _, line := range it.Remedy {
			for _, s := range line {
				if s.Code {
					code = append(code, s.Text)
				}
			}
		}
	}
	if !slices.ContainsFunc(code, func(s string) bool {
		return strings.HasPrefix(s, "printf '%s' \"$NEW_ANTHROPIC_KEY\" | OPENCLAW_STATE_DIR=/srv/openclaw openclaw models auth paste-api-key")
	}) || !slices.Contains(code, "openclaw-bot status --probe") {
		t.Fatalf("diagnose remedy code spans %q", code)
	}
	if !strings.Contains(flat(rep), "/srv/openclaw/.env:1") || !strings.Contains(flat(rep), "[REDACTED]") {
		t.Fatalf("diagnose: file position and scrubbed evidence expected: %s", flat(rep))
	}

	rep = e.handle(w, "cooldowns")
	m = rep.Message
	if m.Title != "2 profiles in cooldown on 2 targets" || len(m.Items) != 2 {
		t.Fatalf("cooldowns %q %+v", m.Title, m.Items)
	}
	for _, it := range m.Items {
		hasTime := false
		for _, s := range it.Details {
			hasTime = hasTime || s.IsTime()
		}
		if !hasTime {
			t.Fatalf("cooldown item without a time: %+v", it)
		}
	}
	if !strings.Contains(flat(rep), "cooldown reset anthropic:default prod") {
		t.Fatalf("cooldowns should suggest the reset: %s", flat(rep))
	}
	rep = e.handle(w, "cooldowns staging")
	if rep.Message.Title != "No profile in cooldown on staging" {
		t.Fatalf("%q", rep.Message.Title)
	}

	rep = e.handle(w, "whoami")
	text = flat(rep)
	for _, want := range []string{uStranger, "reader", chAlert, "anyone may read here", "status"} {
		if !strings.Contains(text, want) {
			t.Errorf("whoami lacks %q: %s", want, text)
		}
	}
	rep = e.handle(console, "whoami")
	if !strings.Contains(flat(rep), "admin") || !strings.Contains(flat(rep), "local operator") {
		t.Fatalf("console whoami %s", flat(rep))
	}

	rep = e.handle(w, "help")
	text = flat(rep)
	for _, s := range Specs() {
		if !strings.Contains(text, s.Usage) {
			t.Errorf("help lacks %q", s.Usage)
		}
	}
	for _, want := range []string{"Responders:", "Admins:", "(Confirm)", "/cooldown_reset"} {
		if !strings.Contains(text, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	rep = e.handle(w, "help cooldown reset")
	if !strings.Contains(rep.Message.Title, "cooldown reset <profile|all> [target]") || !strings.Contains(flat(rep), "responder") ||
		!strings.Contains(flat(rep), "Confirm/Cancel") {
		t.Fatalf("help topic %s", flat(rep))
	}

	// Unknown input: closest command and its usage, ephemeral.
	rep = e.handle(w, "statsu prod")
	if !strings.Contains(rep.Message.Title, "did you mean status?") || !strings.Contains(flat(rep), "status [target]") || !rep.Ephemeral {
		t.Fatalf("typo reply %s", flat(rep))
	}
	rep = e.handle(w, "silence 9d")
	if !strings.Contains(flat(rep), "silence <duration> [target] [profile] [code]") {
		t.Fatalf("usage reply %s", flat(rep))
	}
}

// redact4 is how a masked key shows: the first 8 characters.
func redact4(s string) string { return s[:8] + "..." }

func TestUnavailable(t *testing.T) {
	e := newEnv(t, noLimit, func(o *Options) { o.Actions = nil })
	w := slackIn(uAdmin, chAlert)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"cooldown reset anthropic:default prod", []string{"not available yet in this release", "openclaw models auth logout anthropic:default --yes",
			"paste-api-key --provider anthropic --profile-id anthropic:default", "known rejected", "Wait"}},
		{"restart prod", []string{"not available yet in this release", "openclaw gateway restart"}},
		{"doctor fix prod", []string{"not available yet in this release", "openclaw doctor --fix"}},
		{"probe --spend prod", []string{"not available yet in this release", "models status --probe"}},
		{"doctor prod", []string{"not available yet in this release", "openclaw doctor --lint"}},
	} {
		rep := e.handle(w, tc.text)
		if len(rep.Message.Buttons) != 0 {
			t.Errorf("%s: buttons without an action behind them", tc.text)
		}
		for _, want := range tc.want {
			if !strings.Contains(flat(rep), want) {
				t.Errorf("%s: reply lacks %q: %s", tc.text, want, flat(rep))
			}
		}
		if a := e.lastAudit(); a.Outcome != OutcomeFailed || a.Error != "not available in this release" {
			t.Errorf("%s: audit %+v", tc.text, a)
		}
	}
	// Calling Unavailable directly changes nothing and says the same.
	for _, f := range []func(context.Context, string, []string) (bot.Message, error){
		Unavailable{}.ResetCooldown, Unavailable{}.Undo, Unavailable{}.Restart, Unavailable{}.DoctorFix,
		Unavailable{}.ProbeSpend, Unavailable{}.DoctorLint,
	} {
		m, err := f(context.Background(), "prod", nil)
		AssertNoSecretLeak(t, bot.Reply{Message: m})
		if err != nil || !strings.Contains(flat(bot.Reply{Message: m}), "not available yet in this release") {
			t.Errorf("Unavailable: %+v %v", m, err)
		}
	}
}

func TestSilenceUnsilenceAck(t *testing.T) {
	e := newEnv(t, noLimit)
	ctx := context.Background()
	w := tgIn(tgResp, tgAlert)
	rep := e.handle(w, "silence 2h prod anthropic:default cooldown.active")
	sil, _ := e.st.Silences(ctx, t0)
	if len(sil) != 1 || sil[0].Subject != "anthropic:default" || sil[0].Code != "cooldown.active" ||
		!sil[0].Ends.Equal(t0.Add(2*time.Hour)) || !strings.Contains(sil[0].CreatedBy, tgResp) {
		t.Fatalf("silence %+v", sil)
	}
	if !strings.Contains(flat(rep), "unsilence "+sil[0].ID) {
		t.Fatalf("%s", flat(rep))
	}
	rep = e.handle(w, "silences")
	if !strings.Contains(flat(rep), sil[0].ID) || !strings.Contains(flat(rep), "profile anthropic:default") {
		t.Fatalf("silences %s", flat(rep))
	}
	rep = e.handle(w, "unsilence "+strings.ToUpper(sil[0].ID))
	if !strings.Contains(rep.Message.Title, "ended") {
		t.Fatalf("unsilence %s", flat(rep))
	}
	rep = e.handle(w, "unsilence "+sil[0].ID)
	if !strings.Contains(rep.Message.Title, "No silence") || e.lastAudit().Outcome != OutcomeFailed {
		t.Fatalf("unsilence again %s", flat(rep))
	}
	rep = e.handle(w, "silences")
	if !strings.Contains(rep.Message.Title, "No active silences") {
		t.Fatalf("%s", flat(rep))
	}

	b := store.Batch{Incidents: []store.Incident{{Target: "prod", Subject: "anthropic:default", Code: "cooldown.active",
		Severity: "critical", State: store.StateFiring, Title: "anthropic:default is in cooldown", FirstSeen: t0}}}
	if err := e.st.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	id := b.Incidents[0].ID
	rep = e.handle(w, fmt.Sprintf("ack %d", id))
	inc, _ := e.st.Incident(ctx, id)
	if inc.AckedBy != "tg-"+tgResp+" ("+tgResp+")" || !inc.AckedAt.Equal(t0) || !strings.Contains(rep.Message.Title, "Acked") {
		t.Fatalf("ack %+v %s", inc, flat(rep))
	}
	if rep = e.handle(w, "ack 4242"); !strings.Contains(rep.Message.Title, "No incident") {
		t.Fatalf("%s", flat(rep))
	}
}

func TestUndo(t *testing.T) {
	e := newEnv(t, noLimit)
	w := slackIn(uResp, chAlert)
	ok, _ := buttons(t, e.handle(w, "cooldown reset anthropic:default prod"))
	e.press(w, ok)
	reset := e.lastAudit()

	// Not undoable: the preview row.
	rep := e.handle(w, fmt.Sprintf("undo %d", reset.ID-1))
	if !strings.Contains(rep.Message.Title, "nothing to undo") || len(rep.Message.Buttons) != 0 {
		t.Fatalf("%s", flat(rep))
	}
	rep = e.handle(w, "undo 999")
	if !strings.Contains(rep.Message.Title, "No audit entry") {
		t.Fatalf("%s", flat(rep))
	}
	rep = e.handle(w, fmt.Sprintf("undo %d", reset.ID))
	ok, _ = buttons(t, rep)
	if !strings.Contains(flat(rep), reset.BackupPath) || rep.Message.Target != "prod" {
		t.Fatalf("undo preview %s", flat(rep))
	}
	e.press(w, ok)
	calls := e.act.Calls()
	if len(calls) != 2 || calls[1].Command != CmdUndo || calls[1].Target != "prod" ||
		!slices.Equal(calls[1].Args, []string{fmt.Sprint(reset.ID), reset.BackupPath}) {
		t.Fatalf("calls %+v", calls)
	}
}

// Nothing panics out of the handler, whatever the wiring or input.
func TestRobustness(t *testing.T) {
	ctx := context.Background()
	bare := New(Options{})
	for _, text := range []string{"status", "cooldown reset all", "silence 1h", "silences", "audit", "restart", "undo 1", "ack 1", "doctor", "\x00\xff", "/", "@", "/openclaw"} {
		rep := bare.Handle(ctx, bot.Request{Surface: bot.SurfaceConsole, UserID: "console", Text: text})
		AssertNoSecretLeak(t, rep)
		if rep.Message.Title == "" {
			t.Errorf("%q: empty reply", text)
		}
	}
	for _, a := range []string{"ok:x", "no:x", "reset:all", "check:", ""} {
		rep := bare.Press(ctx, bot.Press{Surface: bot.SurfaceConsole, UserID: "console", Action: a})
		AssertNoSecretLeak(t, rep)
		if rep.Message.Title == "" {
			t.Errorf("press %q: empty reply", a)
		}
	}

	// A panicking diagnoser: a failed reply and audit row, no secret.
	e := newEnv(t, noLimit)
	e.diag.targets = []string{"boom"}
	rep := e.handle(console, "status")
	if !strings.Contains(rep.Message.Title, "Internal error") {
		t.Fatalf("%s", flat(rep))
	}
	if a := e.lastAudit(); a.Outcome != OutcomeFailed || a.Command != "(panic)" {
		t.Fatalf("audit %+v", a)
	}
	// A diagnoser error is shown scrubbed.
	e.diag.targets = []string{"broken"}
	rep = e.handle(console, "status")
	if !strings.Contains(flat(rep), "could not be evaluated") {
		t.Fatalf("%s", flat(rep))
	}
}

// With one target, no target needs to be named and replies say which.
func TestSingleTarget(t *testing.T) {
	e := newEnv(t, noLimit)
	e.diag.targets = []string{"prod"}
	w := slackIn(uAdmin, chAlert)
	rep := e.handle(w, "restart")
	ok, _ := buttons(t, rep)
	if rep.Message.Target != "prod" || !strings.Contains(rep.Message.Title, "prod") {
		t.Fatalf("%s", flat(rep))
	}
	e.press(w, ok)
	if c := e.act.Calls(); len(c) != 1 || c[0].Target != "prod" {
		t.Fatalf("%+v", c)
	}
	rep = e.handle(w, "doctor")
	if c := e.act.Calls(); len(c) != 2 || c[1].Command != CmdDoctor || rep.Message.Target != "prod" {
		t.Fatalf("%+v %s", c, flat(rep))
	}
	rep = e.handle(w, "cooldowns")
	if !strings.Contains(flat(rep), "cooldown reset anthropic:default") || strings.Contains(flat(rep), "anthropic:default prod") {
		t.Fatalf("%s", flat(rep))
	}
}

// Without named targets the Diagnoser and the actions get "" and replies
// use the report's own name.
func TestNoNamedTargets(t *testing.T) {
	e := newEnv(t, noLimit)
	e.diag.targets = nil
	w := slackIn(uAdmin, chAlert)
	if rep := e.handle(w, "status"); !strings.HasPrefix(rep.Message.Title, "local: DOWN") {
		t.Fatalf("%s", flat(rep))
	}
	rep := e.handle(w, "cooldown reset anthropic:default")
	ok, _ := buttons(t, rep)
	if !strings.Contains(rep.Message.Title, "on local?") {
		t.Fatalf("%s", flat(rep))
	}
	e.press(w, ok)
	rep = e.handle(w, "restart")
	ok, _ = buttons(t, rep)
	if !strings.Contains(rep.Message.Title, "of local?") {
		t.Fatalf("%s", flat(rep))
	}
	e.press(w, ok)
	calls := e.act.Calls()
	if len(calls) != 2 || calls[0].Target != "" || calls[1].Target != "" {
		t.Fatalf("%+v", calls)
	}
	if rep := e.handle(w, "status prod"); !strings.Contains(flat(rep), "no named targets") {
		t.Fatalf("%s", flat(rep))
	}
}

// The preview of doctor fix lists what it would repair, or says nothing.
func TestDoctorFixPreview(t *testing.T) {
	e := newEnv(t, noLimit)
	rep := e.handle(console, "doctor fix staging")
	buttons(t, rep)
	if !strings.Contains(flat(rep), "probably change nothing") {
		t.Fatalf("%s", flat(rep))
	}
	// On prod a legacy store is listed as what it would repair.
	e.diag.targets = []string{"legacy"}
	rep = e.handle(console, "doctor fix legacy")
	buttons(t, rep)
	if len(rep.Message.Items) != 1 || rep.Message.Items[0].Code != diagnostics.CodeStoreLegacyUnmigrated ||
		strings.Contains(flat(rep), "probably change nothing") {
		t.Fatalf("%s", flat(rep))
	}
	// Claude Code's own login is not in OpenClaw's store and a fenced
	// login is skipped by doctor: neither has to be named.
	e.diag.targets = []string{"claude"}
	rep = e.handle(console, "doctor fix claude")
	if strings.Contains(flat(rep), "REFUSE") {
		t.Fatalf("%s", flat(rep))
	}
}

// Every command's log line carries a request id: the one the surface put in
// the context, or a fresh one; the observer gets the command's name,
// surface and outcome.
func TestRequestIDAndObserver(t *testing.T) {
	var logs strings.Builder
	obs := &recObserver{}
	e := newEnv(t, func(o *Options) {
		l := zerolog.New(&logs)
		o.Log = &l
		o.Observer = obs
	})
	ctx := bot.WithRequestID(context.Background(), "feedc0ffee01")
	e.rt.Handle(ctx, bot.Request{Surface: bot.SurfaceConsole, UserID: "console", Text: "status"})
	e.rt.Handle(context.Background(), bot.Request{Surface: bot.SurfaceConsole, UserID: "console", Text: "frobnicate"})
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"req":"feedc0ffee01"`) {
		t.Fatalf("log lines: %q", lines)
	}
	if !regexp.MustCompile(`"req":"[0-9a-f]{12}"`).MatchString(lines[1]) || strings.Contains(lines[1], "feedc0ffee01") {
		t.Errorf("a request without an id gets a fresh one: %q", lines[1])
	}
	want := []string{"status/console/ok", "(unknown)/console/refused"}
	if strings.Join(obs.got, " ") != strings.Join(want, " ") {
		t.Errorf("observer got %v, want %v", obs.got, want)
	}
}

type recObserver struct{ got []string }

func (r *recObserver) Command(command, surface, outcome string, _ time.Duration, _ bool) {
	r.got = append(r.got, command+"/"+surface+"/"+outcome)
}
