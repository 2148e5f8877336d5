// Package app is `openclaw-bot serve`: the store, metrics, scheduler,
// actions, chat surfaces and HTTP endpoints of one process, and the
// generations a config reload replaces.
//
//	a, err := app.New(ctx, cfg, opts) // lock and open the store, build the first generation
//	err = a.Start(ctx)                // scheduler, chat surfaces, listeners
//	err = a.Serve(ctx)                // reload on SIGHUP / file change until ctx ends, then Stop
//
// What lives as long as the process: the store (and its lock), metrics,
// the HTTP listeners, the console. What a reload replaces (a generation):
// the scheduler, the actions, the router and the chat surfaces whose config
// section changed (surfaces.go).
package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/fleet"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/metrics"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Options are the app's inputs besides the config.
type Options struct {
	// Log is the process's logger.
	Log zerolog.Logger
	// ConfigPath is the config file, reloaded when it changes ("" = the
	// embedded default: nothing to reload).
	ConfigPath string
	// Reload asks for a reload (SIGHUP: signal.Notify into it).
	Reload <-chan os.Signal
	// Scrub is the logger's scrubber; the secrets of a reloaded config are
	// added to it. nil: a new one.
	Scrub *redact.Scrubber
	// LogLevel changes the logger's level on a reload (nil: log.level
	// needs a restart).
	LogLevel *logging.Level
	// Stdin, when not nil, is the console chat used when no chat platform
	// is configured; Stdout gets console alerts and replies.
	Stdin  io.Reader
	Stdout io.Writer
	// ShutdownTimeout bounds the graceful stop (0 = 20 s).
	ShutdownTimeout time.Duration
	// HTTPLimits are the timeouts and caps of both listeners; zero fields
	// take the defaults (listener.go). Tests set small ones.
	HTTPLimits HTTPLimits
	// OnReload is told the outcome of each reload (tests).
	OnReload func(result string, err error)
	// BuildInfo labels openclaw_bot_build_info.
	BuildInfo metrics.BuildInfo
}

// App is one serve process: the parts that live as long as it (store,
// metrics, listeners, console) and the current generation of the parts a
// reload replaces.
type App struct {
	opts    Options
	log     zerolog.Logger
	store   *store.Store
	metrics *metrics.Metrics
	// handler is what every chat surface calls: the current router.
	handler *handlerRef
	// chatMux serves the chat webhooks of the current surfaces.
	chatMux atomic.Pointer[http.ServeMux]
	// chats are the current generation's chat surfaces (readyz).
	chats atomic.Pointer[[]*chat]
	// console is the chat and alert surface when no platform is configured.
	console *console.Surface

	mu  sync.Mutex // Reload and Stop
	gen *generation
	// svc is the current generation's scheduler, for what outlives a
	// generation: an action started before a reload re-evaluates on it.
	svc         atomic.Pointer[scheduler.Service]
	runCtx      context.Context
	stopRun     context.CancelFunc
	consoleDone chan struct{}
	stopConsole context.CancelFunc
	// listeners are the open HTTP listeners by config key (http.listen,
	// metrics.listen).
	listeners map[string]*limitListener
	stopHTTP  func()
	changed   <-chan struct{}
	release   []func() // the store and its locks, last first
	stopOnce  sync.Once
	// fleet is this instance's membership of the fleet (PostgreSQL); nil
	// on SQLite.
	fleet     *fleet.Fleet
	stopFleet context.CancelFunc
	fleetDone chan struct{}
}

// New locks and opens the store (one serve per store: two would alert and
// act twice) and builds the first generation; nothing runs until Start.
// Stop releases what New took.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Scrub == nil {
		o.Scrub = redact.NewScrubber(cfg.SecretValues()...)
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 20 * time.Second
	}
	a := &App{opts: o, log: o.Log, metrics: metrics.New(o.BuildInfo), handler: &handlerRef{}}
	a.chatMux.Store(http.NewServeMux())
	a.console = console.NewSurface(o.Stdin, o.Stdout, a.handler)
	warnConfig(a.log, cfg)
	if err := a.open(ctx, cfg); err != nil {
		a.close()
		return nil, err
	}
	gen, err := a.newGeneration(cfg, nil)
	if err != nil {
		a.close()
		return nil, err
	}
	a.gen = gen
	return a, nil
}

// open takes the store (with PostgreSQL the lock file beside store.path
// guards this host, and the instance joins the fleet).
func (a *App) open(ctx context.Context, cfg *config.Config) error {
	unlock, err := store.Lock(cfg.Store.Path)
	if err != nil {
		return err
	}
	a.release = append(a.release, func() { _ = unlock() })
	st, err := store.OpenConfig(ctx, store.Config{Driver: cfg.Store.Driver, Path: cfg.Store.Path, DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		return err
	}
	a.store = st
	a.release = append(a.release, func() { st.Close() })
	if st.Driver() == store.DriverPostgres {
		// One of a fleet: registered under instance.name, owning its
		// targets (refused when another instance holds one); the claims an
		// earlier run of this instance left are released by Join.
		return a.joinFleet(ctx, cfg)
	}
	// The store is ours alone now: what an earlier serve claimed and never
	// finished (kill -9 mid-send) is due at once, not after its lease.
	if _, err := st.ReleaseClaims(ctx, time.Now()); err != nil {
		return err
	}
	return nil
}

// close leaves the fleet (a clean stop: the targets are free and nobody
// alerts) and releases the store and its locks.
func (a *App) close() {
	if a.fleet != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.fleet.Leave(ctx); err != nil {
			a.log.Warn().Err(err).Msg("fleet: could not record the stop; the others will report this instance silent")
		}
		cancel()
		a.fleet = nil
	}
	for i := len(a.release) - 1; i >= 0; i-- {
		a.release[i]()
	}
	a.release = nil
}

// Start runs the first generation's scheduler, the chat surfaces (the
// console when no platform is configured and Options.Stdin is set) and
// the HTTP listeners, and watches the config file. On an error everything
// is stopped again.
func (a *App) Start(ctx context.Context) error {
	a.runCtx, a.stopRun = context.WithCancel(context.WithoutCancel(ctx))
	gen := a.gen
	a.runGeneration(a.runCtx, gen)
	a.switchSurfaces(a.runCtx, nil, gen)
	if a.opts.Stdin != nil && len(gen.chats) == 0 {
		// The embedded default: chat on the console. EOF ends the chat,
		// not the service; the console outlives reloads.
		a.metrics.SurfaceUp(bot.SurfaceConsole, true)
		a.consoleDone = make(chan struct{})
		cctx, cancel := context.WithCancel(a.runCtx)
		a.stopConsole = cancel
		go func() {
			defer close(a.consoleDone)
			_ = a.console.Run(cctx)
		}()
	}
	if a.fleet != nil {
		fctx, cancel := context.WithCancel(a.runCtx)
		a.stopFleet, a.fleetDone = cancel, make(chan struct{})
		go func() {
			defer close(a.fleetDone)
			_ = a.fleet.Run(fctx)
		}()
	}
	stopHTTP, err := a.startHTTP(gen.cfg)
	a.stopHTTP = stopHTTP
	if err != nil {
		a.Stop(ctx)
		return err
	}
	if a.opts.ConfigPath != "" {
		a.changed = watchFile(a.runCtx, a.opts.ConfigPath, a.log)
	}
	a.log.Info().Int("targets", len(gen.cfg.Targets)).Int("routes", len(gen.svc.Routes)).Msg("openclaw-bot serving")
	return nil
}

// Serve reloads on Options.Reload and on changes of the config file until
// ctx ends or the scheduler stops on its own (an error: the store), then
// stops gracefully (Stop).
func (a *App) Serve(ctx context.Context) error {
	defer a.Stop(ctx)
	for {
		a.mu.Lock()
		gen := a.gen
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-gen.stopped:
			a.mu.Lock()
			replaced := a.gen != gen
			a.mu.Unlock()
			if replaced {
				continue // a reload stopped it
			}
			if gen.err == nil {
				return errors.New("the scheduler stopped")
			}
			return gen.err
		case <-a.opts.Reload:
			a.Reload("SIGHUP")
		case <-a.changed:
			a.Reload("file change")
		}
	}
}

// Stop stops everything gracefully within ShutdownTimeout: chat first
// (in-flight commands and actions finish), then the scheduler, then the
// due outbox is delivered; then the listeners close and the store is
// released. It is safe to call more than once.
func (a *App) Stop(ctx context.Context) {
	a.stopOnce.Do(func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.runCtx != nil {
			a.shutdown(ctx)
		} else if a.gen != nil {
			closeNew(a.gen.chats, nil) // built by New, never started
		}
		if a.stopHTTP != nil {
			a.stopHTTP()
		}
		if a.stopFleet != nil {
			a.stopFleet()
			<-a.fleetDone
		}
		if a.stopRun != nil {
			a.stopRun()
		}
		a.close()
	})
}

func (a *App) shutdown(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	a.log.Info().Dur("within", a.opts.ShutdownTimeout).Msg("stopping: finishing chat commands in flight, then draining the outbox")
	a.stopChats(a.gen.chats)
	a.stopGeneration(sctx)
	left := a.gen.svc.Drain(sctx)
	ev := a.log.Info()
	if left != 0 {
		ev = a.log.Warn()
	}
	ev.Int("undelivered", left).Msg("outbox drained; undelivered notices are sent at the next start")
	if a.consoleDone != nil {
		// A command typed before the signal has been answered (the console
		// handles one line at a time); stop reading.
		a.stopConsole()
		select {
		case <-a.consoleDone:
		case <-sctx.Done():
		}
	}
}

// Reload loads the config file again and, when valid, replaces the
// scheduler, actions and router; a chat surface restarts only when its own
// section changed. Anything invalid is refused with the reason and the
// running config stays. why names the trigger in the log.
func (a *App) Reload(why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.runCtx == nil || a.runCtx.Err() != nil {
		return // not started, or stopped
	}
	report := func(result string, err error) {
		a.metrics.Reloaded(result)
		if a.opts.OnReload != nil {
			a.opts.OnReload(result, err)
		}
	}
	if a.opts.ConfigPath == "" {
		a.log.Info().Str("trigger", why).Msg("config reload: serve runs on the embedded default (no --config); nothing to reload")
		report(metrics.ReloadUnchanged, nil)
		return
	}
	old := a.gen.cfg
	cfg, err := config.Load(a.opts.ConfigPath)
	if err != nil {
		a.log.Error().Str("trigger", why).Str("config", a.opts.ConfigPath).Str("reason", err.Error()).
			Msg("config reload refused: the new config is invalid; the running config stays")
		report(metrics.ReloadRefused, err)
		return
	}
	a.opts.Scrub.Add(cfg.SecretValues()...) // before anything can log them
	warnConfig(a.log, cfg)
	if cfg.Log.Level != old.Log.Level && a.opts.LogLevel != nil {
		if err := a.opts.LogLevel.Set(cfg.Log.Level); err == nil {
			a.log.Info().Str("level", cfg.Log.Level).Msg("config reload: log level changed")
			old.Log.Level = cfg.Log.Level
		}
	}
	if kept := keepRestartOnly(old, cfg); len(kept) > 0 {
		a.log.Warn().Strs("keys", kept).Msg("config reload: these keys take effect only after a restart; their running values stay")
	}
	if old.Equal(cfg) {
		a.log.Info().Str("trigger", why).Msg("config reload: nothing changed")
		report(metrics.ReloadUnchanged, nil)
		return
	}
	prev := a.gen
	gen, err := a.newGeneration(cfg, prev)
	if err == nil && a.fleet != nil && !slices.Equal(targetNames(old), targetNames(cfg)) {
		// After the generation is built (nothing claimed for a config
		// that fails), before it runs: a target another instance owns
		// refuses the reload.
		if err = a.fleet.SetTargets(a.runCtx, targetNames(cfg)); err != nil {
			closeNew(gen.chats, prev)
		}
	}
	if err != nil {
		a.log.Error().Str("trigger", why).Str("reason", err.Error()).Msg("config reload refused; the running config stays")
		report(metrics.ReloadRefused, err)
		return
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(a.runCtx), a.opts.ShutdownTimeout)
	defer cancel()
	a.stopGeneration(stopCtx)
	a.runGeneration(a.runCtx, gen)
	a.switchSurfaces(a.runCtx, prev, gen)
	a.log.Info().Str("trigger", why).Strs("targets", gen.svc.TargetNames()).Int("routes", len(gen.svc.Routes)).Msg("config reloaded")
	report(metrics.ReloadApplied, nil)
}

// warnConfig logs what is valid but unwise in cfg (literal secrets).
func warnConfig(log zerolog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn().Msg("config: " + w)
	}
}

// keepRestartOnly copies into next the keys a running process cannot
// change (its store, listeners and log format) and names those that
// differed.
func keepRestartOnly(running, next *config.Config) []string {
	var kept []string
	if running.Store != next.Store {
		if running.Store.Path != next.Store.Path {
			kept = append(kept, "store.path")
		}
		if running.Store.Driver != next.Store.Driver || running.Store.DSN != next.Store.DSN || running.Store.DSNFile != next.Store.DSNFile {
			kept = append(kept, "store.driver/dsn")
		}
		next.Store = running.Store
	}
	if running.HTTP != next.HTTP {
		kept = append(kept, "http.listen")
		next.HTTP = running.HTTP
	}
	if running.Metrics != next.Metrics {
		kept = append(kept, "metrics.listen")
		next.Metrics = running.Metrics
	}
	if running.Log.Level != next.Log.Level { // applied before this when the logger allows
		kept = append(kept, "log.level")
		next.Log.Level = running.Log.Level
	}
	if running.Log.Format != next.Log.Format {
		kept = append(kept, "log.format")
		next.Log.Format = running.Log.Format
	}
	if running.Instance != next.Instance {
		kept = append(kept, "instance.name")
		next.Instance = running.Instance
	}
	if running.Fleet != next.Fleet {
		kept = append(kept, "fleet.heartbeat_every")
		next.Fleet = running.Fleet
	}
	return kept
}

// backupBase is the file next to which cooldown resets keep their backups:
// the SQLite store, or with PostgreSQL store.path (the backups are of this
// host's OpenClaw files; the audit log, shared, keeps their paths).
func backupBase(st *store.Store, cfg *config.Config) string {
	if p := st.Path(); p != "" {
		return p
	}
	if abs, err := filepath.Abs(cfg.Store.Path); err == nil {
		return abs
	}
	return cfg.Store.Path
}

// handlerRef is the chat handler every surface calls: the router of the
// current generation.
type handlerRef struct{ p atomic.Pointer[router.Router] }

func (h *handlerRef) set(r *router.Router) { h.p.Store(r) }
func (h *handlerRef) Handle(ctx context.Context, req bot.Request) bot.Reply {
	return h.p.Load().Handle(ctx, req)
}
func (h *handlerRef) Press(ctx context.Context, p bot.Press) bot.Reply {
	return h.p.Load().Press(ctx, p)
}

// Commands lists the chat commands (Telegram's menu: telegram.Commander).
func (h *handlerRef) Commands() []bot.CommandInfo { return router.Commands() }
