// Package metrics is openclaw-bot's Prometheus instrumentation: its own
// registry (nothing registers on the global default), the families an
// operator alerts on, and the /metrics handler.
//
// Counters and histograms are updated as things happen (notifications,
// commands, actions, evaluations, reloads). What describes the watched
// installs right now — each profile's health and last key check, the
// seconds until a cooldown ends, incidents firing, the outbox depth — is
// computed at scrape time from the latest reports and from Sources, so a
// scrape never shows a cooldown that already ended.
//
// Label values are bounded: targets and profile ids come from the config
// and the installs; command names from the router's grammar.
package metrics

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// Namespace prefixes every family.
const Namespace = "openclaw_bot"

// Notification results (openclaw_bot_notifications_total{result}).
const (
	Sent    = "sent"
	Failed  = "failed"
	Retried = "retried"
)

// Config reload results (openclaw_bot_config_reloads_total{result}).
const (
	ReloadApplied   = "applied"
	ReloadRefused   = "refused"
	ReloadUnchanged = "unchanged"
)

// Sources are read at scrape time; any may be nil.
type Sources struct {
	// OutboxDepth counts notifications not yet delivered (nor dead).
	OutboxDepth func(ctx context.Context) (int, error)
	// Firing counts open incidents in state firing by target and
	// severity.
	Firing func() map[[2]string]int
	// Held counts evaluations kept in memory while the store does not
	// answer (scheduler.Service.Spooled).
	Held func() int
	// Instances counts the fleet's instances by state (running, silent,
	// stopped), as this instance last read them; nil without a fleet.
	Instances func() map[string]int
	// Roles says which fleet-wide roles this instance holds now
	// (telegram_polling); nil without a fleet.
	Roles func() map[string]bool
}

// BuildInfo labels openclaw_bot_build_info.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

// Metrics holds the registry. The zero value is not usable; use New. A nil
// *Metrics is a no-op for every method, so callers need no checks.
type Metrics struct {
	reg *prometheus.Registry

	evaluations   *prometheus.CounterVec
	evalSeconds   prometheus.Histogram
	keyChecks     *prometheus.CounterVec
	notifications *prometheus.CounterVec
	commands      *prometheus.CounterVec
	cmdSeconds    *prometheus.HistogramVec
	actions       *prometheus.CounterVec
	reloads       *prometheus.CounterVec
	reloadTime    prometheus.Gauge
	surfaces      *prometheus.GaugeVec

	mu      sync.Mutex
	sources Sources
	last    map[string]lastReport // target → latest evaluation
	targets []string              // configured targets, in order
	up      map[string]bool       // chat surface → connected
	now     func() time.Time
}

// lastReport is what the scrape needs of a target's latest report (not
// the report: 500 targets' findings, evidence and remedies would stay live
// for nothing).
type lastReport struct {
	verdict  string
	profiles []profileState
	findings map[diagnostics.Severity]int
	at       time.Time // of the latest snapshot that read everything
	ok       bool
	// diagnosed: verdict, findings and profiles come from a report (a
	// failed evaluation keeps the previous ones).
	diagnosed bool
}

type profileState struct {
	id, agent, health, check string
	until                    time.Time
}

func summarize(rep diagnostics.Report, at time.Time) lastReport {
	l := lastReport{verdict: rep.Verdict, at: at, ok: true, diagnosed: true, findings: map[diagnostics.Severity]int{}}
	for _, f := range rep.Findings {
		l.findings[f.Severity]++
		if f.Code == diagnostics.CodeStateUnreadable {
			l.ok = false // diagnosed, but not from the whole state
		}
	}
	seen := map[[2]string]bool{}
	for _, p := range rep.Profiles {
		k := [2]string{p.ID, p.Agent}
		if seen[k] {
			continue // one series per profile and agent
		}
		seen[k] = true
		l.profiles = append(l.profiles, profileState{id: p.ID, agent: p.Agent, health: p.Health, check: p.Check, until: p.Until})
	}
	return l
}

// New builds the registry with the Go runtime and process collectors.
func New(info BuildInfo) *Metrics {
	m := &Metrics{
		reg:  prometheus.NewRegistry(),
		last: map[string]lastReport{},
		up:   map[string]bool{},
		now:  time.Now,
	}
	m.evaluations = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "snapshots_total",
		Help: "Native snapshots of an install (read, diagnose, feed the incident engine) by target and result (ok, error)."},
		[]string{"target", "result"})
	m.evalSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "snapshot_duration_seconds",
		Help:    "Time of one snapshot evaluation (read the install, rules, engine, store).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}})
	m.keyChecks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "key_checks_total",
		Help: "Zero-token Anthropic key checks by target and result (ok, error)."}, []string{"target", "result"})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "notifications_total",
		Help: "Alert deliveries by channel (slack, telegram, console) and result: sent, failed (permanently), retried (a retryable failure, will be sent again)."},
		[]string{"channel", "result"})
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "commands_total",
		Help: "Chat commands and button presses by command, surface and outcome (ok, refused, failed, cancelled, previewed)."},
		[]string{"command", "surface", "outcome"})
	m.cmdSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "command_duration_seconds",
		Help:    "Time from a command reaching the router to its reply, by command and surface.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"command", "surface"})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "actions_total",
		Help: "Confirmed actions (cooldown reset, undo, restart, doctor fix, probe --spend) by action and outcome."},
		[]string{"action", "outcome"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "config_reloads_total",
		Help: "Config reloads (SIGHUP or file change) by result: applied, refused (invalid; the old config keeps running), unchanged."},
		[]string{"result"})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
		Help: "When the running config was loaded (Unix seconds)."})
	m.surfaces = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "chat_connected",
		Help: "1 when the chat surface is connected (Slack Socket Mode, Telegram polling/webhook set, HTTP handlers mounted, console)."},
		[]string{"surface"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the labels say which build runs."}, []string{"version", "revision", "goversion"})
	build.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)

	m.reg.MustRegister(m.evaluations, m.evalSeconds, m.keyChecks, m.notifications, m.commands, m.cmdSeconds,
		m.actions, m.reloads, m.reloadTime, m.surfaces, build, stateCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reloadTime.SetToCurrentTime()
	return m
}

// Registry is the bot's own registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// SetSources replaces what is read at scrape time (after a reload).
func (m *Metrics) SetSources(s Sources) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources = s
}

// SetTargets names the configured targets; the latest reports of targets
// no longer configured are dropped.
func (m *Metrics) SetTargets(names []string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.targets = append([]string(nil), names...)
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for n := range m.last {
		if !keep[n] {
			delete(m.last, n)
		}
	}
}

// Evaluated records one snapshot evaluation (live: it included a key
// check). rep is the report when err is nil.
func (m *Metrics) Evaluated(target string, live bool, rep diagnostics.Report, took time.Duration, err error) {
	if m == nil {
		return
	}
	res := "ok"
	if err != nil {
		res = "error"
	}
	m.evaluations.WithLabelValues(target, res).Inc()
	m.evalSeconds.Observe(took.Seconds())
	if live {
		m.keyChecks.WithLabelValues(target, res).Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		l := m.last[target]
		l.ok = false
		m.last[target] = l
		return
	}
	l := summarize(rep, m.now())
	if !l.ok {
		l.at = m.last[target].at // the timestamp is of the latest complete snapshot
	}
	m.last[target] = l
}

// Delivered records one delivery attempt of a notification: Sent, Failed
// or Retried.
func (m *Metrics) Delivered(channel, result string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(channel, result).Inc()
}

// Command records one chat command or button press; confirmed marks the
// result of a confirmed action.
func (m *Metrics) Command(command, surface, outcome string, took time.Duration, confirmed bool) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(command, surface, outcome).Inc()
	m.cmdSeconds.WithLabelValues(command, surface).Observe(took.Seconds())
	if confirmed {
		m.actions.WithLabelValues(command, outcome).Inc()
	}
}

// Reloaded records a config reload: ReloadApplied, ReloadRefused or
// ReloadUnchanged.
func (m *Metrics) Reloaded(result string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(result).Inc()
	if result == ReloadApplied {
		m.reloadTime.SetToCurrentTime()
	}
}

// SurfaceUp records whether a chat surface is connected.
func (m *Metrics) SurfaceUp(surface string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.surfaces.WithLabelValues(surface).Set(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.up[surface] = up
}

// ResetSurfaces forgets every surface (before a reload starts new ones).
func (m *Metrics) ResetSurfaces() {
	if m == nil {
		return
	}
	m.surfaces.Reset()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.up = map[string]bool{}
}

// Disconnected lists the chat surfaces not connected, sorted.
func (m *Metrics) Disconnected() []string {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for s, up := range m.up {
		if !up {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// stateCollector computes the gauges about the watched installs at scrape
// time.
type stateCollector struct{ m *Metrics }

var (
	descVerdict = prometheus.NewDesc(Namespace+"_target_verdict",
		"1 for the target's current verdict (ok, degraded, down) from its latest snapshot.", []string{"target", "verdict"}, nil)
	descSnapshotOK = prometheus.NewDesc(Namespace+"_snapshot_ok",
		"1 when the latest snapshot of the target could be read and diagnosed, 0 when it failed or part of the state could not be read (state.unreadable).", []string{"target"}, nil)
	descSnapshotAge = prometheus.NewDesc(Namespace+"_snapshot_timestamp_seconds",
		"When the target's latest successful snapshot was taken (Unix seconds).", []string{"target"}, nil)
	descHealth = prometheus.NewDesc(Namespace+"_profile_health",
		"1 for each credential profile's current health (ok, unverified, invalid, forbidden, expired, expiring, refresh_failed, cooldown, disabled, missing).",
		[]string{"target", "profile", "agent", "health"}, nil)
	descKeyCheck = prometheus.NewDesc(Namespace+"_key_check_result",
		"1 for each profile's latest zero-token key check result (ok, invalid, forbidden, …); absent before the first check.",
		[]string{"target", "profile", "agent", "result"}, nil)
	descCooldown = prometheus.NewDesc(Namespace+"_cooldown_remaining_seconds",
		"Seconds until the profile's cooldown (or disable) ends; absent when it has none.",
		[]string{"target", "profile", "agent"}, nil)
	descFindings = prometheus.NewDesc(Namespace+"_findings",
		"Findings of the target's latest snapshot by severity.", []string{"target", "severity"}, nil)
	descFiring = prometheus.NewDesc(Namespace+"_incidents_firing",
		"Open incidents in state firing by target and severity.", []string{"target", "severity"}, nil)
	descOutbox = prometheus.NewDesc(Namespace+"_outbox_depth",
		"Notifications waiting in the outbox (not yet delivered, not dead).", nil, nil)
	descTargets = prometheus.NewDesc(Namespace+"_targets",
		"Configured targets (installs watched).", nil, nil)
	descHeld = prometheus.NewDesc(Namespace+"_store_held_evaluations",
		"Evaluations kept in memory because the store did not answer; written, in order, when it does.", nil, nil)
	descInstances = prometheus.NewDesc(Namespace+"_fleet_instances",
		"Instances of the fleet sharing the PostgreSQL store, by state (running, silent, stopped), as this instance last read them.", []string{"state"}, nil)
	descRole = prometheus.NewDesc(Namespace+"_fleet_role",
		"1 while this instance holds a fleet-wide role (telegram_polling), 0 while another holds it.", []string{"role"}, nil)
)

// FleetStates are the values of openclaw_bot_fleet_instances{state}.
var FleetStates = []string{"running", "silent", "stopped"}

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVerdict, descSnapshotOK, descSnapshotAge, descHealth, descKeyCheck,
		descCooldown, descFindings, descFiring, descOutbox, descTargets, descHeld, descInstances, descRole} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	targets := append([]string(nil), m.targets...)
	last := make(map[string]lastReport, len(m.last))
	for k, v := range m.last {
		last[k] = v
	}
	src := m.sources
	now := m.now()
	m.mu.Unlock()

	ch <- prometheus.MustNewConstMetric(descTargets, prometheus.GaugeValue, float64(len(targets)))
	severities := []diagnostics.Severity{diagnostics.Critical, diagnostics.Warning, diagnostics.Info}
	for _, t := range targets {
		l, seen := last[t]
		if !seen {
			continue // not evaluated yet
		}
		ok := 0.0
		if l.ok {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(descSnapshotOK, prometheus.GaugeValue, ok, t)
		if !l.at.IsZero() {
			ch <- prometheus.MustNewConstMetric(descSnapshotAge, prometheus.GaugeValue, float64(l.at.UnixNano())/1e9, t)
		}
		if !l.diagnosed {
			continue // failed before any report
		}
		for _, v := range []string{"ok", "degraded", "down"} {
			val := 0.0
			if l.verdict == v {
				val = 1
			}
			ch <- prometheus.MustNewConstMetric(descVerdict, prometheus.GaugeValue, val, t, v)
		}
		for _, s := range severities {
			ch <- prometheus.MustNewConstMetric(descFindings, prometheus.GaugeValue, float64(l.findings[s]), t, string(s))
		}
		for _, p := range l.profiles {
			ch <- prometheus.MustNewConstMetric(descHealth, prometheus.GaugeValue, 1, t, p.id, p.agent, p.health)
			if p.check != "" {
				ch <- prometheus.MustNewConstMetric(descKeyCheck, prometheus.GaugeValue, 1, t, p.id, p.agent, p.check)
			}
			if !p.until.IsZero() && p.until.After(now) {
				ch <- prometheus.MustNewConstMetric(descCooldown, prometheus.GaugeValue, p.until.Sub(now).Seconds(), t, p.id, p.agent)
			}
		}
	}
	if src.Firing != nil {
		firing := src.Firing()
		for _, t := range targets {
			for _, s := range severities {
				ch <- prometheus.MustNewConstMetric(descFiring, prometheus.GaugeValue, float64(firing[[2]string{t, string(s)}]), t, string(s))
			}
		}
	}
	if src.Held != nil {
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(src.Held()))
	}
	if src.Instances != nil {
		n := src.Instances()
		for _, st := range FleetStates {
			ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(n[st]), st)
		}
	}
	if src.Roles != nil {
		for role, held := range src.Roles() {
			v := 0.0
			if held {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descRole, prometheus.GaugeValue, v, role)
		}
	}
	if src.OutboxDepth != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if n, err := src.OutboxDepth(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n))
		} else {
			ch <- prometheus.NewInvalidMetric(descOutbox, err)
		}
	}
}
