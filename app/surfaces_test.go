package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/servetest"
)

// surfaceCase is one mode of a chat platform, run against its fake.
type surfaceCase struct {
	mode string
	// config returns the platform's config (YAML) pointing at a fake,
	// and the alert destination it names.
	config func(t *testing.T) (yaml, dest string)
	// webhook: the mode serves HTTP routes on http.listen (else none).
	webhook bool
}

// surfaceContract has the cases of every platform: one per mode. A
// platform added to platforms without cases here fails
// TestSurfacesComplete.
var surfaceContract = map[string][]surfaceCase{
	bot.SurfaceSlack: {
		{mode: "socket", config: func(t *testing.T) (string, string) {
			fs := fakeslack.NewSocketMode()
			t.Cleanup(fs.Close)
			return fmt.Sprintf("slack:\n  mode: socket\n  bot_token: %s\n  app_token: %s\n  api_url: %s\n  alert_channel: %s\n",
				servetest.SlackToken, servetest.AppToken, fs.URL(), servetest.Channel), servetest.Channel
		}},
		{mode: "http", webhook: true, config: func(t *testing.T) (string, string) {
			fs := fakeslack.New()
			t.Cleanup(fs.Close)
			return fmt.Sprintf("slack:\n  mode: http\n  bot_token: %s\n  signing_secret: test-signing-secret\n  api_url: %s\n  alert_channel: %s\n",
				servetest.SlackToken, fs.URL(), servetest.Channel), servetest.Channel
		}},
	},
	bot.SurfaceTelegram: {
		{mode: "polling", config: func(t *testing.T) (string, string) {
			ft := faketelegram.New(servetest.TGToken)
			t.Cleanup(ft.Close)
			return fmt.Sprintf("telegram:\n  mode: polling\n  token: %s\n  api_url: %s\n  alert_chat: \"%s\"\n",
				servetest.TGToken, ft.URL(), servetest.Chat), servetest.Chat
		}},
		{mode: "webhook", webhook: true, config: func(t *testing.T) (string, string) {
			ft := faketelegram.New(servetest.TGToken)
			t.Cleanup(ft.Close)
			return fmt.Sprintf("http:\n  listen: 127.0.0.1:0\ntelegram:\n  mode: webhook\n  token: %s\n  api_url: %s\n  webhook_url: https://bot.example/telegram/webhook\n  webhook_secret: test-webhook-secret\n  alert_chat: \"%s\"\n",
				servetest.TGToken, ft.URL(), servetest.Chat), servetest.Chat
		}},
	},
}

// nopHandler answers every command with nothing.
type nopHandler struct{}

func (nopHandler) Handle(context.Context, bot.Request) bot.Reply { return bot.Reply{} }
func (nopHandler) Press(context.Context, bot.Press) bot.Reply    { return bot.Reply{} }

// Every chat platform is complete: listed in config.Platforms (its access
// prefix), configured by its own section, and in every mode its surface
// has a notifier that delivers to the section's alert destination, the
// webhooks the mode needs (and only then), a readiness that turns true
// against its platform's fake (reported through OnState when it connects),
// and a Run that ends with its context.
func TestSurfacesComplete(t *testing.T) {
	var names []string
	for _, p := range platforms {
		if slices.Contains(names, p.name) {
			t.Errorf("platform %s listed twice", p.name)
		}
		names = append(names, p.name)
		if !slices.Contains(config.Platforms, p.name) {
			t.Errorf("platform %s is not in config.Platforms: its ids cannot be prefixed in access lists", p.name)
		}
		if _, on := p.section(config.Default()); on {
			t.Errorf("platform %s is on in the embedded default config", p.name)
		}
		cases := surfaceContract[p.name]
		if len(cases) == 0 {
			t.Errorf("platform %s has no case in surfaceContract: add one per mode", p.name)
		}
		for _, c := range cases {
			t.Run(p.name+"/"+c.mode, func(t *testing.T) { checkSurface(t, p, c) })
		}
	}
	for _, n := range config.Platforms {
		if !slices.Contains(names, n) {
			t.Errorf("config.Platforms has %s, which no entry of platforms builds", n)
		}
	}

	// The fallback: the console.
	out := &servetest.SyncBuffer{}
	cs := console.NewSurface(strings.NewReader("help\n"), out, nopHandler{})
	if n, r := cs.Notifier(); n == nil || r.Dest == "" {
		t.Errorf("console notifier %v → %q", n, r.Dest)
	}
	if len(cs.Routes()) != 0 || !cs.Ready() {
		t.Errorf("console: routes %v, ready %v", cs.Routes(), cs.Ready())
	}
	if err := cs.Run(context.Background()); err != nil {
		t.Errorf("console Run: %v", err)
	}
	cs.Close()
}

func checkSurface(t *testing.T, p platform, c surfaceCase) {
	yaml, dest := c.config(t)
	cfg, err := config.Parse([]byte(yaml), "bot.yaml", func(string) string { return "" })
	servetest.Must(t, err)
	if _, on := p.section(cfg); !on {
		t.Fatalf("section off for:\n%s", yaml)
	}
	var mu sync.Mutex
	var states []bool
	nop := zerolog.Nop()
	s, err := p.build(cfg, surfaceEnv{handler: nopHandler{}, log: &nop, scrub: redact.NewScrubber(),
		onState: func(up bool) { mu.Lock(); states = append(states, up); mu.Unlock() }})
	servetest.Must(t, err)

	n, route := s.Notifier()
	if n == nil {
		t.Fatal("no notifier: the platform's alerts would go nowhere")
	}
	if route.Dest != dest {
		t.Errorf("notifier to %q, want the section's alert destination %q", route.Dest, dest)
	}
	routes := s.Routes()
	switch {
	case c.webhook && len(routes) == 0:
		t.Errorf("mode %s serves webhooks but Routes is empty", c.mode)
	case !c.webhook && len(routes) != 0:
		t.Errorf("mode %s has routes %v, but nothing should listen for it", c.mode, routes)
	}
	for path, h := range routes {
		if !strings.HasPrefix(path, "/"+p.name+"/") || h == nil {
			t.Errorf("route %q (handler %v): want a handler under /%s/", path, h, p.name)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	servetest.WaitFor(t, "Ready (the surface's readiness) against the fake", 10*time.Second, s.Ready)
	if !c.webhook || p.name != bot.SurfaceSlack { // Slack HTTP mode is ready without connecting
		mu.Lock()
		got := slices.Contains(states, true)
		mu.Unlock()
		if !got {
			t.Errorf("ready, but OnState was never told: openclaw_bot_chat_connected would stay 0")
		}
	}
	if _, err := n.Send(ctx, route.Dest, bot.Message{Title: "surface contract"}, nil); err != nil {
		t.Errorf("the notifier could not deliver to its fake: %v", err)
	}
	cancel()
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	// A webhook mode's handler answers (after Close it refuses politely).
	for path, h := range routes {
		rec := &respRecorder{h: http.Header{}}
		req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		h.ServeHTTP(rec, req)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		if rec.code >= 500 && rec.code != http.StatusServiceUnavailable {
			t.Errorf("%s answered %d", path, rec.code)
		}
	}
}

type respRecorder struct {
	h    http.Header
	code int
}

func (r *respRecorder) Header() http.Header         { return r.h }
func (r *respRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *respRecorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}

// A reload restarts a chat surface only when its own section changed: a
// new Telegram alert chat restarts Telegram and leaves Slack's connection
// (and notifier) alone; a refused reload leaves both.
func TestReloadRestartsOnlyTheChangedSurface(t *testing.T) {
	d := servetest.Install(t, "", "", "")
	fs := fakeslack.NewSocketMode()
	defer fs.Close()
	ft := faketelegram.New(servetest.TGToken)
	defer ft.Close()
	path := servetest.ServeConfig(t, d, fs.URL(), ft.URL(), "http://127.0.0.1:9")
	cfg, err := loadConfig(path)
	servetest.Must(t, err)
	var rl struct {
		sync.Mutex
		got []string
	}
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{Log: zerolog.Nop(), ConfigPath: path, Stdout: &servetest.SyncBuffer{},
		OnReload: func(r string, _ error) { rl.Lock(); rl.got = append(rl.got, r); rl.Unlock() }})
	servetest.Must(t, err)
	defer a.Stop(ctx)
	servetest.Must(t, a.Start(ctx))
	servetest.WaitFor(t, "both surfaces ready", 10*time.Second, func() bool { return len(a.notReady()) == 0 })
	slack1, tg1 := a.gen.chat(bot.SurfaceSlack), a.gen.chat(bot.SurfaceTelegram)

	b, err := os.ReadFile(path)
	servetest.Must(t, err)
	servetest.Must(t, os.WriteFile(path, []byte(strings.Replace(string(b), `alert_chat: "`+servetest.Chat+`"`, `alert_chat: "-1009"`, 1)), 0o600))
	a.Reload("test")
	slack2, tg2 := a.gen.chat(bot.SurfaceSlack), a.gen.chat(bot.SurfaceTelegram)
	if slack2 != slack1 {
		t.Error("the Slack surface was rebuilt although its section did not change")
	}
	if tg2 == tg1 || tg2 == nil {
		t.Error("the Telegram surface was not rebuilt after its section changed")
	}
	if _, r := tg2.s.Notifier(); r.Dest != "-1009" {
		t.Errorf("the new Telegram surface alerts to %q", r.Dest)
	}
	servetest.WaitFor(t, "both surfaces ready again", 10*time.Second, func() bool { return len(a.notReady()) == 0 })

	servetest.Must(t, os.WriteFile(path, append(b, "bogus: 1\n"...), 0o600))
	a.Reload("test")
	if a.gen.chat(bot.SurfaceSlack) != slack1 || a.gen.chat(bot.SurfaceTelegram) != tg2 {
		t.Error("a refused reload replaced a surface")
	}
	rl.Lock()
	defer rl.Unlock()
	if fmt.Sprint(rl.got) != "[applied refused]" {
		t.Errorf("reloads %v", rl.got)
	}
}
