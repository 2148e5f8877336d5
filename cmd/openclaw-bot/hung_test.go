package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fifoDB replaces the install's state/openclaw.sqlite by a FIFO (where a
// hung network mount would block the same way). A watchdog, and the
// cleanup, open it for writing: a reader blocked in open(2) then gets EOF,
// so a test of the old behaviour fails instead of hanging forever.
func fifoDB(t *testing.T, stateDir string) string {
	t.Helper()
	p := filepath.Join(stateDir, "state", "openclaw.sqlite")
	must(t, os.Remove(p))
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	release := func() {
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}
	watchdog := time.AfterFunc(15*time.Second, func() {
		for range 100 {
			release()
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Cleanup(func() { watchdog.Stop(); release() })
	return p
}

// `status` on an install whose database is a FIFO answers at once: rc 1,
// state.unreadable naming the file.
func TestStatusFIFOStateDB(t *testing.T) {
	dir := install(t, "", "", "")
	db := fifoDB(t, dir)
	start := time.Now()
	out, errOut, rc := runCmd(t, "", "status", "--json", "--state-dir", dir)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("status took %s", took)
	}
	if rc != exitCritical || !strings.Contains(out, `"state.unreadable"`) || !strings.Contains(out, db+" is not a regular file (a FIFO)") {
		t.Errorf("rc %d\n%s\n%s", rc, out, errOut)
	}
}

// serve with a target whose database is a FIFO beside a healthy one: the
// FIFO target gets its state.unreadable alert and snapshot_ok 0, the
// healthy one is read (snapshot_ok 1), a console `status` answers for
// both at once, and serve stops promptly and cleanly.
func TestServeFIFOTarget(t *testing.T) {
	healthy := install(t, "", "", "")
	broken := install(t, "", "", "")
	db := fifoDB(t, broken)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "bot.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`store:
  path: %s
http:
  listen: %s
anthropic:
  key_check_every: 0
targets:
  - name: nfs
    state_dir: %s
  - name: local
    state_dir: %s
scheduler:
  openclaw_log_dir: ""
`, filepath.Join(dir, "bot.db"), addr, broken, healthy)), 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)
	out, logs := &syncBuffer{}, &syncBuffer{}
	stdin, feed, err := os.Pipe()
	must(t, err)
	defer stdin.Close()
	defer feed.Close()
	stop := startServe(t, cfg, zerolog.New(logs), serveOptions{Stdin: stdin, Stdout: out})
	defer stop()

	base := "http://" + addr
	waitFor(t, "the state.unreadable alert", 10*time.Second, func() bool {
		return strings.Contains(out.String(), db+" is not a regular file (a FIFO)")
	})
	waitFor(t, "snapshot_ok of both targets", 10*time.Second, func() bool {
		s := scrape(t, base+"/metrics")
		_, n1 := s.find("openclaw_bot_snapshot_ok", "target=nfs")
		_, n2 := s.find("openclaw_bot_snapshot_ok", "target=local")
		return n1 == 1 && n2 == 1
	})
	s := scrape(t, base+"/metrics")
	if v, _ := s.find("openclaw_bot_snapshot_ok", "target=nfs"); v != 0 {
		t.Errorf("snapshot_ok{nfs} = %v, want 0", v)
	}
	if v, _ := s.find("openclaw_bot_snapshot_ok", "target=local"); v != 1 {
		t.Errorf("snapshot_ok{local} = %v, want 1", v)
	}
	if v, _ := s.find("openclaw_bot_target_verdict", "target=nfs", "verdict=down"); v != 1 {
		t.Errorf("target_verdict{nfs,down} = %v, want 1", v)
	}

	before := len(out.String())
	start := time.Now()
	_, err = feed.Write([]byte("status\n"))
	must(t, err)
	waitFor(t, "the console status", 5*time.Second, func() bool {
		text := out.String()[before:]
		return strings.Contains(text, "anthropic:default") && strings.Contains(text, "could not be read")
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("console status took %s", took)
	}

	start = time.Now()
	stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("serve took %s to stop", took)
	}
	if strings.Contains(logs.String(), "did not stop in time") {
		t.Errorf("unclean stop:\n%s", logs.String())
	}
}
