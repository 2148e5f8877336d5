package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one executed (or refused) chat command. The audit log is
// never pruned.
type AuditEntry struct {
	ID        int64
	At        time.Time // zero: now
	Actor     string    // platform user id (Slack U…, Telegram numeric id)
	ActorName string
	Surface   string // slack | telegram | console
	Where     string // channel / chat id
	Command   string
	Args      []string
	Before    []byte // state before (JSON), if the command changed something
	After     []byte // state after (JSON)
	Outcome   string
	Error     string
	Duration  time.Duration
	// BackupPath is the backup a mutating command took (for `undo`).
	BackupPath string
}

const auditCols = `id, at, actor, actor_name, surface, location, command, args, before_state, after_state,
	outcome, error, duration_ns, backup_path`

func scanAudit(sc scanner) (AuditEntry, error) {
	var (
		e    AuditEntry
		at   sql.NullInt64
		args string
		dur  int64
	)
	err := sc.Scan(&e.ID, &at, &e.Actor, &e.ActorName, &e.Surface, &e.Where, &e.Command, &args, &e.Before, &e.After,
		&e.Outcome, &e.Error, &dur, &e.BackupPath)
	if err != nil {
		return AuditEntry{}, err
	}
	e.At, e.Duration = fromMs(at), time.Duration(dur)
	if e.Args, err = decodeArgs(args); err != nil {
		return AuditEntry{}, fmt.Errorf("audit %d: %w", e.ID, err)
	}
	return e, nil
}

// AddAudit appends e and sets e.ID (and e.At when it was zero).
func (s *Store) AddAudit(ctx context.Context, e *AuditEntry) error {
	if e == nil {
		return errors.New("store: add audit: nil entry")
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	id, err := insertID(ctx, s.db, `INSERT INTO audit (at, actor, actor_name, surface, location, command, args,
		before_state, after_state, outcome, error, duration_ns, backup_path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		at.UnixMilli(), e.Actor, e.ActorName, e.Surface, e.Where, e.Command, encodeArgs(e.Args),
		e.Before, e.After, e.Outcome, e.Error, int64(e.Duration), e.BackupPath)
	if err != nil {
		return fmt.Errorf("store: add audit: %w", err)
	}
	e.ID, e.At = id, at
	return nil
}

// Audit returns the newest entries first; limit <= 0 means all.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	out, err := queryAll(ctx, s.db, scanAudit,
		`SELECT `+auditCols+` FROM audit ORDER BY id DESC LIMIT ?`, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	return out, nil
}

// AuditEntry returns one entry by id (ErrNotFound), e.g. for `undo <id>`.
func (s *Store) AuditEntry(ctx context.Context, id int64) (*AuditEntry, error) {
	e, err := scanAudit(s.db.QueryRowContext(ctx, `SELECT `+auditCols+` FROM audit WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: audit %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: audit %d: %w", id, err)
	}
	return &e, nil
}
