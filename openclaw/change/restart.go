package change

// restart.go — restarting an install's gateway, and proving it came back.
//
// Six methods (targets[].restart.method), each a fixed argv or a direct
// syscall, never a shell; each is one small type (restartRPC, restartSystemd,
// …) listed once in restartMethods, which config validation, Describe,
// Validate and Restart all read:
//
//	rpc             openclaw gateway call gateway.restart.request --params {} --json
//	systemd         systemctl [--user] restart <unit>
//	docker-compose  docker compose -f <file> restart <service>   (or docker-compose -f …)
//	openclaw        openclaw gateway restart --json
//	signal          the release's restart signal to the one gateway process serving the state dir
//	command         a fixed argv from the config
//
// Every external program runs with a minimal environment (none of the bot's
// own secrets), stdin from /dev/null, in its own process group, bounded by
// Restarter.Timeout: on expiry the group gets SIGTERM and, after Grace,
// SIGKILL. Its output is kept (the tail, capped) and scrubbed before it is
// shown.
//
// After the restart the gateway's /readyz is polled every 500 ms until it
// answers 200 from the NEW instance: /readyz carries uptimeMs, which a
// restart resets (measured on 2026.9.6, also for its in-process restart that
// keeps the PID), so a 200 whose uptime predates the restart is the old
// gateway still answering (or the wrong unit was restarted), not success.
// Without uptimeMs, having seen the gateway down since the trigger proves the
// restart, and after systemctl and docker compose, which return only once the
// old process is gone, the first 200 counts.
//
// Why SIGUSR2 and not SIGUSR1: OpenClaw 2026.9.6's gateway restarts on
// SIGUSR2 (dist/run-*.mjs: process.on("SIGUSR2", onRestartSignal); its own
// `gateway.restart.request` answers {"restart":{"signal":"SIGUSR2"}}) and
// installs no SIGUSR1 handler, so SIGUSR1 hits Node's default: it opens the
// inspector on 127.0.0.1:9229 ("Debugger listening on ws://127.0.0.1:9229/…",
// observed) — any local user could then run code as the gateway, with its
// credentials — and nothing restarts. Every release before 2026.9.6 is the
// other way round (1.29–9.5: process.on("SIGUSR1"), no SIGUSR2 handler, read
// in each release's dist/), so SIGUSR2 would kill it. The signal therefore
// follows the version of the gateway process itself (the package.json of
// the openclaw its command line runs), and without a version nothing is sent.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// restartMethod is one way of restarting a gateway. Adding a method is
// adding one type and one line to restartMethods; TestRestartMethodsComplete
// fails for a method that describes or validates nothing.
type restartMethod interface {
	// name is the value of targets[].restart.method.
	name() string
	// describe says which privilege the method needs (Describe, README).
	describe() string
	// validate reports what would stop r from working here (programs,
	// files), without running anything.
	validate(r *Restarter) []string
	// trigger restarts the gateway (Restarter.Restart then waits for it).
	trigger(ctx context.Context, r *Restarter) (trigger, error)
}

// restartMethods is every method, in the order the README documents them.
var restartMethods = []restartMethod{restartRPC{}, restartSystemd{}, restartCompose{}, restartOpenClaw{}, restartSignal{}, restartCommand{}}

// lookupRestartMethod finds a method by its config value (any case).
func lookupRestartMethod(name string) (restartMethod, bool) {
	name, _ = openclaw.IsRestartMethod(name)
	for _, m := range restartMethods {
		if m.name() == name {
			return m, true
		}
	}
	return nil, false
}

type (
	restartRPC      struct{}
	restartSystemd  struct{}
	restartCompose  struct{}
	restartOpenClaw struct{}
	restartSignal   struct{}
	restartCommand  struct{}
)

// needCLI is the validation of the methods that run the openclaw CLI.
func (r *Restarter) needCLI(method string) []string {
	if r.CLI == nil {
		return []string{fmt.Sprintf("method %s runs the openclaw CLI but none is configured (targets[].openclaw_bin)", method)}
	}
	return nil
}

// GatewayRestartSignal is what method signal sends to 2026.9.6+: its
// restart signal. SIGUSR1 would open Node's inspector instead (see the file
// comment); RestartSignalFor gives the signal of any release.
const GatewayRestartSignal = syscall.SIGUSR2

// firstSIGUSR2 is the first release that restarts on SIGUSR2.
const firstSIGUSR2 = "2026.9.6"

// RestartSignalFor is the restart signal of a gateway of that version, or
// false when the version is unknown (then no signal is safe: SIGUSR2 kills an
// older gateway, SIGUSR1 opens a newer one's debugger).
func RestartSignalFor(version string) (syscall.Signal, bool) {
	switch {
	case openclaw.VersionParts(version) == [3]int{}:
		return 0, false
	case openclaw.VersionLess(version, firstSIGUSR2):
		return syscall.SIGUSR1, true
	}
	return syscall.SIGUSR2, true
}

// gatewayVersion reads the version of the openclaw package a gateway
// process runs: the package.json above the script on its command line.
func gatewayVersion(procRoot string, g gatewayProc) string {
	args := strings.Split(strings.TrimRight(string(g.cmdline), "\x00"), "\x00")
	for _, a := range args {
		if !filepath.IsAbs(a) || !strings.Contains(a, "openclaw") {
			continue
		}
		// Resolve symlinks (node_modules/.bin/openclaw) inside the
		// process's own root when it is not ours.
		p := a
		if root := filepath.Join(procRoot, strconv.Itoa(g.pid), "root"); procRoot != "/proc" {
			p = filepath.Join(root, a)
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		for dir := filepath.Dir(p); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			b, err := os.ReadFile(filepath.Join(dir, "package.json"))
			if err != nil {
				continue
			}
			var pkg struct{ Name, Version string }
			if json.Unmarshal(b, &pkg) == nil && pkg.Name == "openclaw" && pkg.Version != "" {
				return pkg.Version
			}
		}
	}
	return ""
}

// Defaults for Restarter.
const (
	DefaultRestartTimeout = 90 * time.Second
	DefaultRestartGrace   = 10 * time.Second
	// DefaultRestartComposeService is the compose service used when
	// Restarter.ComposeService is empty (like config.DefaultComposeService).
	DefaultRestartComposeService = "openclaw-gateway"

	restartPollInterval = 500 * time.Millisecond
	restartProbeTimeout = 5 * time.Second  // one /readyz request
	restartProbeVersion = 10 * time.Second // `docker compose version`
	restartOutputKeep   = 64 << 10         // tail kept per stream
	restartTailLines    = 12               // output lines shown in an error
	restartLineMax      = 300              // characters per shown line
	restartBodyMax      = 64 << 10         // /readyz body read
)

// Errors returned (wrapped, as *RestartError) by Restart and Validate; test
// with errors.Is. Errors of the CLI (run.ErrTimeout, *run.CLIError, …) stay
// reachable through errors.Is/As as well.
var (
	// ErrRestartInvalid: the configuration cannot work; nothing ran.
	ErrRestartInvalid = errors.New("invalid gateway restart configuration")
	// ErrRestartRefused: method signal found no gateway serving the state
	// dir, several, or one it could not verify; nothing was signalled.
	ErrRestartRefused = errors.New("gateway restart refused")
	// ErrRestartFailed: the restart itself failed (non-zero exit, timeout,
	// an error from the gateway, the signal could not be sent).
	ErrRestartFailed = errors.New("gateway restart failed")
	// ErrRestartNotReady: the restart was triggered but /readyz did not
	// report a new, ready gateway within the timeout.
	ErrRestartNotReady = errors.New("gateway not ready after restart")
)

var (
	// docker compose service names (the compose spec's pattern).
	restartServiceRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	// known systemd unit type suffixes; a bare name means .service.
	restartUnitTypes = []string{".service", ".socket", ".target", ".timer", ".path", ".mount", ".scope", ".slice"}
)

// Restarter restarts the gateway of one install. Fill the fields for the
// chosen Method; Validate reports every problem without running anything.
// It holds no state between calls, but restarting the same gateway twice at
// once is the caller's problem to avoid.
type Restarter struct {
	// Method is one of RestartMethods; "" means rpc when a gateway URL is
	// known (ReadyURL or HealthURL set) and an error otherwise.
	Method string
	// Unit is the systemd unit (method systemd). When its unit file is
	// found in the bot user's own systemd user directories (where
	// `openclaw gateway install` puts openclaw-gateway.service), or only in
	// the global user directories, `systemctl --user` is used.
	Unit string
	// ComposeFile and ComposeService (method docker-compose); the service
	// defaults to DefaultRestartComposeService.
	ComposeFile, ComposeService string
	// Command is the argv of method command: an absolute program path or a
	// name looked up on PATH, and fixed arguments. Never built from chat text.
	Command []string
	// CLI runs `openclaw` for methods rpc and openclaw (its GatewayToken
	// goes through the environment, never argv). Its scrubbing also applies
	// to every message of the Restarter.
	CLI *run.CLI
	// StateDir is the install's state dir (method signal: the gateway must
	// serve it). "" means CLI.Loc.StateDir.
	StateDir string
	// HealthURL (/healthz, liveness: used to explain a readiness failure) and
	// ReadyURL (/readyz, polled after the restart) of the gateway; see
	// GatewayHTTPURLs. Without ReadyURL the restart is not verified
	// (RestartResult.Ready false).
	HealthURL, ReadyURL string
	// ProcRoot is where method signal looks for the gateway (default /proc).
	ProcRoot string
	// Version is the install's OpenClaw version from openclaw.json, used by
	// method signal when the gateway's own package cannot be read.
	Version string
	// Timeout bounds the whole restart: the command and the wait for
	// readiness (default DefaultRestartTimeout).
	Timeout time.Duration
	// Grace between SIGTERM and SIGKILL for a command that outlives the
	// timeout (default DefaultRestartGrace).
	Grace time.Duration
	// LookPath resolves program names (systemctl, docker, docker-compose,
	// a bare Command[0]); default exec.LookPath. Tests point it at fakes.
	LookPath func(string) (string, error)
	// Scrubber, if set, is applied to every message and output line, in
	// addition to the CLI's scrubbing and the credential patterns.
	Scrubber *redact.Scrubber

	// Tests only.
	pollInterval   time.Duration
	userUnitDirs   []string  // the bot user's own systemd user unit dirs
	globalUnitDirs []string  // systemd user unit dirs shared by all users
	systemUnitDirs []string  // systemd system unit dirs
	beforeSignal   func(int) // between discovery and the final check
	httpClient     *http.Client
}

// RestartResult is a restart that worked.
type RestartResult struct {
	Method string `json:"method"`
	// Took is the time from triggering the restart until the new gateway
	// answered ready (or until the trigger returned, when not verified).
	Took time.Duration `json:"took"`
	// Detail says what was done, e.g. "sent SIGUSR2 to gateway pid 4242".
	Detail string `json:"detail"`
	// Ready: a new gateway instance answered 200 on ReadyURL.
	Ready bool `json:"ready"`
}

// RestartError is a failed or refused restart. Msg, Output and Check are
// scrubbed.
type RestartError struct {
	Method string   `json:"method"`
	Stage  string   `json:"stage"` // "validate", "restart" or "ready"
	Msg    string   `json:"message"`
	Output []string `json:"output,omitempty"` // last lines of the command's output
	Check  string   `json:"check,omitempty"`  // what to look at next
	errs   []error
}

func (e *RestartError) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if len(e.Output) > 0 {
		b.WriteString("\nlast output:")
		for _, l := range e.Output {
			b.WriteString("\n  " + l)
		}
	}
	if e.Check != "" {
		b.WriteString("\ncheck: " + e.Check)
	}
	return b.String()
}

func (e *RestartError) Unwrap() []error { return e.errs }

// DescribeRestart says which privilege each restart method needs (README table).
func DescribeRestart(method string) string {
	if m, ok := lookupRestartMethod(method); ok {
		return m.describe()
	}
	return fmt.Sprintf("unknown restart method %q (want one of %s)", method, strings.Join(openclaw.RestartMethods, ", "))
}

// ---------------------------------------------------------------------------
// Validation.

// Validate reports every problem of the configuration for the chosen method
// without running anything (it looks programs up and stats files).
func (r *Restarter) Validate() error {
	method, err := r.method()
	if err != nil {
		return err
	}
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	for _, u := range []struct{ name, v string }{{"health URL", r.HealthURL}, {"ready URL", r.ReadyURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add("%s %q must be an http(s) URL like http://127.0.0.1:18789/readyz", u.name, redact.String(u.v))
		}
	}
	m, _ := lookupRestartMethod(method)
	probs = append(probs, m.validate(r)...)
	if len(probs) == 0 {
		return nil
	}
	return r.fail(method, "validate", []error{ErrRestartInvalid}, nil, "",
		"%v (%s): %s", ErrRestartInvalid, method, strings.Join(probs, "; "))
}

func (r *Restarter) method() (string, error) {
	m := strings.ToLower(strings.TrimSpace(r.Method))
	if m == "" {
		if r.ReadyURL == "" && r.HealthURL == "" {
			return "", r.fail("", "validate", []error{ErrRestartInvalid}, nil, "",
				"%v: no restart method: set targets[].restart.method (one of %s), or targets[].gateway_url to use rpc",
				ErrRestartInvalid, strings.Join(openclaw.RestartMethods, ", "))
		}
		return openclaw.RestartMethodRPC, nil
	}
	if _, ok := lookupRestartMethod(m); ok {
		return m, nil
	}
	return "", r.fail(m, "validate", []error{ErrRestartInvalid}, nil, "",
		"%v: unknown restart method %q (want one of %s)", ErrRestartInvalid, redact.String(r.Method), strings.Join(openclaw.RestartMethods, ", "))
}

func checkService(svc string) error {
	switch {
	case len(svc) > 128 || !restartServiceRE.MatchString(svc):
		return fmt.Errorf("compose service %q is not a service name (letters, digits and . _ - only)", text.Truncate(redact.String(svc), 41))
	case strings.HasPrefix(svc, "-"):
		return fmt.Errorf("compose service %q starts with '-' and would be read as an option", text.Truncate(svc, 41))
	}
	return nil
}

func (r *Restarter) composeService() string {
	if r.ComposeService == "" {
		return DefaultRestartComposeService
	}
	return r.ComposeService
}

// composeFile is the absolute path of an existing regular compose file.
func (r *Restarter) composeFile() (string, error) {
	if strings.TrimSpace(r.ComposeFile) == "" {
		return "", errors.New("method docker-compose needs compose_file")
	}
	p, err := filepath.Abs(r.ComposeFile)
	if err != nil {
		return "", fmt.Errorf("compose file %s: %v", r.ComposeFile, err)
	}
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return "", fmt.Errorf("compose file %s: %s", p, openclaw.DescribeErr(err))
	case !st.Mode().IsRegular():
		return "", fmt.Errorf("compose file %s is not a regular file", p)
	}
	return p, nil
}

// commandArgv resolves method command's argv; the program must exist.
func (r *Restarter) commandArgv() ([]string, error) {
	if len(r.Command) == 0 || strings.TrimSpace(r.Command[0]) == "" {
		return nil, errors.New(`method command needs the program and its arguments as a list, e.g. ["/usr/local/bin/restart-openclaw", "--now"]`)
	}
	for i, a := range r.Command {
		if strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("command argument %d contains a NUL byte", i)
		}
	}
	prog := r.Command[0]
	switch {
	case !strings.ContainsRune(prog, '/'):
		p, err := r.lookPath(prog)
		if err != nil {
			return nil, fmt.Errorf("command %q not found on PATH", text.Truncate(prog, 41))
		}
		prog = p
	case !filepath.IsAbs(prog):
		return nil, fmt.Errorf("command %q must be an absolute path or a name on PATH", text.Truncate(prog, 41))
	}
	st, err := os.Stat(prog)
	switch {
	case err != nil:
		return nil, fmt.Errorf("command %s: %s", prog, openclaw.DescribeErr(err))
	case st.IsDir() || st.Mode().Perm()&0o111 == 0:
		return nil, fmt.Errorf("command %s is not an executable file", prog)
	}
	return append([]string{prog}, r.Command[1:]...), nil
}

func (r *Restarter) lookPath(name string) (string, error) {
	lp := r.LookPath
	if lp == nil {
		lp = exec.LookPath
	}
	p, err := lp(name)
	if err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p, nil
}

func (r *Restarter) stateDir() string {
	if r.StateDir != "" {
		return r.StateDir
	}
	if r.CLI != nil {
		return r.CLI.Loc.StateDir
	}
	return ""
}

// ---------------------------------------------------------------------------
// Restart.

// trigger is what a method did; err set means the restart failed.
type trigger struct {
	detail string
	// sync: the command returned only after the old gateway was gone
	// (systemctl, docker compose), so the first 200 afterwards is new.
	sync  bool
	check string // what to look at if the gateway does not come back
	// at, when set, is when the restart really began (the signal was
	// sent); readiness counts from it.
	at time.Time
}

// Restart restarts the gateway with the configured method and waits until
// ReadyURL reports the new instance ready. It fails (never silently) when
// the configuration is invalid, the restart command fails or times out, or
// the gateway is not ready in time; the error is a *RestartError with the
// last lines of output and what to check.
func (r *Restarter) Restart(ctx context.Context) (RestartResult, error) {
	method, err := r.method()
	res := RestartResult{Method: method}
	if err != nil {
		return res, err
	}
	if err := r.Validate(); err != nil {
		return res, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultRestartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	m, _ := lookupRestartMethod(method)
	tr, err := m.trigger(ctx, r)
	if err == nil && !tr.at.IsZero() {
		start = tr.at // signal: from the moment it was sent
	}
	res.Detail = tr.detail
	if err != nil {
		res.Took = time.Since(start)
		return res, err
	}
	if r.ReadyURL == "" {
		res.Took = time.Since(start)
		res.Detail = joinDetail(res.Detail, "readiness not checked: no ready URL (set targets[].gateway_url)")
		return res, nil
	}
	took, note, err := r.waitReady(ctx, method, start, tr)
	res.Took = took
	if err != nil {
		return res, err
	}
	res.Ready = true
	res.Detail = joinDetail(res.Detail, note)
	return res, nil
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// --- rpc and openclaw (through the guarded CLI) ---

// restartRPC asks the running gateway to restart itself (gateway.restart.request).
func (restartRPC) name() string { return openclaw.RestartMethodRPC }
func (restartRPC) describe() string {
	return "a gateway token with the operator.admin scope (gateway_token / gateway_token_file); the gateway must be running and reachable"
}
func (restartRPC) validate(r *Restarter) []string { return r.needCLI(openclaw.RestartMethodRPC) }

func (restartRPC) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	check := "`openclaw gateway status --deep` and the gateway log (OpenClaw 2026.9.6 writes /tmp/openclaw/openclaw-YYYY-MM-DD.log)"
	res, err := r.CLI.GatewayCall(ctx, "gateway.restart.request", map[string]any{})
	if err != nil {
		check += "; the gateway token needs the operator.admin scope"
		var ce *run.CLIError
		switch {
		case errors.As(err, &ce) && ce.GatewayUnreachable():
			check = "the gateway is not reachable, so it cannot be asked to restart: start it, or configure restart.method systemd, docker-compose or command"
		case errors.As(err, &ce) && (ce.Code == "FORBIDDEN" || ce.Code == "UNAUTHORIZED"):
			check = "targets[].gateway_token must be a gateway token with the operator.admin scope"
		}
		return trigger{check: check}, r.cliFail(openclaw.RestartMethodRPC, res, err, check)
	}
	var out struct {
		Status    string `json:"status"`
		Preflight struct {
			Summary string `json:"summary"`
		} `json:"preflight"`
		Restart struct {
			Signal string `json:"signal"`
			Pid    int    `json:"pid"`
		} `json:"restart"`
	}
	_ = res.Decode(&out)
	d := "gateway.restart.request"
	if out.Status != "" {
		d += ": " + out.Status
	} else {
		d += " accepted"
	}
	if out.Preflight.Summary != "" {
		d += " (" + out.Preflight.Summary + ")"
	}
	if out.Status == "deferred" {
		check = "the gateway deferred the restart until its active work finishes (see the blockers above); wait, or restart it through its service manager"
	}
	return trigger{detail: r.scrub(d), check: check}, nil
}

// restartOpenClaw runs `openclaw gateway restart`, which drives the gateway's own service.
func (restartOpenClaw) name() string { return openclaw.RestartMethodOpenClaw }
func (restartOpenClaw) describe() string {
	return "the same user as the gateway service (`openclaw gateway restart` drives its own launchd/systemd service)"
}
func (restartOpenClaw) validate(r *Restarter) []string {
	return r.needCLI(openclaw.RestartMethodOpenClaw)
}

func (restartOpenClaw) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	check := "`openclaw gateway status --deep`; `no supported service manager detected` means the gateway is not a launchd/systemd service: use restart.method rpc, signal or docker-compose"
	res, err := r.CLI.GatewayRestart(ctx)
	if err != nil {
		return trigger{check: check}, r.cliFail(openclaw.RestartMethodOpenClaw, res, err, check)
	}
	var out struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	}
	_ = res.Decode(&out)
	d := "openclaw gateway restart"
	if out.Result != "" {
		d += ": " + out.Result
	}
	if out.Message != "" {
		d += " (" + out.Message + ")"
	}
	return trigger{detail: r.scrub(d), check: check}, nil
}

// cliFail wraps an error of the CLI; the CLI already scrubbed it and put
// its stderr tail in it.
func (r *Restarter) cliFail(method string, res *run.Result, err error, check string) error {
	var out []string
	if res != nil && !strings.Contains(err.Error(), "stderr:") {
		out = r.lastLines(res.Stderr)
	}
	return r.fail(method, "restart", []error{ErrRestartFailed, err}, out, check,
		"%v (%s): %v", ErrRestartFailed, method, err)
}

// --- systemd ---

// restartSystemd restarts the unit with systemctl (--user when its unit file is the user's).
func (restartSystemd) name() string { return openclaw.RestartMethodSystemd }
func (restartSystemd) describe() string {
	return "root, or a polkit rule that lets the bot's user manage that unit (org.freedesktop.systemd1.manage-units); for a user unit (systemctl --user) the bot runs as the same user as the unit"
}
func (restartSystemd) validate(r *Restarter) []string {
	var probs []string
	if err := openclaw.CheckUnit(r.Unit); err != nil {
		probs = append(probs, err.Error())
	}
	if _, err := r.lookPath("systemctl"); err != nil {
		probs = append(probs, "systemctl not found on PATH: method systemd needs systemd")
	}
	return probs
}

func (restartSystemd) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	bin, _ := r.lookPath("systemctl")
	user, where := r.isUserUnit(r.Unit)
	argv := []string{bin}
	extra := map[string]string{}
	if user {
		argv = append(argv, "--user")
		// systemctl --user finds the user manager through these.
		rd := os.Getenv("XDG_RUNTIME_DIR")
		if rd == "" {
			if d := fmt.Sprintf("/run/user/%d", os.Getuid()); isDir(d) {
				rd = d
			}
		}
		if rd != "" {
			extra["XDG_RUNTIME_DIR"] = rd
		}
		if v := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); v != "" {
			extra["DBUS_SESSION_BUS_ADDRESS"] = v
		}
	}
	argv = append(argv, "restart", r.Unit)
	flag := ""
	if user {
		flag = " --user"
	}
	check := fmt.Sprintf("`systemctl%s status %s` and `journalctl%s -u %s -n 50`", flag, r.Unit, flag, r.Unit)
	detail := "systemctl" + flag + " restart " + r.Unit
	if where != "" {
		detail += " (unit file " + where + ")"
	}
	if err := r.runChecked(ctx, openclaw.RestartMethodSystemd, argv, extra, "/", check); err != nil {
		return trigger{check: check}, err
	}
	return trigger{detail: detail, sync: true, check: check}, nil
}

// isUserUnit decides between `systemctl --user` and the system manager from
// where the unit file is: the bot user's own user dirs first (that is where
// `openclaw gateway install` writes openclaw-gateway.service), then the
// system dirs, then the user dirs shared by all users. Not found anywhere:
// the system manager (systemctl then says the unit is missing).
func (r *Restarter) isUserUnit(unit string) (user bool, where string) {
	names := []string{unit}
	hasType := false
	for _, t := range restartUnitTypes {
		hasType = hasType || strings.HasSuffix(unit, t)
	}
	if !hasType {
		names[0] = unit + ".service"
	}
	if at := strings.IndexByte(names[0], '@'); at >= 0 {
		if dot := strings.LastIndexByte(names[0], '.'); dot > at {
			names = append(names, names[0][:at+1]+names[0][dot:]) // template
		}
	}
	own, global, system := r.unitDirs()
	find := func(dirs []string) string {
		for _, d := range dirs {
			for _, n := range names {
				if p := filepath.Join(d, n); fileExists(p) {
					return p
				}
			}
		}
		return ""
	}
	if p := find(own); p != "" {
		return true, p
	}
	if p := find(system); p != "" {
		return false, p
	}
	if p := find(global); p != "" {
		return true, p
	}
	return false, ""
}

func (r *Restarter) unitDirs() (own, global, system []string) {
	if r.userUnitDirs != nil || r.globalUnitDirs != nil || r.systemUnitDirs != nil {
		return r.userUnitDirs, r.globalUnitDirs, r.systemUnitDirs
	}
	home, _ := os.UserHomeDir()
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" && home != "" {
		cfg = filepath.Join(home, ".config")
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" && home != "" {
		data = filepath.Join(home, ".local", "share")
	}
	for _, d := range []string{cfg, data} {
		if d != "" {
			own = append(own, filepath.Join(d, "systemd", "user"))
		}
	}
	if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
		own = append(own, filepath.Join(rd, "systemd", "user"))
	}
	global = []string{"/etc/systemd/user", "/run/systemd/user", "/usr/local/share/systemd/user",
		"/usr/local/lib/systemd/user", "/usr/lib/systemd/user", "/lib/systemd/user"}
	system = []string{"/etc/systemd/system", "/run/systemd/system", "/run/systemd/transient",
		"/run/systemd/generator", "/run/systemd/generator.late", "/usr/local/lib/systemd/system",
		"/usr/lib/systemd/system", "/lib/systemd/system"}
	return own, global, system
}

// --- docker compose ---

var restartDockerEnv = []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH",
	"DOCKER_TLS_VERIFY", "COMPOSE_PROJECT_NAME"}

// restartCompose restarts the compose service (docker compose, else docker-compose).
func (restartCompose) name() string { return openclaw.RestartMethodDockerCompose }
func (restartCompose) describe() string {
	return "access to the Docker socket (the docker group), which is root-equivalent on the host"
}
func (restartCompose) validate(r *Restarter) []string {
	var probs []string
	if _, err := r.composeFile(); err != nil {
		probs = append(probs, err.Error())
	}
	if err := checkService(r.composeService()); err != nil {
		probs = append(probs, err.Error())
	}
	_, errD := r.lookPath("docker")
	_, errC := r.lookPath("docker-compose")
	if errD != nil && errC != nil {
		probs = append(probs, "neither docker nor docker-compose is on PATH")
	}
	return probs
}

func (restartCompose) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	file, _ := r.composeFile()
	svc := r.composeService()
	extra := map[string]string{}
	for _, k := range restartDockerEnv {
		if v, ok := os.LookupEnv(k); ok {
			extra[k] = v
		}
	}
	dir := filepath.Dir(file)
	var argv []string
	var tool string
	var probeNote string
	if docker, err := r.lookPath("docker"); err == nil {
		pctx, cancel := context.WithTimeout(ctx, restartProbeVersion)
		run, err := r.exec(pctx, []string{docker, "compose", "version"}, extra, dir)
		cancel()
		if err == nil && run.exit == 0 {
			argv, tool = []string{docker, "compose", "-f", file, "restart", svc}, "docker compose"
		} else if ctx.Err() != nil {
			return trigger{}, r.fail(openclaw.RestartMethodDockerCompose, "restart", []error{ErrRestartFailed, ctx.Err()}, nil, "",
				"%v (docker-compose): `docker compose version`: %v", ErrRestartFailed, ctx.Err())
		} else {
			probeNote = "`docker compose` unavailable"
		}
	}
	if argv == nil {
		dc, err := r.lookPath("docker-compose")
		if err != nil {
			return trigger{}, r.fail(openclaw.RestartMethodDockerCompose, "restart", []error{ErrRestartFailed}, nil,
				"install the Docker Compose plugin (`docker compose`) or the docker-compose binary for the bot's user",
				"%v (docker-compose): neither `docker compose` nor docker-compose is available", ErrRestartFailed)
		}
		argv, tool = []string{dc, "-f", file, "restart", svc}, "docker-compose"
	}
	check := fmt.Sprintf("`%s -f %s ps %s` and `%s -f %s logs --tail 50 %s`", tool, file, svc, tool, file, svc)
	if err := r.runChecked(ctx, openclaw.RestartMethodDockerCompose, argv, extra, dir, check); err != nil {
		return trigger{check: check}, err
	}
	detail := fmt.Sprintf("%s -f %s restart %s", tool, file, svc)
	if probeNote != "" {
		detail += " (" + probeNote + ")"
	}
	return trigger{detail: r.scrub(detail), sync: true, check: check}, nil
}

// --- command ---

// restartCommand runs the configured argv, without a shell.
func (restartCommand) name() string { return openclaw.RestartMethodCommand }
func (restartCommand) describe() string {
	return "whatever the configured command needs; it runs as the bot's user, without a shell"
}
func (restartCommand) validate(r *Restarter) []string {
	if _, err := r.commandArgv(); err != nil {
		return []string{err.Error()}
	}
	return nil
}

func (restartCommand) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	argv, _ := r.commandArgv()
	extra := map[string]string{}
	if sd := r.stateDir(); sd != "" {
		extra["OPENCLAW_STATE_DIR"] = sd
	}
	check := fmt.Sprintf("run the command by hand as the bot's user: %s", quoteArgv(argv))
	if err := r.runChecked(ctx, openclaw.RestartMethodCommand, argv, extra, "/", check); err != nil {
		return trigger{check: check}, err
	}
	return trigger{detail: r.scrub("ran " + quoteArgv(argv)), check: check}, nil
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`;&|<>(){}*?[]#~!") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// --- signal ---

// gatewayProc is one gateway process found in ProcRoot.
type gatewayProc struct {
	pid     int
	cmdline []byte
	start   string // /proc/<pid>/stat starttime: tells a reused pid apart
}

func (r *Restarter) procRoot() string {
	if r.ProcRoot == "" {
		return "/proc"
	}
	return r.ProcRoot
}

func (r *Restarter) home() string {
	if r.CLI != nil {
		return r.CLI.Loc.Home
	}
	return ""
}

// restartSignal sends the release's restart signal to the one gateway serving the state dir.
func (restartSignal) name() string { return openclaw.RestartMethodSignal }
func (restartSignal) describe() string {
	return "the same uid as the gateway process (or CAP_KILL), and /proc/<pid>/environ readable to prove it serves the state dir; sends SIGUSR2"
}
func (restartSignal) validate(r *Restarter) []string {
	if r.stateDir() == "" {
		return []string{"method signal needs the install's state dir"}
	}
	return nil
}

// restartSignal sends GatewayRestartSignal to the one gateway serving the
// state dir, after verifying it once more through a pidfd-backed handle.
func (restartSignal) trigger(ctx context.Context, r *Restarter) (trigger, error) {
	check := "the gateway log (OpenClaw 2026.9.6 writes /tmp/openclaw/openclaw-YYYY-MM-DD.log): `SIGUSR2 restart ignored (not authorized; commands.restart=false)` means openclaw.json disables restarts"
	stateDir := filepath.Clean(r.stateDir())
	refuse := func(format string, a ...any) (trigger, error) {
		return trigger{}, r.fail(openclaw.RestartMethodSignal, "restart", []error{ErrRestartRefused}, nil, "",
			"%v (signal): "+format, append([]any{ErrRestartRefused}, a...)...)
	}
	if err := ctx.Err(); err != nil {
		return trigger{}, r.fail(openclaw.RestartMethodSignal, "restart", []error{ErrRestartFailed, err}, nil, "",
			"%v (signal): %v", ErrRestartFailed, err)
	}
	found, unreadable, err := findGatewayProcs(r.procRoot(), stateDir, r.home())
	if err != nil {
		return refuse("cannot list processes in %s: %v", r.procRoot(), err)
	}
	switch {
	case len(found) == 0 && len(unreadable) > 0:
		return refuse("gateway process %s found but its environment is not readable, so it cannot be shown to serve %s; run the bot as the gateway's user",
			joinPids(unreadable), stateDir)
	case len(found) == 0:
		return refuse("no gateway process serving %s found in %s (not running, in a container, or in another pid namespace: use restart.method docker-compose or rpc)",
			stateDir, r.procRoot())
	case len(found) > 1:
		pids := make([]int, len(found))
		for i, g := range found {
			pids[i] = g.pid
		}
		return refuse("%d gateway processes serve %s (pids %s); refusing to guess which one to signal", len(found), stateDir, joinPids(pids))
	}
	g := found[0]
	version := gatewayVersion(r.procRoot(), g)
	how := "its openclaw package"
	if version == "" {
		version, how = r.Version, "openclaw.json meta.lastTouchedVersion"
	}
	sig, ok := RestartSignalFor(version)
	if !ok {
		return refuse("cannot tell which OpenClaw release gateway pid %d runs (no openclaw package.json on its command line, no version in openclaw.json): 2026.9.6+ restart on SIGUSR2, which kills older gateways (they restart on SIGUSR1, which opens 2026.9.6's debugger); use restart.method rpc or systemd",
			g.pid)
	}
	sigName := map[syscall.Signal]string{syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2"}[sig]
	// os.FindProcess holds a pidfd on Linux: once the pid is verified
	// below, the signal cannot reach a process that reused the pid.
	p, err := os.FindProcess(g.pid)
	if err != nil {
		return refuse("gateway pid %d: %v", g.pid, err)
	}
	defer p.Release()
	if r.beforeSignal != nil {
		r.beforeSignal(g.pid)
	}
	if why := verifyGatewayProc(r.procRoot(), g, stateDir, r.home()); why != "" {
		return refuse("gateway pid %d changed before the signal was sent (%s); nothing was sent", g.pid, why)
	}
	at := time.Now()
	if err := p.Signal(sig); err != nil {
		hint := check
		if errors.Is(err, syscall.EPERM) {
			hint = "the bot needs the gateway's uid (or CAP_KILL) to signal it"
		}
		return trigger{}, r.fail(openclaw.RestartMethodSignal, "restart", []error{ErrRestartFailed, err}, nil, hint,
			"%v (signal): sending %s to gateway pid %d: %v", ErrRestartFailed, sigName, g.pid, err)
	}
	// Not its command line: `gateway run --token …` would show a secret.
	return trigger{detail: fmt.Sprintf("sent %s to gateway pid %d (OpenClaw %s, from %s)", sigName, g.pid, version, how), check: check, at: at}, nil
}

// findGatewayProcs lists gateway processes (IsGatewayCmdline) serving
// stateDir, and the pids of gateways whose environment it cannot read.
func findGatewayProcs(procRoot, stateDir, home string) (found []gatewayProc, unreadable []int, err error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, nil, err
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || pid == self {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !openclaw.IsGatewayCmdline(cmd) {
			continue
		}
		env, err := readEnviron(filepath.Join(dir, "environ"))
		if err != nil {
			unreadable = append(unreadable, pid)
			continue
		}
		if !openclaw.GatewayServes(env, stateDir, home) {
			continue
		}
		found = append(found, gatewayProc{pid: pid, cmdline: cmd, start: procStartTime(dir)})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].pid < found[j].pid })
	sort.Ints(unreadable)
	return found, unreadable, nil
}

// verifyGatewayProc re-reads the process right before the signal; "" means
// it is still the gateway that was found.
func verifyGatewayProc(procRoot string, g gatewayProc, stateDir, home string) string {
	dir := filepath.Join(procRoot, strconv.Itoa(g.pid))
	cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	switch {
	case err != nil:
		return "cmdline unreadable: " + openclaw.DescribeErr(err)
	case len(cmd) == 0:
		return "it exited"
	case !openclaw.IsGatewayCmdline(cmd):
		return "no longer a gateway command line"
	case !bytes.Equal(cmd, g.cmdline):
		return "command line differs"
	}
	if st := procStartTime(dir); st != g.start {
		return "start time differs (pid reused)"
	}
	env, err := readEnviron(filepath.Join(dir, "environ"))
	if err != nil {
		return "environment unreadable: " + openclaw.DescribeErr(err)
	}
	if !openclaw.GatewayServes(env, stateDir, home) {
		return "no longer serves " + stateDir
	}
	return ""
}

func readEnviron(p string) (map[string]string, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(raw, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env, nil
}

// procStartTime is field 22 of /proc/<pid>/stat ("" when unreadable).
func procStartTime(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3 (state)
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// ---------------------------------------------------------------------------
// Running programs.

type restartRun struct {
	stdout, stderr *tailWriter
	exit           int
	took           time.Duration
	stopped        string // why we terminated it; "" = it exited by itself
	killed         bool
}

// runChecked runs argv and turns a failure into a *RestartError.
func (r *Restarter) runChecked(ctx context.Context, method string, argv []string, extra map[string]string, dir, check string) error {
	shown := quoteArgv(append([]string{filepath.Base(argv[0])}, argv[1:]...))
	run, err := r.exec(ctx, argv, extra, dir)
	if err != nil {
		return r.fail(method, "restart", []error{ErrRestartFailed, err}, nil, check,
			"%v (%s): %s: %v", ErrRestartFailed, method, shown, err)
	}
	out := r.lastLines(run.stderr.Bytes())
	if len(out) == 0 {
		out = r.lastLines(run.stdout.Bytes())
	}
	if run.stopped != "" {
		how := fmt.Sprintf("sent SIGTERM to its process group; it exited within the %s grace", r.grace())
		if run.killed {
			how = fmt.Sprintf("sent SIGTERM to its process group, then SIGKILL after the %s grace", r.grace())
		}
		errs := []error{ErrRestartFailed}
		if ce := ctx.Err(); ce != nil {
			errs = append(errs, ce)
		}
		return r.fail(method, "restart", errs, out, check, "%v (%s): %s %s (%s)", ErrRestartFailed, method, shown, run.stopped, how)
	}
	if run.exit != 0 {
		return r.fail(method, "restart", []error{ErrRestartFailed}, out, check,
			"%v (%s): %s exited with status %d", ErrRestartFailed, method, shown, run.exit)
	}
	return nil
}

func (r *Restarter) grace() time.Duration {
	if r.Grace > 0 {
		return r.Grace
	}
	return DefaultRestartGrace
}

// exec runs argv (argv[0] absolute) without a shell, with a minimal
// environment plus extra, in its own process group. When ctx ends first the
// group gets SIGTERM, then SIGKILL after the grace. An error means it could
// not be started.
func (r *Restarter) exec(ctx context.Context, argv []string, extra map[string]string, dir string) (*restartRun, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("not started: %v", err)
	}
	out := &restartRun{stdout: &tailWriter{max: restartOutputKeep}, stderr: &tailWriter{max: restartOutputKeep}}
	end, err := run.Program(ctx, run.Proc{
		Argv: argv, Env: restartEnv(extra), Dir: dir,
		Stdout: out.stdout, Stderr: out.stderr, Grace: r.grace(),
	})
	if err != nil {
		return nil, err
	}
	if end.Stopped {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			out.stopped = "timed out"
		} else {
			out.stopped = "was cancelled"
		}
	}
	out.killed, out.took, out.exit = end.Killed, end.Took, end.Exit
	return out, nil
}

// restartEnv is a child's whole environment: PATH, HOME, LANG and extra.
func restartEnv(extra map[string]string) []string {
	m := map[string]string{"LANG": "C.UTF-8", "NO_COLOR": "1", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
	m["PATH"] = os.Getenv("PATH")
	if m["PATH"] == "" {
		m["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		m["HOME"] = home
	}
	for k, v := range extra {
		m[k] = v
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	buf     []byte
	max     int
	dropped int64
}

func (w *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= w.max {
		w.dropped += int64(len(w.buf) + len(p) - w.max)
		w.buf = append(w.buf[:0], p[len(p)-w.max:]...)
		return n, nil
	}
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.dropped += int64(over)
		w.buf = w.buf[:copy(w.buf, w.buf[over:])]
	}
	return n, nil
}

func (w *tailWriter) Bytes() []byte { return w.buf }

var restartANSIRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// lastLines returns the last non-empty lines of output, cleaned, capped and
// scrubbed.
func (r *Restarter) lastLines(b []byte) []string {
	s := strings.ToValidUTF8(string(b), "?")
	s = restartANSIRE.ReplaceAllString(s, "")
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n") {
		l = strings.Map(func(c rune) rune {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return -1
			}
			return c
		}, l)
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > restartTailLines {
		lines = lines[len(lines)-restartTailLines:]
	}
	for i, l := range lines {
		lines[i] = text.Truncate(r.scrub(l), restartLineMax+1)
	}
	return lines
}

// ---------------------------------------------------------------------------
// Readiness.

// readyObs is one /readyz answer.
type readyObs struct {
	status  int // 0: no HTTP answer
	err     string
	ready   bool   // 200 and not {"ready":false}
	uptime  *int64 // uptimeMs, when present
	failing string // the "failing" list, compact
}

func (o readyObs) String() string {
	if o.status == 0 {
		return "no answer (" + o.err + ")"
	}
	s := fmt.Sprintf("HTTP %d", o.status)
	if o.failing != "" && o.failing != "[]" {
		s += " failing " + o.failing
	}
	if o.uptime != nil {
		s += fmt.Sprintf(", uptime %s", (time.Duration(*o.uptime) * time.Millisecond).Round(time.Millisecond))
	}
	return s
}

// waitReady polls ReadyURL until a new gateway instance is ready.
func (r *Restarter) waitReady(ctx context.Context, method string, start time.Time, tr trigger) (time.Duration, string, error) {
	interval := r.pollInterval
	if interval <= 0 {
		interval = restartPollInterval
	}
	client := r.client()
	var last readyObs
	polls, sawDown, stale := 0, false, false
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			waited := time.Since(start)
			return waited, "", r.notReady(ctx, method, tr, waited, last, polls, stale)
		case <-tick.C:
		}
		o := r.probe(ctx, client, r.ReadyURL)
		if ctx.Err() != nil && o.status == 0 {
			continue // the deadline cut this request short
		}
		polls++
		last = o
		elapsed := time.Since(start)
		if o.ready {
			// uptimeMs decides when the gateway reports it: a 200 from an
			// instance older than the trigger is the old gateway (or the
			// wrong unit was restarted). Without it, a synchronous method
			// or having seen the gateway down since the trigger counts.
			var fresh bool
			if o.uptime != nil {
				fresh = time.Duration(*o.uptime)*time.Millisecond <= elapsed
			} else {
				fresh = tr.sync || sawDown
			}
			if fresh {
				note := fmt.Sprintf("ready after %s", elapsed.Round(time.Millisecond))
				if o.uptime != nil {
					note += " (new instance, uptime " + (time.Duration(*o.uptime) * time.Millisecond).Round(time.Millisecond).String() + ")"
				}
				return elapsed, note, nil
			}
			stale = true
		} else {
			sawDown = true
		}
		tick.Reset(interval)
	}
}

func (r *Restarter) client() *http.Client {
	if r.httpClient != nil {
		return r.httpClient
	}
	return &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (r *Restarter) probe(ctx context.Context, client *http.Client, u string) readyObs {
	pctx, cancel := context.WithTimeout(ctx, restartProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, u, nil)
	if err != nil {
		return readyObs{err: err.Error()}
	}
	resp, err := client.Do(req)
	if err != nil {
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		return readyObs{err: r.scrub(msg)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, restartBodyMax))
	o := readyObs{status: resp.StatusCode, ready: resp.StatusCode == http.StatusOK}
	var doc struct {
		Ready    *bool           `json:"ready"`
		UptimeMs *float64        `json:"uptimeMs"`
		Failing  json.RawMessage `json:"failing"`
	}
	if json.Unmarshal(body, &doc) == nil {
		if doc.Ready != nil && !*doc.Ready {
			o.ready = false
		}
		if doc.UptimeMs != nil && *doc.UptimeMs >= 0 {
			u := int64(*doc.UptimeMs)
			o.uptime = &u
		}
		if len(doc.Failing) > 0 && string(doc.Failing) != "null" {
			o.failing = r.scrub(text.Truncate(string(doc.Failing), 201))
		}
	}
	return o
}

// notReady builds the error for a gateway that did not come back in time.
func (r *Restarter) notReady(ctx context.Context, method string, tr trigger, waited time.Duration, last readyObs, polls int, stale bool) error {
	waited = waited.Round(100 * time.Millisecond)
	ctxErr := ctx.Err()
	errs := []error{ErrRestartNotReady}
	if ctxErr != nil {
		errs = append(errs, ctxErr)
	}
	var why string
	switch {
	case !errors.Is(ctxErr, context.DeadlineExceeded):
		why = fmt.Sprintf("stopped waiting (%v)", ctxErr)
	case stale && last.ready:
		why = fmt.Sprintf("for %s the gateway at %s kept answering as an instance started before the restart (%s): the restart did not happen, is still pending, or restarted something else", waited, r.ReadyURL, last)
	case polls == 0:
		why = fmt.Sprintf("no answer from %s after %s", r.ReadyURL, waited)
	default:
		why = fmt.Sprintf("not ready after %s at %s; last answer: %s", waited, r.ReadyURL, last)
	}
	if r.HealthURL != "" && ctxErr != nil && errors.Is(ctxErr, context.DeadlineExceeded) {
		// The restart's own context is over; give the liveness check its own
		// short budget.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		h := r.probe(hctx, r.client(), r.HealthURL)
		cancel()
		if h.status == 0 {
			why += "; liveness " + r.HealthURL + ": " + h.String()
		} else {
			why += fmt.Sprintf("; liveness %s: HTTP %d", r.HealthURL, h.status)
		}
	}
	d := joinDetail(tr.detail, why)
	return r.fail(method, "ready", errs, nil, tr.check, "%v (%s): %s", ErrRestartNotReady, method, d)
}

// ---------------------------------------------------------------------------
// Errors and scrubbing.

func (r *Restarter) scrub(s string) string {
	s = r.Scrubber.String(s) // nil-safe
	if r.CLI != nil {
		return r.CLI.Scrub(s)
	}
	return redact.String(s)
}

func (r *Restarter) fail(method, stage string, errs []error, out []string, check, format string, a ...any) error {
	return &RestartError{
		Method: method,
		Stage:  stage,
		Msg:    r.scrub(fmt.Sprintf(format, a...)),
		Output: out,
		Check:  r.scrub(check),
		errs:   errs,
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
