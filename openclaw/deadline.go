package openclaw

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReadTimeout bounds one native read of an install (ReadSnapshotWithin).
// A read of a healthy install takes milliseconds; one that takes seconds is
// stuck on a hung network mount (or a special file the kernel blocks on).
const DefaultReadTimeout = 5 * time.Second

// HungError is a read of an install that did not return within its timeout.
// A goroutine stuck in a blocking system call (open(2) or read(2) on a hung
// NFS mount) cannot be cancelled: the read is abandoned, and until it
// returns no new read of that install starts (Still: this call did not
// start one, it found the earlier read still stuck).
type HungError struct {
	Path    string        // what the read was reading last, else the state dir
	Timeout time.Duration // the timeout the read was given
	Since   time.Time     // when the stuck read started
	Still   bool          // an earlier read is still stuck; no read was started
	Now     time.Time     // when this was found
}

func (e *HungError) Error() string {
	if e.Still {
		return fmt.Sprintf("still hung: reading %s has not returned since %s (%s ago; timed out after %s) — a hung network mount or a FIFO? "+
			"No new read of this install starts until it returns",
			e.Path, e.Since.UTC().Format(time.RFC3339), e.Now.Sub(e.Since).Round(time.Second), seconds(e.Timeout))
	}
	return fmt.Sprintf("timed out reading %s after %s — a hung network mount or a FIFO? "+
		"The read was abandoned; no new read of this install starts until it returns", e.Path, seconds(e.Timeout))
}

// seconds is "5 s", "0.2 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// IsHungProblem reports whether a Snapshot problem is a read that timed out
// or is still stuck (a HungError).
func IsHungProblem(p string) bool {
	return strings.HasPrefix(p, "timed out reading ") || strings.HasPrefix(p, "still hung: reading ")
}

// NotRegularError is a FIFO, socket, device or directory where OpenClaw
// keeps a regular file. It is never opened: open(2) of a FIFO blocks until
// a writer appears, a read of a device may never end.
type NotRegularError struct {
	Path string
	Kind string // "a FIFO", "a socket", …
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (%s): OpenClaw keeps a regular file there; the bot does not open it", e.Path, e.Kind)
}

// IsNotRegularProblem reports whether a Snapshot problem is a NotRegularError.
func IsNotRegularProblem(p string) bool { return strings.Contains(p, " is not a regular file (") }

// statRegular stats path (following symlinks, as OpenClaw does) and refuses
// anything but a regular file without opening it.
func statRegular(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return fi, &NotRegularError{Path: path, Kind: fileKind(fi.Mode())}
	}
	return fi, nil
}

// readRegular is os.ReadFile of a regular file only.
func readRegular(path string) ([]byte, error) {
	if _, err := statRegular(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "of type " + m.Type().String()
}

// flight is the read of one install in progress. There is at most one per
// install: a second caller waits for it (a healthy read takes
// milliseconds) instead of starting another, so a permanently hung mount
// holds one stuck goroutine, not one more every snapshot tick.
type flight struct {
	started time.Time
	timeout time.Duration
	dir     string
	path    atomic.Pointer[string]
	done    chan struct{}
}

var flights = struct {
	sync.Mutex
	m map[string]*flight
}{m: map[string]*flight{}}

// readStarted is a test hook: called by every read goroutine as it starts.
var readStarted func(key string)

// ReadsInFlight counts the reads of installs whose goroutine has not
// returned yet, abandoned ones included: at most one per install.
func ReadsInFlight() int {
	flights.Lock()
	defer flights.Unlock()
	return len(flights.m)
}

type flightKey struct{}

// noteReading records in the read's context what it is reading now, so a
// timeout can name the file it is stuck on; the func it returns restores
// the previous note (defer noteReading(ctx, path)()).
func noteReading(ctx context.Context, path string) func() {
	f, ok := ctx.Value(flightKey{}).(*flight)
	if !ok {
		return func() {}
	}
	prev := f.path.Swap(&path)
	return func() { f.path.Store(prev) }
}

func (f *flight) hung(still bool) *HungError {
	p := f.dir
	if s := f.path.Load(); s != nil {
		p = *s
	}
	return &HungError{Path: p, Timeout: f.timeout, Since: f.started, Still: still, Now: time.Now()}
}

// wait waits for the flight to finish within its deadline: nil when it
// did, a *HungError when it did not, ctx.Err() when ctx ended first.
func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	left := time.Until(f.started.Add(f.timeout))
	if left <= 0 {
		return f.hung(true)
	}
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return f.hung(false)
	}
}

// within runs fn, the one read of the install dir at a time, in a goroutine
// of its own and returns its result, or a *HungError when it does not
// return within timeout (the goroutine is then abandoned, never cancelled:
// it may be stuck in a system call). A panic in fn is re-raised here.
func within[T any](ctx context.Context, dir string, timeout time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	key := filepath.Clean(dir)
	var f *flight
	for f == nil {
		flights.Lock()
		other := flights.m[key]
		if other == nil {
			f = &flight{started: time.Now(), timeout: timeout, dir: key, done: make(chan struct{})}
			flights.m[key] = f
		}
		flights.Unlock()
		if other != nil {
			if err := other.wait(ctx); err != nil {
				return zero, err
			}
		}
	}
	// The read's context ends when the caller stops waiting, which stops
	// what can be stopped (SQLite queries); a blocked open(2) cannot be.
	rctx, cancel := context.WithCancel(context.WithValue(ctx, flightKey{}, f))
	var (
		out      T
		err      error
		panicked any
	)
	go func() {
		defer func() {
			panicked = recover()
			flights.Lock()
			delete(flights.m, key)
			flights.Unlock()
			cancel()
			close(f.done)
		}()
		if readStarted != nil {
			readStarted(key)
		}
		out, err = fn(rctx)
	}()
	if werr := f.wait(ctx); werr != nil {
		cancel()
		return zero, werr
	}
	if panicked != nil {
		panic(panicked)
	}
	return out, err
}

// ReadSnapshotWithin is ReadSnapshot with a deadline (timeout <= 0:
// DefaultReadTimeout). A read that does not return in time is abandoned:
// the result is then a snapshot with nothing but the problem (which
// diagnoses as state.unreadable) and a *HungError. While the abandoned
// read is stuck, later calls for the same state dir return at once with a
// "still hung" HungError and start no new read.
func ReadSnapshotWithin(ctx context.Context, loc Location, opts ReadOptions, timeout time.Duration) (*Snapshot, error) {
	snap, err := within(ctx, loc.StateDir, timeout, func(ctx context.Context) (*Snapshot, error) {
		return ReadSnapshot(ctx, loc, opts)
	})
	var hung *HungError
	if errors.As(err, &hung) {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		return &Snapshot{Location: loc, TakenAt: now().UTC(), StateDirUID: -1, Problems: []string{hung.Error()}}, err
	}
	return snap, err
}
