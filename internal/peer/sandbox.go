package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default timeouts. A CLI call takes 2–7 s on a 2-core machine; a probe
// against a 429/529 server retries for minutes and must be cut off outside.
const (
	DefaultTimeout      = 90 * time.Second
	DefaultProbeTimeout = 60 * time.Second
)

// Sandbox is one isolated OpenClaw installation: a temp HOME whose
// ~/.openclaw is the state dir. All methods are safe for concurrent use, but
// OpenClaw itself serialises on its SQLite files, so run one command at a
// time per sandbox unless you mean to test contention.
type Sandbox struct {
	T   testing.TB
	CLI *CLI
	// Home is the HOME of every command; the state dir is Home/.openclaw.
	Home string
	// APIKey is the key the sandbox was onboarded with ("" if not onboarded).
	APIKey string
	// GatewayPort is gateway.port written at onboarding (a free port then).
	GatewayPort int
	// Timeout bounds every command (default DefaultTimeout).
	Timeout time.Duration
	// ProbeTimeout bounds Probe (default DefaultProbeTimeout).
	ProbeTimeout time.Duration
	// Quiet suppresses the per-command t.Log line.
	Quiet bool

	mu  sync.Mutex
	env map[string]string
	red redactor
}

// NewSandbox returns a sandbox with a fresh, empty temp HOME (removed when
// the test ends). Nothing is onboarded yet.
func NewSandbox(t testing.TB, cli *CLI) *Sandbox {
	t.Helper()
	if cli == nil {
		t.Fatal("peer.NewSandbox: nil CLI (use peer.Require)")
	}
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatalf("peer: create sandbox HOME: %v", err)
	}
	return newSandbox(t, cli, home)
}

func newSandbox(t testing.TB, cli *CLI, home string) *Sandbox {
	return &Sandbox{T: t, CLI: cli, Home: home, Timeout: DefaultTimeout, ProbeTimeout: DefaultProbeTimeout, env: map[string]string{}}
}

// StateDir is $HOME/.openclaw.
func (s *Sandbox) StateDir() string { return filepath.Join(s.Home, ".openclaw") }

// ConfigPath is $STATE/openclaw.json.
func (s *Sandbox) ConfigPath() string { return filepath.Join(s.StateDir(), "openclaw.json") }

// StateDBPath is $STATE/state/openclaw.sqlite.
func (s *Sandbox) StateDBPath() string {
	return filepath.Join(s.StateDir(), "state", "openclaw.sqlite")
}

// AgentDir is the conventional $STATE/agents/<id>/agent.
func (s *Sandbox) AgentDir(agentID string) string {
	return filepath.Join(s.StateDir(), "agents", agentID, "agent")
}

// AgentDBPath is $STATE/agents/<id>/agent/openclaw-agent.sqlite.
func (s *Sandbox) AgentDBPath(agentID string) string {
	return filepath.Join(s.AgentDir(agentID), "openclaw-agent.sqlite")
}

// Setenv adds a variable to the environment of every later command (e.g.
// ANTHROPIC_API_KEY for env-conflict scenarios). Values of variables whose
// names look sensitive are redacted from logs.
func (s *Sandbox) Setenv(key, value string) {
	s.mu.Lock()
	s.env[key] = value
	s.mu.Unlock()
	if sensitiveEnvName(key) {
		s.red.add(value)
	}
}

// Unsetenv removes a variable added with Setenv.
func (s *Sandbox) Unsetenv(key string) {
	s.mu.Lock()
	delete(s.env, key)
	s.mu.Unlock()
}

// AddSecret registers strings that must never appear in logs or errors.
func (s *Sandbox) AddSecret(secrets ...string) { s.red.add(secrets...) }

// Redact replaces every registered secret (and anything that looks like an
// Anthropic credential) in text.
func (s *Sandbox) Redact(text string) string { return s.red.redact(text) }

// Env returns the complete environment commands run with.
func (s *Sandbox) Env(extra ...string) []string {
	env := s.CLI.baseEnv(s.Home)
	s.mu.Lock()
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = setEnv(env, k+"="+s.env[k])
	}
	s.mu.Unlock()
	for _, kv := range extra {
		env = setEnv(env, kv)
	}
	return env
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// RunOptions tune one command.
type RunOptions struct {
	Stdin   string        // piped to the command (paste-api-key / paste-token read secrets from it)
	Env     []string      // "K=V" added to the sandbox environment for this command only
	Timeout time.Duration // default Sandbox.Timeout
}

// Result is the outcome of one command.
type Result struct {
	Args     []string // as run, secrets redacted
	Stdout   string
	Stderr   string
	RC       int // exit code; -1 if the command could not start or was killed
	Duration time.Duration
	Err      error // start failure or timeout (RC is then -1)
	TimedOut bool
}

// Run runs `openclaw args...` in the sandbox with the minimal environment
// and returns stdout, stderr and the exit code (-1 if it could not start or
// timed out; stderr then ends with the reason).
func (s *Sandbox) Run(args ...string) (stdout, stderr string, rc int) {
	r := s.Exec(RunOptions{}, args...)
	stderr = r.Stderr
	if r.Err != nil {
		stderr += "\n[peer] " + r.Err.Error()
	}
	return r.Stdout, stderr, r.RC
}

// Exec runs `openclaw args...` with options.
func (s *Sandbox) Exec(opts RunOptions, args ...string) Result {
	for _, kv := range opts.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && sensitiveEnvName(k) {
			s.red.add(v)
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = s.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	red := make([]string, len(args))
	for i, a := range args {
		red[i] = s.red.redact(a)
	}
	res := Result{Args: red}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.CLI.Bin, args...)
	cmd.Env = s.Env(opts.Env...)
	cmd.Dir = s.Home // ./.env in the cwd is an env source: keep it inside the sandbox
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if opts.Stdin != "" {
		cmd.Stdin = strings.NewReader(opts.Stdin)
	}
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = out.String(), errb.String()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.RC, res.TimedOut = -1, true
		res.Err = fmt.Errorf("openclaw %s: killed after %s (timeout)", strings.Join(red, " "), timeout)
	case err == nil:
		res.RC = 0
	case errors.As(err, &exitErr):
		res.RC = exitErr.ExitCode()
	default:
		res.RC = -1
		res.Err = fmt.Errorf("openclaw %s: %v", strings.Join(red, " "), err)
	}
	if !s.Quiet {
		line := fmt.Sprintf("peer: openclaw %s → rc %d in %.1fs", strings.Join(red, " "), res.RC, res.Duration.Seconds())
		if res.RC != 0 {
			line += " stderr: " + s.red.redact(head(res.Stderr, 400))
		}
		s.T.Log(line)
	}
	return res
}

// fail builds an error for a command that did not succeed.
func (s *Sandbox) fail(what string, r Result) error {
	if r.Err != nil {
		return fmt.Errorf("%s: %w", what, r.Err)
	}
	msg := head(r.Stderr, 600)
	if msg == "" {
		msg = head(r.Stdout, 600)
	}
	return fmt.Errorf("%s: openclaw %s exited %d: %s", what, strings.Join(r.Args, " "), r.RC, s.red.redact(msg))
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// OnboardResult is the stdout of `openclaw onboard --json`.
type OnboardResult struct {
	OK         bool   `json:"ok"`
	Mode       string `json:"mode"`
	Workspace  string `json:"workspace"`
	AuthChoice string `json:"authChoice"`
	Gateway    struct {
		Port         int    `json:"port"`
		Bind         string `json:"bind"`
		AuthMode     string `json:"authMode"`
		TailscaleMod string `json:"tailscaleMode"`
	} `json:"gateway"`
}

// Onboard runs the non-interactive onboarding of OPENCLAW.md §3 with the
// given API key (stored as profile anthropic:default) and a free gateway
// port. It takes ≈ 5–7 s; prefer NewOnboardedSandbox, which copies a
// template onboarded once per test process.
func (s *Sandbox) Onboard(apiKey string) error {
	if apiKey == "" {
		return errors.New("onboard: empty API key")
	}
	s.red.add(apiKey)
	port, err := FreePort()
	if err != nil {
		return fmt.Errorf("onboard: pick gateway port: %w", err)
	}
	r := s.Exec(RunOptions{}, "onboard", "--non-interactive", "--accept-risk", "--mode", "local",
		"--auth-choice", "apiKey", "--anthropic-api-key", apiKey,
		"--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks",
		"--gateway-bind", "loopback", "--gateway-port", fmt.Sprint(port), "--json")
	if r.RC != 0 || r.Err != nil {
		return s.fail("onboard", r)
	}
	var res OnboardResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &res); err != nil || !res.OK {
		return fmt.Errorf("onboard: unexpected stdout (err %v): %s", err, s.red.redact(head(r.Stdout, 400)))
	}
	if _, err := os.Stat(s.StateDBPath()); err != nil {
		return fmt.Errorf("onboard: succeeded but %s is missing: %v", s.StateDBPath(), err)
	}
	s.APIKey = apiKey
	s.GatewayPort = port
	return nil
}

// ReadConfig returns openclaw.json.
func (s *Sandbox) ReadConfig() ([]byte, error) { return os.ReadFile(s.ConfigPath()) }

// WriteConfig replaces openclaw.json (atomically, mode 0600). The content is
// written as given, so tests can write invalid JSON or schema errors.
func (s *Sandbox) WriteConfig(b []byte) error {
	if err := os.MkdirAll(s.StateDir(), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return writeFileAtomic(s.ConfigPath(), b, 0o600)
}

// EditConfig decodes openclaw.json (strict JSON; OpenClaw writes plain JSON),
// lets fn change it and writes it back with two-space indentation. Object
// key order is not preserved (OpenClaw does not care).
func (s *Sandbox) EditConfig(fn func(cfg map[string]any) error) error {
	b, err := s.ReadConfig()
	if err != nil {
		return fmt.Errorf("edit config: %w", err)
	}
	cfg := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("edit config: %s is not plain JSON: %w", s.ConfigPath(), err)
	}
	if err := fn(cfg); err != nil {
		return fmt.Errorf("edit config: %w", err)
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("edit config: %w", err)
	}
	return s.WriteConfig(append(out, '\n'))
}

// Obj returns m[key] as an object, creating it if absent.
func Obj(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}

// SetBaseURL points models.providers.anthropic.baseUrl at url (e.g. a
// fakeanthropic server) by editing openclaw.json — equivalent to
// `openclaw config set models.providers.anthropic.baseUrl <url>` but ~3 s faster.
func (s *Sandbox) SetBaseURL(url string) error {
	return s.EditConfig(func(cfg map[string]any) error {
		Obj(Obj(Obj(cfg, "models"), "providers"), "anthropic")["baseUrl"] = url
		return nil
	})
}

// AddAgentConfig adds agent id to agents.entries with agentDir
// $STATE/agents/<id>/agent and workspace $STATE/workspace-<id>, and sets
// agents.ownership="explicit" (2026.9.6 rejects a multi-agent roster
// without it). This is what `openclaw agents add <id> --non-interactive
// --workspace …` writes (minus defaults.systemAgent/heartbeat), in 0 s
// instead of ~10 s.
func (s *Sandbox) AddAgentConfig(id string) error {
	return s.EditConfig(func(cfg map[string]any) error {
		agents := Obj(cfg, "agents")
		agents["ownership"] = "explicit"
		Obj(agents, "entries")[id] = map[string]any{
			"name":      id,
			"workspace": filepath.Join(s.StateDir(), "workspace-"+id),
			"agentDir":  s.AgentDir(id),
			"identity":  map[string]any{"name": id},
		}
		return nil
	})
}

// PasteAPIKey stores key via `openclaw models auth paste-api-key --provider
// anthropic [--profile-id id]` (secret on stdin). Without a profile id the
// CLI reuses the first api_key profile (anthropic:default) or creates
// anthropic:manual.
func (s *Sandbox) PasteAPIKey(key, profileID string) error {
	return s.PasteAPIKeyFor("", key, profileID)
}

// PasteAPIKeyFor is PasteAPIKey for a specific agent (--agent).
func (s *Sandbox) PasteAPIKeyFor(agent, key, profileID string) error {
	s.red.add(key)
	args := []string{"models", "auth", "paste-api-key", "--provider", "anthropic"}
	if profileID != "" {
		args = append(args, "--profile-id", profileID)
	}
	if agent != "" {
		args = append(args, "--agent", agent)
	}
	r := s.Exec(RunOptions{Stdin: key}, args...)
	if r.RC != 0 || r.Err != nil {
		return s.fail("paste-api-key", r)
	}
	return nil
}

// PasteToken stores a setup token via `openclaw models auth paste-token
// --provider anthropic [--profile-id id] [--expires-in d]` (secret on
// stdin; it must start with sk-ant-oat01- and be >= 80 chars).
func (s *Sandbox) PasteToken(token, profileID, expiresIn string) error {
	s.red.add(token)
	args := []string{"models", "auth", "paste-token", "--provider", "anthropic"}
	if profileID != "" {
		args = append(args, "--profile-id", profileID)
	}
	if expiresIn != "" {
		args = append(args, "--expires-in", expiresIn)
	}
	r := s.Exec(RunOptions{Stdin: token}, args...)
	if r.RC != 0 || r.Err != nil {
		return s.fail("paste-token", r)
	}
	return nil
}

// Logout removes a profile and its usage stats: `openclaw models auth logout <id> --yes`.
func (s *Sandbox) Logout(profileID string) error {
	r := s.Exec(RunOptions{}, "models", "auth", "logout", profileID, "--yes")
	if r.RC != 0 || r.Err != nil {
		return s.fail("logout "+profileID, r)
	}
	return nil
}

// ModelsStatusJSON runs `openclaw models status --json [--agent agent]` and
// parses it. The CLI's error form yields the parsed value and a *CLIError.
func (s *Sandbox) ModelsStatusJSON(agent string) (*ModelsStatus, error) {
	args := []string{"models", "status", "--json"}
	if agent != "" {
		args = append(args, "--agent", agent)
	}
	st, _, err := s.ModelsStatus(RunOptions{}, args...)
	return st, err
}

// Probe runs `openclaw models status --probe --probe-provider anthropic
// --json` (a real POST {baseUrl}/v1/messages per profile; it records
// cooldowns) with ProbeTimeout as an outside limit: against 429/529 the CLI
// retries for minutes regardless of --probe-timeout. Set the base URL to a
// fake first.
func (s *Sandbox) Probe(extraArgs ...string) (*ModelsStatus, error) {
	args := append([]string{"models", "status", "--probe", "--probe-provider", "anthropic", "--json"}, extraArgs...)
	st, _, err := s.ModelsStatus(RunOptions{Timeout: s.ProbeTimeout}, args...)
	return st, err
}

// ModelsStatus runs any `openclaw models status … --json` command line and
// parses stdout; the Result is returned too (exit code, stderr, timing).
func (s *Sandbox) ModelsStatus(opts RunOptions, args ...string) (*ModelsStatus, Result, error) {
	r := s.Exec(opts, args...)
	if r.Err != nil {
		return nil, r, s.fail("models status", r)
	}
	st, err := ParseModelsStatus([]byte(r.Stdout))
	var cliErr *CLIError
	switch {
	case errors.As(err, &cliErr):
		return st, r, fmt.Errorf("openclaw %s (rc %d): %w", strings.Join(r.Args, " "), r.RC, &CLIError{Type: cliErr.Type, Message: s.red.redact(cliErr.Message)})
	case err != nil:
		return st, r, fmt.Errorf("%w (rc %d, stderr: %s)", err, r.RC, s.red.redact(head(r.Stderr, 400)))
	case r.RC != 0:
		return st, r, s.fail("models status", r)
	}
	return st, r, nil
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
