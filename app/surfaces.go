package app

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"sync"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	slackbot "github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/bot/telegram"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/fleet"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
)

// Surface is one chat platform as the app runs it. Each platform package
// (bot/slack, bot/telegram, and bot/console for the fallback) has one,
// built from its own config section.
type Surface interface {
	// Notifier delivers alerts; the route says to where and which
	// (the section's alert destination, alert_targets, alert_min_severity).
	Notifier() (bot.Notifier, config.AlertRoute)
	// Routes are the webhooks served on http.listen, by path (none:
	// nil).
	Routes() map[string]http.Handler
	// Run takes commands until ctx ends (a connection, a poll loop); it
	// may return at once when there is nothing to run. An error means the
	// surface stopped working.
	Run(ctx context.Context) error
	// Ready reports whether commands can arrive (connected, registered):
	// /readyz and openclaw_bot_chat_connected.
	Ready() bool
	// Close finishes the commands in flight after Run's ctx ended.
	Close()
}

var (
	_ Surface = (*slackbot.Surface)(nil)
	_ Surface = (*telegram.Surface)(nil)
	_ Surface = (*console.Surface)(nil)
)

// surfaceEnv is what every surface constructor gets besides the config.
type surfaceEnv struct {
	handler bot.Handler
	log     *zerolog.Logger
	scrub   *redact.Scrubber
	onState func(up bool) // metrics
}

// platform is one chat platform: its name (bot.Surface…: the metrics
// label and the access id prefix), its config section and its surface.
type platform struct {
	name string
	// section is the platform's config section (a reload restarts the
	// surface only when it changed) and whether it is configured.
	section func(*config.Config) (any, bool)
	build   func(*config.Config, surfaceEnv) (Surface, error)
}

// platforms are the chat platforms: the one list to add a platform to,
// beside its package under bot/ and its config section. With none
// configured the console is the surface. TestSurfacesComplete runs every
// entry against a fake of its platform.
var platforms = []platform{
	{bot.SurfaceSlack, func(c *config.Config) (any, bool) { return c.Slack, c.Slack.Enabled() },
		func(c *config.Config, e surfaceEnv) (Surface, error) {
			return slackbot.NewSurface(c.Slack, e.handler, bot.SurfaceOptions{Logger: e.log, Scrubber: e.scrub, OnState: e.onState})
		}},
	{bot.SurfaceTelegram, func(c *config.Config) (any, bool) { return c.Telegram, c.Telegram.Enabled() },
		func(c *config.Config, e surfaceEnv) (Surface, error) {
			return telegram.NewSurface(c.Telegram, e.handler, bot.SurfaceOptions{Logger: e.log, Scrubber: e.scrub, OnState: e.onState})
		}},
}

// chat is one built surface of a generation.
type chat struct {
	name    string
	section any
	s       Surface
	cancel  context.CancelFunc // set once started
	done    chan struct{}
}

// buildChats builds the surfaces cfg configures; one whose section is as in
// prev is prev's (running) surface.
func (a *App) buildChats(cfg *config.Config, prev *generation) ([]*chat, error) {
	var out []*chat
	for _, p := range platforms {
		sec, on := p.section(cfg)
		if !on {
			continue
		}
		if old := prev.chat(p.name); old != nil && reflect.DeepEqual(old.section, sec) {
			out = append(out, old)
			continue
		}
		log := a.log
		s, err := p.build(cfg, surfaceEnv{handler: a.handler, log: &log, scrub: a.opts.Scrub,
			onState: func(up bool) { a.metrics.SurfaceUp(p.name, up) }})
		if err != nil {
			closeNew(out, prev)
			return nil, err
		}
		if a.fleet != nil && p.name == bot.SurfaceTelegram && cfg.Telegram.Mode == config.TelegramPolling {
			s = &exclusiveSurface{Surface: s, fleet: a.fleet, key: fleet.LockTelegramPolling, what: "telegram_polling",
				up: func(up bool) { a.metrics.SurfaceUp(p.name, up) }}
		}
		out = append(out, &chat{name: p.name, section: sec, s: s})
	}
	return out, nil
}

// chat is the generation's surface of that platform (nil: none).
func (g *generation) chat(name string) *chat {
	if g == nil {
		return nil
	}
	for _, c := range g.chats {
		if c.name == name {
			return c
		}
	}
	return nil
}

// closeNew closes the surfaces of chats that are not prev's (a generation
// that will not run).
func closeNew(chats []*chat, prev *generation) {
	for _, c := range chats {
		if prev.chat(c.name) != c {
			c.s.Close()
		}
	}
}

// alertRoutes are the alert routes of chats, or the console's without any.
func (a *App) alertRoutes(chats []*chat) []scheduler.Route {
	route := func(s Surface) scheduler.Route {
		n, r := s.Notifier()
		return scheduler.Route{Notifier: n, Dest: r.Dest, Targets: r.Targets, MinSeverity: diagnostics.Severity(r.MinSeverity)}
	}
	if len(chats) == 0 {
		if a.console == nil { // an App built without New (tests)
			a.console = console.NewSurface(a.opts.Stdin, a.opts.Stdout, a.handler)
		}
		return []scheduler.Route{route(a.console)}
	}
	var routes []scheduler.Route
	for _, c := range chats {
		routes = append(routes, route(c.s))
	}
	return routes
}

// switchSurfaces stops the surfaces of prev that next does not keep,
// starts next's new ones and mounts next's webhooks.
func (a *App) switchSurfaces(ctx context.Context, prev, next *generation) {
	var gone []*chat
	if prev != nil {
		for _, c := range prev.chats {
			if next.chat(c.name) != c {
				gone = append(gone, c)
			}
		}
	}
	a.stopChats(gone)
	changed := len(gone) > 0
	for _, c := range next.chats {
		if c.cancel == nil {
			a.startChat(ctx, c)
			changed = true
		}
	}
	mux := http.NewServeMux()
	for _, c := range next.chats {
		for path, h := range c.s.Routes() {
			mux.Handle(path, h)
		}
	}
	a.chatMux.Store(mux)
	chats := next.chats
	a.chats.Store(&chats)
	if changed {
		a.metrics.ResetSurfaces()
		if a.consoleDone != nil {
			a.metrics.SurfaceUp(bot.SurfaceConsole, true)
		}
		for _, c := range next.chats {
			a.metrics.SurfaceUp(c.name, c.s.Ready())
		}
	}
}

// startChat runs c until it is stopped; a surface that stops working is
// logged and counted as disconnected.
func (a *App) startChat(ctx context.Context, c *chat) {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	a.metrics.SurfaceUp(c.name, c.s.Ready())
	go func() {
		defer close(c.done)
		if err := c.s.Run(ctx); err != nil && ctx.Err() == nil {
			a.metrics.SurfaceUp(c.name, false)
			a.log.Error().Err(err).Str("surface", c.name).Msg("chat surface stopped")
		}
	}()
}

// stopChats stops chats and waits: in-flight commands finish within the
// surfaces' own drain timeouts.
func (a *App) stopChats(chats []*chat) {
	var wg sync.WaitGroup
	for _, c := range chats {
		if c.cancel == nil {
			continue
		}
		c.cancel()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.s.Close()
			<-c.done
		}()
	}
	wg.Wait()
}

// notReady lists the running surfaces that are not ready, sorted.
func (a *App) notReady() []string {
	var out []string
	if p := a.chats.Load(); p != nil {
		for _, c := range *p {
			if !c.s.Ready() {
				out = append(out, c.name)
			}
		}
	}
	sort.Strings(out)
	return out
}
