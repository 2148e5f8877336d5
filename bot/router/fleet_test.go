package router

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// fakeFleet owns some targets elsewhere and records what is forwarded.
type fakeFleet struct {
	mu     sync.Mutex
	owners map[string]Owner
	fwd    []string // "command: <text>" or "press: <action>", with the target
	// refreshes counts Refresh calls; onRefresh is what one finds.
	refreshes int
	onRefresh func()
}

func (f *fakeFleet) set(target string, o *Owner) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o == nil {
		delete(f.owners, target)
		return
	}
	f.owners[target] = *o
}

func (f *fakeFleet) Remote(target string) (Owner, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.owners[target]
	return o, ok
}

func (f *fakeFleet) Forward(_ context.Context, target string, req *bot.Request, p *bot.Press) (bot.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req != nil {
		f.fwd = append(f.fwd, target+" command: "+req.Text)
	} else {
		f.fwd = append(f.fwd, target+" press: "+p.Action)
	}
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "answered by the owner"}, Ephemeral: true}, nil
}

func (f *fakeFleet) Refresh(context.Context) {
	f.mu.Lock()
	f.refreshes++
	hook := f.onRefresh
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
}

func (f *fakeFleet) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.fwd
	f.fwd = nil
	return out
}

// In a fleet, commands that read a target live or change it run on its
// owner; read-only ones and the shared store's are answered here; the role
// is checked here first; a silent owner's target refuses actions.
func TestFleetRouting(t *testing.T) {
	ff := &fakeFleet{owners: map[string]Owner{}}
	e := newEnv(t, noLimit, func(o *Options) { o.Fleet = ff })
	resp, stranger := slackIn(uResp, chAlert), slackIn(uStranger, chAlert)

	// A preview made while prod was still this instance's (its pending
	// row is shared): its Confirm goes to prod's owner once prod moved.
	ok, _ := buttons(t, e.handle(resp, "cooldown reset anthropic:default prod"))
	ff.set("prod", &Owner{Instance: "b"})
	audits := e.auditCount()

	for _, tc := range []struct {
		name, text, want string // want: what is forwarded ("" = answered here)
	}{
		{"status is read here", "status prod", ""},
		{"diagnose is read here", "diagnose prod", ""},
		{"silences are shared", "silences", ""},
		{"check runs on the owner", "check prod", "prod command: check prod"},
		{"reset with its target", "cooldown reset anthropic:default prod", "prod command: cooldown reset anthropic:default prod"},
		{"reset found on the owner's target", "cooldown reset anthropic:default", "prod command: cooldown reset anthropic:default prod"},
		{"doctor", "doctor prod", "prod command: doctor prod"},
		{"staging is this instance's", "check staging", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := e.handle(resp, tc.text)
			got := ff.take()
			if tc.want == "" {
				if len(got) != 0 || rep.Message.Title == "answered by the owner" {
					t.Errorf("%q forwarded: %q", tc.text, got)
				}
				return
			}
			if len(got) != 1 || got[0] != tc.want || rep.Message.Title != "answered by the owner" {
				t.Errorf("%q: forwarded %q, reply %q; want %q", tc.text, got, rep.Message.Title, tc.want)
			}
		})
	}
	if got := e.auditCount() - audits; got != 4 {
		// status, diagnose, silences and check staging; the owner audits
		// what it ran.
		t.Errorf("%d audit rows written here, want 4", got)
	}

	if got := e.press(resp, ok); got.Message.Title != "answered by the owner" {
		t.Errorf("Confirm of prod's preview: %q", got.Message.Title)
	}
	if got := ff.take(); len(got) != 1 || got[0] != "prod press: "+ok {
		t.Errorf("Confirm forwarded %q", got)
	}
	e.press(resp, "reset:anthropic:default|prod")
	if got := ff.take(); len(got) != 1 || got[0] != "prod press: reset:anthropic:default|prod" {
		t.Errorf("alert button forwarded %q", got)
	}

	// The role first: nothing is forwarded for a stranger.
	if rep := e.handle(stranger, "cooldown reset anthropic:default prod"); !strings.Contains(rep.Message.Title, "needs the responder role") {
		t.Errorf("stranger: %q", rep.Message.Title)
	}
	if got := ff.take(); len(got) != 0 {
		t.Errorf("a stranger's reset was forwarded: %q", got)
	}

	// A silent owner: refused at once, saying since when.
	ff.set("prod", &Owner{Instance: "b", SilentSince: t0.Add(-3 * time.Minute)})
	rep := e.handle(resp, "cooldown reset anthropic:default prod")
	if !strings.Contains(rep.Message.Title, "instance b, silent since") || !strings.Contains(flat(rep), "status prod") {
		t.Errorf("silent owner: %q", flat(rep))
	}
	if a := e.lastAudit(); a.Outcome != OutcomeRefused || !strings.Contains(a.Error, "silent") {
		t.Errorf("audit of the refusal %+v", a)
	}

	// A target another instance claimed a moment ago: read again, once.
	ff.onRefresh = func() {
		e.diag.mu.Lock()
		e.diag.targets = append(e.diag.targets, "legacy")
		e.diag.mu.Unlock()
	}
	if rep := e.handle(resp, "status legacy"); !strings.Contains(rep.Message.Title, "legacy") || ff.refreshes != 1 {
		t.Errorf("status of a just-claimed target: %q after %d refreshes", rep.Message.Title, ff.refreshes)
	}
	ff.onRefresh = nil
	if rep := e.handle(resp, "status nowhere"); !strings.Contains(flat(rep), "Unknown target") || ff.refreshes != 2 {
		t.Errorf("status of an unknown target: %q after %d refreshes", flat(rep), ff.refreshes)
	}

	// A command forwarded here for a target this instance does not own is
	// not forwarded on.
	ff.set("prod", &Owner{Instance: "b"})
	fctx := bot.WithForwardedFrom(context.Background(), "c")
	rep = e.rt.Handle(fctx, bot.Request{Surface: resp.Surface, UserID: resp.UserID, Where: resp.Where, Text: "check prod"})
	if !strings.Contains(rep.Message.Title, "moved to instance b") || len(ff.take()) != 0 {
		t.Errorf("forwarded twice: %q", rep.Message.Title)
	}
}

// A published report says whose it is and how old; an old one says so, a
// silent owner's says it is the last word.
func TestFleetReportHeader(t *testing.T) {
	now := t0
	base := stagingReport(now)
	for _, tc := range []struct {
		name string
		src  diagnostics.ReportSource
		want []string
		not  []string
	}{
		{"fresh", diagnostics.ReportSource{Instance: "b", Age: 4 * time.Second}, []string{"report of instance b, 4s old"}, []string{"Old report", "silent since"}},
		{"old", diagnostics.ReportSource{Instance: "b", Age: 7 * time.Minute}, []string{"Old report: instance b", "7m"}, []string{"silent since"}},
		{"silent owner", diagnostics.ReportSource{Instance: "b", Age: 9 * time.Minute, OwnerSilentSince: now.Add(-8 * time.Minute)},
			[]string{"Owner b silent since", "actions are refused"}, []string{"Old report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := base
			src := tc.src
			rep.Source = &src
			text := flat(bot.Reply{Message: bot.Message{Text: header(targetReport{name: "staging", rep: rep}, false)}})
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("header %q lacks %q", text, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(text, n) {
					t.Errorf("header %q has %q", text, n)
				}
			}
		})
	}
}
