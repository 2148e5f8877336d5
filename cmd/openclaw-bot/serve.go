package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/actions"
	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	slackbot "github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/bot/telegram"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/metrics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// cmdServe runs the scheduler, the alert pipeline and the HTTP endpoints
// until SIGINT/SIGTERM; SIGHUP or a change of the config file reloads the
// config.
func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config (default: watch the local install, alert on the console)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: openclaw-bot serve [--config FILE]

Watches every target: native snapshots (and instantly on state changes), the zero-token
key check, gateway /healthz, OpenClaw's log; alerts to Slack, Telegram or the console.
With no config: the local install (~/.openclaw or OPENCLAW_STATE_DIR), alerts on the console,
store ./openclaw-bot.db.

Signals: SIGHUP reloads the config (so does saving the file); an invalid config is refused
with the reason and the running one stays. SIGINT/SIGTERM stop gracefully: chat commands
in flight finish, the outbox is drained (at most 20 s).

Flags:`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	scrub := redact.NewScrubber(cfg.SecretValues()...)
	log, level, err := logging.NewLeveled(stderr, cfg.Log.Level, cfg.Log.Format, scrub)
	if err != nil {
		fmt.Fprintln(stderr, "openclaw-bot serve:", err)
		return exitError
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	forwarding, stopForwarding := context.WithCancel(ctx)
	defer stopForwarding() // serve may return before ctx ends (it could not start)
	go func() {
		for {
			select {
			case <-forwarding.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	err = serve(ctx, cfg, log, serveOptions{ConfigPath: *path, Reload: reload, Scrub: scrub, LogLevel: level, Stdin: stdin, Stdout: stdout})
	var se *startError
	switch {
	case errors.As(err, &se):
		log.Error().Err(se.err).Msg("serve could not start")
		return exitCritical
	case err != nil:
		log.Error().Err(err).Msg("serve stopped")
		return exitCritical
	}
	return exitOK
}

// startError is a failure before serve was serving (the store, the
// targets, a listener), as opposed to one that stopped it later.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// serveOptions are serve's inputs besides the config.
type serveOptions struct {
	// ConfigPath is the config file, reloaded when it changes ("" = the
	// embedded default: nothing to reload).
	ConfigPath string
	// Reload asks for a reload (SIGHUP).
	Reload <-chan struct{}
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
	HTTPLimits httpLimits
	// OnReload is told the outcome of each reload (tests).
	OnReload func(result string, err error)
}

// serve runs until ctx ends, then stops gracefully: chat surfaces stop
// taking commands and finish those in flight, the scheduler stops, the
// due outbox items are delivered, the listeners close; all within
// ShutdownTimeout.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, o serveOptions) error {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Scrub == nil {
		o.Scrub = redact.NewScrubber(cfg.SecretValues()...)
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 20 * time.Second
	}
	warnConfig(log, cfg)
	// One serve per store: two would alert and act twice. (With PostgreSQL
	// the lock file beside store.path guards this host and LockDatabase
	// the shared database.)
	unlock, err := store.Lock(cfg.Store.Path)
	if err != nil {
		return &startError{err}
	}
	defer unlock()
	st, err := store.OpenConfig(ctx, store.Config{Driver: cfg.Store.Driver, Path: cfg.Store.Path, DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		return &startError{err}
	}
	defer st.Close()
	unlockDB, err := st.LockDatabase(ctx)
	if err != nil {
		return &startError{err}
	}
	defer unlockDB()

	s := &server{opts: o, log: log, store: st, metrics: metrics.New(buildInfo()), handler: &handlerRef{}}
	s.chatMux.Store(http.NewServeMux())
	gen, err := s.newGeneration(cfg, nil)
	if err != nil {
		return &startError{err}
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	s.runGeneration(runCtx, gen)
	s.startSurfaces(runCtx, cfg)
	if o.Stdin != nil && gen.p.slack == nil && gen.p.telegram == nil {
		// The embedded default: chat on the console. EOF ends the chat,
		// not the service; the console outlives reloads.
		s.metrics.SurfaceUp(bot.SurfaceConsole, true)
		s.consoleDone = make(chan struct{})
		cctx, cancel := context.WithCancel(runCtx)
		s.stopConsole = cancel
		go func() {
			defer close(s.consoleDone)
			_ = (&console.Session{Handler: s.handler, Out: o.Stdout}).Run(cctx, o.Stdin)
		}()
	}
	stopHTTP, err := s.startHTTP(cfg)
	if err != nil {
		s.shutdown(ctx)
		return &startError{err}
	}
	var changed <-chan struct{}
	if o.ConfigPath != "" {
		changed = watchFile(runCtx, o.ConfigPath, log)
	}
	log.Info().Int("targets", len(cfg.Targets)).Int("routes", len(gen.svc.Routes)).Msg("openclaw-bot serving")
	defer stopHTTP()
	for {
		select {
		case <-ctx.Done():
			s.shutdown(ctx)
			return nil
		case err := <-s.gen.done:
			// The scheduler stopped on its own: an error (the store).
			s.gen.cancel()
			s.gen.cancel = nil // already stopped: shutdown must not wait for it
			s.shutdown(ctx)
			if err == nil {
				err = errors.New("the scheduler stopped")
			}
			return err
		case <-o.Reload:
			s.reload(runCtx, "SIGHUP")
		case <-changed:
			s.reload(runCtx, "file change")
		}
	}
}

// server is one serve process: the parts that live as long as it (store,
// metrics, listeners, console) and the current generation of the parts a
// reload replaces.
type server struct {
	opts    serveOptions
	log     zerolog.Logger
	store   *store.Store
	metrics *metrics.Metrics
	// handler is what every chat surface calls: the current router.
	handler *handlerRef
	// chatMux serves the chat webhooks of the current surfaces.
	chatMux atomic.Pointer[http.ServeMux]

	gen *generation
	// svc is the current generation's scheduler, for what outlives a
	// generation: an action started before a reload re-evaluates on it.
	svc         atomic.Pointer[scheduler.Service]
	surfaces    surfaces
	consoleDone chan struct{}
	stopConsole context.CancelFunc
	// listeners are the open HTTP listeners by config key (http.listen,
	// metrics.listen).
	listeners map[string]*limitListener
}

// generation is what one config builds: the scheduler, the actions and the
// router.
type generation struct {
	cfg    *config.Config
	p      platforms
	svc    *scheduler.Service
	router *router.Router
	cancel context.CancelFunc
	done   chan error
}

// newGeneration builds (but does not start) everything of one config; an
// error leaves the running generation alone.
func (s *server) newGeneration(cfg *config.Config, prev *generation) (*generation, error) {
	scrub := s.opts.Scrub
	log := s.log
	p, err := connect(cfg, s.opts.Stdout, log, scrub)
	if err != nil {
		return nil, err
	}
	svc := &scheduler.Service{
		Store:         s.store,
		Engine:        scheduler.NewEngine(scheduler.EngineOptions{Reminder: cfg.Alerts.ReminderEvery}),
		Routes:        p.routes,
		Log:           log,
		SnapshotEvery: cfg.Scheduler.SnapshotEvery,
		KeyCheckEvery: cfg.Anthropic.KeyCheckEvery,
		HealthzEvery:  cfg.Scheduler.HealthzEvery,
		ReadTimeout:   cfg.Scheduler.ReadTimeout,
		Observer:      s.metrics,
	}
	for i, m := range cfg.Alerts.Maintenance {
		starts, ends, _ := m.Window() // validated with the config
		svc.Maintenance = append(svc.Maintenance, scheduler.Silence{ID: fmt.Sprintf("maintenance-%d", i+1), Target: m.Target, Starts: starts, Ends: ends})
	}
	if cfg.Scheduler.OpenClawLogDir != "" {
		svc.Logs = &scheduler.LogFollower{Dir: cfg.Scheduler.OpenClawLogDir}
	}
	switch {
	case cfg.Anthropic.KeyCheckEvery <= 0:
	case prev != nil && prev.svc.Checker != nil && prev.cfg.Anthropic == cfg.Anthropic:
		svc.Checker = prev.svc.Checker // a reload keeps the verdicts and Retry-After state
	default:
		svc.Checker = diagnostics.NewChecker(diagnostics.CheckerOptions{CheckTokens: cfg.Anthropic.CheckTokens})
	}
	var actTargets []actions.Target
	for _, t := range cfg.Targets {
		st, loc, err := scheduler.TargetFrom(t, cfg.Anthropic.BaseURL)
		if err != nil {
			return nil, err
		}
		actTargets = append(actTargets, actionTarget(t, loc, cfg, scrub, log))
		svc.Targets = append(svc.Targets, st)
	}
	for i := range actTargets {
		actTargets[i].Target = svc.Targets[i].Target
	}
	acts := actions.New(actions.Options{Targets: actTargets, Checker: svc.Checker, Log: log,
		BackupDir: filepath.Join(filepath.Dir(backupBase(s.store, cfg)), "openclaw-bot-backups"),
		// Re-evaluate at once: the incident resolves and its alert is edited
		// in place. On the current scheduler, not necessarily this one: an
		// action that ends after a reload must not evaluate on the engine
		// of a stopped generation (its alert state is no longer the truth).
		AfterChange: s.reevaluate})
	rt := router.New(router.Options{
		Store: s.store, Diagnoser: diagnoser{svc}, Actions: acts, Access: cfg.Access,
		AlertChannel: cfg.Slack.AlertChannel, AlertChat: cfg.Telegram.AlertChat, Log: &log, Scrubber: scrub,
		Observer: s.metrics,
	})
	if cfg.Recovery.ResetAfterRotation {
		// The reset goes through the router, as a Confirm's would: the same
		// action, the same state guard, an audit row naming the bot.
		svc.ResetAfterRotation = true
		svc.AutoReset = func(ctx context.Context, req scheduler.AutoResetRequest) (bot.Message, error) {
			return rt.ResetAutomatically(ctx, router.AutomaticReset{Actor: scheduler.AutoResetActor, Setting: "recovery.reset_after_rotation",
				Target: req.Target, Profiles: req.Profiles, State: req.State, Verdict: req.Verdict, Why: req.Why})
		}
	}
	return &generation{cfg: cfg, p: p, svc: svc, router: rt}, nil
}

// runGeneration makes gen the current one and starts its scheduler.
func (s *server) runGeneration(ctx context.Context, gen *generation) {
	ctx, gen.cancel = context.WithCancel(ctx)
	gen.done = make(chan error, 1)
	s.gen = gen
	svc := gen.svc
	// The incidents first, so that the first command or action evaluates
	// on what already fired (the previous generation's last word included).
	if err := svc.Load(ctx); err != nil {
		gen.done <- err // serve stops, as when Run fails
		return
	}
	s.svc.Store(svc)
	s.handler.set(gen.router)
	s.metrics.SetTargets(svc.TargetNames())
	s.metrics.SetSources(metrics.Sources{OutboxDepth: s.store.OutboxDepth, Firing: svc.Engine.Firing})
	for _, t := range svc.Targets {
		s.log.Info().Str("target", t.Name).Str("state_dir", t.Locate.StateDir).Msg("watching")
	}
	go func() { gen.done <- svc.Run(ctx) }()
}

// reevaluate evaluates target on the current scheduler at once (after an
// action changed its state). A target a reload removed is left alone.
func (s *server) reevaluate(ctx context.Context, target string) {
	svc := s.svc.Load()
	if svc == nil {
		return
	}
	switch err := svc.Evaluate(ctx, target); {
	case errors.Is(err, scheduler.ErrNoTarget):
		s.log.Info().Str("target", target).Msg("re-evaluation after an action skipped: the target is no longer configured")
	case err != nil:
		s.log.Warn().Str("target", target).Err(err).Msg("re-evaluation after an action")
	}
}

// stopGeneration stops the current scheduler and waits for it.
func (s *server) stopGeneration(ctx context.Context) {
	g := s.gen
	if g == nil || g.cancel == nil {
		return
	}
	g.cancel()
	select {
	case <-g.done:
	case <-ctx.Done():
		s.log.Warn().Msg("the scheduler did not stop in time")
	}
	g.cancel = nil
}

// reload loads the config file again and, when valid, replaces the
// scheduler, actions and router; the chat surfaces restart only when their
// own section changed. Anything invalid is refused with the reason and the
// running config stays.
func (s *server) reload(ctx context.Context, why string) {
	report := func(result string, err error) {
		s.metrics.Reloaded(result)
		if s.opts.OnReload != nil {
			s.opts.OnReload(result, err)
		}
	}
	if s.opts.ConfigPath == "" {
		s.log.Info().Str("trigger", why).Msg("config reload: serve runs on the embedded default (no --config); nothing to reload")
		report(metrics.ReloadUnchanged, nil)
		return
	}
	old := s.gen.cfg
	cfg, err := config.Load(s.opts.ConfigPath)
	if err != nil {
		s.log.Error().Str("trigger", why).Str("config", s.opts.ConfigPath).Str("reason", err.Error()).
			Msg("config reload refused: the new config is invalid; the running config stays")
		report(metrics.ReloadRefused, err)
		return
	}
	s.opts.Scrub.Add(cfg.SecretValues()...) // before anything can log them
	warnConfig(s.log, cfg)
	if cfg.Log.Level != old.Log.Level && s.opts.LogLevel != nil {
		if err := s.opts.LogLevel.Set(cfg.Log.Level); err == nil {
			s.log.Info().Str("level", cfg.Log.Level).Msg("config reload: log level changed")
			old.Log.Level = cfg.Log.Level
		}
	}
	kept := keepRestartOnly(old, cfg)
	if len(kept) > 0 {
		s.log.Warn().Strs("keys", kept).Msg("config reload: these keys take effect only after a restart; their running values stay")
	}
	if old.Equal(cfg) {
		s.log.Info().Str("trigger", why).Msg("config reload: nothing changed")
		report(metrics.ReloadUnchanged, nil)
		return
	}
	gen, err := s.newGeneration(cfg, s.gen)
	if err != nil {
		s.log.Error().Str("trigger", why).Str("reason", err.Error()).Msg("config reload refused; the running config stays")
		report(metrics.ReloadRefused, err)
		return
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	s.stopGeneration(stopCtx)
	s.runGeneration(ctx, gen)
	if !reflect.DeepEqual(old.Slack, cfg.Slack) || !reflect.DeepEqual(old.Telegram, cfg.Telegram) {
		s.surfaces.stop()
		s.metrics.ResetSurfaces()
		if s.consoleDone != nil {
			s.metrics.SurfaceUp(bot.SurfaceConsole, true)
		}
		s.startSurfaces(ctx, cfg)
	}
	s.log.Info().Str("trigger", why).Strs("targets", gen.svc.TargetNames()).Int("routes", len(gen.svc.Routes)).Msg("config reloaded")
	report(metrics.ReloadApplied, nil)
}

// warnConfig logs what is valid but unwise in cfg (literal secrets).
func warnConfig(log zerolog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn().Msg("config: " + w)
	}
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
	return kept
}

// shutdown stops everything gracefully within ShutdownTimeout: chat first
// (in-flight commands and actions finish), then the scheduler, then the
// due outbox is delivered.
func (s *server) shutdown(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	s.log.Info().Dur("within", s.opts.ShutdownTimeout).Msg("stopping: finishing chat commands in flight, then draining the outbox")
	s.surfaces.stop()
	s.stopGeneration(sctx)
	if s.gen != nil {
		left := s.gen.svc.Drain(sctx)
		ev := s.log.Info()
		if left != 0 {
			ev = s.log.Warn()
		}
		ev.Int("undelivered", left).Msg("outbox drained; undelivered notices are sent at the next start")
	}
	if s.consoleDone != nil {
		// A command typed before the signal has been answered (the console
		// handles one line at a time); stop reading.
		s.stopConsole()
		select {
		case <-s.consoleDone:
		case <-sctx.Done():
		}
	}
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
func (h *handlerRef) Commands() []bot.CommandInfo { return router.Commands() }

// buildInfo labels openclaw_bot_build_info (the -X stamps of a Docker
// build, else the module's VCS stamp).
func buildInfo() metrics.BuildInfo {
	v := readVersionInfo()
	return metrics.BuildInfo{Version: v.Version, Revision: v.Revision, GoVersion: v.Go}
}

// platforms are the connected chat platforms and the alert routes.
type platforms struct {
	routes   []scheduler.Route
	slack    *goslack.Client
	telegram *tgbotapi.BotAPI
}

// connect builds the clients of the configured chat platforms and the alert
// routes; with no platform, alerts go to the console.
func connect(cfg *config.Config, stdout io.Writer, log zerolog.Logger, scrub *redact.Scrubber) (platforms, error) {
	var p platforms
	if cfg.Slack.Enabled() {
		p.slack = slackbot.NewClient(cfg.Slack.BotToken, cfg.Slack.APIURL, nil)
		p.routes = append(p.routes, scheduler.Route{Notifier: slackbot.NewNotifier(p.slack, slackbot.Options{Logger: &log, Scrubber: scrub}), Dest: cfg.Slack.AlertChannel,
			Targets: cfg.Slack.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Slack.AlertMinSeverity)})
	}
	if cfg.Telegram.Enabled() {
		api, err := telegram.NewAPI(cfg.Telegram.Token, cfg.Telegram.APIURL, nil)
		if err != nil {
			return p, fmt.Errorf("telegram: %w", err)
		}
		p.telegram = api
		p.routes = append(p.routes, scheduler.Route{Notifier: telegram.NewNotifier(api, log, telegram.Options{Location: cfg.Telegram.Location(), Scrubber: scrub}), Dest: cfg.Telegram.AlertChat,
			Targets: cfg.Telegram.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Telegram.AlertMinSeverity)})
	}
	if len(p.routes) == 0 {
		p.routes = append(p.routes, scheduler.Route{Notifier: console.NewNotifier(stdout, time.Local), Dest: "stdout", MinSeverity: diagnostics.Warning})
	}
	return p, nil
}

// actionTarget builds what the confirmed actions need for one target: the
// guarded CLI (refusing a CLI whose version differs from the install's) and
// the configured restart method.
func actionTarget(t config.Target, loc openclaw.Location, cfg *config.Config, scrub *redact.Scrubber, log zerolog.Logger) actions.Target {
	var at actions.Target
	if t.OpenClawBin != "" {
		at.CLI = &openclaw.CLI{Bin: t.OpenClawBin, Loc: loc, GatewayToken: t.GatewayToken, Scrubber: scrub}
		if c, err := openclaw.ReadConfig(loc.ConfigPath); err == nil && c != nil {
			at.CLI.ExpectVersion = c.Version
		}
	}
	if t.Restart.Method != "" || t.GatewayURL != "" {
		rs := &openclaw.Restarter{Method: t.Restart.Method, Unit: t.Restart.Unit, ComposeFile: t.ComposeFile, ComposeService: t.ComposeService,
			Command: t.Restart.Command, CLI: at.CLI, StateDir: loc.StateDir, Scrubber: scrub}
		if t.GatewayURL != "" {
			rs.HealthURL, rs.ReadyURL, _ = openclaw.GatewayHTTPURLs(t.GatewayURL)
		}
		if err := rs.Validate(); err != nil {
			log.Warn().Str("target", t.Name).Err(err).Msg("restart not available")
		} else {
			at.Restarter = rs
		}
	}
	return at
}

// diagnoser adapts the service to the router.
type diagnoser struct{ *scheduler.Service }

func (d diagnoser) Targets() []string { return d.TargetNames() }

// surfaces are the running chat platforms.
type surfaces struct {
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	closers []func()
}

// stop stops the surfaces and waits: in-flight commands finish within the
// surfaces' own drain timeouts.
func (c *surfaces) stop() {
	if c.cancel != nil {
		c.cancel()
	}
	for _, f := range c.closers {
		f()
	}
	c.wg.Wait()
	c.cancel, c.closers = nil, nil
}

// startSurfaces starts the command surfaces of cfg: Slack (Socket Mode or
// HTTP) and Telegram (polling or webhook). Their webhooks are served on
// http.listen through chatMux.
func (s *server) startSurfaces(ctx context.Context, cfg *config.Config) {
	p, scrub, log := s.gen.p, s.opts.Scrub, s.log
	ctx, cancel := context.WithCancel(ctx)
	c := &s.surfaces
	c.cancel = cancel
	mux := http.NewServeMux()
	goRun := func(name string, f func() error) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				s.metrics.SurfaceUp(name, false)
				log.Error().Err(err).Str("surface", name).Msg("chat surface stopped")
			}
		}()
	}
	up := func(name string) func(bool) { return func(v bool) { s.metrics.SurfaceUp(name, v) } }
	if p.slack != nil {
		switch cfg.Slack.Mode {
		case config.SlackHTTP:
			h := slackbot.NewHTTPHandler(s.handler, slackbot.HTTPOptions{SigningSecret: cfg.Slack.SigningSecret, API: p.slack, APIURL: cfg.Slack.APIURL, Logger: &log, Scrubber: scrub})
			mux.Handle(slackbot.CommandsPath, h)
			mux.Handle(slackbot.InteractionsPath, h)
			s.metrics.SurfaceUp(bot.SurfaceSlack, true) // requests arrive on http.listen
			c.closers = append(c.closers, func() { _ = h.Close() })
		default:
			s.metrics.SurfaceUp(bot.SurfaceSlack, false)
			goRun(bot.SurfaceSlack, func() error {
				return slackbot.RunSocket(ctx, p.slack, cfg.Slack.AppToken, s.handler, slackbot.SocketOptions{APIURL: cfg.Slack.APIURL, Logger: &log, Scrubber: scrub, OnState: up(bot.SurfaceSlack)})
			})
		}
	}
	if p.telegram != nil {
		s.metrics.SurfaceUp(bot.SurfaceTelegram, false)
		opts := telegram.InboundOptions{Logger: &log, Scrubber: scrub, Location: cfg.Telegram.Location(), WebhookSecret: cfg.Telegram.WebhookSecret,
			OnState: up(bot.SurfaceTelegram)}
		switch cfg.Telegram.Mode {
		case config.TelegramWebhook:
			wh := telegram.NewWebhookHandler(p.telegram, s.handler, opts)
			mux.Handle(telegram.WebhookPath, wh)
			c.closers = append(c.closers, func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = wh.Shutdown(sctx)
			})
			goRun(bot.SurfaceTelegram, func() error {
				for { // retry setWebhook while Telegram is unreachable
					err := telegram.SetWebhook(ctx, p.telegram, cfg.Telegram.WebhookURL, cfg.Telegram.WebhookSecret, s.handler.Commands())
					if err == nil {
						s.metrics.SurfaceUp(bot.SurfaceTelegram, true)
						return nil
					}
					var re *bot.RetryError
					if !errors.As(err, &re) {
						return err
					}
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(30 * time.Second):
					}
				}
			})
		default:
			goRun(bot.SurfaceTelegram, func() error { return telegram.RunPolling(ctx, p.telegram, s.handler, opts) })
		}
	}
	s.chatMux.Store(mux)
}

// startHTTP serves /healthz, /readyz and the chat webhooks on http.listen
// ("" = off), and /metrics on metrics.listen (or on http.listen when that
// is empty and http.listen is loopback). The returned func closes them.
func (s *server) startHTTP(cfg *config.Config) (func(), error) {
	var servers []*http.Server
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(ctx)
		}
	}
	// Every listener gets read, write and idle timeouts, a header and a
	// body cap, and a cap on open connections (listener.go).
	listen := func(key, addr string, h http.Handler, maxConns int) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s %s: %w (set %s to another address, or \"\" to turn it off)", key, addr, err, key)
		}
		lim := s.opts.HTTPLimits.orDefault(maxConns)
		lln := newLimitListener(ln, lim.MaxConns)
		if s.listeners == nil {
			s.listeners = map[string]*limitListener{}
		}
		s.listeners[key] = lln
		srv := newHTTPServer(h, lim)
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(lln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error().Err(err).Str("listener", key).Msg("http server")
			}
		}()
		s.log.Info().Str("addr", ln.Addr().String()).Str("listener", key).Int("max_conns", lim.MaxConns).
			Dur("read_timeout", lim.ReadTimeout).Dur("idle_timeout", lim.IdleTimeout).Msg("http listening")
		return nil
	}
	metricsOnHTTP := cfg.Metrics.Listen == "" && loopbackAddr(cfg.HTTP.Listen)
	if cfg.HTTP.Listen != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"ok":true}`)
		})
		mux.HandleFunc("GET /readyz", s.readyz)
		if metricsOnHTTP {
			mux.Handle("GET /metrics", s.metrics.Handler())
		}
		mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.chatMux.Load().ServeHTTP(w, r) }))
		if err := listen("http.listen", cfg.HTTP.Listen, mux, httpMaxConns); err != nil {
			return stop, err
		}
	}
	switch {
	case cfg.Metrics.Listen != "":
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics.Handler())
		if err := listen("metrics.listen", cfg.Metrics.Listen, mux, metricsMaxConns); err != nil {
			stop()
			return func() {}, err
		}
	case !metricsOnHTTP:
		s.log.Info().Msg("/metrics is off: set metrics.listen (http.listen is empty or not loopback)")
	}
	return stop, nil
}

// readyz: 200 when the store answers and every chat surface is connected.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var failing []string
	if _, err := s.store.OutboxDepth(r.Context()); err != nil {
		failing = append(failing, "store")
	}
	failing = append(failing, s.metrics.Disconnected()...)
	if len(failing) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		b, _ := json.Marshal(map[string]any{"ready": false, "failing": failing})
		w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintln(w, `{"ready":true}`)
}

// loopbackAddr reports whether a listen address is on a loopback host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// watchFile signals when the file's content changes (editors that replace
// the file included): fsnotify on its directory, debounced, with a slow
// poll as a fallback; the content is compared, so a touch is not a change.
func watchFile(ctx context.Context, path string, log zerolog.Logger) <-chan struct{} {
	out := make(chan struct{}, 1)
	sum := func() [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			return [32]byte{}
		}
		return sha256.Sum256(b)
	}
	last := sum()
	var events chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(path)); err != nil {
			w.Close()
		} else {
			events = w.Events
		}
	}
	if err != nil {
		log.Warn().Err(err).Msg("config file watch: fsnotify unavailable; polling every 5s")
	}
	go func() {
		if events != nil {
			defer w.Close()
		}
		poll := time.NewTicker(5 * time.Second)
		defer poll.Stop()
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-events:
				debounce = time.After(300 * time.Millisecond)
				continue
			case <-debounce:
			case <-poll.C:
			}
			if now := sum(); now != last {
				last = now
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	if events != nil {
		go func() { // drain errors so the watcher never blocks
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-w.Errors:
					if !ok {
						return
					}
				}
			}
		}()
	}
	return out
}
