package change

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/peer"
)

// startTestGateway runs a real `openclaw gateway run --port P --bind
// loopback` in the sandbox, waits for /readyz and returns its log file and a
// stop func (also run at cleanup, once). Stopping signals the launcher's
// process group and every gateway serving the sandbox (the launcher
// re-spawns the gateway in its own session): SIGTERM, then SIGKILL after 20 s.
func startTestGateway(t *testing.T, sb *peer.Sandbox, port int) (logPath string, stop func()) {
	t.Helper()
	logPath = filepath.Join(t.TempDir(), "gateway.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sb.CLI.Bin, "gateway", "run", "--port", strconv.Itoa(port), "--bind", "loopback")
	cmd.Env = sb.Env()
	cmd.Dir = sb.Home
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			pids := []int{cmd.Process.Pid}
			if found, _, _ := findGatewayProcs("/proc", sb.StateDir(), sb.Home); len(found) > 0 {
				for _, g := range found {
					pids = append(pids, g.pid)
				}
			}
			for _, p := range pids {
				_ = syscall.Kill(-p, syscall.SIGTERM)
				_ = syscall.Kill(p, syscall.SIGTERM)
			}
			// Wait for the gateways and the launcher (which is the gateway
			// itself in releases that do not re-spawn, e.g. 2026.6.x, whose
			// process title hides "gateway" from findGatewayProcs).
			deadline := time.Now().Add(20 * time.Second)
			launcherDone := false
			for time.Now().Before(deadline) {
				select {
				case <-exited:
					launcherDone = true
				default:
				}
				found, _, _ := findGatewayProcs("/proc", sb.StateDir(), sb.Home)
				if len(found) == 0 && launcherDone {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if found, _, _ := findGatewayProcs("/proc", sb.StateDir(), sb.Home); len(found) > 0 {
				for _, g := range found {
					t.Logf("gateway %d ignored SIGTERM; SIGKILL", g.pid)
					_ = syscall.Kill(g.pid, syscall.SIGKILL)
				}
			}
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			logf.Close()
		})
	}
	t.Cleanup(stop)
	client := &http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("gateway ready after %s on port %d", time.Since(start).Round(100*time.Millisecond), port)
				return logPath, stop
			}
		}
		select {
		case <-exited:
			// The launcher may exit after handing over to the gateway; only
			// fail when nothing serves the sandbox.
			if found, _, _ := findGatewayProcs("/proc", sb.StateDir(), sb.Home); len(found) == 0 {
				t.Fatalf("gateway exited before it was ready:\n%s", sb.Redact(tail0(string(readFile(logPath)), 2000)))
			}
		default:
		}
		if time.Since(start) > 150*time.Second {
			t.Fatalf("gateway not ready after %s:\n%s", time.Since(start), sb.Redact(tail0(string(readFile(logPath)), 2000)))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
