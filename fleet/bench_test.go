package fleet

// The fleet's benchmarks (issue #13, bench/README.md "Fleet"), on the
// tests' real throwaway PostgreSQL (internal/pgtest). Every instance has a
// store of its own, as a separate process would: its own pool, its own
// LISTEN connection, its own advisory-lock connection.
//
//	OPENCLAW_BOT_PG_REQUIRED=1 go test -run '^$' -bench Forward -benchtime 2000x -count 3 ./fleet/
//	OPENCLAW_BOT_PG_REQUIRED=1 go test -run '^$' -bench Failover -benchtime 60x ./fleet/
//	OPENCLAW_BOT_PG_REQUIRED=1 go test -run '^$' -bench OutboxFleet -benchtime 5x -count 3 ./fleet/

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// No test or benchmark of this package leaves a goroutine behind; the
// PostgreSQL server they shared stops first.
func TestMain(m *testing.M) { pgtest.Main(m) }

// openStore opens a store of its own on dsn (closed when b ends unless
// closed before).
func openStore(b *testing.B, dsn string) *store.Store {
	b.Helper()
	st, err := store.OpenConfig(context.Background(), store.Config{Driver: store.DriverPostgres, DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// echo is a trivial handler: it answers at once.
type echo struct{}

func (echo) Handle(_ context.Context, req bot.Request) bot.Reply {
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "ok: " + req.Text}}
}

func (echo) Press(_ context.Context, p bot.Press) bot.Reply {
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "ok: " + p.Action}, Toast: "ok"}
}

// member is one instance of a benchmark's fleet: its Fleet, running, and
// the one target it owns.
type member struct {
	f      *Fleet
	target string
}

// startFleet runs n instances on a new database, each with its own store,
// joined with a target of its own ("t0", "t1", …), running (Run) and
// answering forwarded commands with echo. They stop when b ends.
func startFleet(b *testing.B, n int) []member {
	b.Helper()
	dsn := pgtest.NewDatabase(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() }) // before the stores close (cleanups run last first)
	ms := make([]member, n)
	for i := range ms {
		f := New(Options{Store: openStore(b, dsn), Name: fmt.Sprintf("bench-%d", i), Host: "bench", PID: os.Getpid(),
			Version: "bench", Wait: 30 * time.Second, Log: zerolog.Nop()})
		ms[i] = member{f: f, target: fmt.Sprintf("t%d", i)}
		if err := f.Join(ctx, []string{ms[i].target}); err != nil {
			b.Fatal(err)
		}
		f.SetHandler(echo{}, nil)
		wg.Go(func() { _ = f.Run(ctx) })
	}
	// Every instance knows every owner (the members NOTIFY does this too,
	// once each listens).
	for _, m := range ms {
		if err := m.f.refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return ms
}

// BenchmarkForward is a command for a target another instance owns, round
// trip: Forward queues it (requests row + NOTIFY), the owner's listener
// wakes its worker, which claims it (SKIP LOCKED), runs the handler (echo:
// no work) and answers (row + NOTIFY), and the asker's listener wakes
// Forward, which reads the reply. The first instance asks; the others own
// the targets, asked in turn. forwarders=8 keeps eight Forwards in flight
// at once (throughput: ops/s; ns/op is over all of them, to the last
// reply). p50-ms, p99-ms and max-ms are per Forward.
//
// The chat command's ack is not in this: every surface acks before the
// router runs (BenchmarkSlashAck in bot/slack).
func BenchmarkForward(b *testing.B) {
	for _, fleets := range []int{2, 3} {
		for _, forwarders := range []int{1, 8} {
			b.Run(fmt.Sprintf("fleets=%d/forwarders=%d", fleets, forwarders), func(b *testing.B) {
				benchForward(b, fleets, forwarders)
			})
		}
	}
}

func benchForward(b *testing.B, fleets, forwarders int) {
	ms := startFleet(b, fleets)
	asker, owners := ms[0], ms[1:]
	ctx := context.Background()
	forward := func(o member) (time.Duration, error) {
		req := bot.Request{Surface: "telegram", UserID: "42", Where: "42", Private: true, Text: "status " + o.target}
		start := time.Now()
		rep, err := asker.f.Forward(ctx, o.target, &req, nil)
		took := time.Since(start)
		if err == nil && rep.Message.Title != "ok: "+req.Text {
			err = fmt.Errorf("reply %q, want the echo of %q", rep.Message.Title, req.Text)
		}
		return took, err
	}
	for _, o := range owners { // warm up: each pool has its connections
		if _, err := forward(o); err != nil {
			b.Fatal(err)
		}
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
		wg  sync.WaitGroup
	)
	slots := make(chan struct{}, forwarders)
	i := 0
	start := time.Now()
	for b.Loop() {
		o := owners[i%len(owners)]
		i++
		slots <- struct{}{} // at most forwarders in flight
		wg.Go(func() {
			defer func() { <-slots }()
			took, err := forward(o)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			lat = append(lat, took)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if b.Failed() || len(lat) == 0 {
		return
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "ops/s")
	// b.Loop's clock stops when the last Forward starts; ns/op is over
	// all of them, to the last reply.
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(len(lat)), "ns/op")
}

// reportLatency reports the p50, p99 and max of lat in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}

// BenchmarkFailover is how long Telegram polling (any Exclusive role) is
// without a holder after its holder dies: two instances run
// Exclusive(LockTelegramPolling); the holder's lock connection is ended
// by the server (pg_terminate_backend on the session pg_locks shows
// holding the advisory lock: what PostgreSQL sees of a kill -9) and the
// holder stops at once without releasing anything, as a killed process
// would. One op is the time from the kill to the other instance's fn
// starting. The standby tries the lock every second (leaseCheck), so this
// is up to about 1 s; the kill comes at a random moment of that second
// (a random pause before it, not timed). Then a new standby is started in
// place of the dead holder (not timed).
func BenchmarkFailover(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()

	type instance struct {
		st     *store.Store
		cancel context.CancelFunc
		done   chan struct{}
	}
	started := make(chan int, 2) // the slot whose fn started
	start := func(slot int) *instance {
		st := openStore(b, dsn)
		f := New(Options{Store: st, Name: fmt.Sprintf("bench-%d", slot), Log: zerolog.Nop()})
		ictx, cancel := context.WithCancel(ctx)
		in := &instance{st: st, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(in.done)
			_ = f.Exclusive(ictx, LockTelegramPolling, "telegram_polling", nil, func(fctx context.Context) error {
				started <- slot
				<-fctx.Done()
				return nil
			})
		}()
		return in
	}
	stop := func(in *instance) {
		in.cancel()
		<-in.done
		_ = in.st.Close()
	}
	insts := []*instance{start(0), start(1)}
	defer func() {
		for _, in := range insts {
			stop(in)
		}
	}()
	holder := <-started

	var lat []time.Duration
	for b.Loop() {
		b.StopTimer()
		time.Sleep(rand.N(leaseCheck)) // a kill at any moment of the standby's second
		pid := lockHolder(b, admin, LockTelegramPolling)
		b.StartTimer()
		killed := time.Now()
		var ok bool
		if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
			b.Fatalf("pg_terminate_backend(%d): %v %v", pid, ok, err)
		}
		insts[holder].cancel() // dead: it does not try again (its Release fails on the ended connection)
		var next int
		select {
		case next = <-started:
		case <-time.After(10 * time.Second):
			b.Fatal("no instance took the role within 10 s of the kill")
		}
		lat = append(lat, time.Since(killed))
		b.StopTimer()
		if next == holder {
			b.Fatal("the killed instance took the role again")
		}
		stop(insts[holder])
		insts[holder] = start(holder) // its restart: the new standby
		holder = next
		b.StartTimer()
	}
	reportLatency(b, lat)
}

// lockHolder is the backend pid holding advisory lock key in the
// database admin is connected to.
func lockHolder(b *testing.B, admin *sql.DB, key int64) int {
	b.Helper()
	// A bigint key is classid (high 32 bits), objid (low 32 bits), objsubid 1.
	rows, err := admin.Query(`SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(uint32(uint64(key)>>32)), int64(uint32(key)))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if len(pids) != 1 {
		b.Fatalf("advisory lock %#x held by backends %v, want one", key, pids)
	}
	return pids[0]
}

// BenchmarkOutboxFleet is alerts delivered per second through the shared
// outbox by deliverers=N instances, each with its own store, each
// claiming one item at a time (ClaimOutboxAs, FOR UPDATE SKIP LOCKED) and
// marking it sent (MarkSent), with no platform behind (the send itself is
// not timed). One op drains 2000 queued alerts (queued untimed); every
// alert must be delivered exactly once.
func BenchmarkOutboxFleet(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("deliverers=%d", n), func(b *testing.B) { benchOutboxFleet(b, n) })
	}
}

func benchOutboxFleet(b *testing.B, deliverers int) {
	const queued = 2000
	dsn := pgtest.NewDatabase(b)
	stores := make([]*store.Store, deliverers)
	for i := range stores {
		stores[i] = openStore(b, dsn)
	}
	ctx := context.Background()
	payload := []byte(`{"kind":"alert","severity":"critical","target":"web-3","title":"cooldown.active on anthropic:default","ref":"alert:web-3:g"}`)
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		created := time.Now().Add(-time.Minute)
		var batch store.Batch
		for i := range queued {
			batch.Outbox = append(batch.Outbox, store.OutboxItem{Channel: store.ChannelSlack, Dest: "C0123456789",
				Ref: fmt.Sprintf("alert:web-%d:%d", i, round), Payload: payload, CreatedAt: created})
		}
		if err := stores[0].Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var (
			delivered atomic.Int64
			seen      sync.Map
			wg        sync.WaitGroup
		)
		for i, st := range stores {
			name := fmt.Sprintf("bench-%d", i)
			wg.Go(func() {
				for {
					now := time.Now()
					items, err := st.ClaimOutboxAs(ctx, name, now, 1, time.Minute)
					if err != nil {
						b.Error(err)
						return
					}
					if len(items) == 0 {
						return
					}
					for _, o := range items {
						if _, dup := seen.LoadOrStore(o.ID, name); dup {
							b.Errorf("outbox item %d claimed twice", o.ID)
						}
						if err := st.MarkSent(ctx, o.ID, bot.Sent{Channel: "C0123456789", ID: "1700000000.000100"}, now); err != nil {
							b.Error(err)
							return
						}
						delivered.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := delivered.Load(); n != queued {
			b.Fatalf("%d alerts delivered, want %d", n, queued)
		}
	}
	b.ReportMetric(float64(queued*b.N)/b.Elapsed().Seconds(), "alerts/s")
}
