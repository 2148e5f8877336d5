package router

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/telegram"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// TestRegistry checks every registry entry field by field: a command added
// to specs with a piece missing fails here, naming the command and the
// piece. (Delete the Menu, manual or action of an entry and watch it.)
func TestRegistry(t *testing.T) {
	tgName := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	checks := []struct {
		piece string
		ok    func(s Spec) bool
	}{
		{"Name: lower-case words", func(s Spec) bool {
			return s.Name != "" && s.Name == strings.ToLower(strings.Join(strings.Fields(s.Name), " "))
		}},
		{"Usage: starts with the name", func(s Spec) bool { return strings.HasPrefix(s.Usage, s.Name) }},
		{"Summary: its line in help", func(s Spec) bool { return s.Summary != "" }},
		{"Example: parses to the command", func(s Spec) bool { c, err := Parse(s.Example, testTargets); return err == nil && c.Name == s.Name }},
		{"Menu: its line in Telegram's menu (3-256 characters)", func(s Spec) bool { n := len([]rune(s.Menu)); return n >= 3 && n <= 256 }},
		{"TelegramName: a valid Telegram command name", func(s Spec) bool { return tgName.MatchString(TelegramName(s.Name)) }},
		{"run: what answers it (a read-only handler or its preview)", func(s Spec) bool { return s.run != nil }},
		{"action: what a Confirm calls", func(s Spec) bool { return !s.Confirm || s.action != nil }},
		{"manual: the steps by hand where the action is not available", func(s Spec) bool { return s.action == nil || s.manual != nil }},
		{"Needs: only with an action", func(s Spec) bool { return s.Needs == NeedNothing || s.action != nil }},
		{"danger: only on a Confirm", func(s Spec) bool { return !s.danger || s.Confirm }},
		{"Owner: a command with an action runs on its target's owner in a fleet", func(s Spec) bool { return s.action == nil || s.Owner }},
	}
	seen := map[string]string{}
	for _, s := range Specs() {
		for _, c := range checks {
			if !c.ok(s) {
				t.Errorf("%s: %s", s.Name, c.piece)
			}
		}
		tg := TelegramName(s.Name)
		if other, dup := seen[tg]; dup {
			t.Errorf("%s and %s: the same Telegram name %q", other, s.Name, tg)
		}
		seen[tg] = s.Name
		if g, ok := telegram.ParseCommand("/"+tg, "thebot", Commands()); !ok || g != s.Name {
			t.Errorf("%s: Telegram's /%s reads as %q, %v", s.Name, tg, g, ok)
		}
	}
	// The contract's commands (CONTRACT.md "Chat") are all registered.
	for _, name := range []string{"status", "diagnose", "cooldowns", "silences", "help", "whoami", "check", "silence", "unsilence",
		"ack", "cooldown reset", "undo", "audit", "restart", "doctor fix", "probe --spend", "doctor"} {
		if _, ok := SpecOf(name); !ok {
			t.Errorf("contract command %q is not registered", name)
		}
	}

	// Behaviour of every entry: its example answers (a Confirm command with
	// a preview and nothing else), help explains it, an action it names is
	// the one Confirm calls and Unavailable has its manual steps.
	e := newEnv(t, noLimit)
	e.diag.targets = []string{"prod"}
	ok, _ := buttons(t, e.handle(console, "cooldown reset anthropic:default"))
	e.press(console, ok)
	reset := e.lastAudit() // undo's example needs a reset that took a backup
	for _, s := range Specs() {
		text := s.Example
		if s.args == argsNumber && s.Confirm {
			text = s.Name + " " + strconv.FormatInt(reset.ID, 10)
		}
		rep := e.handle(console, text)
		if rep.Message.Title == "" || strings.HasPrefix(rep.Message.Title, "Unknown command") {
			t.Errorf("%s: %q answered %q", s.Name, text, rep.Message.Title)
		}
		if s.Confirm {
			okP, noP := previewPayloads(t, rep)
			if okP.Verb != bot.VerbConfirm || noP.Verb != bot.VerbCancel || okP.Arg != noP.Arg || e.lastAudit().Outcome != OutcomePreviewed {
				t.Errorf("%s: %q is no preview: %+v %+v, audit %q", s.Name, text, okP, noP, e.lastAudit().Outcome)
			}
			before := len(e.act.Calls())
			e.press(console, okP.Format())
			if calls := e.act.Calls(); len(calls) != before+1 || calls[len(calls)-1].Command != s.Name {
				t.Errorf("%s: Confirm called %+v", s.Name, calls[before:])
			}
		} else if len(rep.Message.Buttons) != 0 {
			t.Errorf("%s: buttons without a Confirm: %+v", s.Name, rep.Message.Buttons)
		}
		if h := e.handle(console, "help "+s.Name); !strings.Contains(h.Message.Title, s.Usage) {
			t.Errorf("%s: help says %q", s.Name, h.Message.Title)
		}
		if s.action != nil {
			m := unavailable(s.Name, "prod", []string{"anthropic:default"})
			if txt := flat(bot.Reply{Message: m}); !strings.Contains(txt, "not available yet") || len(m.Text) < 2 {
				t.Errorf("%s: no manual steps: %q", s.Name, txt)
			}
		}
	}
}

// previewPayloads are the typed payloads of a preview's two buttons.
func previewPayloads(t *testing.T, rep bot.Reply) (ok, no bot.Action) {
	t.Helper()
	if len(rep.Message.Buttons) != 2 {
		return
	}
	ok, _ = bot.ParseAction(rep.Message.Buttons[0].Action)
	no, _ = bot.ParseAction(rep.Message.Buttons[1].Action)
	return ok, no
}

// recorder is a handler in front of the router, as serve's is: it embeds
// the router, so the router's Commands reach the surface through it.
type recorder struct {
	*Router
	mu   sync.Mutex
	reqs []string
}

func (h *recorder) Handle(ctx context.Context, req bot.Request) bot.Reply {
	h.mu.Lock()
	h.reqs = append(h.reqs, req.Text)
	h.mu.Unlock()
	return h.Router.Handle(ctx, req)
}

func (h *recorder) texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

// TestTelegramMenu: Telegram's menu comes from the registry through the
// handler. Every registered command is in the list setMyCommands sends and
// reaches the router from a group without an @mention, so no command is
// silently ignored there.
func TestTelegramMenu(t *testing.T) {
	e := newEnv(t, noLimit)
	h := &recorder{Router: e.rt}
	srv := faketelegram.New(tgToken)
	defer srv.Close()
	srv.SetPollCap(time.Second)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	api, err := telegram.NewAPI(redact.Secret(tgToken), srv.URL(), client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- telegram.RunPolling(ctx, api, h, telegram.InboundOptions{}) }()
	defer func() {
		cancel()
		<-done
	}()

	group, _ := strconv.ParseInt(tgAlert, 10, 64)
	user, _ := strconv.ParseInt(tgView, 10, 64)
	var want []string
	for _, s := range Specs() {
		srv.QueueMessage(group, user, "/"+TelegramName(s.Name))
		want = append(want, s.Name)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(h.texts()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := h.texts()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("group commands that reached the router: %q, want %q", got, want)
	}
	menu := map[string]string{}
	for _, c := range srv.Commands() {
		menu[c.Command] = c.Description
	}
	for _, s := range Specs() {
		if d, ok := menu[TelegramName(s.Name)]; !ok || d != s.Menu {
			t.Errorf("%s: setMyCommands sent /%s as %q, %v; want %q", s.Name, TelegramName(s.Name), d, ok, s.Menu)
		}
	}
	if len(menu) != len(Specs())+1 || menu["openclaw"] == "" {
		t.Errorf("menu %v: the registry and /openclaw", menu)
	}
}
