package change

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// restartHelperEnv turns the test binary into a stand-in gateway process:
// it records every SIGUSR1/SIGUSR2 it gets into $dir/signals and exits on
// SIGTERM. The tests start it with argv like `openclaw gateway run`, so its
// /proc/<pid>/cmdline looks like a gateway's.
const restartHelperEnv = "OPENCLAW_RESTART_TEST_HELPER_DIR"

func init() {
	if dir := os.Getenv(restartHelperEnv); dir != "" {
		restartHelperMain(dir)
	}
}

func restartHelperMain(dir string) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM)
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.Exit(2)
	}
	orphan := time.After(2 * time.Minute) // never outlive a crashed test
	for {
		select {
		case s := <-ch:
			if s == syscall.SIGTERM {
				os.Exit(0)
			}
			name := map[os.Signal]string{syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2"}[s]
			f, err := os.OpenFile(filepath.Join(dir, "signals"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				os.Exit(2)
			}
			fmt.Fprintln(f, name)
			f.Close()
		case <-orphan:
			os.Exit(3)
		}
	}
}

// gwHelper is one running stand-in process.
type gwHelper struct {
	cmd *exec.Cmd
	rec string
}

func (h *gwHelper) pid() int { return h.cmd.Process.Pid }

func (h *gwHelper) signals() []string {
	data, _ := os.ReadFile(filepath.Join(h.rec, "signals"))
	if len(data) == 0 {
		return nil
	}
	return strings.Fields(string(data))
}

// startHelper runs the test binary as argv (argv[0] need not exist) with
// OPENCLAW_STATE_DIR=stateDir and waits until its handlers are installed.
func startHelper(t *testing.T, argv []string, stateDir string) *gwHelper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rec := t.TempDir()
	cmd := exec.Command(exe)
	cmd.Args = argv
	cmd.Env = []string{restartHelperEnv + "=" + rec, "OPENCLAW_STATE_DIR=" + stateDir, "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &gwHelper{cmd: cmd, rec: rec}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(rec, "ready")); err == nil {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper %v did not start", argv)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeBin writes scripts standing in for systemctl, docker, docker-compose
// and a restart command. Each records its argv (name first, arguments
// separated by \037) to rec/argv, its env and cwd, and exits with the code
// in rec/exit.<key> after printing rec/stderr.<key> to stderr, where key is
// the name, plus ".version" for a `… version` call.
type fakeBin struct {
	t   *testing.T
	dir string
	rec string
}

const fakeToolScript = `#!/bin/sh
rec='@REC@'
name=$(basename "$0")
{ printf '%s' "$name"; for a in "$@"; do printf '\037%s' "$a"; done; printf '\n'; } >>"$rec/argv"
env >"$rec/env.$name"
pwd >"$rec/cwd.$name"
key=$name
case " $* " in *" version "*) key="$name.version" ;; esac
if [ -f "$rec/stdout.$key" ]; then cat "$rec/stdout.$key"; fi
if [ -f "$rec/stderr.$key" ]; then cat "$rec/stderr.$key" >&2; fi
code=0
if [ -f "$rec/exit.$key" ]; then code=$(cat "$rec/exit.$key"); fi
exit "$code"
`

// hangScript ignores nothing but SIGTERM (recorded); hangIgnoreScript
// records SIGTERM and keeps running, so only SIGKILL ends it.
const hangScript = `#!/bin/sh
rec='@REC@'
trap 'echo TERM >>"$rec/signals"; exit 143' TERM
echo "restarting..." >&2
while :; do sleep 1 & wait $!; done
`

const hangIgnoreScript = `#!/bin/sh
rec='@REC@'
trap 'echo TERM >>"$rec/signals"' TERM
while :; do sleep 1 & wait $!; done
`

func newFakeBin(t *testing.T, names ...string) *fakeBin {
	t.Helper()
	tmp := t.TempDir()
	f := &fakeBin{t: t, dir: filepath.Join(tmp, "bin"), rec: filepath.Join(tmp, "rec")}
	for _, d := range []string{f.dir, f.rec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		f.script(n, fakeToolScript)
	}
	return f
}

func (f *fakeBin) script(name, body string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "@REC@", f.rec)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fakeBin) set(name, value string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.rec, name), []byte(value), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeBin) lookPath(name string) (string, error) {
	p := filepath.Join(f.dir, name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, nil
	}
	return "", exec.ErrNotFound
}

func (f *fakeBin) calls() [][]string {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join(f.rec, "argv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		out = append(out, strings.Split(line, "\x1f"))
	}
	return out
}

func (f *fakeBin) env(name string) map[string]string {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join(f.rec, "env."+name))
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func (f *fakeBin) file(name string) string {
	data, _ := os.ReadFile(filepath.Join(f.rec, name))
	return strings.TrimSpace(string(data))
}

func wantCalls(t *testing.T, got, want [][]string) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b []string) bool { return slices.Equal(a, b) }) {
		t.Fatalf("calls:\n got %q\nwant %q", got, want)
	}
}

// readyServer serves /readyz from fn (called with the 1-based poll number)
// and /healthz as 200.
func readyServer(t *testing.T, fn func(n int) (int, string)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			code, body := fn(int(polls.Add(1)))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		case "/healthz":
			fmt.Fprint(w, `{"ok":true,"status":"live"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &polls
}

const (
	readyNew = `{"ready":true,"failing":[],"uptimeMs":0}`       // a gateway that just started
	readyOld = `{"ready":true,"failing":[],"uptimeMs":3600000}` // one up for an hour
)

func alwaysNewReady(int) (int, string) { return 200, readyNew }

// secretEnv puts credentials into the bot's environment that no restart
// child may see.
func secretEnv(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-api03-BotOwnKeyMustNotLeak0000")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1111111111-bot-own-token")
}

func checkMinimalEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"ANTHROPIC_API_KEY", "SLACK_BOT_TOKEN"} {
		if _, ok := env[k]; ok {
			t.Errorf("child environment has the bot's %s", k)
		}
	}
	if env["LANG"] != "C.UTF-8" || env["PATH"] == "" {
		t.Errorf("child environment lacks LANG/PATH: %v", env)
	}
}

func restartErr(t *testing.T, err error) *RestartError {
	t.Helper()
	var re *RestartError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RestartError", err, err)
	}
	return re
}

// ---------------------------------------------------------------------------

func TestRestartSystemdArgv(t *testing.T) {
	secretEnv(t)
	cases := []struct {
		name, unit, dir, file string // dir: own | global | system | ""
		want                  []string
	}{
		{"system unit", "openclaw-gateway.service", "system", "openclaw-gateway.service",
			[]string{"systemctl", "restart", "openclaw-gateway.service"}},
		{"user unit", "openclaw-gateway.service", "own", "openclaw-gateway.service",
			[]string{"systemctl", "--user", "restart", "openclaw-gateway.service"}},
		{"user template instance", "openclaw-gateway@work.service", "own", "openclaw-gateway@.service",
			[]string{"systemctl", "--user", "restart", "openclaw-gateway@work.service"}},
		{"global user unit, bare name", "openclaw-gateway", "global", "openclaw-gateway.service",
			[]string{"systemctl", "--user", "restart", "openclaw-gateway"}},
		{"unknown unit goes to the system manager", "openclaw-gateway.service", "", "",
			[]string{"systemctl", "restart", "openclaw-gateway.service"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeBin(t, "systemctl")
			root := t.TempDir()
			dirs := map[string]string{}
			for _, d := range []string{"own", "global", "system"} {
				dirs[d] = filepath.Join(root, d)
				if err := os.MkdirAll(dirs[d], 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if c.dir != "" {
				if err := os.WriteFile(filepath.Join(dirs[c.dir], c.file), []byte("[Service]\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			srv, polls := readyServer(t, alwaysNewReady)
			r := &Restarter{Method: "systemd", Unit: c.unit, LookPath: f.lookPath, ReadyURL: srv.URL + "/readyz",
				Timeout: 20 * time.Second, pollInterval: 20 * time.Millisecond,
				userUnitDirs: []string{dirs["own"]}, globalUnitDirs: []string{dirs["global"]}, systemUnitDirs: []string{dirs["system"]}}
			res, err := r.Restart(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantCalls(t, f.calls(), [][]string{c.want})
			if !res.Ready || res.Method != "systemd" || res.Took <= 0 || polls.Load() != 1 {
				t.Errorf("result %+v after %d polls", res, polls.Load())
			}
			if !strings.Contains(res.Detail, strings.Join(c.want, " ")) || !strings.Contains(res.Detail, "ready after") {
				t.Errorf("detail %q", res.Detail)
			}
			checkMinimalEnv(t, f.env("systemctl"))
			if f.file("cwd.systemctl") != "/" {
				t.Errorf("cwd %q", f.file("cwd.systemctl"))
			}
		})
	}
}

func TestRestartSystemdFailureReportsStderr(t *testing.T) {
	f := newFakeBin(t, "systemctl")
	f.set("exit.systemctl", "1")
	f.set("stderr.systemctl", "Job for openclaw-gateway.service failed.\n"+
		"\x1b[1mAuthentication is required\x1b[0m to restart 'openclaw-gateway.service' (key sk-ant-api03-LeakedInStderr000000).\n"+
		"Failed to restart openclaw-gateway.service: Access denied\n")
	srv, polls := readyServer(t, alwaysNewReady)
	r := &Restarter{Method: "systemd", Unit: "openclaw-gateway.service", LookPath: f.lookPath, ReadyURL: srv.URL + "/readyz",
		userUnitDirs: []string{}, globalUnitDirs: []string{}, systemUnitDirs: []string{}}
	res, err := r.Restart(context.Background())
	if !errors.Is(err, ErrRestartFailed) {
		t.Fatalf("err = %v", err)
	}
	re := restartErr(t, err)
	msg := err.Error()
	for _, want := range []string{"systemctl restart openclaw-gateway.service exited with status 1",
		"Failed to restart openclaw-gateway.service: Access denied", "Authentication is required",
		"journalctl -u openclaw-gateway.service"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "LeakedInStderr") || strings.Contains(msg, "\x1b[") {
		t.Errorf("error not scrubbed/cleaned:\n%s", msg)
	}
	if re.Stage != "restart" || len(re.Output) != 3 || res.Ready {
		t.Errorf("stage %q output %q result %+v", re.Stage, re.Output, res)
	}
	if polls.Load() != 0 {
		t.Errorf("readiness polled %d times after a failed restart", polls.Load())
	}
}

func TestRestartRefusesInvalidConfig(t *testing.T) {
	f := newFakeBin(t, "systemctl", "docker", "docker-compose", "restart-gw")
	compose := filepath.Join(t.TempDir(), "compose.yml")
	if err := os.WriteFile(compose, []byte("services: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(t.TempDir(), "restart.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]Restarter{
		"unit with ;":            {Method: "systemd", Unit: "openclaw-gateway.service; reboot"},
		"unit with space":        {Method: "systemd", Unit: "openclaw gateway"},
		"unit as option":         {Method: "systemd", Unit: "-Hroot@evil.example"},
		"unit with $()":          {Method: "systemd", Unit: "$(reboot)"},
		"unit with newline":      {Method: "systemd", Unit: "gw.service\nreboot"},
		"no unit":                {Method: "systemd"},
		"service with ;":         {Method: "docker-compose", ComposeFile: compose, ComposeService: "gw;reboot"},
		"service with space":     {Method: "docker-compose", ComposeFile: compose, ComposeService: "gw gw"},
		"service as option":      {Method: "docker-compose", ComposeFile: compose, ComposeService: "--no-deps"},
		"service with $()":       {Method: "docker-compose", ComposeFile: compose, ComposeService: "$(id)"},
		"missing compose file":   {Method: "docker-compose", ComposeFile: filepath.Join(t.TempDir(), "nope.yml")},
		"compose file is a dir":  {Method: "docker-compose", ComposeFile: t.TempDir()},
		"no compose file":        {Method: "docker-compose"},
		"no command":             {Method: "command"},
		"empty program":          {Method: "command", Command: []string{" ", "x"}},
		"relative program":       {Method: "command", Command: []string{"bin/restart-gw"}},
		"missing program":        {Method: "command", Command: []string{"/nonexistent/restart-gw"}},
		"unknown program name":   {Method: "command", Command: []string{"restart-gw; reboot"}},
		"program not executable": {Method: "command", Command: []string{notExec}},
		"NUL in argument":        {Method: "command", Command: []string{"restart-gw", "a\x00b"}},
		"unknown method":         {Method: "ssh"},
		"no method, no URL":      {},
		"rpc without CLI":        {Method: "rpc"},
		"openclaw without CLI":   {Method: "openclaw"},
		"signal without state":   {Method: "signal"},
		"bad ready URL":          {Method: "command", Command: []string{"restart-gw"}, ReadyURL: "file:///etc/passwd"},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			r.LookPath = f.lookPath
			if err := r.Validate(); !errors.Is(err, ErrRestartInvalid) {
				t.Errorf("Validate: %v", err)
			}
			_, err := r.Restart(context.Background())
			if !errors.Is(err, ErrRestartInvalid) {
				t.Fatalf("Restart: %v", err)
			}
			if re := restartErr(t, err); re.Stage != "validate" {
				t.Errorf("stage %q", re.Stage)
			}
			if c := f.calls(); c != nil {
				t.Fatalf("something ran: %q", c)
			}
		})
	}
}

func TestRestartDockerCompose(t *testing.T) {
	secretEnv(t)
	t.Setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
	dir := filepath.Join(t.TempDir(), "my compose; dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "docker compose.yml")
	if err := os.WriteFile(file, []byte("services:\n  openclaw-gateway: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, f *fakeBin, service string) (RestartResult, error) {
		srv, _ := readyServer(t, alwaysNewReady)
		r := &Restarter{Method: "docker-compose", ComposeFile: file, ComposeService: service, LookPath: f.lookPath,
			ReadyURL: srv.URL + "/readyz", Timeout: 20 * time.Second, pollInterval: 20 * time.Millisecond}
		return r.Restart(context.Background())
	}

	t.Run("docker compose", func(t *testing.T) {
		f := newFakeBin(t, "docker", "docker-compose")
		res, err := run(t, f, "")
		if err != nil {
			t.Fatal(err)
		}
		wantCalls(t, f.calls(), [][]string{
			{"docker", "compose", "version"},
			{"docker", "compose", "-f", file, "restart", "openclaw-gateway"},
		})
		if f.file("cwd.docker") != dir {
			t.Errorf("cwd %q, want the compose file's dir", f.file("cwd.docker"))
		}
		env := f.env("docker")
		checkMinimalEnv(t, env)
		if env["DOCKER_HOST"] != "unix:///run/user/1000/docker.sock" {
			t.Errorf("DOCKER_HOST not passed: %v", env)
		}
		if !res.Ready || !strings.Contains(res.Detail, "docker compose -f "+file+" restart openclaw-gateway") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("falls back to docker-compose", func(t *testing.T) {
		f := newFakeBin(t, "docker", "docker-compose")
		f.set("exit.docker.version", "1")
		f.set("stderr.docker.version", "docker: 'compose' is not a docker command.\n")
		res, err := run(t, f, "gw.main_1")
		if err != nil {
			t.Fatal(err)
		}
		wantCalls(t, f.calls(), [][]string{
			{"docker", "compose", "version"},
			{"docker-compose", "-f", file, "restart", "gw.main_1"},
		})
		if !strings.Contains(res.Detail, "docker-compose -f") || !strings.Contains(res.Detail, "unavailable") {
			t.Errorf("detail %q", res.Detail)
		}
	})
	t.Run("no docker at all", func(t *testing.T) {
		f := newFakeBin(t, "docker-compose")
		if _, err := run(t, f, ""); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, f.calls(), [][]string{{"docker-compose", "-f", file, "restart", "openclaw-gateway"}})
	})
	t.Run("failure", func(t *testing.T) {
		f := newFakeBin(t, "docker")
		f.set("exit.docker", "1")
		f.set("stderr.docker", "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n")
		_, err := run(t, f, "")
		if !errors.Is(err, ErrRestartFailed) {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{"exited with status 1", "permission denied while trying to connect", "logs --tail 50 openclaw-gateway"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})
}

func TestRestartCommandNoShell(t *testing.T) {
	secretEnv(t)
	f := newFakeBin(t, "restart-gw")
	marker := filepath.Join(t.TempDir(), "PWNED")
	state := t.TempDir()
	args := []string{"--now", "a b; touch " + marker, "$(touch " + marker + ")", "`touch " + marker + "`", "x|y&&z > " + marker, ""}
	srv, _ := readyServer(t, alwaysNewReady)
	r := &Restarter{Method: "command", Command: append([]string{"restart-gw"}, args...), StateDir: state,
		LookPath: f.lookPath, ReadyURL: srv.URL + "/readyz", pollInterval: 20 * time.Millisecond}
	res, err := r.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f.calls(), [][]string{append([]string{"restart-gw"}, args...)})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("an argument was run by a shell")
	}
	env := f.env("restart-gw")
	checkMinimalEnv(t, env)
	if env["OPENCLAW_STATE_DIR"] != state {
		t.Errorf("OPENCLAW_STATE_DIR = %q", env["OPENCLAW_STATE_DIR"])
	}
	if !res.Ready || !strings.Contains(res.Detail, "'a b; touch ") {
		t.Errorf("result %+v", res)
	}

	// An absolute program path is used as is.
	abs := filepath.Join(f.dir, "restart-gw")
	r.Command = []string{abs, "--now"}
	if _, err := r.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := f.calls(); !slices.Equal(c[len(c)-1], []string{"restart-gw", "--now"}) {
		t.Errorf("calls %q", c)
	}
}

func TestRestartCommandTimeout(t *testing.T) {
	t.Run("SIGTERM", func(t *testing.T) {
		f := newFakeBin(t)
		prog := f.script("restart-gw", hangScript)
		srv, polls := readyServer(t, alwaysNewReady)
		r := &Restarter{Method: "command", Command: []string{prog}, LookPath: f.lookPath, ReadyURL: srv.URL + "/readyz",
			Timeout: time.Second, Grace: 5 * time.Second}
		start := time.Now()
		_, err := r.Restart(context.Background())
		took := time.Since(start)
		if !errors.Is(err, ErrRestartFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{"timed out", "exited within the 5s grace", "restarting...", "run the command by hand"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
		if f.file("signals") != "TERM" {
			t.Errorf("signals %q", f.file("signals"))
		}
		if took > 4*time.Second || polls.Load() != 0 {
			t.Errorf("took %s, %d polls", took, polls.Load())
		}
	})
	t.Run("SIGKILL after the grace", func(t *testing.T) {
		f := newFakeBin(t)
		prog := f.script("restart-gw", hangIgnoreScript)
		r := &Restarter{Method: "command", Command: []string{prog}, LookPath: f.lookPath,
			Timeout: 500 * time.Millisecond, Grace: 300 * time.Millisecond}
		start := time.Now()
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartFailed) || !strings.Contains(err.Error(), "then SIGKILL after the 300ms grace") {
			t.Fatalf("err = %v", err)
		}
		if f.file("signals") != "TERM" || time.Since(start) > 5*time.Second {
			t.Errorf("signals %q after %s", f.file("signals"), time.Since(start))
		}
	})
}

func TestRestartRPC(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	const token = "gw-token-0123456789abcdef"
	f.GatewayToken = redact.Secret(token)
	// Old instance, then down while it restarts, then the new one.
	srv, polls := readyServer(t, func(n int) (int, string) {
		switch {
		case n == 1:
			return 200, readyOld
		case n <= 3:
			return 503, `{"ready":false,"failing":["http"],"uptimeMs":10}`
		}
		return 200, readyNew
	})
	health, ready, err := openclaw.GatewayHTTPURLs("ws" + strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	// No method: rpc, because a gateway URL is known.
	r := &Restarter{CLI: f.CLI, HealthURL: health, ReadyURL: ready, Timeout: 20 * time.Second, pollInterval: 20 * time.Millisecond}
	res, err := r.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"gateway", "call", "gateway.restart.request", "--params", "{}", "--json"}}
	if got := f.calls(); !slices.EqualFunc(got, want, func(a, b []string) bool { return slices.Equal(a, b) }) {
		t.Fatalf("argv %q, want %q", got, want)
	}
	for _, a := range f.calls()[0] {
		if strings.Contains(a, token) {
			t.Fatal("token in argv")
		}
	}
	if f.env()["OPENCLAW_GATEWAY_TOKEN"] != token {
		t.Errorf("token not passed in the environment")
	}
	if res.Method != "rpc" || !res.Ready || polls.Load() != 4 || !strings.Contains(res.Detail, "gateway.restart.request") {
		t.Errorf("result %+v after %d polls", res, polls.Load())
	}
}

func TestRestartRPCFailure(t *testing.T) {
	f := newFakeCLI(t, "error", "")
	const token = "gw-token-0123456789abcdef"
	f.GatewayToken = redact.Secret(token)
	srv, polls := readyServer(t, alwaysNewReady)
	r := &Restarter{Method: "rpc", CLI: f.CLI, ReadyURL: srv.URL + "/readyz"}
	_, err := r.Restart(context.Background())
	var ce *run.CLIError
	if !errors.Is(err, ErrRestartFailed) || !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, token) || strings.Contains(msg, "sk-ant-api03-AbCd") {
		t.Errorf("secret in error: %s", msg)
	}
	if !strings.Contains(msg, "UNAUTHORIZED") || !strings.Contains(msg, "operator.admin") {
		t.Errorf("error %s", msg)
	}
	if polls.Load() != 0 {
		t.Errorf("polled after a failed restart")
	}
}

func TestRestartOpenClaw(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	srv, _ := readyServer(t, func(n int) (int, string) {
		if n == 1 {
			return 200, readyOld
		}
		return 200, readyNew
	})
	r := &Restarter{Method: "openclaw", CLI: f.CLI, ReadyURL: srv.URL + "/readyz", pollInterval: 20 * time.Millisecond}
	res, err := r.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.calls(); len(got) != 1 || !slices.Equal(got[0], []string{"gateway", "restart", "--json"}) {
		t.Fatalf("argv %q", got)
	}
	if !res.Ready || !strings.Contains(res.Detail, "openclaw gateway restart") {
		t.Errorf("result %+v", res)
	}

	f = newFakeCLI(t, "error-string", "")
	r.CLI = f.CLI
	_, err = r.Restart(context.Background())
	if !errors.Is(err, ErrRestartFailed) || !strings.Contains(err.Error(), "no supported service manager detected") ||
		!strings.Contains(err.Error(), "restart.method rpc, signal or docker-compose") {
		t.Fatalf("err = %v", err)
	}
}

// An asynchronous method whose /readyz has no uptimeMs: a 200 counts only
// once the gateway was seen down since the trigger. Default 500 ms polling.
func TestRestartReadyAfterPolls(t *testing.T) {
	f := newFakeBin(t, "restart-gw")
	srv, polls := readyServer(t, func(n int) (int, string) {
		switch n {
		case 1:
			return 200, `{"ready":true}` // still the old one
		case 2, 3:
			return 503, `{"ready":false,"failing":["channels"]}`
		}
		return 200, `{"ready":true}`
	})
	r := &Restarter{Method: "command", Command: []string{"restart-gw"}, LookPath: f.lookPath, ReadyURL: srv.URL + "/readyz"}
	res, err := r.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if polls.Load() != 4 || !res.Ready {
		t.Fatalf("%d polls, result %+v", polls.Load(), res)
	}
	if res.Took < 1400*time.Millisecond || res.Took > 10*time.Second {
		t.Errorf("took %s for 4 polls 500 ms apart", res.Took)
	}
}

func TestRestartReadyTimeout(t *testing.T) {
	f := newFakeBin(t, "systemctl")
	base := Restarter{Method: "systemd", Unit: "openclaw-gateway.service", LookPath: f.lookPath,
		Timeout: 1500 * time.Millisecond, pollInterval: 50 * time.Millisecond,
		userUnitDirs: []string{}, globalUnitDirs: []string{}, systemUnitDirs: []string{}}

	t.Run("never ready", func(t *testing.T) {
		srv, _ := readyServer(t, func(int) (int, string) {
			return 503, `{"ready":false,"failing":["channels","sk-ant-api03-InReadyzBody00000000"],"uptimeMs":20}`
		})
		r := base
		r.ReadyURL, r.HealthURL = srv.URL+"/readyz", srv.URL+"/healthz"
		start := time.Now()
		res, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartNotReady) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"not ready after 1.5s", "HTTP 503", `"channels"`, "liveness " + srv.URL + "/healthz: HTTP 200",
			"systemctl restart openclaw-gateway.service", "journalctl -u openclaw-gateway.service"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg, "InReadyzBody") {
			t.Errorf("secret in error: %s", msg)
		}
		if re := restartErr(t, err); re.Stage != "ready" || res.Ready || res.Took < time.Second || time.Since(start) > 6*time.Second {
			t.Errorf("stage %q result %+v after %s", re.Stage, res, time.Since(start))
		}
	})
	t.Run("old instance keeps answering", func(t *testing.T) {
		// systemctl succeeded, but the gateway at the URL never restarted:
		// the wrong unit, or another gateway on that port.
		srv, _ := readyServer(t, func(int) (int, string) { return 200, readyOld })
		r := base
		r.ReadyURL = srv.URL + "/readyz"
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartNotReady) || !strings.Contains(err.Error(), "started before the restart") ||
			!strings.Contains(err.Error(), "uptime 1h0m0s") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		r := base
		r.ReadyURL, r.HealthURL = "http://"+addr+"/readyz", "http://"+addr+"/healthz"
		_, err = r.Restart(context.Background())
		if !errors.Is(err, ErrRestartNotReady) || !strings.Contains(err.Error(), "no answer (") ||
			!strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv, _ := readyServer(t, func(int) (int, string) { return 503, `{"ready":false}` })
		r := base
		r.ReadyURL = srv.URL + "/readyz"
		r.Timeout = time.Minute
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := r.Restart(ctx)
		if !errors.Is(err, ErrRestartNotReady) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRestartWithoutReadyURL(t *testing.T) {
	f := newFakeBin(t, "restart-gw")
	r := &Restarter{Method: "command", Command: []string{"restart-gw"}, LookPath: f.lookPath}
	res, err := r.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Ready || !strings.Contains(res.Detail, "readiness not checked") {
		t.Errorf("result %+v", res)
	}
}

// TestRestartSignal: the signal follows the gateway's own release (the
// package.json of the openclaw it runs): SIGUSR2 from 2026.9.6, SIGUSR1
// before (each release's dist/ handles only that one; the other kills it or
// opens 2026.9.6's debugger); the config's version when the package cannot be
// read; nothing without a version.
func TestRestartSignal(t *testing.T) {
	for _, tc := range []struct {
		name, pkg, config string
		want              string // "" = refused, nothing sent
	}{
		{"2026.9.6 package", "2026.9.6", "", "SIGUSR2"},
		{"2026.8.2 package", "2026.8.2", "2026.9.6", "SIGUSR1"}, // the running package wins over the config
		{"2026.1.29 package", "2026.1.29", "", "SIGUSR1"},
		{"config version only", "", "2026.9.6", "SIGUSR2"},
		{"config version only, old", "", "2026.5.28", "SIGUSR1"},
		{"no version anywhere", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, other := t.TempDir(), t.TempDir()
			dir := filepath.Join(t.TempDir(), "node_modules", "openclaw")
			if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.pkg != "" {
				if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"openclaw","version":"`+tc.pkg+`"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			bin := filepath.Join(dir, "dist", "index.js")
			gw := startHelper(t, []string{bin, "gateway", "run", "--port", "18789"}, state)
			otherGW := startHelper(t, []string{bin, "gateway", "run"}, other)           // serves another state dir
			notGW := startHelper(t, []string{bin, "models", "status", "--json"}, state) // same state dir, not a gateway

			srv, polls := readyServer(t, func(n int) (int, string) {
				if len(gw.signals()) == 0 {
					return 200, readyOld
				}
				if n%3 != 0 {
					return 503, `{"ready":false,"failing":["http"]}`
				}
				return 200, readyNew
			})
			r := &Restarter{Method: "signal", StateDir: state, ReadyURL: srv.URL + "/readyz", Timeout: 20 * time.Second,
				pollInterval: 20 * time.Millisecond, Version: tc.config}
			res, err := r.Restart(context.Background())
			if tc.want == "" {
				if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "cannot tell which OpenClaw release") {
					t.Fatalf("err = %v, want a refusal", err)
				}
				if got := gw.signals(); got != nil {
					t.Fatalf("gateway of unknown release got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := gw.signals(); !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("gateway got %q, want exactly one %s", got, tc.want)
			}
			if got := otherGW.signals(); got != nil {
				t.Errorf("gateway of another state dir got %q", got)
			}
			if got := notGW.signals(); got != nil {
				t.Errorf("non-gateway process got %q", got)
			}
			if !res.Ready || !strings.Contains(res.Detail, fmt.Sprintf("sent %s to gateway pid %d", tc.want, gw.pid())) || polls.Load() < 3 {
				t.Errorf("result %+v after %d polls", res, polls.Load())
			}
		})
	}
}

func TestRestartSignalRefuses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "openclaw")

	t.Run("no gateway serves the state dir", func(t *testing.T) {
		other := startHelper(t, []string{bin, "gateway", "run"}, t.TempDir())
		r := &Restarter{Method: "signal", StateDir: t.TempDir()}
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "no gateway process serving") {
			t.Fatalf("err = %v", err)
		}
		if other.signals() != nil {
			t.Error("a gateway of another state dir was signalled")
		}
	})
	t.Run("two gateways serve the state dir", func(t *testing.T) {
		state := t.TempDir()
		a := startHelper(t, []string{bin, "gateway", "run"}, state)
		b := startHelper(t, []string{filepath.Join(filepath.Dir(bin), "openclaw-gateway")}, state)
		r := &Restarter{Method: "signal", StateDir: state}
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "2 gateway processes") ||
			!strings.Contains(err.Error(), strconv.Itoa(a.pid())) || !strings.Contains(err.Error(), strconv.Itoa(b.pid())) {
			t.Fatalf("err = %v", err)
		}
		if a.signals() != nil || b.signals() != nil {
			t.Error("a gateway was signalled although the choice was ambiguous")
		}
	})
	t.Run("the process exits before the signal", func(t *testing.T) {
		state := t.TempDir()
		gw := startHelper(t, []string{bin, "gateway", "run"}, state)
		r := &Restarter{Method: "signal", StateDir: state, Version: "2026.9.6", beforeSignal: func(pid int) {
			if pid != gw.pid() {
				t.Errorf("found pid %d, want %d", pid, gw.pid())
			}
			_ = gw.cmd.Process.Kill()
			_ = gw.cmd.Wait()
		}}
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "changed before the signal was sent") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("the command line changes before the signal", func(t *testing.T) {
		// A /proc look-alike whose entry names a real helper process; its
		// cmdline turns into something else after discovery.
		state := t.TempDir()
		victim := startHelper(t, []string{bin, "gateway", "run"}, state)
		proc := t.TempDir()
		dir := filepath.Join(proc, strconv.Itoa(victim.pid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(name, data string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("cmdline", "node\x00/usr/lib/node_modules/openclaw/openclaw.mjs\x00gateway\x00run\x00")
		write("environ", "HOME=/home/x\x00OPENCLAW_STATE_DIR="+state+"\x00")
		write("stat", strconv.Itoa(victim.pid())+" (node) S 1 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 4242 0 0")
		r := &Restarter{Method: "signal", StateDir: state, Version: "2026.9.6", ProcRoot: proc, beforeSignal: func(int) {
			write("cmdline", "/bin/bash\x00-c\x00sleep 100\x00")
		}}
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "no longer a gateway command line") {
			t.Fatalf("err = %v", err)
		}
		if victim.signals() != nil {
			t.Error("signalled after the command line changed")
		}
	})
	t.Run("environment not readable", func(t *testing.T) {
		state := t.TempDir()
		proc := t.TempDir()
		dir := filepath.Join(proc, "4242")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte("openclaw-gateway\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &Restarter{Method: "signal", StateDir: state, ProcRoot: proc}
		_, err := r.Restart(context.Background())
		if !errors.Is(err, ErrRestartRefused) || !strings.Contains(err.Error(), "gateway process 4242 found but its environment is not readable") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRestartDescribe(t *testing.T) {
	want := map[string]string{
		"rpc":            "operator.admin",
		"systemd":        "polkit",
		"docker-compose": "root-equivalent",
		"openclaw":       "same user as the gateway service",
		"signal":         "CAP_KILL",
		"command":        "whatever the configured command needs",
	}
	for _, m := range openclaw.RestartMethods {
		if d := DescribeRestart(m); !strings.Contains(d, want[m]) {
			t.Errorf("DescribeRestart(%q) = %q, want it to mention %q", m, d, want[m])
		}
	}
	if len(want) != len(openclaw.RestartMethods) {
		t.Errorf("methods %v", openclaw.RestartMethods)
	}
	if d := DescribeRestart("ssh"); !strings.Contains(d, "unknown") {
		t.Errorf("DescribeRestart(ssh) = %q", d)
	}
}

func TestRestartTailWriter(t *testing.T) {
	w := &tailWriter{max: 8}
	for _, s := range []string{"abc", "defgh", "ij", "0123456789"} {
		w.Write([]byte(s))
	}
	if string(w.Bytes()) != "23456789" || w.dropped != 12 {
		t.Errorf("tail %q dropped %d", w.Bytes(), w.dropped)
	}
	w = &tailWriter{max: 8}
	w.Write([]byte("abcdef"))
	w.Write([]byte("ghij"))
	if string(w.Bytes()) != "cdefghij" || w.dropped != 2 {
		t.Errorf("tail %q dropped %d", w.Bytes(), w.dropped)
	}
}

// ---------------------------------------------------------------------------
// Against the real OpenClaw 2026.9.6 gateway (internal/peer; skipped without
// it): signal, rpc and openclaw each restart it, /readyz reports the new
// instance, and it is never sent SIGUSR1 (which opens Node's inspector).

func TestRestartRealGateway(t *testing.T) {
	cli := peer.Require(t)
	sb := peer.NewSandbox(t, cli)
	port, err := peer.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	token := "gw-restart-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sb.AddSecret(token)
	if err := os.MkdirAll(sb.StateDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"gateway":{"mode":"local","port":%d,"bind":"loopback","auth":{"mode":"token","token":%q}}}`, port, token)
	if err := sb.WriteConfig([]byte(cfg)); err != nil {
		t.Fatal(err)
	}
	logPath, _ := startTestGateway(t, sb, port)
	health, ready, err := openclaw.GatewayHTTPURLs(fmt.Sprintf("ws://127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	oc := &run.CLI{Bin: sb.CLI.Bin, Loc: openclaw.Location{StateDir: sb.StateDir(), ConfigPath: sb.ConfigPath(), Home: sb.Home, How: "test"},
		GatewayToken: redact.Secret(token), Timeout: 60 * time.Second}
	gwPid := func() int {
		found, _, err := findGatewayProcs("/proc", sb.StateDir(), sb.Home)
		if err != nil || len(found) != 1 {
			t.Fatalf("gateway processes serving the sandbox: %v, %v", found, err)
		}
		return found[0].pid
	}
	pid := gwPid()
	for _, method := range []string{openclaw.RestartMethodSignal, openclaw.RestartMethodRPC, openclaw.RestartMethodOpenClaw} {
		t.Run(method, func(t *testing.T) {
			before, _ := os.ReadFile(logPath)
			r := &Restarter{Method: method, CLI: oc, HealthURL: health, ReadyURL: ready, Timeout: 120 * time.Second, Version: peer.Version}
			res, err := r.Restart(context.Background())
			if err != nil {
				t.Fatalf("%v\ngateway log:\n%s", err, sb.Redact(tail0(string(readFile(logPath)[len(before):]), 3000)))
			}
			t.Logf("%s: took %s: %s", method, res.Took.Round(time.Millisecond), res.Detail)
			after := string(readFile(logPath)[len(before):])
			if !res.Ready || !strings.Contains(after, "received SIGUSR2; restarting") {
				t.Errorf("result %+v; gateway log since the restart:\n%s", res, sb.Redact(tail0(after, 3000)))
			}
			if p := gwPid(); p != pid {
				t.Logf("gateway pid changed %d → %d", pid, p)
				pid = p
			}
		})
	}
	if log := string(readFile(logPath)); strings.Contains(log, "Debugger listening") {
		t.Errorf("the gateway opened its inspector (SIGUSR1 reached it):\n%s", sb.Redact(tail0(log, 2000)))
	}
}

func readFile(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

func tail0(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
