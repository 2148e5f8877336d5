package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// evalLog records each evaluation's end time and report.
type evalLog struct {
	mu   sync.Mutex
	at   map[string][]time.Time
	reps map[string][]diagnostics.Report
}

func (e *evalLog) Evaluated(target string, _ bool, rep diagnostics.Report, _ time.Duration, _ error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at[target] = append(e.at[target], time.Now())
	e.reps[target] = append(e.reps[target], rep)
}
func (e *evalLog) Delivered(string, string) {}

func (e *evalLog) last(target string) (time.Time, diagnostics.Report, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.at[target])
	if n == 0 {
		return time.Time{}, diagnostics.Report{}, 0
	}
	return e.at[target][n-1], e.reps[target][n-1], n
}

func releaseFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// A target whose read blocks in a system call (a FIFO where the reader
// opens a gateway's /proc cmdline, as a hung NFS mount would block any
// open) is abandoned after ReadTimeout: it gets a state.unreadable alert,
// the healthy target beside it is evaluated without waiting for it, the
// next evaluation says "still hung" at once without a second read, and
// the service stops promptly.
func TestServiceHungTargetIsAbandoned(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
	hung, err := sandbox.New(filepath.Join(t.TempDir(), "nfs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hung.Config("2026.9.6", nil, "anthropic:default"); err != nil {
		t.Fatal(err)
	}
	proc := t.TempDir()
	fifo := filepath.Join(proc, "99", "cmdline")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Without a deadline the read would never return: release it late so
	// the test fails instead of hanging, and at the end (no goroutine leaks).
	watchdog := time.AfterFunc(8*time.Second, func() { releaseFIFO(fifo) })
	defer watchdog.Stop()
	t.Cleanup(func() {
		for deadline := time.Now().Add(5 * time.Second); openclaw.ReadsInFlight() > 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			releaseFIFO(fifo)
		}
	})

	nfs := ServiceTarget{Target: diagnostics.Target{Name: "nfs",
		Locate: openclaw.LocateOptions{StateDir: hung.Path, Home: t.TempDir(), Getenv: func(string) string { return "" }},
		Env:    openclaw.EnvSources{ProcRoot: proc}}}
	f.svc.Targets = append([]ServiceTarget{nfs}, f.svc.Targets...) // the hung one first
	f.svc.ReadTimeout = timeout
	evals := &evalLog{at: map[string][]time.Time{}, reps: map[string][]diagnostics.Report{}}
	f.svc.Observer = evals

	start := time.Now()
	stop := f.run(t)
	prodAt, _, _ := evals.last("prod")
	if prodAt.IsZero() || prodAt.Sub(start) > timeout*2/3 {
		t.Errorf("the healthy target was evaluated %s after the start, want well before the hung one's %s timeout", prodAt.Sub(start), timeout)
	}
	nfsAt, rep, _ := evals.last("nfs")
	if took := nfsAt.Sub(start); took < timeout || took > timeout+2*time.Second {
		t.Errorf("the hung target was given up after %s, want ~%s", took, timeout)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Code != diagnostics.CodeStateUnreadable ||
		!strings.HasPrefix(rep.Findings[0].Evidence, "timed out reading "+filepath.Join(proc, "99")+" after 1.5 s") {
		t.Fatalf("hung target's report: %+v", rep.Findings)
	}
	s := f.slack.next(t, 2*time.Second)
	if s.Msg.Kind != bot.KindAlert || s.Msg.Target != "nfs" || len(s.Msg.Items) != 1 || s.Msg.Items[0].Code != diagnostics.CodeStateUnreadable {
		t.Errorf("alert: %+v", s.Msg)
	}

	// The next evaluation returns at once, "still hung", with no new read.
	t0 := time.Now()
	if err := f.svc.Evaluate(context.Background(), "nfs"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > timeout/3 {
		t.Errorf("the second evaluation took %s", took)
	}
	if _, rep, n := evals.last("nfs"); n != 2 || !strings.HasPrefix(rep.Findings[0].Evidence, "still hung: reading "+filepath.Join(proc, "99")) {
		t.Errorf("second evaluation (%d): %+v", n, rep.Findings)
	}
	if n := openclaw.ReadsInFlight(); n != 1 {
		t.Errorf("ReadsInFlight = %d, want the one abandoned read", n)
	}
	// The healthy target stays fast meanwhile, for the scheduler and chat.
	t0 = time.Now()
	if _, err := f.svc.Report(context.Background(), "prod", false); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > timeout/3 {
		t.Errorf("a chat report of the healthy target took %s", took)
	}
	f.slack.quiet(t, 200*time.Millisecond) // the same incident: no second alert

	t0 = time.Now()
	stop()
	if took := time.Since(t0); took > time.Second {
		t.Errorf("stopping took %s", took)
	}
}

// The config's default read timeout is the one openclaw applies when none
// is given (config does not import openclaw).
func TestReadTimeoutDefault(t *testing.T) {
	if config.DefaultReadTimeout != openclaw.DefaultReadTimeout {
		t.Errorf("config.DefaultReadTimeout %s != openclaw.DefaultReadTimeout %s", config.DefaultReadTimeout, openclaw.DefaultReadTimeout)
	}
}
