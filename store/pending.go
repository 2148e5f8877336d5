package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Pending is a mutating command waiting for its requester's Confirm.
type Pending struct {
	// ID is the button's action id: 16 lowercase base32 characters (80
	// random bits) when AddPending generates it; it fits Telegram's 64-byte
	// callback data.
	ID      string
	Actor   string // the only user who may take it
	Surface string
	Where   string
	Command string
	Args    []string
	Preview []byte    // what the preview showed (JSON), for the audit's Before
	Created time.Time // zero: now
	Expires time.Time // zero: Created + PendingTTL
	Used    bool
}

const pendingCols = `id, actor, surface, location, command, args, preview, created, expires, used`

func scanPending(sc scanner) (Pending, error) {
	var (
		p                Pending
		args             string
		created, expires sql.NullInt64
	)
	if err := sc.Scan(&p.ID, &p.Actor, &p.Surface, &p.Where, &p.Command, &args, &p.Preview, &created, &expires, &p.Used); err != nil {
		return Pending{}, err
	}
	p.Created, p.Expires = fromMs(created), fromMs(expires)
	var err error
	if p.Args, err = decodeArgs(args); err != nil {
		return Pending{}, err
	}
	return p, nil
}

// AddPending stores p, generating ID, Created and Expires when they are
// zero (written back into p). Actor must not be empty.
func (s *Store) AddPending(ctx context.Context, p *Pending) error {
	if p == nil {
		return errors.New("store: add pending: nil")
	}
	v := *p
	if v.Actor == "" {
		return errors.New("store: add pending: empty actor")
	}
	if v.Created.IsZero() {
		v.Created = time.Now()
	}
	if v.Expires.IsZero() {
		v.Expires = v.Created.Add(PendingTTL)
	}
	generate := v.ID == ""
	for try := 0; ; try++ {
		if generate {
			v.ID = randomID(10)
		}
		_, err := s.db.ExecContext(ctx, `INSERT INTO pending (`+pendingCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			v.ID, v.Actor, v.Surface, v.Where, v.Command, encodeArgs(v.Args), v.Preview,
			v.Created.UnixMilli(), v.Expires.UnixMilli(), boolInt(v.Used))
		if err == nil {
			break
		}
		if isUnique(err) && generate && try < 5 {
			continue
		}
		if isUnique(err) {
			return errors.New("store: add pending: id already exists")
		}
		return fmt.Errorf("store: add pending: %w", err)
	}
	*p = v
	return nil
}

// TakePending consumes the pending confirmation id for actor at now, in one
// transaction: ErrNotFound when there is none, ErrWrongActor when it belongs
// to someone else (it stays usable by its owner), ErrUsed when it was
// already taken, ErrExpired when now (zero: the current time) is not
// before Expires. Of any number
// of concurrent calls, at most one succeeds.
func (s *Store) TakePending(ctx context.Context, id, actor string, now time.Time) (*Pending, error) {
	if now.IsZero() {
		now = time.Now()
	}
	var p Pending
	err := s.tx(ctx, func(tx handle) error {
		var err error
		p, err = scanPending(tx.QueryRowContext(ctx, `SELECT `+pendingCols+` FROM pending WHERE id = ?`+s.d.forUpdate, id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case p.Actor != actor:
			return ErrWrongActor
		case p.Used:
			return ErrUsed
		case !now.Before(p.Expires):
			return ErrExpired
		}
		res, err := tx.ExecContext(ctx, `UPDATE pending SET used = 1 WHERE id = ? AND used = 0`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return ErrUsed
		}
		p.Used = true
		return nil
	})
	if err != nil {
		// The id is a bearer capability: keep it out of error texts.
		return nil, fmt.Errorf("store: take pending: %w", err)
	}
	return &p, nil
}

// PendingTarget is the target of pending confirmation id, without taking
// it (a fleet instance routes the press to the target's owner). ErrNotFound
// when there is none.
func (s *Store) PendingTarget(ctx context.Context, id string) (string, error) {
	var args string
	err := s.db.QueryRowContext(ctx, `SELECT args FROM pending WHERE id = ?`, id).Scan(&args)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: pending target: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: pending target: %w", err)
	}
	list, err := decodeArgs(args)
	if err != nil || len(list) == 0 {
		return "", err
	}
	return list[0], nil
}
