package scheduler

// spool.go — what the scheduler does while its store is down.
//
// An evaluation changes the incident engine's memory first and then writes
// what changed (incident rows, the notices for the outbox, kv values such
// as the install's OpenClaw version) in one store transaction
// (store.Apply). When that write fails, typically because PostgreSQL is
// unreachable, the engine already believes the incident fired or
// resolved: dropping the batch would lose the alert for good (the engine
// does not announce it again). So the batch is kept in the Service's
// memory, in order (the spool), and the service keeps watching:
//
//   - Order. Nothing in the spool is written out of order: while it holds
//     anything, each new evaluation batch joins it at the end (while it is
//     empty, batches are written directly, evaluations of different
//     targets in parallel as before). Before each new evaluation write
//     (unless a flush runs already, which writes the new batch too), every
//     2 s from a retry loop in Run, and every second from the outbox
//     worker, the spool is flushed: oldest batch first, each in its own
//     transaction, stopping at the first failure (each flushed write
//     bounded by 15 s, for a store that hangs rather than refuses). A
//     flushed batch's incident rows take their ids at flush time from the
//     rows written before them (rowIDs.fill): a batch kept before its
//     incident's row existed updates that row instead of inserting a
//     second one (which the store's unique index on open incidents would
//     refuse with store.ErrDuplicate, and a resolved one would duplicate).
//     An evaluation cut off by shutdown is kept too, for Drain.
//   - Reads. The reads an evaluation makes before the engine runs fall
//     back to what the service last knew while the store does not answer:
//     the install's last OpenClaw version (a value still in the spool
//     first, the store's being older then) and the silences and
//     maintenance windows; the secret memory is read once per target
//     anyway. Without them (the store down since the service started) the
//     evaluation fails and changes nothing, as before. No reset after
//     rotation is started while the spool holds anything (its
//     once-per-window marker cannot be read or written).
//   - Logs. A warning when the spool starts ("store unreachable: keeping
//     evaluations in memory until it returns", with the error), debug
//     lines after it; when a flush empties it, an info line ("store
//     reachable again: N evaluations written, M notices queued") and the
//     outbox worker is woken. Deliveries fail meanwhile and retry on their
//     own. An evaluation whose batch is spooled returns no error;
//     Service.Spooled counts the batches kept (for metrics).
//   - Bound. At most DefaultSpoolMax batches are kept; past that, each new
//     batch is merged into the newest one kept (an incident row of the
//     same occurrence replaced by the newer one, outbox items appended, kv
//     values overwritten), so no notice is dropped and memory grows with
//     the notices only (an idle evaluation writes nothing).
//   - Refusals. A write the store refuses for good (store.ErrDuplicate, or
//     store.ErrNotFound for an update of a row that is gone) would block
//     the spool forever. Rows without an id first adopt the id of the same
//     occurrence's open row in the store, and the batch is written again:
//     such a row is there when a commit went through but its answer was
//     lost with the connection (the batch's notices may then go out twice,
//     the lesser harm). If it is still refused, it is written without its
//     incident rows (notices and kv still go) and an error is logged. A
//     batch written directly is handled the same way.
//   - Shutdown. Drain flushes once more; what is still spooled then is lost
//     with the process, logged as an error with the number of notices. The
//     OpenClaw state is the source of truth: the next start re-derives what
//     is still wrong and alerts again (an incident whose firing row never
//     reached the store fires anew; one whose resolve was lost is resolved
//     at the first evaluation).
//   - Scope. Only evaluation batches are spooled. The scheduler's other
//     writes (the record and announcement of a reset after rotation, the
//     outbox's bookkeeping) and the chat commands' (acknowledge, silence)
//     fail with their error as before.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/store"
)

// DefaultSpoolMax is how many evaluation batches the spool keeps apart
// before it merges new ones into the newest (see above).
const DefaultSpoolMax = 10000

const (
	// spoolRetryEvery: Run's retry of the flush while the spool holds
	// batches.
	spoolRetryEvery = 2 * time.Second
	// spoolWriteTimeout bounds one write of a flush.
	spoolWriteTimeout = 15 * time.Second
)

// spooled is one evaluation's batch the store did not take (or several,
// merged past the bound).
type spooled struct {
	batch store.Batch
	evals int // evaluations in it
	// notices in it: one per message, whatever the routes (the outbox has
	// an item per route).
	notices int
}

// merge adds a newer batch into sp: an incident row of the same occurrence
// replaces the older one in place (the order of one key's occurrences is
// kept: the older is resolved before the newer opens), new rows and outbox
// items are appended, kv values overwritten.
func (sp *spooled) merge(next spooled) {
	for _, r := range next.batch.Incidents {
		k := rowKeyOf(r.Target, r.Subject, r.Code, r.FirstSeen)
		i := -1
		for j, o := range sp.batch.Incidents {
			if rowKeyOf(o.Target, o.Subject, o.Code, o.FirstSeen) == k {
				i = j
				break
			}
		}
		if i < 0 {
			sp.batch.Incidents = append(sp.batch.Incidents, r)
			continue
		}
		if r.ID == 0 {
			r.ID = sp.batch.Incidents[i].ID
		}
		sp.batch.Incidents[i] = r
	}
	sp.batch.Outbox = append(sp.batch.Outbox, next.batch.Outbox...)
	for k, v := range next.batch.KV {
		if sp.batch.KV == nil {
			sp.batch.KV = map[string]string{}
		}
		sp.batch.KV[k] = v
	}
	sp.evals += next.evals
	sp.notices += next.notices
}

// spool is the Service's ordered queue of unwritten evaluation batches.
type spool struct {
	mu      sync.Mutex
	entries []spooled
	max     int // 0: DefaultSpoolMax; at least 2
	// Since the spool last started: evaluations and notices written by
	// flushes, and merges past the bound.
	written, queued, merged int

	flushMu sync.Mutex // one flush at a time
}

func (sp *spool) len() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.entries)
}

// push appends e (merging it into the newest entry when full); with
// onlyIfBusy, only when the spool holds something already. started: the
// spool was empty.
func (sp *spool) push(e spooled, onlyIfBusy bool) (pushed, started bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	n := len(sp.entries)
	if n == 0 && onlyIfBusy {
		return false, false
	}
	if n == 0 {
		sp.written, sp.queued, sp.merged = 0, 0, 0
	}
	limit := sp.max
	if limit == 0 {
		limit = DefaultSpoolMax
	}
	// At least 2: the head may be being written by a flush, and is never
	// merged into.
	if n >= max(limit, 2) {
		sp.entries[n-1].merge(e)
		sp.merged++
		return true, false
	}
	sp.entries = append(sp.entries, e)
	return true, n == 0
}

// head is the oldest entry. Its batch shares its slices with the spool:
// the flush writes ids into them, and nothing else touches the head.
func (sp *spool) head() (spooled, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if len(sp.entries) == 0 {
		return spooled{}, false
	}
	return sp.entries[0], true
}

// pop removes the head once it is written; emptied reports that the spool
// is empty now, with what was written since it started.
func (sp *spool) pop(written spooled) (emptied bool, evals, notices, merged int) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.entries[0] = spooled{}
	sp.entries = sp.entries[1:]
	sp.written += written.evals
	sp.queued += written.notices
	if len(sp.entries) > 0 {
		return false, 0, 0, 0
	}
	sp.entries = nil // let the backing array go
	return true, sp.written, sp.queued, sp.merged
}

// totals counts what the spool holds.
func (sp *spool) totals() (evals, notices int) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, e := range sp.entries {
		evals += e.evals
		notices += e.notices
	}
	return evals, notices
}

// kv is the newest value the spool holds for key.
func (sp *spool) kv(key string) (string, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for i := len(sp.entries) - 1; i >= 0; i-- {
		if v, ok := sp.entries[i].batch.KV[key]; ok {
			return v, true
		}
	}
	return "", false
}

// Spooled is the number of evaluation batches kept in memory because the
// store did not take them (0 while it does; see spool.go).
func (s *Service) Spooled() int { return s.spool.len() }

// persist writes one evaluation's batch, or keeps it in the spool when the
// store does not take it (or holds older spooled batches that it still
// does not take). kept reports the latter.
func (s *Service) persist(ctx context.Context, e spooled) (kept bool) {
	if s.spool.len() > 0 {
		// Not waiting for a flush that runs already: the batch joins the
		// spool, and that flush writes it too.
		_ = s.flushSpool(ctx, false)
	}
	if pushed, _ := s.spool.push(e, true); pushed {
		s.Log.Debug().Int("spooled", s.Spooled()).Int("notices", e.notices).Msg("store unreachable: evaluation kept in memory")
		return true
	}
	err := s.write(ctx, &e.batch)
	if err == nil {
		if len(e.batch.Outbox) > 0 {
			s.wake()
		}
		return false
	}
	if _, started := s.spool.push(e, false); started && ctx.Err() == nil {
		s.Log.Warn().Err(err).Msg("store unreachable: keeping evaluations in memory until it returns")
	} else {
		s.Log.Debug().Err(err).Int("spooled", s.Spooled()).Int("notices", e.notices).Msg("store unreachable: evaluation kept in memory")
	}
	return true
}

// flushSpool writes the spooled batches, oldest first, each in its own
// transaction, until the spool is empty or a write fails (its error is
// returned). wait false: when another flush runs, return at once.
func (s *Service) flushSpool(ctx context.Context, wait bool) error {
	if wait {
		s.spool.flushMu.Lock()
	} else if !s.spool.flushMu.TryLock() {
		return nil
	}
	defer s.spool.flushMu.Unlock()
	for {
		e, ok := s.spool.head()
		if !ok {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, spoolWriteTimeout)
		err := s.write(wctx, &e.batch)
		cancel()
		if err != nil {
			s.Log.Debug().Err(err).Int("spooled", s.Spooled()).Msg("store still unreachable")
			return err
		}
		if emptied, evals, notices, merged := s.spool.pop(e); emptied {
			ev := s.Log.Info().Int("evaluations", evals).Int("notices", notices)
			if merged > 0 {
				ev = ev.Int("merged", merged)
			}
			ev.Msgf("store reachable again: %d evaluations written, %d notices queued", evals, notices)
			s.wake()
		}
	}
}

// wake tells the outbox worker that items are due.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// spoolLoop retries the flush until ctx ends.
func (s *Service) spoolLoop(ctx context.Context) {
	tick := time.NewTicker(spoolRetryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.Spooled() > 0 {
			_ = s.flushSpool(ctx, false)
		}
	}
}

// refused reports a write the store refuses for good (see spool.go),
// rather than one it could not take now.
func refused(err error) bool {
	return errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrNotFound)
}

// write applies one evaluation batch: incident ids re-derived from the
// rows written before it, the ids Apply assigned remembered, a refusal for
// good handled (see spool.go). The error is that of a write that may
// succeed later.
func (s *Service) write(ctx context.Context, b *store.Batch) error {
	s.rows.fill(b.Incidents)
	err := s.Store.Apply(ctx, *b)
	if err != nil && refused(err) && len(b.Incidents) > 0 {
		n, aerr := s.adopt(ctx, b.Incidents)
		if aerr != nil {
			return aerr // the store does not answer after all
		}
		if n > 0 {
			s.Log.Info().Int("incidents", n).Msg("incident rows already in the store (a commit whose answer was lost): updating them")
			err = s.Store.Apply(ctx, *b)
		}
		if err != nil && refused(err) {
			s.Log.Error().Err(err).Int("incidents", len(b.Incidents)).Int("outbox", len(b.Outbox)).
				Msg("the store refuses this evaluation's incident rows; writing its notices and kv without them")
			b.Incidents = nil
			err = s.Store.Apply(ctx, *b)
		}
	}
	if err != nil {
		return err
	}
	s.rows.remember(b.Incidents)
	return nil
}

// adopt gives the rows without an id the id of the same occurrence's open
// row in the store, and says how many it found.
func (s *Service) adopt(ctx context.Context, rows []store.Incident) (int, error) {
	open := map[string][]store.Incident{}
	n := 0
	for i := range rows {
		r := &rows[i]
		if r.ID != 0 {
			continue
		}
		list, ok := open[r.Target]
		if !ok {
			var err error
			if list, err = s.Store.OpenIncidents(ctx, r.Target); err != nil {
				return n, err
			}
			open[r.Target] = list
		}
		for _, o := range list {
			if rowKeyOf(o.Target, o.Subject, o.Code, o.FirstSeen) == rowKeyOf(r.Target, r.Subject, r.Code, r.FirstSeen) {
				r.ID = o.ID
				n++
				break
			}
		}
	}
	return n, nil
}

// lastVersion is the install's OpenClaw version as the service last
// recorded it: the spool's newest value, else the store's, else (the store
// does not answer) the one last read or written.
func (s *Service) lastVersion(ctx context.Context, target string) (string, error) {
	key := "version:" + target
	if v, ok := s.spool.kv(key); ok {
		return v, nil
	}
	v, _, err := s.Store.Get(ctx, key)
	if err != nil {
		if c, ok := s.versions.Load(target); ok && ctx.Err() == nil {
			s.Log.Debug().Err(err).Str("target", target).Msg("store unreachable: using the last known OpenClaw version")
			return c.(string), nil
		}
		return "", err
	}
	s.versions.Store(target, v)
	return v, nil
}

// silences are the silences and maintenance windows in the store, or the
// last list read when it does not answer.
func (s *Service) silences(ctx context.Context, now time.Time) ([]store.Silence, error) {
	l, err := s.Store.Silences(ctx, now)
	if err != nil {
		if c := s.lastSilences.Load(); c != nil && ctx.Err() == nil {
			s.Log.Debug().Err(err).Msg("store unreachable: using the silences last read")
			return *c, nil
		}
		return nil, err
	}
	s.lastSilences.Store(&l)
	return l, nil
}
