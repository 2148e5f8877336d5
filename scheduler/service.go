package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/severity"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Route sends notices to one destination of one notifier: about the
// listed targets only (none = all) and at least MinSeverity ("" = warning).
type Route struct {
	Notifier    bot.Notifier
	Dest        string
	Targets     []string
	MinSeverity diagnostics.Severity
}

// wants reports whether the route takes a notice.
func (r Route) wants(n Notice) bool {
	if len(r.Targets) > 0 && !slices.Contains(r.Targets, n.Target) {
		return false
	}
	min := r.MinSeverity
	if min == "" {
		min = diagnostics.Warning
	}
	for _, i := range n.Incidents {
		if severity.Rank(i.Severity) <= severity.Rank(min) || IsEventCode(i.Code) {
			return true
		}
	}
	return false
}

// Observer is told about evaluations and deliveries (the metrics); its
// methods must be cheap and safe for concurrent use.
type Observer interface {
	// Evaluated: one snapshot evaluation (live: with a key check); rep is
	// the report when err is nil.
	Evaluated(target string, live bool, rep diagnostics.Report, took time.Duration, err error)
	// Delivered: one delivery attempt; result is sent, failed or retried.
	Delivered(channel, result string)
}

type nopObserver struct{}

func (nopObserver) Evaluated(string, bool, diagnostics.Report, time.Duration, error) {}
func (nopObserver) Delivered(string, string)                                         {}

// ServiceTarget is one watched install.
type ServiceTarget struct {
	diagnostics.Target
	// HealthURL is the gateway's http://host:port/healthz ("" = not checked).
	HealthURL string
}

// Service runs the watch loop of serve: scheduled snapshots and key checks,
// the state-dir watcher, the log follower, the incident engine, and the
// outbox worker that delivers notices.
type Service struct {
	Targets       []ServiceTarget
	Store         *store.Store
	Engine        *Engine
	Checker       *diagnostics.Checker // nil: no key checks
	Routes        []Route
	Log           zerolog.Logger
	Logs          *LogFollower // nil: no log following
	SnapshotEvery time.Duration
	KeyCheckEvery time.Duration // 0: off
	HealthzEvery  time.Duration
	// ReadTimeout bounds each native read of a target (0:
	// openclaw.DefaultReadTimeout); a read past it is abandoned and the
	// target gets state.unreadable, without delaying the other targets.
	ReadTimeout time.Duration
	Watch       WatchOptions
	// Maintenance are planned windows from the config; they mute like
	// silences (Target "" = every target).
	Maintenance []Silence
	HTTPClient  *http.Client
	Now         func() time.Time
	// Observer gets evaluations and deliveries; nil: nobody.
	Observer Observer
	// ResetAfterRotation is recovery.reset_after_rotation: a cooldown.stale
	// window (the profile's key changed after it began and the zero-token
	// check accepts the new one) is reset by the bot itself, through
	// AutoReset, at most once per (target, profile, window) and announced
	// on the alert routes. Off: only the alert's Reset button does it.
	ResetAfterRotation bool
	// AutoReset performs such a reset the way a confirmed chat reset does
	// (backup, audit row, gateway refresh, verification) and returns the
	// reply to announce. An error means it did not start and changed
	// nothing (another action runs on the target; the state moved since
	// the evaluation): the next evaluation may try again. nil: no reset.
	AutoReset func(ctx context.Context, req AutoResetRequest) (bot.Message, error)
	// DeliveryLease is how long a claimed outbox item is reserved for this
	// deliverer (0: DefaultDeliveryLease); a delivery is cut off at three
	// quarters of it.
	DeliveryLease time.Duration
	// Instance is this fleet instance's name: its outbox claims carry it
	// (store.ReleaseClaimsOf). "" alone.
	Instance string

	locks sync.Map // target → *sync.Mutex
	// memories: target → *diagnostics.SecretMemory (used under the
	// target's lock); evidence: target → its Changes() for chat reports.
	memories sync.Map
	evidence sync.Map
	kick     chan struct{}
	health   sync.Map // target → healthState
	rows     rowIDs
	// spool: evaluation batches the store did not take (spool.go);
	// versions (target → last OpenClaw version) and lastSilences: what
	// evaluations use while the store does not answer.
	spool        spool
	versions     sync.Map
	lastSilences atomic.Pointer[[]store.Silence]
	started      chan struct{}
	loaded       atomic.Bool
	lookups      lookupFailures
	// claimFailing: the outbox claim fails (logged once per outage).
	claimFailing atomic.Bool
}

type healthState struct {
	down bool
	err  string
	at   time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrNoTarget: Evaluate or CheckKeys was asked about a target the service
// does not have (a reload may have removed it).
var ErrNoTarget = errors.New("no target")

// Load reads the incidents persisted by an earlier run (or generation)
// into the engine. Run calls it unless it was called before; call it
// before Run when something may Evaluate as soon as Run is started (a chat
// action), so that no evaluation meets an empty engine and announces again
// what already fired.
func (s *Service) Load(ctx context.Context) error {
	open, err := s.Store.ActiveIncidents(ctx)
	if err != nil {
		return fmt.Errorf("load incidents: %w", err)
	}
	s.Engine.Load(fromStore(open))
	s.rows.load(open)
	// The outbox worker's wake-up, before any evaluation can use it
	// (serve publishes the service between Load and Run).
	s.kick = make(chan struct{}, 1)
	s.loaded.Store(true)
	return nil
}

// Run blocks until ctx ends. It loads the incidents persisted by an earlier
// run first, so nothing that already fired is announced again.
func (s *Service) Run(ctx context.Context) error {
	if s.SnapshotEvery <= 0 {
		s.SnapshotEvery = 30 * time.Second
	}
	if s.HealthzEvery <= 0 {
		s.HealthzEvery = time.Minute
	}
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if !s.loaded.Load() {
		if err := s.Load(ctx); err != nil {
			return err
		}
	}

	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()

	// The outbox worker first: earlier runs may have left undelivered items.
	wg.Add(1)
	go func() { defer wg.Done(); s.deliverLoop(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); s.spoolLoop(ctx) }()

	if s.Logs != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.Logs.Run(ctx) }()
	}

	w := s.Watch
	w.OnChange = func(target string) {
		if err := s.Evaluate(ctx, target); err != nil && ctx.Err() == nil {
			s.Log.Warn().Str("target", target).Err(err).Msg("evaluation after a state change failed")
		}
	}
	userMode := w.OnMode
	w.OnMode = func(m string) {
		s.Log.Info().Str("mode", m).Msg("state watcher")
		if userMode != nil {
			userMode(m)
		}
	}
	watcher := NewWatcher(w)
	for _, t := range s.Targets {
		if t.Locate.StateDir != "" {
			watcher.Add(t.Name, t.Locate.StateDir)
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = watcher.Run(ctx) }()

	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(
		// SkipIfStillRunning must wrap Recover: the other order skips a
		// job forever after one panic.
		cron.SkipIfStillRunning(cronLogger{s.Log}), cron.Recover(cronLogger{s.Log})))
	// One entry per tick for all targets, run by a few workers: 500
	// targets starting 500 goroutines at once cost ~20 MB of stacks and
	// in-flight snapshots for no speed.
	if _, err := c.AddFunc(every(s.SnapshotEvery), func() {
		s.forEach(ctx, s.TargetNames(), func(name string) { s.logErr(name, s.Evaluate(ctx, name)) })
	}); err != nil {
		return err
	}
	var checked []string
	for _, t := range s.Targets {
		if t.HealthURL != "" {
			checked = append(checked, t.Name)
		}
	}
	if len(checked) > 0 {
		if _, err := c.AddFunc(every(s.HealthzEvery), func() { s.forEach(ctx, checked, func(name string) { s.checkHealth(ctx, name) }) }); err != nil {
			return err
		}
	}
	for _, t := range s.Targets {
		name := t.Name
		if s.Checker != nil && s.KeyCheckEvery > 0 {
			jitter := time.Duration(rand.Int64N(int64(s.KeyCheckEvery/10) + 1))
			if _, err := c.AddFunc(every(s.KeyCheckEvery), func() {
				select { // spread key checks of many targets over time
				case <-time.After(jitter):
				case <-ctx.Done():
					return
				}
				s.logErr(name, s.CheckKeys(ctx, name))
			}); err != nil {
				return err
			}
		}
	}
	c.Start()
	defer func() { <-c.Stop().Done() }()

	// First evaluation of every target: key check included when enabled.
	// On the workers: a target whose read hangs delays no other.
	s.forEach(ctx, s.TargetNames(), func(name string) {
		if t, _ := s.target(name); t.HealthURL != "" {
			s.checkHealth(ctx, name)
		}
		if s.Checker != nil && s.KeyCheckEvery > 0 {
			s.logErr(name, s.CheckKeys(ctx, name))
		} else {
			s.logErr(name, s.Evaluate(ctx, name))
		}
	})
	if s.started != nil {
		close(s.started)
	}
	<-ctx.Done()
	return nil
}

func every(d time.Duration) string { return "@every " + d.String() }

// forEach runs fn for every name on a few workers and waits.
func (s *Service) forEach(ctx context.Context, names []string, fn func(name string)) {
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(len(names), max(4, 2*runtime.GOMAXPROCS(0))) {
		wg.Go(func() {
			for name := range next {
				fn(name)
			}
		})
	}
	for _, n := range names {
		select {
		case next <- n:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

func (s *Service) logErr(target string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		s.Log.Warn().Str("target", target).Err(err).Msg("evaluation failed")
	}
}

func (s *Service) target(name string) (ServiceTarget, bool) {
	for _, t := range s.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return ServiceTarget{}, false
}

func (s *Service) lock(target string) func() {
	m, _ := s.locks.LoadOrStore(target, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Evaluate reads the target natively (key verdicts from the last key check
// only: nothing is sent) and feeds the incident engine.
func (s *Service) Evaluate(ctx context.Context, target string) error {
	return s.evaluate(ctx, target, false)
}

// CheckKeys is Evaluate plus the zero-token key check.
func (s *Service) CheckKeys(ctx context.Context, target string) error {
	return s.evaluate(ctx, target, true)
}

func (s *Service) observer() Observer {
	if s.Observer == nil {
		return nopObserver{}
	}
	return s.Observer
}

func (s *Service) evaluate(ctx context.Context, name string, live bool) error {
	unlock := s.lock(name)
	resets, err := s.evaluateLocked(ctx, name, live)
	unlock()
	// Outside the target's lock: the reset re-evaluates the target when it
	// is done (its alert is edited in place).
	if len(resets) > 0 && err == nil {
		s.autoReset(ctx, name, resets)
	}
	return err
}

func (s *Service) evaluateLocked(ctx context.Context, name string, live bool) (resets []AutoResetRequest, err error) {
	t, ok := s.target(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrNoTarget, name)
	}
	start := time.Now()
	var rep diagnostics.Report
	defer func() {
		if !errors.Is(err, context.Canceled) {
			s.observer().Evaluated(name, live, rep, time.Since(start), err)
		}
	}()
	mem, err := s.memory(ctx, name)
	if err != nil {
		return nil, err
	}
	insp := &diagnostics.Inspector{Checker: s.Checker, CachedOnly: !live, Now: s.Now, ReadTimeout: s.ReadTimeout,
		CheckNew: s.KeyCheckEvery > 0, Memory: mem}
	prev, err := s.lastVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	rep, _, err = insp.Inspect(ctx, t.Target, prev)
	if err != nil {
		return nil, err
	}
	s.evidence.Store(name, mem.Changes())
	now := s.now()
	findings := rep.Findings
	if s.Logs != nil {
		findings = append(findings, logFindings(rep, s.Logs.Findings(now))...)
	}
	var gatewayDown bool
	if h, ok := s.health.Load(name); ok {
		hs := h.(healthState)
		gatewayDown = hs.down
		if hs.down {
			findings = append(findings, diagnostics.Finding{
				Code: diagnostics.CodeGatewayDown, Severity: diagnostics.Critical, Subject: t.HealthURL,
				Title:    "The OpenClaw gateway does not answer /healthz",
				Evidence: fmt.Sprintf("GET %s at %s: %s", t.HealthURL, hs.at.UTC().Format(time.RFC3339), hs.err),
				Remedy:   []string{"Check the gateway process or service (`openclaw gateway status --json`); profile alerts of this target are muted while it is down."},
			})
		}
	}
	silences, err := s.silences(ctx, now) // maintenance windows too
	if err != nil {
		return nil, err
	}
	// Acks written from chat (on any instance of a fleet): the engine
	// stops reminding and shows who acked. While the store does not
	// answer, the acks the engine knows stay.
	if acks, err := s.Store.Acks(ctx, name); err == nil {
		for k, by := range acks {
			s.Engine.Ack(name, k[0], k[1], by)
		}
	}
	// From here on, the engine's state has changed: what it returns is
	// written, or kept in memory until the store takes it (spool.go).
	res := s.Engine.Evaluate(name, findings, now, EvalContext{Silences: append(silencesForEngine(silences), s.Maintenance...), GatewayDown: gatewayDown})
	if e := s.Log.Debug(); e.Enabled() {
		codes := make([]string, 0, len(findings))
		for _, f := range findings {
			codes = append(codes, f.Code+"@"+f.Subject)
		}
		e.Str("target", name).Bool("live", live).Strs("findings", codes).Int("changed", len(res.Changed)).Int("notices", len(res.Notices)).Msg("evaluated")
	}
	batch := store.Batch{Incidents: s.rows.toStore(res.Changed), KV: map[string]string{}}
	if rep.OpenClaw.Version != "" && rep.OpenClaw.Version != prev {
		batch.KV["version:"+name] = rep.OpenClaw.Version // only a change: an idle round writes nothing
		s.versions.Store(name, rep.OpenClaw.Version)
	}
	if mem.TakeDirty() {
		batch.KV[memoryKey(name)] = mem.Marshal() // a key seen, changed or gone, a new failure
	}
	if resets, err = s.staleResets(ctx, name, rep, batch.KV); err != nil {
		// Cannot tell whether a window was reset already: none this time
		// (the next evaluation decides again); the batch is still written.
		s.Log.Debug().Str("target", name).Err(err).Msg("reset after rotation not considered: the store does not answer")
		resets = nil
	}
	notices := 0
	for _, n := range res.Notices {
		payload, err := json.Marshal(n.Message(now))
		if err != nil {
			return nil, fmt.Errorf("render notice: %w", err)
		}
		kind := "post"
		if n.Kind == bot.KindResolved {
			kind = "edit"
		}
		routed := false
		for _, r := range s.Routes {
			if !r.wants(n) {
				continue
			}
			routed = true
			batch.Outbox = append(batch.Outbox, store.OutboxItem{
				Channel: r.Notifier.Name(), Dest: r.Dest, Ref: n.Ref, Kind: kind, Payload: payload, NextAttempt: now, CreatedAt: now,
			})
		}
		if routed {
			notices++
		}
	}
	if len(batch.Incidents) == 0 && len(batch.Outbox) == 0 && len(batch.KV) == 0 {
		if s.Spooled() > 0 {
			return nil, nil // no reset while the store does not take what the bot does
		}
		return resets, nil
	}
	if kept := s.persist(ctx, spooled{batch: batch, evals: 1, notices: notices}); kept {
		return nil, nil // no reset while the store does not take what the bot does
	}
	return resets, nil
}

// logFindings keeps the log-derived findings that the state does not
// already explain: the log follower is for failures that leave no state.
func logFindings(rep diagnostics.Report, logged []diagnostics.Finding) []diagnostics.Finding {
	has := map[string]bool{}
	stored := false
	for _, f := range rep.Findings {
		has[f.Code] = true
	}
	for _, p := range rep.Profiles {
		if p.Provider == "anthropic" && p.Source == diagnostics.SourceStore {
			stored = true
		}
	}
	var out []diagnostics.Finding
	for _, f := range logged {
		// A stored profile that Anthropic rejects gets a cooldown, which
		// the state shows; only env-only keys need the log.
		if f.Code == diagnostics.CodeLogAuthRejected && stored ||
			slices.ContainsFunc(diagnostics.Spec(f.Code).CoveredBy, func(c string) bool { return has[c] }) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// checkHealth probes the gateway's /healthz (no auth, read-only).
func (s *Service) checkHealth(ctx context.Context, name string) {
	t, _ := s.target(name)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st := healthState{at: s.now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.HealthURL, nil)
	if err == nil {
		var resp *http.Response
		resp, err = s.HTTPClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
	}
	if err != nil {
		st.down, st.err = true, scrubURLErr(err)
	}
	s.health.Store(name, st)
}

func scrubURLErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// HealthURL is the gateway's /healthz for a gateway_url (ws→http, wss→https,
// a path prefix kept), the same URL a restart's readiness check uses next to
// /readyz (openclaw.GatewayHTTPURLs); "" when the URL is unusable.
func HealthURL(gatewayURL string) string {
	health, _, err := openclaw.GatewayHTTPURLs(gatewayURL)
	if err != nil {
		return ""
	}
	return health
}

// deliverLoop sends due outbox items until ctx ends.
func (s *Service) deliverLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if s.Spooled() > 0 {
			_ = s.flushSpool(ctx, false) // before the notices it holds are due
		}
		s.DeliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// DefaultDeliveryLease is how long a claimed outbox item belongs to the
// deliverer that claimed it (Service.DeliveryLease 0). One delivery is at
// most: a history lookup before a re-send, the edited message's lookup
// and the send, each bounded by its client's timeout (Slack 10 s, the
// slowest, Telegram, 75 s), plus Slack's per-channel pacing (about a
// second) and a few store writes: about two and a half minutes in the
// worst case. Five minutes is twice that, and the delivery itself is cut
// off at three quarters of the lease (deliveryTimeout), so a lease never
// ends while its send is still in flight. The price: the items a killed
// deliverer held are sent by another one up to five minutes late.
const DefaultDeliveryLease = 5 * time.Minute

func (s *Service) deliveryLease() time.Duration {
	if s.DeliveryLease > 0 {
		return s.DeliveryLease
	}
	return DefaultDeliveryLease
}

// deliveryTimeout bounds one delivery (lookup and send) well inside its
// lease.
func (s *Service) deliveryTimeout() time.Duration { return s.deliveryLease() * 3 / 4 }

// DeliverDue sends due outbox items (at most 50 a call) and says how many
// it tried. It claims them one at a time (store.ClaimOutbox), oldest
// first, so that several deliverers sharing the database never send the
// same item, and each lease covers one delivery, not a batch's queue.
func (s *Service) DeliverDue(ctx context.Context) int {
	for i := range 50 {
		if ctx.Err() != nil {
			return i
		}
		items, err := s.Store.ClaimOutboxAs(ctx, s.Instance, s.now(), 1, s.deliveryLease())
		if err != nil {
			if ctx.Err() == nil {
				// Once per outage at warn (the worker retries every second).
				ev := s.Log.Debug()
				if s.claimFailing.CompareAndSwap(false, true) {
					ev = s.Log.Warn()
				}
				ev.Err(err).Msg("claim outbox: the store is unreachable? notices wait in it (and in memory) until it returns")
			}
			return i
		}
		if s.claimFailing.CompareAndSwap(true, false) {
			s.Log.Info().Msg("claim outbox: the store answers again")
		}
		if len(items) == 0 {
			return i
		}
		s.deliver(ctx, items[0])
	}
	return 50
}

// release gives a claimed item back when the delivery stops without an
// outcome (ctx ended: shutdown), so that Drain, the next start or another
// deliverer takes it at once rather than after the lease; its next claim
// asks the platform before re-sending, as after a crash.
func (s *Service) release(ctx context.Context, log zerolog.Logger, it store.OutboxItem) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.Store.ReleaseOutbox(rctx, it.ID, it.Attempts, s.now()); err != nil {
		log.Warn().Err(err).Msg("release the outbox item (it is due again when its lease ends)")
	}
}

func (s *Service) notifier(channel string) bot.Notifier {
	for _, r := range s.Routes {
		if r.Notifier.Name() == channel {
			return r.Notifier
		}
	}
	return nil
}

func (s *Service) deliver(ctx context.Context, it store.OutboxItem) {
	log := s.Log.With().Int64("outbox", it.ID).Str("channel", it.Channel).Str("ref", it.Ref).Logger()
	n := s.notifier(it.Channel)
	if n == nil {
		s.observer().Delivered(it.Channel, "failed")
		_ = s.Store.MarkFailed(ctx, it.ID, "no notifier configured for "+it.Channel, s.now(), true)
		return
	}
	var msg bot.Message
	if err := json.Unmarshal(it.Payload, &msg); err != nil {
		s.observer().Delivered(it.Channel, "failed")
		_ = s.Store.MarkFailed(ctx, it.ID, "bad payload: "+err.Error(), s.now(), true)
		return
	}
	// The claim counted this attempt; until it ends, a send is bounded
	// well inside the lease (deliveryTimeout).
	dctx, cancel := context.WithTimeout(ctx, s.deliveryTimeout())
	defer cancel()
	// An earlier attempt may have been delivered just before a crash (or
	// by a deliverer whose lease ended): ask the platform before sending
	// again (Slack: message metadata). Re-send only when the lookup
	// succeeded without finding it; a failed lookup defers the item (see
	// lookupFailed).
	if it.Attempts > 1 && it.Kind == store.KindPost {
		if f, ok := n.(bot.Finder); ok {
			sent, err := f.Find(dctx, it.Dest, it.Ref, it.CreatedAt.Add(-time.Minute))
			err = timedOut(ctx, dctx, err)
			switch {
			case err == nil && sent != nil:
				s.lookups.forget(it.ID)
				_ = s.Store.MarkSent(ctx, it.ID, *sent, s.now())
				log.Info().Msg("already delivered before a restart; not sent again")
				return
			case err == nil:
				s.lookups.forget(it.ID)
			case ctx.Err() != nil:
				s.release(ctx, log, it) // shutting down: the item is due again
				return
			case !s.lookupFailed(ctx, log, it, err):
				return
			}
		}
	}
	var prev *bot.Sent
	if it.Kind == "edit" {
		p, err := s.Store.SentMessage(ctx, it.Channel, it.Dest, it.Ref)
		if err != nil {
			log.Warn().Err(err).Msg("look up the message to edit")
		}
		prev = p // nil: the alert was never delivered; post the notice instead
	}
	sent, err := n.Send(dctx, it.Dest, msg, prev)
	err = timedOut(ctx, dctx, err)
	if err == nil {
		s.observer().Delivered(it.Channel, "sent")
		if err := s.Store.MarkSent(ctx, it.ID, sent, s.now()); err != nil {
			log.Error().Err(err).Msg("delivered but not marked sent")
		}
		return
	}
	if ctx.Err() != nil {
		s.release(ctx, log, it) // shutting down: due again (Drain sends it)
		return
	}
	var re *bot.RetryError
	if errors.As(err, &re) {
		wait := re.After
		if wait <= 0 {
			wait = backoff(it.Attempts) // the claim counted this attempt
		}
		s.observer().Delivered(it.Channel, "retried")
		log.Warn().Err(err).Dur("retry_in", wait).Msg("delivery failed; will retry")
		_ = s.Store.MarkFailed(ctx, it.ID, err.Error(), s.now().Add(wait), false)
		return
	}
	s.observer().Delivered(it.Channel, "failed")
	log.Error().Err(err).Msg("delivery failed permanently")
	_ = s.Store.MarkFailed(ctx, it.ID, err.Error(), s.now(), true)
}

// timedOut makes err temporary when the delivery's own deadline (dctx),
// not the caller's ctx, cut it off: the send may or may not have gone out,
// and the next attempt asks the platform first.
func timedOut(ctx, dctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || dctx.Err() == nil {
		return err
	}
	var re *bot.RetryError
	if errors.As(err, &re) {
		return err
	}
	return &bot.RetryError{Err: fmt.Errorf("delivery timed out: %w", err)}
}

// MaxHistoryLookups bounds how often the outbox asks a bot.Finder whether
// an item that may have gone out before a crash (or a timed-out send) was
// delivered, when the lookup itself fails: failures 1 to
// MaxHistoryLookups-1 defer the item with backoff (2 s, 4 s, 8 s, 16 s, or
// the platform's Retry-After), so the alert is about half a minute late
// at most (plus the lookups' own time); the MaxHistoryLookups-th failure
// sends it anyway with a warning that a duplicate is possible. An alert must not be lost to a history API that
// stays down, and a possible duplicate is the lesser harm.
const MaxHistoryLookups = 5

// lookupFailures counts failed history lookups per outbox item in this
// process (a restart or reload starts over: more lookups, never fewer).
type lookupFailures struct {
	mu sync.Mutex
	n  map[int64]int
}

func (l *lookupFailures) add(id int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[int64]int{}
	}
	l.n[id]++
	return l.n[id]
}

func (l *lookupFailures) forget(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.n, id)
}

// lookupFailed handles a failed "was it delivered already?" lookup for it
// and reports whether to send anyway. A temporary failure (*bot.RetryError)
// defers the item with backoff until MaxHistoryLookups lookups failed; a
// permanent one (a missing history scope: asking again cannot help) and
// the last allowed failure send it, logging that a duplicate is possible.
func (s *Service) lookupFailed(ctx context.Context, log zerolog.Logger, it store.OutboxItem, err error) bool {
	n := s.lookups.add(it.ID)
	var re *bot.RetryError
	if errors.As(err, &re) && n < MaxHistoryLookups {
		wait := re.After
		if wait <= 0 {
			wait = backoff(n)
		}
		s.observer().Delivered(it.Channel, "retried")
		log.Warn().Err(err).Int("lookups_failed", n).Dur("retry_in", wait).
			Msg("cannot tell whether this notice was delivered before (history lookup failed); not re-sending yet")
		_ = s.Store.MarkFailed(ctx, it.ID, "history lookup before re-sending: "+err.Error(), s.now().Add(wait), false)
		return false
	}
	s.lookups.forget(it.ID)
	log.Warn().Err(err).Int("lookups_failed", n).
		Msg("history lookup failed; sending anyway: a duplicate of an earlier delivery is possible")
	return true
}

// backoff is 2s, 4s, 8s … capped at 5 minutes.
func backoff(attempt int) time.Duration {
	d := 2 * time.Second << min(attempt-1, 8)
	return min(d, 5*time.Minute)
}

type cronLogger struct{ l zerolog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug().Fields(kv).Msg("cron: " + msg) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}

// Report diagnoses one target for a chat command: natively, with the last
// key verdicts, or with a live zero-token key check when probe is set (the
// `check` command). Safe for concurrent use.
func (s *Service) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	t, ok := s.target(target)
	if !ok {
		return diagnostics.Report{}, fmt.Errorf("no target %q (targets: %s)", target, strings.Join(s.TargetNames(), ", "))
	}
	insp := &diagnostics.Inspector{Checker: s.Checker, CachedOnly: !probe, Now: s.Now, ReadTimeout: s.ReadTimeout}
	if ev, ok := s.evidence.Load(target); ok {
		insp.SecretChanges = ev.(map[string]diagnostics.SecretChange) // what serve saw (cooldown.stale)
	}
	prev, _, err := s.Store.Get(ctx, "version:"+target)
	if err != nil {
		return diagnostics.Report{}, err
	}
	rep, _, err := insp.Inspect(ctx, t.Target, prev)
	return rep, err
}

// TargetNames lists the watched targets, in config order.
func (s *Service) TargetNames() []string {
	out := make([]string, 0, len(s.Targets))
	for _, t := range s.Targets {
		out = append(out, t.Name)
	}
	return out
}

// Drain delivers the due outbox items until none is due or ctx ends, for a
// graceful shutdown after Run returned. It returns how many undelivered
// items remain (they stay in the store for the next start; -1: unknown).
// Evaluations kept in memory while the store was down are written first;
// when the store still does not take them, they are lost with the process
// (an error says how many notices; see spool.go).
func (s *Service) Drain(ctx context.Context) int {
	if s.Spooled() > 0 {
		if err := s.flushSpool(ctx, true); err != nil {
			evals, notices := s.spool.totals()
			s.Log.Error().Err(err).Int("evaluations", evals).Int("notices", notices).
				Msgf("store unreachable at shutdown: %d notices are lost with the process (the next start re-derives from OpenClaw's state what is still wrong and alerts again)", notices)
		}
	}
	// An item that fails again is due later, so the rounds end.
	for round := 0; round < 100 && ctx.Err() == nil && s.DeliverDue(ctx) > 0; round++ {
	}
	n, err := s.Store.OutboxDepth(context.WithoutCancel(ctx))
	if err != nil {
		return -1
	}
	return n
}

// TargetFrom locates one configured target (like OpenClaw would) and
// describes it for the service; defaultBaseURL is anthropic.base_url.
func TargetFrom(t config.Target, defaultBaseURL string) (ServiceTarget, openclaw.Location, error) {
	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: t.StateDir, ConfigPath: t.OpenClawConfig, Profile: t.OpenClawProfile, AgentDir: t.AgentDir,
		StateDirFrom: t.Said("state_dir")})
	if err != nil {
		return ServiceTarget{}, loc, fmt.Errorf("target %s: %w", t.Name, err)
	}
	if t.StateDir == "" && t.OpenClawProfile != "" {
		// Said in words: remedies then name the resolved dir
		// (OPENCLAW_STATE_DIR=…), right whoever runs them.
		loc.How = t.Said("openclaw_profile " + t.OpenClawProfile)
	}
	return ServiceTarget{
		Target: diagnostics.Target{
			Name:           t.Name,
			Locate:         openclaw.LocateOptions{StateDir: loc.StateDir, ConfigPath: loc.ConfigPath, AgentDir: loc.AgentDir, StateDirFrom: loc.How},
			Env:            openclaw.EnvSources{ComposeFile: t.ComposeFile, ComposeService: t.ComposeService},
			BaseURLTarget:  t.AnthropicBaseURL,
			BaseURLDefault: defaultBaseURL,
		},
		HealthURL: HealthURL(t.GatewayURL),
	}, loc, nil
}
