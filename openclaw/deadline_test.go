package openclaw

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// mkfifo replaces path by a FIFO. Its cleanup opens the FIFO for writing
// (which a reader blocked in open(2) lets through) and closes it, so a read
// that did block ends with EOF and leaks no goroutine.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() { releaseFIFO(path) })
}

// releaseFIFO unblocks readers stuck opening path (ENXIO: none is).
func releaseFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// readOrFail is ReadSnapshot bounded by the test: before the regular-file
// checks it blocked forever in open(2) on the FIFO.
func readOrFail(t *testing.T, loc Location, fifo string, opts ReadOptions) *Snapshot {
	t.Helper()
	type res struct {
		s   *Snapshot
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ReadSnapshot(context.Background(), loc, opts)
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.s
	case <-time.After(3 * time.Second):
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			releaseFIFO(fifo)
			select {
			case <-ch:
				t.Fatalf("ReadSnapshot blocked on the FIFO %s", fifo)
			default:
			}
		}
		t.Fatalf("ReadSnapshot blocked on the FIFO %s (and did not return after release)", fifo)
	}
	return nil
}

// A FIFO (or socket, device) where OpenClaw keeps a regular file is refused
// without being opened: the read returns at once with a problem naming it.
func TestReadSnapshotRefusesFIFO(t *testing.T) {
	cases := []struct {
		name string
		path func(Location) string
	}{
		{"state db", func(l Location) string { return l.StateDB() }},
		{"agent db", func(l Location) string { return AgentDB(l.AgentDirOf("main")) }},
		{"openclaw.json", func(l Location) string { return l.ConfigPath }},
		{"state .env", func(l Location) string { return filepath.Join(l.StateDir, ".env") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := onboarded(t)
			fifo := c.path(loc)
			mkfifo(t, fifo)
			start := time.Now()
			snap := readOrFail(t, loc, fifo, ReadOptions{Env: EnvSources{NoProc: true}})
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s", took)
			}
			want := fifo + " is not a regular file (a FIFO)"
			if !slicesContainsPrefix(snap.Problems, want) {
				t.Fatalf("problems %q, want one starting %q", snap.Problems, want)
			}
		})
	}
	t.Run("legacy auth-profiles.json", func(t *testing.T) {
		home := t.TempDir()
		loc := Location{StateDir: filepath.Join(home, ".openclaw"), Home: home}
		loc.ConfigPath = filepath.Join(loc.StateDir, "openclaw.json")
		fifo := filepath.Join(loc.AgentDirOf("main"), "auth-profiles.json")
		mkfifo(t, fifo)
		snap := readOrFail(t, loc, fifo, ReadOptions{Env: EnvSources{NoProc: true}})
		if snap.Layout != LayoutLegacy || !slicesContainsPrefix(snap.Problems, fifo+" is not a regular file (a FIFO)") {
			t.Fatalf("layout %s, problems %q", snap.Layout, snap.Problems)
		}
	})
}

func slicesContainsPrefix(ss []string, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// countStarts counts the read goroutines started (the readStarted hook).
func countStarts(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	readStarted = func(string) { n.Add(1) }
	t.Cleanup(func() { readStarted = nil })
	return &n
}

// A read truly stuck in a system call (open(2) of a FIFO where the code
// opens without the regular-file check: a gateway's /proc cmdline) is
// abandoned at the deadline; the next read of that install reports "still
// hung" without starting a goroutine; other installs read normally; once
// the stuck read returns, reads start again.
func TestReadSnapshotWithinAbandonsAHungRead(t *testing.T) {
	starts := countStarts(t)
	loc := onboarded(t)
	proc := t.TempDir()
	fifo := filepath.Join(proc, "4242", "cmdline")
	mkfifo(t, fifo)
	opts := ReadOptions{Env: EnvSources{ProcRoot: proc}}
	const timeout = 300 * time.Millisecond
	// Without a deadline the read would block for good: fail instead.
	watchdog := time.AfterFunc(5*time.Second, func() { releaseFIFO(fifo) })
	defer watchdog.Stop()

	start := time.Now()
	snap, err := ReadSnapshotWithin(context.Background(), loc, opts, timeout)
	took := time.Since(start)
	var hung *HungError
	if !errors.As(err, &hung) || hung.Still {
		t.Fatalf("err = %v, want a HungError", err)
	}
	if took < timeout || took > timeout+2*time.Second {
		t.Errorf("returned after %s, want ~%s", took, timeout)
	}
	want := "timed out reading " + filepath.Join(proc, "4242") + " after 0.3 s — a hung network mount or a FIFO?"
	if len(snap.Problems) != 1 || !strings.HasPrefix(snap.Problems[0], want) || !IsHungProblem(snap.Problems[0]) {
		t.Fatalf("problems %q, want %q…", snap.Problems, want)
	}
	if snap.Location != loc || snap.StateDirMissing {
		t.Errorf("snapshot %+v", snap)
	}

	// The stuck read holds its install: no second goroutine.
	start = time.Now()
	snap, err = ReadSnapshotWithin(context.Background(), loc, opts, timeout)
	if !errors.As(err, &hung) || !hung.Still {
		t.Fatalf("second read: err = %v, want a still-hung HungError", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("second read took %s, want at once", took)
	}
	if !strings.HasPrefix(snap.Problems[0], "still hung: reading "+filepath.Join(proc, "4242")+" has not returned since ") {
		t.Errorf("second read: %q", snap.Problems[0])
	}
	if n := starts.Load(); n != 1 {
		t.Errorf("%d read goroutines started, want 1", n)
	}
	if n := ReadsInFlight(); n != 1 {
		t.Errorf("ReadsInFlight = %d, want 1", n)
	}

	// Another install is not held up.
	other := onboarded(t)
	start = time.Now()
	if _, err := ReadSnapshotWithin(context.Background(), other, ReadOptions{Env: EnvSources{NoProc: true}}, timeout); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > timeout {
		t.Errorf("the healthy install took %s", took)
	}

	// The stuck read returns: the next read is a normal one.
	releaseFIFO(fifo)
	for deadline := time.Now().Add(5 * time.Second); ReadsInFlight() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the released read did not finish")
		}
		releaseFIFO(fifo)
	}
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	snap, err = ReadSnapshotWithin(context.Background(), loc, opts, timeout)
	if err != nil || len(snap.Problems) != 0 || snap.Shared == nil {
		t.Fatalf("after the release: err %v, problems %q", err, snap.Problems)
	}
}

// The flight logic on a fake clock: a read blocked (on a channel here) is
// abandoned exactly at its deadline; a caller arriving while it is still
// within its deadline waits for it instead of starting another; one
// arriving later is told "still hung" at once; a cancelled caller returns
// at once; a panic in the read reaches the caller.
func TestWithinDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		starts := countStarts(t)
		release := make(chan struct{})
		hang := func(ctx context.Context) (int, error) { <-release; return 1, nil }
		ctx := context.Background()
		start := time.Now()

		var wg sync.WaitGroup
		var waiterErr error
		wg.Go(func() {
			time.Sleep(2 * time.Second) // arrives while the first read is young
			_, waiterErr = within(ctx, "/hung", 5*time.Second, hang)
		})
		_, err := within(ctx, "/hung", 5*time.Second, hang)
		var hung *HungError
		if !errors.As(err, &hung) || hung.Still || time.Since(start) != 5*time.Second {
			t.Fatalf("err %v after %s, want a timeout after 5s", err, time.Since(start))
		}
		if hung.Path != "/hung" || hung.Error() != "timed out reading /hung after 5 s — a hung network mount or a FIFO? The read was abandoned; no new read of this install starts until it returns" {
			t.Errorf("message %q", hung.Error())
		}
		wg.Wait()
		if !errors.As(waiterErr, &hung) || hung.Still {
			t.Errorf("the waiter got %v, want the same timeout", waiterErr)
		}

		time.Sleep(time.Minute)
		_, err = within(ctx, "/hung", 5*time.Second, hang)
		if !errors.As(err, &hung) || !hung.Still || !strings.Contains(err.Error(), "(1m5s ago; timed out after 5 s)") {
			t.Fatalf("err %v, want still hung", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := within(cctx, "/other", 5*time.Second, hang); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
		// The /other read is blocked (abandoned at once); /hung started once.
		synctest.Wait()
		if n := starts.Load(); n != 2 {
			t.Errorf("%d reads started, want 2", n)
		}

		close(release)
		synctest.Wait()
		if n := ReadsInFlight(); n != 0 {
			t.Fatalf("ReadsInFlight = %d after the release", n)
		}
		if v, err := within(ctx, "/hung", 5*time.Second, hang); v != 1 || err != nil {
			t.Errorf("after the release: %d, %v", v, err)
		}
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the read's panic", p)
				}
			}()
			_, _ = within(ctx, "/panics", time.Second, func(context.Context) (int, error) { panic("boom") })
		}()
	})
}
