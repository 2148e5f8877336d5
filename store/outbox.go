package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// Outbox channels and kinds.
const (
	ChannelSlack    = "slack"
	ChannelTelegram = "telegram"
	ChannelConsole  = "console"

	KindPost = "post" // a new message
	KindEdit = "edit" // edit the message last delivered for Ref (SentMessage)
)

// OutboxItem is one message to deliver: "write first, send, mark sent".
// The worker claims items with ClaimOutbox, which counts the attempt before
// the send (so a crash leaves evidence that a send may have happened) and
// leases the item to the claimer, then calls MarkSent or MarkFailed
// (ReleaseOutbox when it stops without an outcome).
type OutboxItem struct {
	ID      int64
	Channel string // ChannelSlack | ChannelTelegram | ChannelConsole (any non-empty name is stored)
	Dest    string // Slack channel id, Telegram chat id, "" for the console
	Ref     string // bot.Message.Ref: what the message is about, stable across edits
	Kind    string // KindPost | KindEdit ("" is stored as KindPost)
	Payload []byte // JSON of bot.Message

	Attempts    int
	NextAttempt time.Time // zero: CreatedAt (due at once)
	CreatedAt   time.Time // zero: now
	LastAttempt time.Time // set by MarkAttempt
	SentAt      time.Time

	External  bot.Sent // where it was delivered (MarkSent)
	LastError string
	Dead      bool // given up; never due again
}

const outboxCols = `id, channel, dest, ref, kind, payload, attempts, next_attempt, created_at,
	last_attempt_at, sent_at, ext_channel, ext_id, last_error, dead`

func scanOutbox(sc scanner) (OutboxItem, error) {
	var (
		o                              OutboxItem
		next, created, lastTry, sentAt sql.NullInt64
	)
	err := sc.Scan(&o.ID, &o.Channel, &o.Dest, &o.Ref, &o.Kind, &o.Payload, &o.Attempts, &next, &created,
		&lastTry, &sentAt, &o.External.Channel, &o.External.ID, &o.LastError, &o.Dead)
	if err != nil {
		return OutboxItem{}, err
	}
	o.NextAttempt, o.CreatedAt, o.LastAttempt, o.SentAt = fromMs(next), fromMs(created), fromMs(lastTry), fromMs(sentAt)
	return o, nil
}

func insertOutbox(ctx context.Context, tx handle, o *OutboxItem, now time.Time) error {
	if o.ID != 0 {
		return fmt.Errorf("id %d: outbox items are only inserted by Apply", o.ID)
	}
	if o.Channel == "" {
		return errors.New("empty channel")
	}
	if o.Kind == "" {
		o.Kind = KindPost
	}
	if o.Kind != KindPost && o.Kind != KindEdit {
		return fmt.Errorf("invalid kind %q", o.Kind)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.NextAttempt.IsZero() {
		o.NextAttempt = o.CreatedAt
	}
	id, err := insertID(ctx, tx, `INSERT INTO outbox (channel, dest, ref, kind, payload, attempts, next_attempt,
		created_at, last_attempt_at, sent_at, ext_channel, ext_id, last_error, dead)
		VALUES (?,?,?,?,?,?,?, ?,?,?,?,?,?,?)`,
		o.Channel, o.Dest, o.Ref, o.Kind, o.Payload, o.Attempts, o.NextAttempt.UnixMilli(),
		o.CreatedAt.UnixMilli(), msOrNil(o.LastAttempt), msOrNil(o.SentAt), o.External.Channel, o.External.ID,
		o.LastError, boolInt(o.Dead))
	if err != nil {
		return err
	}
	o.ID = id
	return nil
}

// DueOutbox returns up to limit (<= 0: all) items that are neither sent nor
// dead and whose NextAttempt is not after now, oldest (CreatedAt, then ID)
// first.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	out, err := queryAll(ctx, s.db, scanOutbox,
		`SELECT `+outboxCols+` FROM outbox
		 WHERE sent_at IS NULL AND dead = 0 AND next_attempt <= ?
		 ORDER BY created_at, id LIMIT ?`, now.UnixMilli(), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("store: due outbox: %w", err)
	}
	return out, nil
}

// DefaultClaimLease is ClaimOutbox's lease when it is given none.
const DefaultClaimLease = time.Minute

// ClaimOutbox takes up to limit (<= 0: all) due items for delivery by the
// caller, oldest (CreatedAt, then ID) first, in one statement: each counts
// an attempt at now (Attempts+1, LastAttempt = now, as MarkAttempt does
// before a send) and its NextAttempt moves to now+lease (<= 0:
// DefaultClaimLease), so that no other worker, in this process or another
// sharing the database, claims it while the send is in flight. Then call
// MarkSent, or MarkFailed with the retry time (a zero time keeps the lease:
// the item is due again when the lease ends, as it is when the claimer dies).
//
// Several claimers never get the same item: on PostgreSQL they skip each
// other's rows (FOR UPDATE SKIP LOCKED) instead of waiting for them; on
// SQLite there is one writer at a time, and each claim sees the previous
// claim's leases.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error) {
	return s.ClaimOutboxAs(ctx, "", now, limit, lease)
}

// ClaimOutboxAs is ClaimOutbox for a named fleet instance: the claims
// carry its name, so that ReleaseClaimsOf can end them when it is gone.
func (s *Store) ClaimOutboxAs(ctx context.Context, by string, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error) {
	if lease <= 0 {
		lease = DefaultClaimLease
	}
	nowMs := now.UnixMilli()
	out, err := queryAll(ctx, s.db, scanOutbox,
		`UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?1, next_attempt = ?2, claimed_by = ?4
		 WHERE id IN (SELECT id FROM outbox
		   WHERE sent_at IS NULL AND dead = 0 AND next_attempt <= ?1
		   ORDER BY created_at, id LIMIT ?3`+s.d.skipLocked+`)
		 RETURNING `+outboxCols, nowMs, now.Add(lease).UnixMilli(), limitArg(limit), by)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(out, func(a, b OutboxItem) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// ReleaseOutbox ends a claim early, for a deliverer that stops before it
// knows the outcome (shutdown): the item is due again at next, so that
// Drain or another deliverer takes it at once instead of after the lease.
// attempts is the item's Attempts as ClaimOutbox returned it, the claim's
// token: when the item was sent meanwhile, or claimed again after the
// lease ended (Attempts moved on), nothing changes and it reports false.
// The next claim sees Attempts > 1, so a Finder is asked before re-sending.
func (s *Store) ReleaseOutbox(ctx context.Context, id int64, attempts int, next time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE outbox SET next_attempt = ? WHERE id = ? AND attempts = ? AND sent_at IS NULL AND dead = 0`,
		next.UnixMilli(), id, attempts)
	if err != nil {
		return false, fmt.Errorf("store: release outbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: release outbox %d: %w", id, err)
	}
	return n > 0, nil
}

// ReleaseClaims makes every unsent item that was tried before due at now:
// for a deliverer that has the store to itself (serve holds its lock), an
// earlier claim belongs to a process that is gone, kill -9 included, and
// must not wait out its lease. Items keep their Attempts, so a Finder is
// asked before re-sending. It returns how many items it released.
func (s *Store) ReleaseClaims(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE outbox SET next_attempt = ? WHERE sent_at IS NULL AND dead = 0 AND attempts > 0 AND next_attempt > ?`,
		now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: release claims: %w", err)
	}
	return n, nil
}

// ReleaseClaimsOf is ReleaseClaims for the claims of one fleet instance
// that is gone: restarted (its earlier process's claims) or silent (kill
// -9, a lost host). A claim the instance still finishes after all is
// harmless: MarkSent of an item another deliverer sent meanwhile only logs
// it again, and Slack's look-before-resend (Finder) finds the message.
func (s *Store) ReleaseClaimsOf(ctx context.Context, instance string, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE outbox SET next_attempt = ? WHERE sent_at IS NULL AND dead = 0 AND attempts > 0 AND next_attempt > ? AND claimed_by = ?`,
		now.UnixMilli(), now.UnixMilli(), instance)
	if err != nil {
		return 0, fmt.Errorf("store: release claims of %s: %w", instance, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: release claims of %s: %w", instance, err)
	}
	return n, nil
}

// OutboxItem returns one outbox item by id (ErrNotFound).
func (s *Store) OutboxItem(ctx context.Context, id int64) (*OutboxItem, error) {
	o, err := scanOutbox(s.db.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: outbox item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: outbox item %d: %w", id, err)
	}
	return &o, nil
}

// MarkAttempt counts an attempt at at. Call it before sending: after a
// crash, Attempts > 0 without SentAt means the message may have gone out
// (ask a bot.Finder before re-sending).
func (s *Store) MarkAttempt(ctx context.Context, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?`, msOrNil(at), id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("store: mark attempt %d: %w", id, err)
	}
	return nil
}

// MarkSent records a delivery: the item is no longer due, and a row goes to
// the notification log (which SentMessage reads). Marking an item sent
// twice is a no-op.
func (s *Store) MarkSent(ctx context.Context, id int64, sent bot.Sent, at time.Time) error {
	err := s.tx(ctx, func(tx handle) error {
		var (
			channel, dest, ref, kind string
			sentAt                   sql.NullInt64
		)
		// Locked on PostgreSQL: of two processes marking one item sent, the
		// second waits here and then sees sent_at (one log row, not two).
		err := tx.QueryRowContext(ctx, `SELECT channel, dest, ref, kind, sent_at FROM outbox WHERE id = ?`+s.d.forUpdate, id).
			Scan(&channel, &dest, &ref, &kind, &sentAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if sentAt.Valid {
			return nil
		}
		if at.IsZero() {
			at = time.Now()
		}
		ms := at.UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, ext_channel = ?, ext_id = ?, dead = 0 WHERE id = ?`,
			ms, sent.Channel, sent.ID, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO notification_log (outbox_id, channel, dest, ref, kind, ext_channel, ext_id, at)
			VALUES (?,?,?,?,?,?,?,?)`, id, channel, dest, ref, kind, sent.Channel, sent.ID, ms)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mark sent %d: %w", id, err)
	}
	return nil
}

// MarkFailed records a failed attempt: errText, the next attempt time (zero
// keeps the current one) and whether to give up (dead items are never due).
func (s *Store) MarkFailed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE outbox SET last_error = ?, next_attempt = coalesce(?, next_attempt), dead = ? WHERE id = ?`,
		errText, msOrNil(next), boolInt(dead), id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("store: mark failed %d: %w", id, err)
	}
	return nil
}

// OutboxDepth counts items still to deliver (not sent, not dead), due or not.
func (s *Store) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND dead = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: outbox depth: %w", err)
	}
	return n, nil
}

// SentMessage returns the platform id of the latest message delivered on
// channel to dest for ref, to edit it in place; nil when there is none (or
// ref is empty).
func (s *Store) SentMessage(ctx context.Context, channel, dest, ref string) (*bot.Sent, error) {
	if ref == "" {
		return nil, nil
	}
	var sent bot.Sent
	err := s.db.QueryRowContext(ctx, `SELECT ext_channel, ext_id FROM notification_log
		WHERE channel = ? AND dest = ? AND ref = ? AND ext_id <> ''
		ORDER BY at DESC, id DESC LIMIT 1`, channel, dest, ref).Scan(&sent.Channel, &sent.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: sent message: %w", err)
	}
	return &sent, nil
}

// Notification is one delivery in the notification log.
type Notification struct {
	ID       int64
	OutboxID int64 // 0 once the outbox row was pruned
	Channel  string
	Dest     string
	Ref      string
	Kind     string
	External bot.Sent
	At       time.Time
}

// NotificationLog returns the newest deliveries first; limit <= 0 means all.
func (s *Store) NotificationLog(ctx context.Context, limit int) ([]Notification, error) {
	out, err := queryAll(ctx, s.db, func(sc scanner) (Notification, error) {
		var (
			n        Notification
			outboxID sql.NullInt64
			at       sql.NullInt64
		)
		err := sc.Scan(&n.ID, &outboxID, &n.Channel, &n.Dest, &n.Ref, &n.Kind, &n.External.Channel, &n.External.ID, &at)
		n.OutboxID, n.At = outboxID.Int64, fromMs(at)
		return n, err
	}, `SELECT id, outbox_id, channel, dest, ref, kind, ext_channel, ext_id, at FROM notification_log
		ORDER BY at DESC, id DESC LIMIT ?`, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("store: notification log: %w", err)
	}
	return out, nil
}

func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
