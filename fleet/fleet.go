// Package fleet is what lets several `serve` instances share one
// PostgreSQL store (README "Fleet"): each instance registers under its
// name and claims its own targets (a target name is unique in the fleet),
// heartbeats on the database's clock, publishes the latest report of each
// of its targets, runs the commands other instances queue for its targets,
// and watches the others' heartbeats: an instance that misses three beats
// gets one critical instance.silent alert, from whichever instance noticed
// first, resolved when it beats again.
//
//	f := fleet.New(fleet.Options{Store: st, Name: "web-a", ...})
//	err := f.Join(ctx, []string{"web-3"}) // refused when another instance holds web-3
//	go f.Run(ctx)                           // heartbeats, silence watch, request worker
//	rep, err := f.Forward(ctx, "web-9", &req, nil) // run on web-9's owner, wait for its reply
//	f.Leave(ctx)                            // a clean stop: targets released, no alert
//
// It implements router.Fleet. Only the PostgreSQL store has a fleet; on
// SQLite serve runs alone and builds none of this.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// MissedBeats is how many heartbeats an instance may miss before it is
// declared silent.
const MissedBeats = 3

// DefaultWait is how long Forward waits for the owner's reply.
const DefaultWait = 60 * time.Second

// Options configure a Fleet.
type Options struct {
	Store *store.Store
	// Name is instance.name; Host and PID identify the process (a second
	// live process under the same name is refused).
	Name, Host, Version string
	PID                 int
	// HeartbeatEvery is fleet.heartbeat_every.
	HeartbeatEvery time.Duration
	// Wait bounds Forward (0: DefaultWait).
	Wait time.Duration
	Log  zerolog.Logger
}

// Fleet is this instance's membership of the fleet. Safe for concurrent
// use.
type Fleet struct {
	o Options

	mu      sync.Mutex
	targets []string              // this instance's
	owners  map[string]ownerState // every claimed target → its owner
	others  map[string]store.Instance
	handler bot.Handler             // runs requests forwarded to this instance
	routes  []scheduler.Route       // where instance.silent goes
	waiters map[int64]chan struct{} // request id → woken on its reply
	// beating is since when this instance's heartbeats have succeeded
	// without a gap: it judges others only after MissedBeats of its own
	// (after its own outage, everyone's beats look old).
	beating time.Time
	lastOK  time.Time

	work    chan struct{}
	publish chan store.Report
	// failures: what has been failing since when (quiet.go).
	failures map[string]time.Time
	// roles: the Exclusive roles this instance runs, held or standing by.
	roles map[string]bool
}

type ownerState struct {
	instance string
	silent   time.Time
}

// New returns a Fleet; Join registers it.
func New(o Options) *Fleet {
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 10 * time.Second
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	return &Fleet{o: o, owners: map[string]ownerState{}, others: map[string]store.Instance{},
		waiters: map[int64]chan struct{}{}, work: make(chan struct{}, 1), publish: make(chan store.Report, 64),
		failures: map[string]time.Time{}, roles: map[string]bool{}}
}

// Name is this instance's name.
func (f *Fleet) Name() string { return f.o.Name }

// alive is how young a heartbeat must be for its instance to count as
// running.
func (f *Fleet) alive() time.Duration { return MissedBeats * f.o.HeartbeatEvery }

// Join registers this instance (refused while another live process runs
// under its name), claims targets (refused, naming the holder, when
// another instance owns one) and releases the outbox claims an earlier
// process of this instance left (kill -9: they are due at once).
func (f *Fleet) Join(ctx context.Context, targets []string) error {
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		return err
	}
	in := store.Instance{Name: f.o.Name, Host: f.o.Host, PID: f.o.PID, Version: f.o.Version}
	err = f.o.Store.RegisterInstance(ctx, in, now, f.alive())
	if errors.Is(err, store.ErrInstanceRunning) && f.earlierRunDead(ctx) {
		// This host's earlier process of this instance died (kill -9, a
		// crash) less than 3 beats ago: it is this one's to replace.
		err = f.o.Store.RegisterInstance(ctx, in, now, 0)
	}
	if err != nil {
		return err
	}
	if err := f.SetTargets(ctx, targets); err != nil {
		// Not starting after all: record the stop, or the others would
		// report this instance silent in 3 beats.
		if serr := f.o.Store.StopInstance(context.WithoutCancel(ctx), f.o.Name, now); serr != nil {
			f.o.Log.Warn().Err(serr).Msg("fleet: could not record that this instance did not start")
		}
		return err
	}
	if n, err := f.o.Store.ReleaseClaimsOf(ctx, f.o.Name, now); err != nil {
		return err
	} else if n > 0 {
		f.o.Log.Info().Int64("notices", n).Msg("fleet: notices an earlier run of this instance had claimed are due again")
	}
	f.mu.Lock()
	f.beating, f.lastOK = now, now
	f.mu.Unlock()
	return f.refresh(ctx)
}

// earlierRunDead reports whether the registered process of this instance
// ran on this host and is gone.
func (f *Fleet) earlierRunDead(ctx context.Context) bool {
	list, err := f.o.Store.Instances(ctx)
	if err != nil {
		return false
	}
	for _, in := range list {
		if in.Name == f.o.Name {
			return in.Host == f.o.Host && in.PID != f.o.PID && !processAlive(in.PID)
		}
	}
	return false
}

// processAlive: a process of that pid exists on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// SetTargets claims the targets of a (re)loaded config and releases the
// ones it no longer lists.
func (f *Fleet) SetTargets(ctx context.Context, targets []string) error {
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		return err
	}
	if err := f.o.Store.ClaimTargets(ctx, f.o.Name, targets, now); err != nil {
		return err
	}
	f.mu.Lock()
	f.targets = slices.Clone(targets)
	f.mu.Unlock()
	return f.refresh(ctx)
}

// SetHandler sets what runs the requests other instances forward here
// (the current router) and where instance.silent alerts go (the current
// alert routes).
func (f *Fleet) SetHandler(h bot.Handler, routes []scheduler.Route) {
	f.mu.Lock()
	f.handler, f.routes = h, routes
	f.mu.Unlock()
}

// Leave records a clean stop: the targets are free and no alert is raised.
func (f *Fleet) Leave(ctx context.Context) error {
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		now = time.Now()
	}
	return f.o.Store.StopInstance(ctx, f.o.Name, now)
}

// Refresh implements router.Fleet: it reads who owns what again now.
func (f *Fleet) Refresh(ctx context.Context) {
	if err := f.refresh(ctx); err != nil {
		f.o.Log.Warn().Err(err).Msg("fleet: reading the instances")
	}
}

// refresh reloads who owns what.
func (f *Fleet) refresh(ctx context.Context) error {
	list, err := f.o.Store.Instances(ctx)
	if err != nil {
		return err
	}
	owners := map[string]ownerState{}
	others := map[string]store.Instance{}
	for _, in := range list {
		for _, t := range in.Targets {
			owners[t] = ownerState{instance: in.Name, silent: in.SilentSince}
		}
		if in.Name != f.o.Name {
			others[in.Name] = in
		}
	}
	f.mu.Lock()
	f.owners, f.others = owners, others
	f.mu.Unlock()
	return nil
}

// States counts the instances by state as last read (this one running):
// running, silent, stopped (openclaw_bot_fleet_instances).
func (f *Fleet) States() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{"running": 1}
	for _, in := range f.others {
		switch {
		case !in.Stopped.IsZero():
			n["stopped"]++
		case !in.SilentSince.IsZero():
			n["silent"]++
		default:
			n["running"]++
		}
	}
	return n
}

// Roles says which Exclusive roles this instance holds now, by name
// (openclaw_bot_fleet_role).
func (f *Fleet) Roles() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]bool, len(f.roles))
	for k, v := range f.roles {
		out[k] = v
	}
	return out
}

// Remote implements router.Fleet: the owner of target when it is another
// instance.
func (f *Fleet) Remote(target string) (router.Owner, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.owners[target]
	if !ok || o.instance == f.o.Name {
		return router.Owner{}, false
	}
	return router.Owner{Instance: o.instance, SilentSince: o.silent}, true
}

// RemoteTargets are the targets other instances own, sorted.
func (f *Fleet) RemoteTargets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t, o := range f.owners {
		if o.instance != f.o.Name {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Report is the latest report the owner of target published, with its
// age and, when the owner is silent, an instance.silent finding (the
// target is not watched: never "ok").
func (f *Fleet) Report(ctx context.Context, target string) (diagnostics.Report, error) {
	owner, _ := f.Remote(target)
	pub, err := f.o.Store.LatestReport(ctx, target)
	if errors.Is(err, store.ErrNotFound) {
		return diagnostics.Report{}, fmt.Errorf("instance %s has not published a report of %s yet", owner.Instance, target)
	}
	if err != nil {
		return diagnostics.Report{}, err
	}
	var rep diagnostics.Report
	if err := json.Unmarshal(pub.Body, &rep); err != nil {
		return diagnostics.Report{}, fmt.Errorf("the report of %s from instance %s does not parse: %w", target, pub.Instance, err)
	}
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		now = time.Now()
	}
	rep.Source = &diagnostics.ReportSource{Instance: pub.Instance, PublishedAt: pub.At, Age: max(now.Sub(pub.At), 0),
		OwnerSilentSince: owner.SilentSince}
	if !owner.SilentSince.IsZero() {
		rep.Findings = append([]diagnostics.Finding{silentFinding(owner.Instance, owner.SilentSince, []string{target})}, rep.Findings...)
		rep.Verdict = diagnostics.Verdict(rep.Findings)
	}
	return rep, nil
}

// Publish queues the latest report of one of this instance's targets for
// the others (coalesced: a slow database drops intermediate reports, never
// the newest).
func (f *Fleet) Publish(rep diagnostics.Report) {
	body, err := json.Marshal(rep)
	if err != nil {
		f.o.Log.Warn().Err(err).Str("target", rep.Target).Msg("fleet: report not published")
		return
	}
	at := rep.CheckedAt
	if at.IsZero() {
		at = time.Now()
	}
	r := store.Report{Target: rep.Target, Instance: f.o.Name, At: at, Body: body}
	select {
	case f.publish <- r:
	default: // full: the publisher is behind; the next evaluation publishes again
	}
}

func (f *Fleet) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-f.publish:
			// Coalesce what queued meanwhile: the newest per target.
			latest := map[string]store.Report{r.Target: r}
		drain:
			for {
				select {
				case r2 := <-f.publish:
					latest[r2.Target] = r2
				default:
					break drain
				}
			}
			for _, r := range latest {
				if err := f.o.Store.PublishReport(ctx, r); err != nil && ctx.Err() == nil {
					f.failing("publish", err, "fleet: reports not published (the store is unreachable?); the others see older ones")
				} else if err == nil {
					f.recovered("publish", "fleet: reports published again")
				}
			}
		}
	}
}

// Run heartbeats, watches the others, publishes reports and runs the
// requests queued for this instance until ctx ends.
func (f *Fleet) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { f.publishLoop(ctx) })
	wg.Go(func() { f.listenLoop(ctx) })
	wg.Go(func() { f.workLoop(ctx) })
	t := time.NewTicker(f.o.HeartbeatEvery)
	defer t.Stop()
	prune := time.NewTicker(10 * time.Minute)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
			f.beat(ctx)
		case <-prune.C:
			if _, err := f.o.Store.PruneRequests(ctx, time.Now().Add(-time.Hour)); err != nil && ctx.Err() == nil {
				f.o.Log.Warn().Err(err).Msg("fleet: pruning old requests")
			}
		}
	}
}

// beat records this instance's heartbeat, resolves its own silence when
// it was declared silent, refreshes who owns what and declares silent the
// instances that missed their beats.
func (f *Fleet) beat(ctx context.Context) {
	prev, err := f.o.Store.Heartbeat(ctx, f.o.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Forgotten (fleet forget) while running: register and claim
		// again (the outbox claims of this process stay its own).
		f.o.Log.Warn().Msg("fleet: this instance was removed from the fleet (fleet forget); registering again")
		err = f.rejoin(ctx)
	case err == nil && !prev.Stopped.IsZero():
		// Forgotten while silent (partitioned), or its stop recorded by
		// mistake: its targets were freed; claim them again.
		f.o.Log.Warn().Msg("fleet: this instance was recorded as stopped or forgotten; claiming its targets again")
		if err := f.claimAgain(ctx); err != nil {
			f.o.Log.Error().Err(err).Msg("fleet: cannot claim this instance's targets again: another instance watches them too now; stop this one or rename them")
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			f.failing("heartbeat", err, "fleet: heartbeat failed (the store is unreachable?); the others will see this instance silent after 3 beats")
			f.mu.Lock()
			f.beating = time.Time{}
			f.mu.Unlock()
		}
		return
	}
	f.recovered("heartbeat", "fleet: beating again")
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		return
	}
	f.mu.Lock()
	if f.beating.IsZero() || now.Sub(f.lastOK) > f.alive() {
		f.beating = now // back after a gap of its own
	}
	f.lastOK = now
	judge := now.Sub(f.beating) >= f.alive()
	f.mu.Unlock()
	if !prev.SilentSince.IsZero() {
		f.resolveSilence(ctx, prev, now)
	}
	if err := f.refresh(ctx); err != nil {
		f.o.Log.Warn().Err(err).Msg("fleet: reading the instances")
		return
	}
	if judge {
		f.judge(ctx, now)
	}
}

// rejoin registers this instance again and claims its targets.
func (f *Fleet) rejoin(ctx context.Context) error {
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		return err
	}
	in := store.Instance{Name: f.o.Name, Host: f.o.Host, PID: f.o.PID, Version: f.o.Version}
	if err := f.o.Store.RegisterInstance(ctx, in, now, 0); err != nil {
		return err
	}
	return f.claimAgain(ctx)
}

// claimAgain claims this instance's current targets again.
func (f *Fleet) claimAgain(ctx context.Context) error {
	f.mu.Lock()
	targets := slices.Clone(f.targets)
	f.mu.Unlock()
	return f.SetTargets(ctx, targets)
}

// judge declares silent every other running instance whose heartbeat is
// older than MissedBeats beats. Of several instances noticing, one wins
// (store.MarkSilent) and queues the alert.
func (f *Fleet) judge(ctx context.Context, now time.Time) {
	f.mu.Lock()
	var silent, ended []store.Instance
	for _, in := range f.others {
		switch {
		case in.State(now, f.alive()) == store.InstanceLate:
			silent = append(silent, in)
		case !in.Stopped.IsZero() && !in.SilentSince.IsZero():
			ended = append(ended, in) // stopped or forgotten while silent
		}
	}
	routes := f.routes
	f.mu.Unlock()
	for _, in := range ended {
		msg := resolvedMessage(in, now)
		if _, err := f.o.Store.ClearSilent(ctx, in.Name, in.SilentRef, outboxItems(routes, in.Targets, msg, store.KindEdit, now), now); err != nil {
			f.o.Log.Warn().Err(err).Str("instance", in.Name).Msg("fleet: resolving a stopped instance's silence")
		}
	}
	for _, in := range silent {
		ref := fmt.Sprintf("instance:%s:%d", in.Name, now.UnixMilli())
		msg := silentMessage(in, now, f.o.HeartbeatEvery, ref)
		won, err := f.o.Store.MarkSilent(ctx, in.Name, now.Add(-f.alive()), now, ref, outboxItems(routes, in.Targets, msg, store.KindPost, now))
		if err != nil {
			f.o.Log.Warn().Err(err).Str("instance", in.Name).Msg("fleet: declaring an instance silent")
			continue
		}
		if won {
			f.o.Log.Error().Str("instance", in.Name).Strs("targets", in.Targets).Time("last_heartbeat", in.Heartbeat).
				Msg("fleet: instance silent: its targets are not watched; instance.silent raised")
		}
	}
	if len(silent) > 0 {
		_ = f.refresh(ctx)
	}
}

// resolveSilence ends this instance's own silence (declared by another
// while it could not beat) and queues the resolved notices.
func (f *Fleet) resolveSilence(ctx context.Context, prev store.Instance, now time.Time) {
	f.mu.Lock()
	routes := f.routes
	f.mu.Unlock()
	prev.Stopped = time.Time{} // it is back, whatever was recorded meanwhile
	msg := resolvedMessage(prev, now)
	won, err := f.o.Store.ClearSilent(ctx, prev.Name, prev.SilentRef, outboxItems(routes, prev.Targets, msg, store.KindEdit, now), now)
	if err != nil {
		f.o.Log.Warn().Err(err).Msg("fleet: resolving this instance's silence")
		return
	}
	if won {
		f.o.Log.Info().Time("silent_since", prev.SilentSince).Msg("fleet: beating again; instance.silent resolved")
	}
}

// outboxItems addresses msg to every route that takes alerts about any of
// targets (a route without a target list takes all).
func outboxItems(routes []scheduler.Route, targets []string, msg bot.Message, kind string, now time.Time) []store.OutboxItem {
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil
	}
	var out []store.OutboxItem
	for _, r := range routes {
		if len(r.Targets) > 0 && !slices.ContainsFunc(targets, func(t string) bool { return slices.Contains(r.Targets, t) }) {
			continue
		}
		out = append(out, store.OutboxItem{Channel: r.Notifier.Name(), Dest: r.Dest, Ref: msg.Ref, Kind: kind,
			Payload: payload, NextAttempt: now, CreatedAt: now})
	}
	return out
}

func targetList(targets []string) string {
	if len(targets) == 0 {
		return "no targets"
	}
	return strings.Join(targets, ", ")
}
