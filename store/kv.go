package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Get returns the value stored under key and whether there is one.
func (s *Store) Get(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: get: %w", err)
	}
	return v, true, nil
}

// Put stores value under key (e.g. the last seen OpenClaw version of a
// target). To write it together with incidents and outbox items, use
// Batch.KV.
func (s *Store) Put(ctx context.Context, key, value string) error {
	err := s.tx(ctx, func(tx handle) error { return putKV(ctx, tx, key, value, time.Now()) })
	if err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	return nil
}

// putKV writes key only when its value changes (updated_at is when it last
// changed): serve stores every target's OpenClaw version after every
// evaluation, and an unchanged row leaves no page dirty, so that commit
// writes nothing to the WAL and syncs nothing.
func putKV(ctx context.Context, tx handle, key, value string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		WHERE kv.value IS DISTINCT FROM excluded.value`,
		key, value, now.UnixMilli())
	return err
}
