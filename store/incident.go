package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Incident states.
const (
	StatePending  = "pending"  // seen, not yet long enough to fire
	StateFiring   = "firing"   // announced
	StateResolved = "resolved" // history; a new occurrence is a new row
)

// Incident is one problem (a finding code on a subject of a target) over
// time. At most one incident per (Target, Subject, Code) is open (pending or
// firing); resolved ones are kept as history until Prune.
type Incident struct {
	ID       int64
	Target   string
	Subject  string
	Code     string
	Severity string
	State    string // StatePending | StateFiring | StateResolved
	Title    string
	Finding  []byte // JSON of the finding

	FirstSeen      time.Time
	LastSeen       time.Time
	FiredAt        time.Time
	ResolvedAt     time.Time
	LastNotifiedAt time.Time
	AckedAt        time.Time

	Seen    int // consecutive evaluations seen
	Missed  int // consecutive evaluations not seen
	AckedBy string
	// GroupRef is the Ref of the alert message that announced it.
	GroupRef string
}

// Open reports whether the incident is pending or firing.
func (i Incident) Open() bool { return i.State != StateResolved }

func validState(s string) bool {
	return s == StatePending || s == StateFiring || s == StateResolved
}

const incidentCols = `id, target, subject, code, severity, state, title, finding,
	first_seen, last_seen, fired_at, resolved_at, last_notified_at, acked_at,
	seen, missed, acked_by, group_ref`

func scanIncident(sc scanner) (Incident, error) {
	var (
		i                                           Incident
		first, last, fired, resolved, notified, ack sql.NullInt64
	)
	err := sc.Scan(&i.ID, &i.Target, &i.Subject, &i.Code, &i.Severity, &i.State, &i.Title, &i.Finding,
		&first, &last, &fired, &resolved, &notified, &ack,
		&i.Seen, &i.Missed, &i.AckedBy, &i.GroupRef)
	if err != nil {
		return Incident{}, err
	}
	i.FirstSeen, i.LastSeen, i.FiredAt = fromMs(first), fromMs(last), fromMs(fired)
	i.ResolvedAt, i.LastNotifiedAt, i.AckedAt = fromMs(resolved), fromMs(notified), fromMs(ack)
	return i, nil
}

// OpenIncidents returns the pending and firing incidents of target ("" =
// all targets), oldest first.
func (s *Store) OpenIncidents(ctx context.Context, target string) ([]Incident, error) {
	out, err := queryAll(ctx, s.db, scanIncident,
		`SELECT `+incidentCols+` FROM incidents
		 WHERE state <> 'resolved' AND (?1 = '' OR target = ?1)
		 ORDER BY id`, target)
	if err != nil {
		return nil, fmt.Errorf("store: open incidents: %w", err)
	}
	return out, nil
}

// ActiveIncidents returns what an incident engine restarts from: the open
// incidents and the resolved members of alert groups that still have an open
// member (so that the group's resolved notice lists all of it), oldest first.
func (s *Store) ActiveIncidents(ctx context.Context) ([]Incident, error) {
	out, err := queryAll(ctx, s.db, scanIncident,
		`SELECT `+incidentCols+` FROM incidents
		 WHERE state <> 'resolved'
		    OR (group_ref <> '' AND group_ref IN (SELECT group_ref FROM incidents WHERE state <> 'resolved' AND group_ref <> ''))
		 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: active incidents: %w", err)
	}
	return out, nil
}

// Incident returns one incident by id (ErrNotFound).
func (s *Store) Incident(ctx context.Context, id int64) (*Incident, error) {
	i, err := scanIncident(s.db.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: incident %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: incident %d: %w", id, err)
	}
	return &i, nil
}

// RecentIncidents returns the newest incidents of target ("" = all), open
// or resolved, newest first; limit <= 0 means all.
func (s *Store) RecentIncidents(ctx context.Context, target string, limit int) ([]Incident, error) {
	out, err := queryAll(ctx, s.db, scanIncident,
		`SELECT `+incidentCols+` FROM incidents
		 WHERE (?1 = '' OR target = ?1)
		 ORDER BY id DESC LIMIT ?2`, target, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("store: recent incidents: %w", err)
	}
	return out, nil
}

// AckIncident records that by acknowledged the open incident id at at
// (ErrNotFound, ErrResolved). Acking again overwrites the acker.
func (s *Store) AckIncident(ctx context.Context, id int64, by string, at time.Time) error {
	err := s.tx(ctx, func(tx handle) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM incidents WHERE id = ?`+s.d.forUpdate, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if state == StateResolved {
			return ErrResolved
		}
		_, err = tx.ExecContext(ctx, `UPDATE incidents SET acked_by = ?, acked_at = ? WHERE id = ?`, by, msOrNil(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: ack incident %d: %w", id, err)
	}
	return nil
}

// Acks returns who acknowledged each open incident of target that is
// acked, by (subject, code).
func (s *Store) Acks(ctx context.Context, target string) (map[[2]string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subject, code, acked_by FROM incidents
		WHERE target = ? AND state <> 'resolved' AND acked_by <> ''`, target)
	if err != nil {
		return nil, fmt.Errorf("store: acks of %s: %w", target, err)
	}
	defer rows.Close()
	out := map[[2]string]string{}
	for rows.Next() {
		var subject, code, by string
		if err := rows.Scan(&subject, &code, &by); err != nil {
			return nil, fmt.Errorf("store: acks of %s: %w", target, err)
		}
		out[[2]string{subject, code}] = by
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: acks of %s: %w", target, err)
	}
	return out, nil
}

// Batch is everything one evaluation writes, applied atomically by Apply.
type Batch struct {
	// Incidents are inserted when ID == 0, else updated (every field).
	Incidents []Incident
	// Outbox items are always inserted (ID must be 0).
	Outbox []OutboxItem
	// KV pairs are upserted.
	KV map[string]string
}

// Apply writes b in one transaction: either all of it or nothing. On
// success the new IDs (and defaulted outbox fields) are written back into
// b's slices; on failure the slices are left as they were. An insert or
// update that would make two open incidents with the same key fails with
// ErrDuplicate; an update of a missing id with ErrNotFound.
func (s *Store) Apply(ctx context.Context, b Batch) (err error) {
	if len(b.Incidents) == 0 && len(b.Outbox) == 0 && len(b.KV) == 0 {
		return nil
	}
	savedInc := slices.Clone(b.Incidents)
	savedOut := slices.Clone(b.Outbox)
	defer func() {
		if err != nil {
			copy(b.Incidents, savedInc)
			copy(b.Outbox, savedOut)
		}
	}()
	now := time.Now()
	err = s.tx(ctx, func(tx handle) error {
		for n := range b.Incidents {
			if err := putIncident(ctx, tx, &b.Incidents[n]); err != nil {
				return fmt.Errorf("incident %d: %w", n, err)
			}
		}
		for n := range b.Outbox {
			if err := insertOutbox(ctx, tx, &b.Outbox[n], now); err != nil {
				return fmt.Errorf("outbox item %d: %w", n, err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(b.KV)) {
			if err := putKV(ctx, tx, k, b.KV[k], now); err != nil {
				return fmt.Errorf("kv: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: apply: %w", err)
	}
	return nil
}

func putIncident(ctx context.Context, tx handle, i *Incident) error {
	if !validState(i.State) {
		return fmt.Errorf("invalid state %q", i.State)
	}
	args := []any{i.Target, i.Subject, i.Code, i.Severity, i.State, i.Title, i.Finding,
		msOrNil(i.FirstSeen), msOrNil(i.LastSeen), msOrNil(i.FiredAt), msOrNil(i.ResolvedAt),
		msOrNil(i.LastNotifiedAt), msOrNil(i.AckedAt),
		i.Seen, i.Missed, i.AckedBy, i.GroupRef}
	if i.ID == 0 {
		id, err := insertID(ctx, tx, `INSERT INTO incidents (target, subject, code, severity, state, title, finding,
			first_seen, last_seen, fired_at, resolved_at, last_notified_at, acked_at,
			seen, missed, acked_by, group_ref) VALUES (?,?,?,?,?,?,?, ?,?,?,?,?,?, ?,?,?,?)`, args...)
		if isUnique(err) {
			return ErrDuplicate
		}
		if err != nil {
			return err
		}
		i.ID = id
		return nil
	}
	// An ack is kept when the writer does not know it (AckIncident wrote
	// it, from chat, on any instance; the engine learns it at its next
	// evaluation: Acks).
	res, err := tx.ExecContext(ctx, `UPDATE incidents SET target = ?, subject = ?, code = ?, severity = ?, state = ?,
		title = ?, finding = ?, first_seen = ?, last_seen = ?, fired_at = ?, resolved_at = ?,
		last_notified_at = ?, acked_at = COALESCE(?, acked_at), seen = ?, missed = ?,
		acked_by = COALESCE(NULLIF(?, ''), acked_by), group_ref = ?
		WHERE id = ?`, append(args, i.ID)...)
	if isUnique(err) {
		return ErrDuplicate
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("update id %d: %w", i.ID, ErrNotFound)
	}
	return nil
}
