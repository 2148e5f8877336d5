package app

import (
	"context"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/fleet"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// The fleet (README "Fleet"): on PostgreSQL every serve is an instance of
// a fleet. It registers under instance.name, claims its targets, publishes
// their reports, answers for the others' targets from theirs, forwards
// their actions to them, and polls Telegram only while it holds the
// polling lock.

// instanceName is instance.name, or the host name.
func instanceName(cfg *config.Config) string {
	if cfg.Instance.Name != "" {
		return cfg.Instance.Name
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "openclaw-bot"
}

// joinFleet registers this instance and claims cfg's targets (PostgreSQL
// only; nil on SQLite).
func (a *App) joinFleet(ctx context.Context, cfg *config.Config) error {
	if a.store.Driver() != store.DriverPostgres {
		return nil
	}
	host, _ := os.Hostname()
	f := fleet.New(fleet.Options{Store: a.store, Name: instanceName(cfg), Host: host, PID: os.Getpid(),
		Version: a.opts.BuildInfo.Version, HeartbeatEvery: cfg.Fleet.HeartbeatEvery, Log: a.log.With().Str("instance", instanceName(cfg)).Logger()})
	if err := f.Join(ctx, targetNames(cfg)); err != nil {
		return err
	}
	a.fleet = f
	a.log.Info().Str("instance", f.Name()).Strs("targets", targetNames(cfg)).Strs("fleet_targets", f.RemoteTargets()).
		Msg("joined the fleet")
	return nil
}

func targetNames(cfg *config.Config) []string {
	var out []string
	for _, t := range cfg.Targets {
		out = append(out, t.Name)
	}
	return out
}

// fleetDiagnoser answers for this instance's targets from its scheduler
// and for the other instances' targets from the reports they publish.
type fleetDiagnoser struct {
	local *scheduler.Service
	fleet *fleet.Fleet
}

func (d fleetDiagnoser) Targets() []string {
	return append(d.local.TargetNames(), d.fleet.RemoteTargets()...)
}

// Report: probe (the key check) is for this instance's targets only; the
// router forwards a check of another's target to its owner.
func (d fleetDiagnoser) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	if _, remote := d.fleet.Remote(target); remote && !slices.Contains(d.local.TargetNames(), target) {
		return d.fleet.Report(ctx, target)
	}
	return d.local.Report(ctx, target, probe)
}

// publisher publishes each evaluation's report to the fleet, besides the
// metrics.
type publisher struct {
	scheduler.Observer
	fleet *fleet.Fleet
}

func (p publisher) Evaluated(target string, live bool, rep diagnostics.Report, took time.Duration, err error) {
	p.Observer.Evaluated(target, live, rep, took, err)
	if err == nil {
		if rep.Target == "" {
			rep.Target = target
		}
		p.fleet.Publish(rep)
	}
}

// exclusiveSurface runs a surface on one instance of the fleet at a time:
// Telegram's long polling (two pollers on one token get 409 Conflict). The
// instance holding the lock polls; the others stand by and take over
// within seconds when it dies (its lock goes with its connection).
type exclusiveSurface struct {
	Surface
	fleet *fleet.Fleet
	key   int64
	what  string
	held  atomic.Bool
	// up reports the surface's state to the metrics: standing by counts
	// as up (openclaw_bot_chat_connected, like /readyz).
	up func(bool)
}

func (s *exclusiveSurface) Run(ctx context.Context) error {
	return s.fleet.Exclusive(ctx, s.key, s.what, func(held bool) {
		s.held.Store(held)
		if !held && s.up != nil {
			s.up(true)
		}
	}, s.Surface.Run)
}

// Ready: standing by is ready (another instance polls).
func (s *exclusiveSurface) Ready() bool { return !s.held.Load() || s.Surface.Ready() }
