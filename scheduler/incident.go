package scheduler

// The incident engine turns the findings of one evaluation of a target into
// incident state changes and chat notices, with the discipline of Gatus
// (failure/success thresholds, reminders, persisted "already fired" state)
// and Alertmanager (grouping, silences, inhibition, resolved edits).
//
// It is pure logic: no I/O, no goroutines, no clock. The caller passes the
// time, persists Result.Changed and Result.Notices together (one SQLite
// transaction, the notices into the outbox), and after a restart hands the
// persisted incidents back with Load; nothing that already fired is
// announced again.

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/severity"
)

// Incident states.
const (
	IncidentPending  = "pending"  // seen, fewer consecutive times than its threshold
	IncidentFiring   = "firing"   // threshold reached; announced unless muted
	IncidentResolved = "resolved" // gone for ResolveAfter evaluations (or a pending one gone once)
)

// Engine defaults.
const (
	DefaultReminder     = 4 * time.Hour
	MinReminder         = 5 * time.Minute // Gatus' floor for minimum-reminder-interval
	DefaultResolveAfter = 1
)

// IsEventCode reports whether findings with this code are events
// (diagnostics.KindEvent): they fire once whatever the thresholds, are never
// reminded, close at the first evaluation that no longer reports them
// (ResolveAfter does not apply) without a resolved notice of their own, and
// are the one exception to MinSeverity (version.changed is info, and sent:
// an OpenClaw upgrade changes storage, cooldown rules and error texts).
func IsEventCode(code string) bool { return diagnostics.Spec(code).Kind == diagnostics.KindEvent }

// InhibitedByGateway reports whether an incident with this code is muted
// (and kept from resolving) while the target's gateway is down: the code
// table's GatewayMuted.
func InhibitedByGateway(code string) bool { return diagnostics.Spec(code).GatewayMuted }

// EngineOptions tune an Engine. The zero value gives the defaults.
type EngineOptions struct {
	// Thresholds: consecutive evaluations a finding must be reported
	// before its incident fires, by finding code. Default 1 (facts such
	// as a cooldown fire at once); 2 for network codes
	// (diagnostics.KindNetwork: gateway.down). Values < 1 mean the default.
	// Ignored for events.
	Thresholds map[string]int
	// ResolveAfter: consecutive evaluations a firing incident must be
	// absent before it is resolved (Gatus' success-threshold). Default 1.
	ResolveAfter int
	// Reminder: how long after its last notification a firing incident is
	// reminded. Default 4h (0), floor 5m; negative turns reminders off.
	Reminder time.Duration
	// MinSeverity: findings milder than this open no incident. Default
	// warning: info findings never alert, except events (version.changed).
	MinSeverity diagnostics.Severity
}

func (o EngineOptions) normalized() EngineOptions {
	th := make(map[string]int, len(o.Thresholds))
	for code, n := range o.Thresholds {
		if n >= 1 {
			th[code] = n
		}
	}
	o.Thresholds = th
	if o.ResolveAfter < 1 {
		o.ResolveAfter = DefaultResolveAfter
	}
	switch {
	case o.Reminder == 0:
		o.Reminder = DefaultReminder
	case o.Reminder > 0 && o.Reminder < MinReminder:
		o.Reminder = MinReminder
	}
	switch o.MinSeverity {
	case diagnostics.Critical, diagnostics.Warning, diagnostics.Info:
	default:
		o.MinSeverity = diagnostics.Warning
	}
	return o
}

// Threshold returns the consecutive evaluations needed before an incident
// with this code fires.
func (o EngineOptions) Threshold(code string) int {
	if IsEventCode(code) {
		return 1
	}
	if n, ok := o.Thresholds[code]; ok && n >= 1 {
		return n
	}
	if diagnostics.Spec(code).Kind == diagnostics.KindNetwork {
		return 2
	}
	return 1
}

// Incident is the alerting state of one (target, subject, code). Every
// field is persisted by the caller; the engine keeps nothing else.
type Incident struct {
	Target   string               `json:"target"`
	Subject  string               `json:"subject"`
	Code     string               `json:"code"`
	Severity diagnostics.Severity `json:"severity"`
	State    string               `json:"state"` // pending | firing | resolved
	// Finding is the latest report of it (the one a message shows).
	Finding diagnostics.Finding `json:"finding"`
	// FirstSeen: first evaluation of this incident; LastSeen: latest one
	// that reported it; FiredAt: when it became firing (zero while
	// pending, and for a pending incident that went away); ResolvedAt:
	// when it resolved; LastNotified: the last alert or reminder that
	// carried it (zero: never announced, e.g. muted all along).
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	FiredAt      time.Time `json:"fired_at,omitzero"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	LastNotified time.Time `json:"last_notified,omitzero"`
	// Seen: consecutive evaluations that reported it; Missed: consecutive
	// evaluations that did not (while firing).
	Seen   int `json:"seen"`
	Missed int `json:"missed"`
	// AckedBy: who acknowledged it (no more reminders).
	AckedBy string `json:"acked_by,omitempty"`
	// GroupRef: Ref of the alert notice that announced it ("" = never
	// announced). The resolved notice of the group edits that message.
	GroupRef string `json:"group_ref,omitempty"`
}

// Open reports whether the incident is pending or firing.
func (i Incident) Open() bool { return i.State == IncidentPending || i.State == IncidentFiring }

// Announced reports whether an alert carried the incident.
func (i Incident) Announced() bool { return i.GroupRef != "" }

func (i Incident) clone() Incident {
	i.Finding.Remedy = append([]string(nil), i.Finding.Remedy...)
	return i
}

// Silence mutes matching incidents from Starts until Ends. An empty Target,
// Subject or Code matches any; a zero Starts means "already started", a
// zero Ends "until removed". A silence whose Starts is in the future is a
// maintenance window that has not begun: it mutes nothing yet.
type Silence struct {
	ID      string    `json:"id"`
	Target  string    `json:"target,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Code    string    `json:"code,omitempty"`
	Starts  time.Time `json:"starts,omitzero"`
	Ends    time.Time `json:"ends,omitzero"`
}

// Active reports whether the silence is in effect at now (Starts ≤ now < Ends).
func (s Silence) Active(now time.Time) bool {
	return (s.Starts.IsZero() || !now.Before(s.Starts)) && (s.Ends.IsZero() || now.Before(s.Ends))
}

// Matches reports whether the silence covers an incident (ignoring time).
func (s Silence) Matches(target, subject, code string) bool {
	return (s.Target == "" || s.Target == target) &&
		(s.Subject == "" || s.Subject == subject) &&
		(s.Code == "" || s.Code == code)
}

// EvalContext is what an evaluation needs besides the findings.
type EvalContext struct {
	// Silences in force or scheduled (inactive ones are ignored).
	Silences []Silence
	// GatewayDown inhibits: while the target's gateway is down, its
	// incidents for which InhibitedByGateway is true are muted and do not
	// resolve (their absence is not counted).
	GatewayDown bool
}

// Result of an evaluation.
type Result struct {
	// Changed holds every incident whose state, counters or finding
	// changed, to persist (upsert by target, subject, code). Incidents
	// that left the engine appear here once with State resolved.
	Changed []Incident
	// Notices to deliver, in this order: resolved notices (by Ref), then
	// at most one alert, then at most one reminder.
	Notices []Notice
}

// Notice is one message to send about a target.
type Notice struct {
	// Kind: bot.KindAlert (new incidents), bot.KindReminder (still
	// firing), bot.KindResolved (every incident of an alert group is
	// resolved: edit the alert message Ref in place).
	Kind      bot.Kind   `json:"kind"`
	Target    string     `json:"target"`
	Incidents []Incident `json:"incidents"`
	// Ref: "alert:<target>:<unix ms>" for an alert and its resolved
	// notice (the same Ref: that is how the message is found to edit),
	// "reminder:<target>:<unix ms>" for a reminder.
	Ref string `json:"ref"`
}

type incidentKey struct{ target, subject, code string }

func keyOf(i *Incident) incidentKey { return incidentKey{i.Target, i.Subject, i.Code} }

// Engine is the incident state machine. Its methods are safe for concurrent
// use; evaluations of one target should still be serialized by the caller
// so that results are persisted in order.
type Engine struct {
	opts EngineOptions
	mu   sync.Mutex
	// incidents holds the open incidents and the resolved members of
	// alert groups that are not fully resolved yet.
	incidents map[incidentKey]*Incident
}

// NewEngine returns an engine with no incidents.
func NewEngine(opts EngineOptions) *Engine {
	return &Engine{opts: opts.normalized(), incidents: map[incidentKey]*Incident{}}
}

// Options returns the options in effect (defaults applied).
func (e *Engine) Options() EngineOptions {
	o := e.opts
	o.Thresholds = make(map[string]int, len(e.opts.Thresholds))
	for k, v := range e.opts.Thresholds {
		o.Thresholds[k] = v
	}
	return o
}

// Load replaces the engine's state with persisted incidents (what earlier
// Results returned). Resolved incidents are kept only while their alert
// group still has an open member, so that the group's resolved notice
// lists all of it; passing them is optional (without them the notice lists
// the members resolved after the restart). Of several records of one
// (target, subject, code), an open one wins, then the newest.
func (e *Engine) Load(incidents []Incident) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.incidents = map[incidentKey]*Incident{}
	openGroups := map[string]bool{}
	for _, in := range incidents {
		if in.Open() && in.GroupRef != "" {
			openGroups[in.GroupRef] = true
		}
	}
	for _, in := range incidents {
		switch {
		case in.Open():
		case in.State == IncidentResolved && openGroups[in.GroupRef]:
		default:
			continue
		}
		c := in.clone()
		k := keyOf(&c)
		if old, ok := e.incidents[k]; ok {
			if old.Open() && !c.Open() || old.Open() == c.Open() && old.LastSeen.After(c.LastSeen) {
				continue
			}
		}
		e.incidents[k] = &c
	}
}

// Incidents returns the incidents the engine holds for target ("" = all
// targets), worst first: open ones and resolved members of open groups.
func (e *Engine) Incidents(target string) []Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Incident
	for _, in := range e.incidents {
		if target == "" || in.Target == target {
			out = append(out, in.clone())
		}
	}
	sortIncidents(out)
	return out
}

// Firing counts the firing incidents by target and severity.
func (e *Engine) Firing() map[[2]string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[[2]string]int{}
	for _, in := range e.incidents {
		if in.State == IncidentFiring {
			out[[2]string{in.Target, string(in.Severity)}]++
		}
	}
	return out
}

// Get returns one incident.
func (e *Engine) Get(target, subject, code string) (Incident, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.incidents[incidentKey{target, subject, code}]
	if !ok {
		return Incident{}, false
	}
	return in.clone(), true
}

// Ack acknowledges the open incidents of target matching subject and code
// ("" = any): they get no more reminders, and still resolve with a
// resolved notice. by == "" removes the acknowledgement. It returns the
// incidents it changed, to persist.
func (e *Engine) Ack(target, subject, code, by string) []Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Incident
	for _, in := range e.incidents {
		if in.Target != target || !in.Open() || in.AckedBy == by ||
			subject != "" && in.Subject != subject || code != "" && in.Code != code {
			continue
		}
		in.AckedBy = by
		out = append(out, in.clone())
	}
	sortIncidents(out)
	return out
}

// Evaluate feeds the findings of one evaluation of target at now.
func (e *Engine) Evaluate(target string, findings []diagnostics.Finding, now time.Time, ctx EvalContext) Result {
	e.mu.Lock()
	defer e.mu.Unlock()

	present := e.relevant(target, findings)
	changed := map[incidentKey]*Incident{}
	var resolvedGroups []string // groups that lost an open member
	muted := func(in *Incident) bool {
		if ctx.GatewayDown && InhibitedByGateway(in.Code) {
			return true
		}
		for _, s := range ctx.Silences {
			if s.Active(now) && s.Matches(in.Target, in.Subject, in.Code) {
				return true
			}
		}
		return false
	}

	// 1. Findings reported now: open, count, fire.
	for k, f := range present {
		in, ok := e.incidents[k]
		switch {
		case !ok:
			in = &Incident{Target: target, Subject: f.Subject, Code: f.Code, State: IncidentPending, FirstSeen: now}
			e.incidents[k] = in
		case in.State == IncidentResolved:
			// A resolved member of a group whose other members still
			// fire: nobody was told it resolved (partial resolutions send
			// nothing), so it simply fires again under its group.
			in.State, in.ResolvedAt = IncidentFiring, time.Time{}
			in.Seen = 0
		case IsEventCode(in.Code) && in.State == IncidentFiring && in.Finding.Title != f.Title:
			// A new event with the same key (another upgrade): announce
			// it as a new incident. Its old group may now be all resolved.
			if in.GroupRef != "" {
				resolvedGroups = append(resolvedGroups, in.GroupRef)
			}
			*in = Incident{Target: target, Subject: f.Subject, Code: f.Code, State: IncidentPending, FirstSeen: now}
		}
		in.Finding, in.Severity = f, f.Severity
		in.Seen++
		in.Missed = 0
		in.LastSeen = now
		if in.State == IncidentPending && in.Seen >= e.opts.Threshold(in.Code) {
			in.State, in.FiredAt = IncidentFiring, now
		}
		changed[k] = in
	}

	// 2. Incidents of target not reported now: reset, count, resolve.
	for k, in := range e.incidents {
		if in.Target != target || !in.Open() {
			continue
		}
		if _, ok := present[k]; ok {
			continue
		}
		if ctx.GatewayDown && InhibitedByGateway(in.Code) {
			continue // inhibited: its absence says nothing while the gateway is down
		}
		changed[k] = in
		in.Seen = 0
		if in.State == IncidentPending {
			// Never fired: the streak is broken, the incident is over.
			in.State, in.ResolvedAt = IncidentResolved, now
			delete(e.incidents, k)
			continue
		}
		in.Missed++
		if in.Missed < e.opts.ResolveAfter && !IsEventCode(in.Code) {
			continue
		}
		in.State, in.ResolvedAt = IncidentResolved, now
		if in.GroupRef == "" {
			delete(e.incidents, k) // never announced: nothing to edit
			continue
		}
		resolvedGroups = append(resolvedGroups, in.GroupRef)
	}

	var res Result

	// 3. Resolved notices: one per alert group, once all of it is resolved.
	sort.Strings(resolvedGroups)
	for i, ref := range resolvedGroups {
		if i > 0 && resolvedGroups[i-1] == ref {
			continue
		}
		var members []*Incident
		done, event := true, true
		for _, in := range e.incidents {
			if in.GroupRef != ref {
				continue
			}
			members = append(members, in)
			done = done && in.State == IncidentResolved
			event = event && IsEventCode(in.Code)
		}
		if !done {
			continue // partial: the next reminder shows the rest
		}
		n := Notice{Kind: bot.KindResolved, Target: target, Ref: ref}
		for _, in := range members {
			n.Incidents = append(n.Incidents, in.clone())
			delete(e.incidents, keyOf(in))
		}
		if !event { // a group of events only closes silently
			sortIncidents(n.Incidents)
			res.Notices = append(res.Notices, n)
		}
	}

	// 4. One alert with every newly firing, unmuted, never announced incident.
	var alert, remind []*Incident
	for _, in := range e.incidents {
		if in.Target != target || in.State != IncidentFiring || muted(in) {
			continue
		}
		switch {
		case in.LastNotified.IsZero():
			alert = append(alert, in)
		case e.opts.Reminder > 0 && in.AckedBy == "" && !IsEventCode(in.Code) &&
			now.Sub(in.LastNotified) >= e.opts.Reminder:
			remind = append(remind, in)
		}
	}
	if len(alert) > 0 {
		ref := e.newRef(target, now)
		n := Notice{Kind: bot.KindAlert, Target: target, Ref: ref}
		for _, in := range alert {
			in.GroupRef, in.LastNotified = ref, now
			changed[keyOf(in)] = in
			n.Incidents = append(n.Incidents, in.clone())
		}
		sortIncidents(n.Incidents)
		res.Notices = append(res.Notices, n)
	}

	// 5. One reminder with every firing incident last notified ≥ Reminder ago.
	if len(remind) > 0 {
		n := Notice{Kind: bot.KindReminder, Target: target, Ref: fmt.Sprintf("reminder:%s:%d", target, now.UnixMilli())}
		for _, in := range remind {
			in.LastNotified = now
			changed[keyOf(in)] = in
			n.Incidents = append(n.Incidents, in.clone())
		}
		sortIncidents(n.Incidents)
		res.Notices = append(res.Notices, n)
	}

	for _, in := range changed {
		res.Changed = append(res.Changed, in.clone())
	}
	sortIncidents(res.Changed)
	return res
}

// relevant keys the findings of target that can open an incident: severe
// enough (or events), one per (subject, code), the worst if repeated.
func (e *Engine) relevant(target string, findings []diagnostics.Finding) map[incidentKey]diagnostics.Finding {
	out := map[incidentKey]diagnostics.Finding{}
	for _, f := range findings {
		if f.Code == "" {
			continue
		}
		if !IsEventCode(f.Code) && severity.Rank(f.Severity) > severity.Rank(e.opts.MinSeverity) {
			continue
		}
		k := incidentKey{target, f.Subject, f.Code}
		if old, ok := out[k]; ok && severity.Rank(old.Severity) <= severity.Rank(f.Severity) {
			continue
		}
		out[k] = f
	}
	return out
}

// newRef names a new alert group: "alert:<target>:<unix ms>", one ms later
// if that Ref is still in use.
func (e *Engine) newRef(target string, now time.Time) string {
	used := map[string]bool{}
	for _, in := range e.incidents {
		if in.Target == target && in.GroupRef != "" {
			used[in.GroupRef] = true
		}
	}
	ms := now.UnixMilli()
	for {
		ref := fmt.Sprintf("alert:%s:%d", target, ms)
		if !used[ref] {
			return ref
		}
		ms++
	}
}

// sortIncidents orders worst first, then by code, subject and target.
func sortIncidents(list []Incident) {
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if ra, rb := severity.Rank(a.Severity), severity.Rank(b.Severity); ra != rb {
			return ra < rb
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Target < b.Target
	})
}
