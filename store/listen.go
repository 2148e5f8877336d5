package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNotPostgres: a fleet primitive (LISTEN, an advisory lock) was asked
// of an SQLite store.
var ErrNotPostgres = errors.New("needs the postgres driver")

// Listen receives PostgreSQL notifications on channels (LISTEN, on a
// connection of its own) and calls fn with each, until ctx ends (nil) or
// the connection fails (the error: listen again). ready, when not nil, is
// called once the channels are listened to.
func (s *Store) Listen(ctx context.Context, channels []string, ready func(), fn func(channel, payload string)) error {
	if !s.d.pg {
		return fmt.Errorf("store: listen: %w", ErrNotPostgres)
	}
	conn, err := s.raw.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		for _, ch := range channels {
			if _, err := c.Exec(ctx, "LISTEN "+quoteIdent(ch)); err != nil {
				return err
			}
		}
		if ready != nil {
			ready()
		}
		for {
			n, err := c.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			fn(n.Channel, n.Payload)
		}
	})
	if ctx.Err() != nil {
		// The connection was interrupted mid-wait: it cannot go back to
		// the pool in an unknown state.
		_ = conn.Raw(func(dc any) error { return dc.(*stdlib.Conn).Close() })
		return nil
	}
	return fmt.Errorf("store: listen: %w", err)
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

// AdvisoryLock is a PostgreSQL session advisory lock held on a connection of its
// own: it is released by Release, or by the server as soon as that
// connection ends (the process is killed, the network or the server goes).
type AdvisoryLock struct {
	conn *sql.Conn
	key  int64
}

// TryLock takes the advisory lock key when it is free; nil, nil when
// another session holds it.
func (s *Store) TryLock(ctx context.Context, key int64) (*AdvisoryLock, error) {
	if !s.d.pg {
		return nil, fmt.Errorf("store: advisory lock: %w", ErrNotPostgres)
	}
	conn, err := s.raw.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: advisory lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("store: advisory lock: %w", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, nil
	}
	return &AdvisoryLock{conn: conn, key: key}, nil
}

// Held checks that the lock's connection is still alive (and so the lock
// held).
func (l *AdvisoryLock) Held(ctx context.Context) error {
	if err := l.conn.PingContext(ctx); err != nil {
		return fmt.Errorf("store: advisory lock lost: %w", err)
	}
	return nil
}

// Release gives the lock up and closes its connection.
func (l *AdvisoryLock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2e9)
	defer cancel()
	_, _ = l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
	_ = l.conn.Close()
}
