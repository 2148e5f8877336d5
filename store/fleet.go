package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The fleet's tables (migration 00002, README "Fleet"): several serve
// instances share one PostgreSQL database. Each instance registers under
// its name, claims its targets (a name is unique in the fleet), heartbeats
// on the database's clock, publishes the latest report of each target, and
// takes the commands other instances queue for its targets.

// Fleet errors.
var (
	// ErrInstanceRunning: another live process already registered the
	// instance name.
	ErrInstanceRunning = errors.New("an instance of that name is running")
	// ErrTargetTaken: another instance owns a target name.
	ErrTargetTaken = errors.New("target owned by another instance")
)

// Instance is one serve process of the fleet.
type Instance struct {
	Name      string
	Host      string
	PID       int
	Version   string
	StartedAt time.Time
	Heartbeat time.Time // the database's clock
	// Stopped is when it stopped cleanly (its targets were released);
	// zero while it runs or after a crash.
	Stopped time.Time
	// SilentSince is set once by the instance that noticed it missed its
	// beats (with the instance.silent alert, SilentRef); zero otherwise.
	SilentSince time.Time
	SilentRef   string
	Targets     []string // sorted
}

// Instance states (State; openclaw-bot fleet status).
const (
	InstanceRunning = "running" // beating
	InstanceLate    = "late"    // missed its beats, not declared silent yet
	InstanceSilent  = "silent"  // declared silent (its alert is out)
	InstanceStopped = "stopped" // stopped cleanly, or forgotten
)

// State is the instance's state at now, judged on the database clock: late
// when its heartbeat is older than alive (the fleet's missed beats).
func (in Instance) State(now time.Time, alive time.Duration) string {
	switch {
	case !in.Stopped.IsZero():
		return InstanceStopped
	case !in.SilentSince.IsZero():
		return InstanceSilent
	case now.Sub(in.Heartbeat) > alive:
		return InstanceLate
	}
	return InstanceRunning
}

const instanceCols = `name, host, pid, version, started_at, heartbeat_at, stopped_at, silent_since, silent_ref`

func scanInstance(sc scanner) (Instance, error) {
	var (
		in                             Instance
		started, beat, stopped, silent sql.NullInt64
	)
	if err := sc.Scan(&in.Name, &in.Host, &in.PID, &in.Version, &started, &beat, &stopped, &silent, &in.SilentRef); err != nil {
		return Instance{}, err
	}
	in.StartedAt, in.Heartbeat, in.Stopped, in.SilentSince = fromMs(started), fromMs(beat), fromMs(stopped), fromMs(silent)
	return in, nil
}

// pgNowMs reads PostgreSQL's clock in unix ms.
const pgNowMs = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint`

// Now is the database's clock (PostgreSQL's clock_timestamp(); SQLite:
// this process's). Heartbeats are written and judged on it, so the hosts'
// clocks do not need to agree.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	if !s.d.pg {
		return time.Now().UTC().Truncate(time.Millisecond), nil
	}
	var ms int64
	if err := s.raw.QueryRowContext(ctx, pgNowMs).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("store: now: %w", err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// RegisterInstance records in as running, heartbeat now. A row of the
// same name whose heartbeat is younger than alive and that did not stop is
// another live process: ErrInstanceRunning naming its host and pid (one
// name, one process). A silent instance that comes back keeps SilentSince:
// its first Heartbeat reports it, to resolve the alert.
func (s *Store) RegisterInstance(ctx context.Context, in Instance, now time.Time, alive time.Duration) error {
	err := s.tx(ctx, func(tx handle) error {
		old, err := scanInstance(tx.QueryRowContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE name = ?`+s.d.forUpdate, in.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case old.Stopped.IsZero() && old.SilentSince.IsZero() && now.Sub(old.Heartbeat) < alive && (old.Host != in.Host || old.PID != in.PID):
			return fmt.Errorf("%w: %s runs on host %s (pid %d, last heartbeat %s ago); give this one another instance.name",
				ErrInstanceRunning, in.Name, old.Host, old.PID, now.Sub(old.Heartbeat).Round(time.Millisecond))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO instances (name, host, pid, version, started_at, heartbeat_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?5)
			ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version,
				started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
			in.Name, in.Host, in.PID, in.Version, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: register instance %s: %w", in.Name, err)
	}
	return nil
}

// ClaimTargets makes instance the owner of targets and releases the ones
// it owned that are not listed (a reload removed them). A target another
// instance owns is refused (ErrTargetTaken, naming each holder) and
// nothing changes.
func (s *Store) ClaimTargets(ctx context.Context, instance string, targets []string, now time.Time) error {
	err := s.tx(ctx, func(tx handle) error {
		var taken []string
		for _, t := range targets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO target_owners (target, instance, claimed_at) VALUES (?, ?, ?)
				ON CONFLICT (target) DO NOTHING`, t, instance, now.UnixMilli()); err != nil {
				return err
			}
			var owner string
			var beat, silent sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT o.instance, i.heartbeat_at, i.silent_since FROM target_owners o
				JOIN instances i ON i.name = o.instance WHERE o.target = ?`, t).Scan(&owner, &beat, &silent); err != nil {
				return err
			}
			if owner != instance {
				state := fmt.Sprintf("last heartbeat %s ago", now.Sub(fromMs(beat)).Round(time.Second))
				if silent.Valid {
					state = "silent since " + fromMs(silent).Format(time.RFC3339)
				}
				taken = append(taken, fmt.Sprintf("%s (instance %s, %s)", t, owner, state))
			}
		}
		if len(taken) > 0 {
			return fmt.Errorf("%w: %s; a target name is unique in the fleet: rename it here, or remove it from the other instance's config (an instance gone for good: openclaw-bot fleet forget <instance>)",
				ErrTargetTaken, strings.Join(taken, "; "))
		}
		owned, err := queryAll(ctx, tx, scanString, `SELECT target FROM target_owners WHERE instance = ?`, instance)
		if err != nil {
			return err
		}
		for _, t := range owned {
			if !slices.Contains(targets, t) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM target_owners WHERE target = ? AND instance = ?`, t, instance); err != nil {
					return err
				}
			}
		}
		return s.notify(ctx, tx, ChannelMembers, instance)
	})
	if err != nil {
		return fmt.Errorf("store: claim targets for %s: %w", instance, err)
	}
	return nil
}

func scanString(sc scanner) (string, error) {
	var v string
	err := sc.Scan(&v)
	return v, err
}

// Heartbeat records that instance is alive at the database's now and
// returns its row as it was before: SilentSince set means another
// instance declared it silent (its alert is out) and it has just come
// back. ErrNotFound: the row is gone (fleet forget); register again.
func (s *Store) Heartbeat(ctx context.Context, instance string) (Instance, error) {
	var in Instance
	err := s.tx(ctx, func(tx handle) error {
		var err error
		in, err = scanInstance(tx.QueryRowContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE name = ?`+s.d.forUpdate, instance))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE instances SET heartbeat_at = ?, stopped_at = NULL WHERE name = ?`, s.nowMs(ctx, tx), instance)
		return err
	})
	if err != nil {
		return Instance{}, fmt.Errorf("store: heartbeat %s: %w", instance, err)
	}
	return in, nil
}

// nowMs is the database's clock inside a transaction, in unix ms.
func (s *Store) nowMs(ctx context.Context, tx handle) any {
	if !s.d.pg {
		return time.Now().UnixMilli()
	}
	var ms int64
	if err := tx.QueryRowContext(ctx, pgNowMs).Scan(&ms); err != nil {
		return time.Now().UnixMilli()
	}
	return ms
}

// MarkSilent declares instance silent when it still is (its heartbeat is
// older than before, it did not stop, nobody declared it yet): it records
// since and ref, queues alerts and releases the outbox claims the instance
// held (they are due at once). Exactly one caller gets true: the one whose
// alerts went into the outbox.
func (s *Store) MarkSilent(ctx context.Context, instance string, before, since time.Time, ref string, alerts []OutboxItem) (bool, error) {
	var won bool
	err := s.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, `UPDATE instances SET silent_since = ?, silent_ref = ?
			WHERE name = ? AND silent_since IS NULL AND stopped_at IS NULL AND heartbeat_at < ?`,
			since.UnixMilli(), ref, instance, before.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		won = true
		for i := range alerts {
			if err := insertOutbox(ctx, tx, &alerts[i], since); err != nil {
				return err
			}
		}
		if _, err = tx.ExecContext(ctx, `UPDATE outbox SET next_attempt = ? WHERE sent_at IS NULL AND dead = 0 AND attempts > 0 AND claimed_by = ?`,
			since.UnixMilli(), instance); err != nil {
			return err
		}
		return s.notify(ctx, tx, ChannelMembers, instance)
	})
	if err != nil {
		return false, fmt.Errorf("store: mark %s silent: %w", instance, err)
	}
	return won, nil
}

// ClearSilent ends instance's silence declared with ref and queues the
// resolved notices, once (false: it was cleared already).
func (s *Store) ClearSilent(ctx context.Context, instance, ref string, notices []OutboxItem, now time.Time) (bool, error) {
	var won bool
	err := s.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, `UPDATE instances SET silent_since = NULL, silent_ref = '' WHERE name = ? AND silent_ref = ? AND silent_since IS NOT NULL`,
			instance, ref)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		won = true
		for i := range notices {
			if err := insertOutbox(ctx, tx, &notices[i], now); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, ChannelMembers, instance)
	})
	if err != nil {
		return false, fmt.Errorf("store: clear silence of %s: %w", instance, err)
	}
	return won, nil
}

// StopInstance records a clean stop: the instance is no longer expected to
// beat (no instance.silent) and its targets are free for another.
func (s *Store) StopInstance(ctx context.Context, instance string, now time.Time) error {
	err := s.tx(ctx, func(tx handle) error {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET stopped_at = ? WHERE name = ?`, now.UnixMilli(), instance); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM target_owners WHERE instance = ?`, instance); err != nil {
			return err
		}
		return s.notify(ctx, tx, ChannelMembers, instance)
	})
	if err != nil {
		return fmt.Errorf("store: stop instance %s: %w", instance, err)
	}
	return nil
}

// ForgetInstance removes an instance that is gone for good ("fleet
// forget"): its target claims and published reports go. Its row goes too,
// unless it is declared silent: then it is marked stopped and kept, so
// that a running instance resolves its instance.silent alert (and then
// lists it as stopped).
func (s *Store) ForgetInstance(ctx context.Context, instance string, now time.Time) (bool, error) {
	var found bool
	err := s.tx(ctx, func(tx handle) error {
		in, err := scanInstance(tx.QueryRowContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE name = ?`+s.d.forUpdate, instance))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if in.SilentSince.IsZero() {
			_, err = tx.ExecContext(ctx, `DELETE FROM instances WHERE name = ?`, instance)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE instances SET stopped_at = ? WHERE name = ?`, now.UnixMilli(), instance)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM target_owners WHERE instance = ?`, instance); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM reports WHERE instance = ?`, instance); err != nil {
			return err
		}
		return s.notify(ctx, tx, ChannelMembers, instance)
	})
	if err != nil {
		return false, fmt.Errorf("store: forget instance %s: %w", instance, err)
	}
	return found, nil
}

// Instances lists every registered instance with its targets, by name.
func (s *Store) Instances(ctx context.Context) ([]Instance, error) {
	list, err := queryAll(ctx, s.db, scanInstance, `SELECT `+instanceCols+` FROM instances ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: instances: %w", err)
	}
	owners, err := queryAll(ctx, s.db, func(sc scanner) ([2]string, error) {
		var p [2]string
		err := sc.Scan(&p[0], &p[1])
		return p, err
	}, `SELECT instance, target FROM target_owners ORDER BY target`)
	if err != nil {
		return nil, fmt.Errorf("store: instances: %w", err)
	}
	for i := range list {
		for _, o := range owners {
			if o[0] == list[i].Name {
				list[i].Targets = append(list[i].Targets, o[1])
			}
		}
	}
	return list, nil
}

// Report is the latest diagnostics report an owner published for a
// target.
type Report struct {
	Target   string
	Instance string
	At       time.Time
	Body     []byte // JSON of diagnostics.Report
}

// PublishReport stores the latest report of target, made by instance at at.
func (s *Store) PublishReport(ctx context.Context, r Report) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO reports (target, instance, at, report) VALUES (?, ?, ?, ?)
		ON CONFLICT (target) DO UPDATE SET instance = excluded.instance, at = excluded.at, report = excluded.report
		WHERE reports.at <= excluded.at`, r.Target, r.Instance, r.At.UnixMilli(), r.Body)
	if err != nil {
		return fmt.Errorf("store: publish report of %s: %w", r.Target, err)
	}
	return nil
}

// LatestReport returns the report published for target (ErrNotFound).
func (s *Store) LatestReport(ctx context.Context, target string) (Report, error) {
	r := Report{Target: target}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT instance, at, report FROM reports WHERE target = ?`, target).Scan(&r.Instance, &at, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, fmt.Errorf("store: report of %s: %w", target, ErrNotFound)
	}
	if err != nil {
		return Report{}, fmt.Errorf("store: report of %s: %w", target, err)
	}
	r.At = time.UnixMilli(at).UTC()
	return r, nil
}

// Request kinds.
const (
	RequestCommand = "command" // a typed command: Payload is a bot.Request
	RequestPress   = "press"   // a button press: Payload is a bot.Press
)

// Request is a command or button press queued for the instance that owns
// its target, and its answer.
type Request struct {
	ID       int64
	Instance string // the owner, which runs it
	Target   string
	Kind     string // RequestCommand | RequestPress
	Payload  []byte
	Asker    string // the instance waiting for the reply
	Created  time.Time
	Expires  time.Time // not run after this: the asker gave up
	Claimed  time.Time
	Done     time.Time
	Reply    []byte // JSON of bot.Reply, when Done
}

// The notification channels (PostgreSQL LISTEN): requests carries the
// owner's name, replies the request id;
// members tells every instance that who owns what changed (a claim, a
// stop, a silence), with the instance's name.
const (
	ChannelRequests = "openclaw_bot_requests"
	ChannelReplies  = "openclaw_bot_replies"
	ChannelMembers  = "openclaw_bot_members"
)

const requestCols = `id, instance, target, kind, payload, asker, created_at, expires_at, claimed_at, done_at, reply`

func scanRequest(sc scanner) (Request, error) {
	var (
		r                                 Request
		created, expires, claimed, doneAt sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.Instance, &r.Target, &r.Kind, &r.Payload, &r.Asker, &created, &expires, &claimed, &doneAt, &r.Reply); err != nil {
		return Request{}, err
	}
	r.Created, r.Expires, r.Claimed, r.Done = fromMs(created), fromMs(expires), fromMs(claimed), fromMs(doneAt)
	return r, nil
}

// AddRequest queues r for its owner and wakes it (NOTIFY on commit).
func (s *Store) AddRequest(ctx context.Context, r Request) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx handle) error {
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO requests (instance, target, kind, payload, asker, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Instance, r.Target, r.Kind, r.Payload, r.Asker, r.Created.UnixMilli(), r.Expires.UnixMilli())
		if err != nil {
			return err
		}
		return s.notify(ctx, tx, ChannelRequests, r.Instance)
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue request for %s: %w", r.Instance, err)
	}
	return id, nil
}

func (s *Store) notify(ctx context.Context, tx handle, channel, payload string) error {
	if !s.d.pg {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload)
	return err
}

// ClaimRequests takes up to limit requests queued for instance, oldest
// first; concurrent claimers skip each other's rows. Expired requests are
// claimed too: the caller answers them as such.
func (s *Store) ClaimRequests(ctx context.Context, instance string, now time.Time, limit int) ([]Request, error) {
	out, err := queryAll(ctx, s.db, scanRequest, `UPDATE requests SET claimed_at = ?1
		WHERE id IN (SELECT id FROM requests WHERE instance = ?2 AND claimed_at IS NULL ORDER BY id LIMIT ?3`+s.d.skipLocked+`)
		RETURNING `+requestCols, now.UnixMilli(), instance, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("store: claim requests of %s: %w", instance, err)
	}
	slices.SortFunc(out, func(a, b Request) int { return int(a.ID - b.ID) })
	return out, nil
}

// AnswerRequest stores the reply of request id and wakes the asker.
func (s *Store) AnswerRequest(ctx context.Context, id int64, reply []byte, now time.Time) error {
	err := s.tx(ctx, func(tx handle) error {
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET done_at = ?, reply = ? WHERE id = ?`, now.UnixMilli(), reply, id); err != nil {
			return err
		}
		return s.notify(ctx, tx, ChannelReplies, fmt.Sprint(id))
	})
	if err != nil {
		return fmt.Errorf("store: answer request %d: %w", id, err)
	}
	return nil
}

// RequestByID returns one request (ErrNotFound).
func (s *Store) RequestByID(ctx context.Context, id int64) (Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("store: request %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Request{}, fmt.Errorf("store: request %d: %w", id, err)
	}
	return r, nil
}

// PruneRequests deletes requests created before before.
func (s *Store) PruneRequests(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM requests WHERE created_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune requests: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune requests: %w", err)
	}
	return n, nil
}
