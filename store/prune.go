package store

import (
	"context"
	"fmt"
	"time"
)

// Pruned counts the rows Prune deleted.
type Pruned struct {
	Outbox        int64 // sent before `before`, or dead and created before it
	Notifications int64 // notification log rows
	Incidents     int64 // resolved before `before`
	Silences      int64 // ended before `before`
	Pendings      int64 // expired before `before`
}

// Total is the sum of all counts.
func (p Pruned) Total() int64 {
	return p.Outbox + p.Notifications + p.Incidents + p.Silences + p.Pendings
}

// Prune deletes, in one transaction, history older than before: sent
// outbox rows (and dead ones created before it), the notification log,
// resolved incidents, ended silences and expired pending confirmations.
// Unsent outbox items, open incidents and the audit log are kept.
func (s *Store) Prune(ctx context.Context, before time.Time) (Pruned, error) {
	var p Pruned
	ms := before.UnixMilli()
	steps := []struct {
		n     *int64
		query string
	}{
		{&p.Notifications, `DELETE FROM notification_log WHERE at < ?1`},
		{&p.Outbox, `DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < ?1) OR (sent_at IS NULL AND dead = 1 AND created_at < ?1)`},
		{&p.Incidents, `DELETE FROM incidents WHERE state = 'resolved' AND coalesce(resolved_at, last_seen, first_seen, 0) < ?1`},
		{&p.Silences, `DELETE FROM silences WHERE ends < ?1`},
		{&p.Pendings, `DELETE FROM pending WHERE expires < ?1`},
	}
	err := s.tx(ctx, func(tx handle) error {
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, st.query, ms)
			if err != nil {
				return err
			}
			if *st.n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("store: prune: %w", err)
	}
	return p, nil
}
