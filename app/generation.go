package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/openclaw-bot/openclaw-bot/actions"
	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/metrics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
	"github.com/openclaw-bot/openclaw-bot/scheduler"

	"github.com/rs/zerolog"
)

// generation is what one config builds: the chat surfaces, the scheduler,
// the actions and the router.
type generation struct {
	cfg    *config.Config
	chats  []*chat
	svc    *scheduler.Service
	router *router.Router
	cancel context.CancelFunc
	// stopped is closed when the scheduler has stopped; err is why.
	stopped chan struct{}
	err     error
}

// newGeneration builds (but does not start) everything of one config; an
// error leaves the running generation alone. A chat surface whose section
// did not change since prev is prev's, still running.
func (a *App) newGeneration(cfg *config.Config, prev *generation) (*generation, error) {
	scrub := a.opts.Scrub
	log := a.log
	chats, err := a.buildChats(cfg, prev)
	if err != nil {
		return nil, err
	}
	svc := &scheduler.Service{
		Store:         a.store,
		Engine:        scheduler.NewEngine(scheduler.EngineOptions{Reminder: cfg.Alerts.ReminderEvery}),
		Routes:        a.alertRoutes(chats),
		Log:           log,
		SnapshotEvery: cfg.Scheduler.SnapshotEvery,
		KeyCheckEvery: cfg.Anthropic.KeyCheckEvery,
		HealthzEvery:  cfg.Scheduler.HealthzEvery,
		ReadTimeout:   cfg.Scheduler.ReadTimeout,
		Observer:      a.metrics,
	}
	var rdiag router.Diagnoser = diagnoser{svc}
	var rfleet router.Fleet
	if a.fleet != nil {
		svc.Instance = a.fleet.Name()
		svc.Observer = publisher{Observer: a.metrics, fleet: a.fleet}
		rdiag, rfleet = fleetDiagnoser{local: svc, fleet: a.fleet}, a.fleet
	}
	fail := func(err error) (*generation, error) {
		closeNew(chats, prev)
		return nil, err
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
			return fail(err)
		}
		actTargets = append(actTargets, actionTarget(t, loc, scrub, log))
		svc.Targets = append(svc.Targets, st)
	}
	for i := range actTargets {
		actTargets[i].Target = svc.Targets[i].Target
	}
	acts := actions.New(actions.Options{Targets: actTargets, Checker: svc.Checker, Log: log,
		BackupDir: filepath.Join(filepath.Dir(backupBase(a.store, cfg)), "openclaw-bot-backups"),
		// Re-evaluate at once: the incident resolves and its alert is edited
		// in place. On the current scheduler, not necessarily this one: an
		// action that ends after a reload must not evaluate on the engine
		// of a stopped generation (its alert state is no longer the truth).
		AfterChange: a.reevaluate})
	rt := router.New(router.Options{
		Store: a.store, Diagnoser: rdiag, Actions: acts, Access: cfg.Access,
		AlertChannel: cfg.Slack.AlertChannel, AlertChat: cfg.Telegram.AlertChat, Log: &log, Scrubber: scrub,
		Observer: a.metrics, Fleet: rfleet,
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
	return &generation{cfg: cfg, chats: chats, svc: svc, router: rt}, nil
}

// runGeneration makes gen the current one and starts its scheduler.
func (a *App) runGeneration(ctx context.Context, gen *generation) {
	ctx, gen.cancel = context.WithCancel(ctx)
	gen.stopped = make(chan struct{})
	a.gen = gen
	svc := gen.svc
	// The incidents first, so that the first command or action evaluates
	// on what already fired (the previous generation's last word included).
	if err := svc.Load(ctx); err != nil {
		gen.err = err // serve stops, as when Run fails
		close(gen.stopped)
		return
	}
	a.svc.Store(svc)
	a.handler.set(gen.router)
	if a.fleet != nil {
		a.fleet.SetHandler(a.handler, svc.Routes)
	}
	a.metrics.SetTargets(svc.TargetNames())
	src := metrics.Sources{OutboxDepth: a.store.OutboxDepth, Firing: svc.Engine.Firing, Held: svc.Spooled}
	if a.fleet != nil {
		src.Instances, src.Roles = a.fleet.States, a.fleet.Roles
	}
	a.metrics.SetSources(src)
	for _, t := range svc.Targets {
		a.log.Info().Str("target", t.Name).Str("state_dir", t.Locate.StateDir).Msg("watching")
	}
	go func() {
		gen.err = svc.Run(ctx)
		close(gen.stopped)
	}()
}

// reevaluate evaluates target on the current scheduler at once (after an
// action changed its state). A target a reload removed is left alone.
func (a *App) reevaluate(ctx context.Context, target string) {
	svc := a.svc.Load()
	if svc == nil {
		return
	}
	switch err := svc.Evaluate(ctx, target); {
	case errors.Is(err, scheduler.ErrNoTarget):
		a.log.Info().Str("target", target).Msg("re-evaluation after an action skipped: the target is no longer configured")
	case err != nil:
		a.log.Warn().Str("target", target).Err(err).Msg("re-evaluation after an action")
	}
}

// stopGeneration stops the current scheduler and waits for it.
func (a *App) stopGeneration(ctx context.Context) {
	g := a.gen
	if g == nil || g.cancel == nil {
		return
	}
	g.cancel()
	select {
	case <-g.stopped:
	case <-ctx.Done():
		a.log.Warn().Msg("the scheduler did not stop in time")
	}
}

// actionTarget builds what the confirmed actions need for one target: the
// guarded CLI (refusing a CLI whose version differs from the install's) and
// the configured restart method (openclaw/change/restart.go validates it).
func actionTarget(t config.Target, loc openclaw.Location, scrub *redact.Scrubber, log zerolog.Logger) actions.Target {
	var at actions.Target
	if t.OpenClawBin != "" {
		at.CLI = &run.CLI{Bin: t.OpenClawBin, Loc: loc, GatewayToken: t.GatewayToken, Scrubber: scrub}
		if c, err := openclaw.ReadConfig(loc.ConfigPath); err == nil && c != nil {
			at.CLI.ExpectVersion = c.Version
		}
	}
	if t.Restart.Method != "" || t.GatewayURL != "" {
		rs := &change.Restarter{Method: t.Restart.Method, Unit: t.Restart.Unit, ComposeFile: t.ComposeFile, ComposeService: t.ComposeService,
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
