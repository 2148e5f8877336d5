package scheduler

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// rowKey identifies one occurrence of an incident: the engine keys
// incidents by (target, subject, code); a new occurrence after a resolve
// has a new FirstSeen and gets a new row.
type rowKey struct {
	target, subject, code string
	firstSeen             int64
}

// rowIDs maps engine incidents to store rows.
type rowIDs struct {
	mu  sync.Mutex
	ids map[rowKey]int64
}

func rowKeyOf(target, subject, code string, firstSeen time.Time) rowKey {
	return rowKey{target, subject, code, firstSeen.UnixMilli()}
}

func (r *rowIDs) load(rows []store.Incident) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = map[rowKey]int64{}
	for _, i := range rows {
		r.ids[rowKeyOf(i.Target, i.Subject, i.Code, i.FirstSeen)] = i.ID
	}
}

// toStore converts changed engine incidents into store rows, reusing the
// row of the same occurrence.
func (r *rowIDs) toStore(in []Incident) []store.Incident {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]store.Incident, 0, len(in))
	for _, i := range in {
		f, _ := json.Marshal(i.Finding)
		out = append(out, store.Incident{
			ID:     r.ids[rowKeyOf(i.Target, i.Subject, i.Code, i.FirstSeen)],
			Target: i.Target, Subject: i.Subject, Code: i.Code, Severity: string(i.Severity), State: i.State,
			Title: i.Finding.Title, Finding: f,
			FirstSeen: i.FirstSeen, LastSeen: i.LastSeen, FiredAt: i.FiredAt, ResolvedAt: i.ResolvedAt, LastNotifiedAt: i.LastNotified,
			Seen: i.Seen, Missed: i.Missed, AckedBy: i.AckedBy, GroupRef: i.GroupRef,
		})
	}
	return out
}

// fill gives the rows without an id (built before their occurrence had a
// row) the id of their occurrence's row when one was written since: a
// spooled batch is built before the batches ahead of it reach the store.
// Called right before each Apply.
func (r *rowIDs) fill(rows []store.Incident) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range rows {
		if rows[i].ID == 0 {
			rows[i].ID = r.ids[rowKeyOf(rows[i].Target, rows[i].Subject, rows[i].Code, rows[i].FirstSeen)]
		}
	}
}

// remember records the IDs Apply assigned.
func (r *rowIDs) remember(rows []store.Incident) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[rowKey]int64{}
	}
	for _, i := range rows {
		k := rowKeyOf(i.Target, i.Subject, i.Code, i.FirstSeen)
		if i.State == store.StateResolved && i.GroupRef == "" {
			delete(r.ids, k)
			continue
		}
		r.ids[k] = i.ID
	}
}

// fromStore rebuilds engine incidents from persisted rows after a restart.
func fromStore(rows []store.Incident) []Incident {
	out := make([]Incident, 0, len(rows))
	for _, r := range rows {
		var f diagnostics.Finding
		_ = json.Unmarshal(r.Finding, &f)
		out = append(out, Incident{
			Target: r.Target, Subject: r.Subject, Code: r.Code, Severity: diagnostics.Severity(r.Severity), State: r.State,
			Finding: f, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, FiredAt: r.FiredAt, ResolvedAt: r.ResolvedAt,
			LastNotified: r.LastNotifiedAt, Seen: r.Seen, Missed: r.Missed, AckedBy: r.AckedBy, GroupRef: r.GroupRef,
		})
	}
	return out
}

func silencesForEngine(in []store.Silence) []Silence {
	out := make([]Silence, 0, len(in))
	for _, s := range in {
		out = append(out, Silence{ID: s.ID, Target: s.Target, Subject: s.Subject, Code: s.Code, Starts: s.Starts, Ends: s.Ends})
	}
	return out
}
