package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Silence mutes notifications for incidents it matches during [Starts,
// Ends). A maintenance window is a silence whose Starts is in the future.
type Silence struct {
	// ID is short and random (8 lowercase base32 characters when AddSilence
	// generates it) and case-insensitive, so it can be typed in chat.
	ID      string
	Target  string // "" = any
	Subject string // "" = any
	Code    string // "" = any
	Starts  time.Time
	Ends    time.Time

	CreatedBy string
	Comment   string
	CreatedAt time.Time
}

// Matches reports whether s silences (target, subject, code) at at: every
// non-empty field must be equal, and Starts <= at < Ends.
func (s Silence) Matches(target, subject, code string, at time.Time) bool {
	if s.Target != "" && s.Target != target {
		return false
	}
	if s.Subject != "" && s.Subject != subject {
		return false
	}
	if s.Code != "" && s.Code != code {
		return false
	}
	return !at.Before(s.Starts) && at.Before(s.Ends)
}

const silenceCols = `id, target, subject, code, starts, ends, created_by, comment, created_at`

func scanSilence(sc scanner) (Silence, error) {
	var (
		s                     Silence
		starts, ends, created sql.NullInt64
	)
	if err := sc.Scan(&s.ID, &s.Target, &s.Subject, &s.Code, &starts, &ends, &s.CreatedBy, &s.Comment, &created); err != nil {
		return Silence{}, err
	}
	s.Starts, s.Ends, s.CreatedAt = fromMs(starts), fromMs(ends), fromMs(created)
	return s, nil
}

// AddSilence stores sil. An empty ID is generated, a zero CreatedAt is now,
// a zero Starts is CreatedAt; Ends must be after Starts. The filled-in
// fields are written back into sil.
func (s *Store) AddSilence(ctx context.Context, sil *Silence) error {
	v := *sil
	if v.CreatedAt.IsZero() {
		v.CreatedAt = time.Now()
	}
	if v.Starts.IsZero() {
		v.Starts = v.CreatedAt
	}
	if v.Ends.IsZero() || v.Ends.UnixMilli() <= v.Starts.UnixMilli() {
		return fmt.Errorf("store: add silence: ends (%s) must be after starts (%s)",
			v.Ends.UTC().Format(time.RFC3339), v.Starts.UTC().Format(time.RFC3339))
	}
	generate := v.ID == ""
	for try := 0; ; try++ {
		if generate {
			v.ID = randomID(5)
		}
		_, err := s.db.ExecContext(ctx, `INSERT INTO silences (`+silenceCols+`) VALUES (?,?,?,?,?,?,?,?,?)`,
			v.ID, v.Target, v.Subject, v.Code, v.Starts.UnixMilli(), v.Ends.UnixMilli(), v.CreatedBy, v.Comment,
			v.CreatedAt.UnixMilli())
		if err == nil {
			break
		}
		if isUnique(err) && generate && try < 5 {
			continue
		}
		if isUnique(err) {
			return fmt.Errorf("store: add silence %q: id already exists", v.ID)
		}
		return fmt.Errorf("store: add silence: %w", err)
	}
	*sil = v
	return nil
}

// RemoveSilence deletes a silence (id is case-insensitive) and reports
// whether it existed.
func (s *Store) RemoveSilence(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM silences WHERE `+s.d.silenceID, id)
	if err != nil {
		return false, fmt.Errorf("store: remove silence %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: remove silence %q: %w", id, err)
	}
	return n > 0, nil
}

// ActiveSilences returns the silences in effect at now (Starts <= now <
// Ends), soonest-started first.
func (s *Store) ActiveSilences(ctx context.Context, now time.Time) ([]Silence, error) {
	ms := now.UnixMilli()
	out, err := queryAll(ctx, s.db, scanSilence,
		`SELECT `+silenceCols+` FROM silences WHERE starts <= ? AND ends > ? ORDER BY starts, id`, ms, ms)
	if err != nil {
		return nil, fmt.Errorf("store: active silences: %w", err)
	}
	return out, nil
}

// Silences returns the silences not yet over at now: active ones and
// future maintenance windows, by Starts.
func (s *Store) Silences(ctx context.Context, now time.Time) ([]Silence, error) {
	out, err := queryAll(ctx, s.db, scanSilence,
		`SELECT `+silenceCols+` FROM silences WHERE ends > ? ORDER BY starts, id`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: silences: %w", err)
	}
	return out, nil
}

// Silence returns one silence by id (case-insensitive; ErrNotFound).
func (s *Store) Silence(ctx context.Context, id string) (*Silence, error) {
	v, err := scanSilence(s.db.QueryRowContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE `+s.d.silenceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: silence %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: silence %q: %w", id, err)
	}
	return &v, nil
}
