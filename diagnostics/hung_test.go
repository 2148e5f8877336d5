package diagnostics

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// fifoAt replaces rel in the sandbox by a FIFO; cleanup unblocks a reader
// stuck opening it.
func fifoAt(t *testing.T, path string) {
	t.Helper()
	mustNil(t, os.MkdirAll(filepath.Dir(path), 0o700))
	_ = os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() { releaseFIFO(path) })
}

func releaseFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// inspectBounded is Inspect with a watchdog: a read that blocks on the FIFO
// is released after 5 s, so the test fails instead of hanging.
func inspectBounded(t *testing.T, insp *Inspector, tg Target, fifo string) (Report, time.Duration) {
	t.Helper()
	watchdog := time.AfterFunc(5*time.Second, func() { releaseFIFO(fifo) })
	defer watchdog.Stop()
	start := time.Now()
	rep, _, err := insp.Inspect(context.Background(), tg, "")
	mustNil(t, err)
	return rep, time.Since(start)
}

// A FIFO at state/openclaw.sqlite: state.unreadable at once, naming it,
// with the remedy for a special file (not "run as the owner").
func TestInspectFIFOStateDB(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
	db := filepath.Join(d.Path, "state", "openclaw.sqlite")
	fifoAt(t, db)
	tg := Target{Name: "t", Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir()}, Env: openclaw.EnvSources{NoProc: true}}
	rep, took := inspectBounded(t, &Inspector{}, tg, db)
	if took > 2*time.Second {
		t.Errorf("Inspect took %s", took)
	}
	f := findCode(rep, CodeStateUnreadable)
	if f == nil || !strings.Contains(f.Evidence, db+" is not a regular file (a FIFO)") {
		t.Fatalf("state.unreadable %+v; findings %v", f, codes(rep.Findings))
	}
	if len(f.Remedy) != 1 || !strings.Contains(f.Remedy[0], "mv "+db+" "+db+".not-a-file") {
		t.Errorf("remedy %q", f.Remedy)
	}
	if rep.Verdict != "down" || rep.ExitCode() != 1 || findCode(rep, CodeAuthMissing) != nil {
		t.Errorf("verdict %s, rc %d, findings %v", rep.Verdict, rep.ExitCode(), codes(rep.Findings))
	}
}

// A read that blocks in a system call (a FIFO where a gateway's /proc
// cmdline is read) times out after the Inspector's ReadTimeout: only
// state.unreadable, "timed out", with the hung-mount remedy.
func TestInspectReadTimeout(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
	proc := t.TempDir()
	fifo := filepath.Join(proc, "77", "cmdline")
	fifoAt(t, fifo)
	tg := Target{Name: "t", Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir()}, Env: openclaw.EnvSources{ProcRoot: proc}}
	rep, took := inspectBounded(t, &Inspector{ReadTimeout: 200 * time.Millisecond}, tg, fifo)
	if took > 2*time.Second {
		t.Errorf("Inspect took %s", took)
	}
	if got := codes(rep.Findings); !slices.Equal(got, []string{CodeStateUnreadable}) {
		t.Fatalf("findings %v, want only state.unreadable", got)
	}
	f := rep.Findings[0]
	if !strings.HasPrefix(f.Evidence, "timed out reading "+filepath.Join(proc, "77")+" after 0.2 s — a hung network mount or a FIFO?") {
		t.Errorf("evidence %q", f.Evidence)
	}
	if len(f.Remedy) != 1 || !strings.Contains(f.Remedy[0], "stat "+filepath.Join(proc, "77")) {
		t.Errorf("remedy %q", f.Remedy)
	}
	releaseFIFO(fifo)
	for deadline := time.Now().Add(5 * time.Second); openclaw.ReadsInFlight() > 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		releaseFIFO(fifo)
	}
}
