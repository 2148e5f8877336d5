// Package run is the one guarded way the bot starts a process: the
// allow-listed `openclaw` CLI (CLI) and the fixed argv of a gateway restart
// (Program). Nothing else in the module imports os/exec to start anything;
// the read-only package openclaw cannot import this one (see
// openclaw.TestReadOnlyImports).
package run

// cli.go — the one guarded way the bot runs the real `openclaw` CLI.
//
// Nothing here takes free text: every subcommand the bot may run is listed in
// cliCommands together with the flags it always gets, and the typed methods
// (ModelsStatus, DoctorLint, GatewayCall, Version, …) build argv from validated
// values only. The final argv is checked against the allow-list once more right
// before spawning, so a bug in a method cannot smuggle in `--probe`, drop
// `--json` (text-mode `models status` destroys expired OAuth logins, see
// OPENCLAW.md §6.4) or call a mutating gateway method.
//
// The child gets a minimal environment (nothing of the bot's own: no SLACK_*,
// TELEGRAM_*, ANTHROPIC_* …), runs in its own process group and, on timeout or
// cancellation, gets SIGTERM first and SIGKILL only after a grace period.
//
// Gateway token: OpenClaw 2026.9.6 reads OPENCLAW_GATEWAY_TOKEN from the
// environment (dist/credentials-*.mjs resolveLocalGatewayCredentials). For a
// local gateway the precedence is config-first: gateway.auth.token in
// openclaw.json wins and the env token is the fallback; for gateway.mode
// "remote" it is gateway.remote.token, then env. We pass CLI.GatewayToken only
// through that variable (never `--token` in argv, which `ps` would show) and
// only to commands that talk to the gateway.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Defaults for CLI.
const (
	DefaultTimeout = 60 * time.Second
	DefaultGrace   = 10 * time.Second
	// DefaultMaxOutput caps each of stdout and stderr; the rest is drained
	// and dropped so the child never blocks on a full pipe.
	DefaultMaxOutput = 4 << 20

	// doctor --fix may migrate state; give it time to finish cleanly.
	cliDoctorFixGrace = 60 * time.Second
	// doctor --non-interactive waits 60 s for a gateway on its own (§10).
	cliDoctorFixTimeout = 3 * time.Minute
)

// Errors returned (wrapped) by CLI methods; test with errors.Is. Reports from
// the CLI itself ({"ok":false,"error":…}) are *CLIError instead.
var (
	// ErrNotFound: the binary (or its Node interpreter) is missing.
	ErrNotFound = errors.New("openclaw CLI not found")
	// ErrVersionMismatch: the CLI's version differs from CLI.ExpectVersion.
	ErrVersionMismatch = errors.New("openclaw CLI version mismatch")
	// ErrTimeout: the run exceeded its timeout (or the context deadline)
	// and was terminated.
	ErrTimeout = errors.New("openclaw CLI timed out")
	// ErrNotJSON: a JSON command printed something that is not JSON.
	ErrNotJSON = errors.New("openclaw CLI output is not JSON")
	// ErrNotAllowed: the command is not on the allow-list; nothing ran.
	ErrNotAllowed = errors.New("openclaw command not allowed")
	// ErrInvalidArg: an id or parameter failed validation; nothing ran.
	ErrInvalidArg = errors.New("invalid openclaw argument")
	// ErrExit: the CLI exited with a failure code and no JSON error.
	ErrExit = errors.New("openclaw CLI failed")
	// ErrOutputTooLarge: stdout exceeded the cap, so it could not be parsed.
	ErrOutputTooLarge = errors.New("openclaw CLI output too large")
)

// CLI runs the `openclaw` binary for one install. Use a pointer; the zero
// value plus Bin and Loc is usable. Safe for concurrent use (do not change
// the fields while calls are running).
type CLI struct {
	// Bin is the openclaw executable (targets[].openclaw_bin). Empty means
	// "openclaw" looked up on the bot's PATH. Its directory is put first on
	// the child's PATH so a Node installed next to it is found.
	Bin string
	// Loc is the install; its dirs become OPENCLAW_STATE_DIR,
	// OPENCLAW_CONFIG_PATH, OPENCLAW_AGENT_DIR and HOME.
	Loc openclaw.Location
	// Timeout per run (default DefaultTimeout). DoctorFix uses at least 3 min.
	Timeout time.Duration
	// Grace between SIGTERM and SIGKILL (default DefaultGrace). DoctorFix
	// uses at least 60 s.
	Grace time.Duration
	// ExpectVersion is the install's meta.lastTouchedVersion. When set, every
	// command first checks `openclaw --version` (cached) and refuses to run a
	// CLI of another version against the install.
	ExpectVersion string
	// GatewayToken is passed as env OPENCLAW_GATEWAY_TOKEN to commands that
	// talk to the gateway, never in argv.
	GatewayToken redact.Secret
	// ExtraEnv is added to the child's minimal environment (it may override
	// PATH, LANG and the like, but not HOME, the OPENCLAW_* location variables
	// or OPENCLAW_GATEWAY_TOKEN). Values of names that look like credentials
	// (…TOKEN, …KEY, …SECRET, …PASSWORD) are scrubbed from errors.
	ExtraEnv map[string]string
	// Scrubber, if set, is applied to every error message (in addition to the
	// gateway token and credential-shaped strings, which are always scrubbed).
	Scrubber *redact.Scrubber

	maxOutput int // 0 = DefaultMaxOutput (tests lower it)

	mu      sync.Mutex
	verKey  string // bin + stat of the binary the cached version belongs to
	version string
}

// Result is one finished run.
type Result struct {
	// Args is argv after the binary, scrubbed: safe to log.
	Args []string `json:"args"`
	// Stdout and Stderr are raw (capped) output; scrub before showing them.
	Stdout []byte `json:"-"`
	Stderr []byte `json:"-"`
	// StdoutTruncated/StderrTruncated say the cap was hit.
	StdoutTruncated bool `json:"stdout_truncated,omitempty"`
	StderrTruncated bool `json:"stderr_truncated,omitempty"`
	// ExitCode is the exit status; -1 when killed by a signal.
	ExitCode int           `json:"exit_code"`
	Duration time.Duration `json:"duration"`
	// JSON is the JSON document found on stdout (JSON commands only).
	JSON json.RawMessage `json:"-"`
}

// Command is Args joined, for messages.
func (r *Result) Command() string { return "openclaw " + strings.Join(r.Args, " ") }

// Decode unmarshals the JSON output into v.
func (r *Result) Decode(v any) error {
	if r == nil || len(r.JSON) == 0 {
		return fmt.Errorf("%w: no JSON output", ErrNotJSON)
	}
	return json.Unmarshal(r.JSON, v)
}

// CLIError is an error the CLI reported itself as JSON on stdout:
// {"ok":false,"error":{"type":"cli_error","message":…}} (models status,
// doctor), {"type":"gateway_transport_error","kind":"closed",…} or
// {"type":"gateway_request_error","code":"INVALID_REQUEST",…} (gateway),
// or {"ok":false,"error":"…"} (gateway restart). Fields are scrubbed.
type CLIError struct {
	Command   string `json:"command"` // e.g. "openclaw models status --json"
	ExitCode  int    `json:"exit_code"`
	Type      string `json:"type,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
	Reason    string `json:"reason,omitempty"`
	Retryable bool   `json:"retryable,omitempty"`
}

func (e *CLIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Command)
	b.WriteString(": ")
	if e.Type != "" {
		b.WriteString(e.Type)
		if d := cmp.Or(e.Code, e.Kind); d != "" {
			b.WriteString(" (" + d + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Reason != "" && !strings.Contains(e.Message, e.Reason) {
		b.WriteString(" [" + e.Reason + "]")
	}
	return b.String()
}

// GatewayUnreachable reports a transport failure (no gateway listening,
// timeout) as opposed to an error returned by a running gateway.
func (e *CLIError) GatewayUnreachable() bool { return e.Type == "gateway_transport_error" }

// ProbeOptions narrows ModelsProbe.
type ProbeOptions struct {
	AgentID    string        // --agent
	Provider   string        // --probe-provider, e.g. "anthropic"
	ProfileIDs []string      // --probe-profile, e.g. "anthropic:default"
	Timeout    time.Duration // --probe-timeout per probe (OpenClaw default 8 s)
	MaxTokens  int           // --probe-max-tokens (OpenClaw default 8)
}

// ---------------------------------------------------------------------------
// Allow-list.

// cliFlag is one flag of a command. want: exact value; check: validator for a
// variable value; neither: a boolean flag.
type cliFlag struct {
	name  string
	want  string
	check func(string) error
}

type cliCommand struct {
	name     string   // for messages
	path     []string // subcommand words
	method   bool     // a gateway method follows the path
	fixed    []cliFlag
	optional []cliFlag
	// spendsTokens: sends real provider requests; needs the explicit opt-in
	// methods (ModelsProbe, GatewayProbe).
	spendsTokens bool
	gateway      bool // talks to the gateway: gets OPENCLAW_GATEWAY_TOKEN
	jsonOut      bool
	okExit       []int // exit codes that are not failures
	minTimeout   time.Duration
	minGrace     time.Duration
}

// cliGatewayMethods are the only methods for `openclaw gateway call`;
// true marks methods that spend tokens.
var cliGatewayMethods = map[string]bool{
	"health":             false,
	"status":             false,
	"models.authStatus":  false,
	"models.authRefresh": false,
	// secrets.reload: how 2026.2.26 – 7.x gateways reload their in-memory
	// auth state (operator.admin; see RefreshSecrets).
	"secrets.reload":          false,
	"models.probe":            true,
	"gateway.restart.request": false,
	"logs.tail":               false,
}

var (
	cmdVersion      = &cliCommand{name: "version", path: []string{"--version"}, okExit: []int{0}}
	cmdModelsStatus = &cliCommand{name: "models status", path: []string{"models", "status"},
		fixed:    []cliFlag{{name: "--json"}},
		optional: []cliFlag{{name: "--agent", check: cliCheckAgentID}},
		jsonOut:  true, okExit: []int{0}}
	cmdModelsProbe = &cliCommand{name: "models status --probe", path: []string{"models", "status"},
		fixed: []cliFlag{{name: "--json"}, {name: "--probe"}},
		optional: []cliFlag{{name: "--agent", check: cliCheckAgentID},
			{name: "--probe-provider", check: cliCheckProvider},
			{name: "--probe-profile", check: cliCheckProfileList},
			{name: "--probe-timeout", check: cliCheckPositiveInt},
			{name: "--probe-max-tokens", check: cliCheckPositiveInt}},
		spendsTokens: true, jsonOut: true, okExit: []int{0}}
	cmdAuthList = &cliCommand{name: "models auth list", path: []string{"models", "auth", "list"},
		fixed: []cliFlag{{name: "--json"}},
		optional: []cliFlag{{name: "--agent", check: cliCheckAgentID},
			{name: "--provider", check: cliCheckProvider}},
		jsonOut: true, okExit: []int{0}}
	cmdDoctorLint = &cliCommand{name: "doctor --lint", path: []string{"doctor"},
		fixed: []cliFlag{{name: "--lint"}, {name: "--only", want: "core/doctor/auth-profiles"}, {name: "--json"}},
		// exit 1 only means "there are findings".
		jsonOut: true, okExit: []int{0, 1}}
	cmdDoctorFix = &cliCommand{name: "doctor --fix", path: []string{"doctor"},
		fixed:   []cliFlag{{name: "--fix"}, {name: "--non-interactive"}, {name: "--yes"}},
		gateway: true, okExit: []int{0},
		minTimeout: cliDoctorFixTimeout, minGrace: cliDoctorFixGrace}
	cmdGatewayCall = &cliCommand{name: "gateway call", path: []string{"gateway", "call"}, method: true,
		fixed:   []cliFlag{{name: "--params", check: cliCheckParams}, {name: "--json"}},
		gateway: true, jsonOut: true, okExit: []int{0}}
	cmdGatewayRestart = &cliCommand{name: "gateway restart", path: []string{"gateway", "restart"},
		fixed:   []cliFlag{{name: "--json"}},
		gateway: true, jsonOut: true, okExit: []int{0}}
	cmdHealth = &cliCommand{name: "health", path: []string{"health"},
		fixed:   []cliFlag{{name: "--json"}},
		gateway: true, jsonOut: true, okExit: []int{0}}

	cliCommands = []*cliCommand{cmdVersion, cmdModelsStatus, cmdModelsProbe, cmdAuthList,
		cmdDoctorLint, cmdDoctorFix, cmdGatewayCall, cmdGatewayRestart, cmdHealth}
)

// cliMatch returns the allow-listed command argv is an instance of.
// spend is the explicit opt-in for token-spending commands and methods.
func cliMatch(argv []string, spend bool) (*cliCommand, error) {
	var why []string
	for _, c := range cliCommands {
		err := c.match(argv, spend)
		if err == nil {
			return c, nil
		}
		if len(argv) >= len(c.path) && slices.Equal(argv[:len(c.path)], c.path) {
			why = append(why, err.Error())
		}
	}
	shown := text.Truncate(strings.Join(argv, " "), 121)
	if len(why) == 0 {
		return nil, fmt.Errorf("%w: `openclaw %s` is not on the allow-list", ErrNotAllowed, shown)
	}
	return nil, fmt.Errorf("%w: `openclaw %s`: %s", ErrNotAllowed, shown, strings.Join(why, "; "))
}

func (c *cliCommand) match(argv []string, spend bool) error {
	if len(argv) < len(c.path) || !slices.Equal(argv[:len(c.path)], c.path) {
		return fmt.Errorf("not %s", c.name)
	}
	rest := argv[len(c.path):]
	if c.method {
		if len(rest) == 0 {
			return fmt.Errorf("%s: missing method", c.name)
		}
		spends, ok := cliGatewayMethods[rest[0]]
		if !ok {
			return fmt.Errorf("%s: method %q is not allowed", c.name, rest[0])
		}
		if spends && !spend {
			return fmt.Errorf("%s: method %q spends tokens; use GatewayProbe", c.name, rest[0])
		}
		rest = rest[1:]
	}
	if c.spendsTokens && !spend {
		return fmt.Errorf("%s spends tokens; use ModelsProbe", c.name)
	}
	for _, f := range c.fixed {
		if len(rest) == 0 || rest[0] != f.name {
			return fmt.Errorf("%s: must have %s", c.name, f.name)
		}
		rest = rest[1:]
		if f.want == "" && f.check == nil {
			continue
		}
		if len(rest) == 0 {
			return fmt.Errorf("%s: %s needs a value", c.name, f.name)
		}
		if f.want != "" && rest[0] != f.want {
			return fmt.Errorf("%s: %s must be %q", c.name, f.name, f.want)
		}
		if f.check != nil {
			if err := f.check(rest[0]); err != nil {
				return fmt.Errorf("%s %s: %v", c.name, f.name, err)
			}
		}
		rest = rest[1:]
	}
	seen := map[string]bool{}
	for len(rest) > 0 {
		var f *cliFlag
		for i := range c.optional {
			if c.optional[i].name == rest[0] {
				f = &c.optional[i]
			}
		}
		if f == nil {
			return fmt.Errorf("%s: argument %q is not allowed", c.name, rest[0])
		}
		if seen[f.name] {
			return fmt.Errorf("%s: %s given twice", c.name, f.name)
		}
		seen[f.name] = true
		if len(rest) < 2 {
			return fmt.Errorf("%s: %s needs a value", c.name, f.name)
		}
		if err := f.check(rest[1]); err != nil {
			return fmt.Errorf("%s %s: %v", c.name, f.name, err)
		}
		rest = rest[2:]
	}
	return nil
}

// ---------------------------------------------------------------------------
// Validation of the values that end up in argv.

var (
	// OpenClaw's VALID_ID_RE (dist/agent-id-*.mjs). Compiled on first use:
	// bounded repeats ({0,63}) compile into large programs, ~0.5 ms of
	// every command's start-up otherwise.
	cliAgentIDRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`) })
	cliProviderRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })
	// provider:name, e.g. anthropic:default, openai-codex:me@example.com.
	cliProfileIDRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}:[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)
	})
	cliEnvNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	cliSecretNameRE = regexp.MustCompile(`(?i)(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL)`)
	VersionRE       = regexp.MustCompile(`\b(\d{4}\.\d{1,2}\.\d{1,3}(?:[-+][0-9A-Za-z.-]+)?)\b`)
)

const cliMaxParams = 64 << 10

func cliCheckAgentID(s string) error {
	if re := cliAgentIDRE(); !re.MatchString(s) {
		return fmt.Errorf("agent id %q must match %s", text.Truncate(s, 41), re)
	}
	return nil
}

func cliCheckProvider(s string) error {
	if re := cliProviderRE(); !re.MatchString(s) {
		return fmt.Errorf("provider id %q must match %s", text.Truncate(s, 41), re)
	}
	return nil
}

func cliCheckProfileID(s string) error {
	if re := cliProfileIDRE(); !re.MatchString(s) {
		return fmt.Errorf("profile id %q must match %s", text.Truncate(s, 41), re)
	}
	return nil
}

func cliCheckProfileList(s string) error {
	for _, p := range strings.Split(s, ",") {
		if err := cliCheckProfileID(p); err != nil {
			return err
		}
	}
	return nil
}

func cliCheckPositiveInt(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || strconv.Itoa(n) != s {
		return fmt.Errorf("%q is not a positive integer", text.Truncate(s, 41))
	}
	return nil
}

// cliCheckParams accepts a compact JSON object whose well-known id fields are
// valid. Params are visible in argv (ps), so no allowed method takes secrets.
func cliCheckParams(s string) error {
	if len(s) > cliMaxParams {
		return fmt.Errorf("params larger than %d bytes", cliMaxParams)
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return errors.New("params must be one JSON object")
	}
	checks := map[string]func(string) error{
		"agentId": cliCheckAgentID, "profileId": cliCheckProfileID, "provider": cliCheckProvider,
	}
	for k, check := range checks {
		v, ok := obj[k]
		if !ok {
			continue
		}
		str, isStr := v.(string)
		if !isStr {
			return fmt.Errorf("params.%s must be a string", k)
		}
		if err := check(str); err != nil {
			return fmt.Errorf("params.%s: %v", k, err)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Typed entry points.

// Version runs `openclaw --version` and returns the version ("2026.9.6").
// The answer is cached per binary (invalidated when the file changes).
func (c *CLI) Version(ctx context.Context) (string, error) {
	bin, err := c.bin()
	if err != nil {
		return "", err
	}
	return c.cliVersion(ctx, bin)
}

// ModelsStatus runs `openclaw models status --json [--agent ID]` — read-only,
// never the text mode (which can destroy expired OAuth logins). agentID may
// be empty for the default agent.
func (c *CLI) ModelsStatus(ctx context.Context, agentID string) (*Result, error) {
	argv := []string{"models", "status", "--json"}
	if agentID != "" {
		if err := cliCheckAgentID(agentID); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidArg, err)
		}
		argv = append(argv, "--agent", agentID)
	}
	return c.run(ctx, argv, false)
}

// ModelsProbe runs `openclaw models status --json --probe …`.
//
// SPENDS TOKENS and is NOT read-only: it sends real requests to the provider
// (a 401 writes an auth cooldown, success resets failure counters), refuses to
// run while a gateway owns the state dir (use GatewayProbe then), and can
// retry for minutes on 429/529 — CLI.Timeout bounds it. Only call it when a
// user explicitly asked for a live check.
func (c *CLI) ModelsProbe(ctx context.Context, o ProbeOptions) (*Result, error) {
	argv := []string{"models", "status", "--json", "--probe"}
	add := func(flag, val string, check func(string) error) error {
		if err := check(val); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArg, err)
		}
		argv = append(argv, flag, val)
		return nil
	}
	if o.AgentID != "" {
		if err := add("--agent", o.AgentID, cliCheckAgentID); err != nil {
			return nil, err
		}
	}
	if o.Provider != "" {
		if err := add("--probe-provider", o.Provider, cliCheckProvider); err != nil {
			return nil, err
		}
	}
	if len(o.ProfileIDs) > 0 {
		if err := add("--probe-profile", strings.Join(o.ProfileIDs, ","), cliCheckProfileList); err != nil {
			return nil, err
		}
	}
	if o.Timeout > 0 {
		ms := max(o.Timeout.Milliseconds(), 1)
		if err := add("--probe-timeout", strconv.FormatInt(ms, 10), cliCheckPositiveInt); err != nil {
			return nil, err
		}
	}
	if o.MaxTokens > 0 {
		if err := add("--probe-max-tokens", strconv.Itoa(o.MaxTokens), cliCheckPositiveInt); err != nil {
			return nil, err
		}
	}
	return c.run(ctx, argv, true)
}

// ModelsAuthList runs `openclaw models auth list --json [--agent ID] [--provider P]`.
func (c *CLI) ModelsAuthList(ctx context.Context, agentID, provider string) (*Result, error) {
	argv := []string{"models", "auth", "list", "--json"}
	if agentID != "" {
		if err := cliCheckAgentID(agentID); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidArg, err)
		}
		argv = append(argv, "--agent", agentID)
	}
	if provider != "" {
		if err := cliCheckProvider(provider); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidArg, err)
		}
		argv = append(argv, "--provider", provider)
	}
	return c.run(ctx, argv, false)
}

// DoctorLint runs `openclaw doctor --lint --only core/doctor/auth-profiles
// --json` (read-only). Exit code 1 only means there are findings; read them
// from the JSON ({"schemaVersion":1,"ok":…,"findings":[…]}).
func (c *CLI) DoctorLint(ctx context.Context) (*Result, error) {
	return c.run(ctx, []string{"doctor", "--lint", "--only", "core/doctor/auth-profiles", "--json"}, false)
}

// DoctorFix runs `openclaw doctor --fix --non-interactive --yes`. It MUTATES
// the install (legacy migration, OAuth refresh of expired/expiring profiles)
// — only on an explicit operator request. Output is text. It gets at least a
// 3-minute timeout and a 60-second grace after SIGTERM (never SIGKILL before).
func (c *CLI) DoctorFix(ctx context.Context) (*Result, error) {
	return c.run(ctx, []string{"doctor", "--fix", "--non-interactive", "--yes"}, false)
}

// GatewayCall runs `openclaw gateway call METHOD --params JSON --json`.
// method must be one of health, status, models.authStatus,
// models.authRefresh, secrets.reload, gateway.restart.request, logs.tail (models.probe spends
// tokens: use GatewayProbe). params is marshalled to a JSON object (nil → {});
// it is visible in argv, so it must never hold secrets.
func (c *CLI) GatewayCall(ctx context.Context, method string, params any) (*Result, error) {
	return c.gatewayCall(ctx, method, params, false)
}

// GatewayProbe runs gateway method models.probe. SPENDS TOKENS: live requests
// to the provider, cooldowns recorded on failure.
func (c *CLI) GatewayProbe(ctx context.Context, params any) (*Result, error) {
	return c.gatewayCall(ctx, "models.probe", params, true)
}

func (c *CLI) gatewayCall(ctx context.Context, method string, params any, spend bool) (*Result, error) {
	spends, ok := cliGatewayMethods[method]
	if !ok {
		return nil, fmt.Errorf("%w: gateway method %q is not on the allow-list", ErrNotAllowed, text.Truncate(method, 41))
	}
	if spends && !spend {
		return nil, fmt.Errorf("%w: gateway method %q spends tokens; use GatewayProbe", ErrNotAllowed, method)
	}
	p := []byte("{}")
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return nil, fmt.Errorf("%w: gateway %s params: %v", ErrInvalidArg, method, err)
		}
		if string(p) == "null" {
			p = []byte("{}")
		}
	}
	if err := cliCheckParams(string(p)); err != nil {
		return nil, fmt.Errorf("%w: gateway %s: %v", ErrInvalidArg, method, err)
	}
	return c.run(ctx, []string{"gateway", "call", method, "--params", string(p), "--json"}, spend)
}

// GatewayRestart runs `openclaw gateway restart --json` (service manager
// restart; OpenClaw skips it when HOME/state dir are not the account's
// canonical ones).
func (c *CLI) GatewayRestart(ctx context.Context) (*Result, error) {
	return c.run(ctx, []string{"gateway", "restart", "--json"}, false)
}

// Health runs `openclaw health --json` (asks the running gateway).
func (c *CLI) Health(ctx context.Context) (*Result, error) {
	return c.run(ctx, []string{"health", "--json"}, false)
}

// ---------------------------------------------------------------------------
// Running.

// run checks argv against the allow-list, the binary and its version, then
// spawns it and interprets the outcome. The Result is returned whenever the
// process ran, also together with an error.
func (c *CLI) run(ctx context.Context, argv []string, spend bool) (*Result, error) {
	cmd, err := cliMatch(argv, spend)
	if err != nil {
		return nil, c.wrap(err, "%v", err)
	}
	bin, err := c.bin()
	if err != nil {
		return nil, err
	}
	if cmd != cmdVersion && c.ExpectVersion != "" {
		got, err := c.cliVersion(ctx, bin)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimPrefix(strings.TrimSpace(c.ExpectVersion), "v"); got != want {
			return nil, c.wrap(ErrVersionMismatch,
				"%v: %s is OpenClaw %s but the install at %s was last written by OpenClaw %s (meta.lastTouchedVersion); refusing to run a different CLI against it. Point targets[].openclaw_bin at an openclaw %s binary (npm install openclaw@%s), or, if the install was upgraded on purpose, run `openclaw doctor` with the new CLI yourself so the config records the new version",
				ErrVersionMismatch, bin, got, c.stateDesc(), want, want, want)
		}
	}
	res, err := c.exec(ctx, bin, cmd, argv)
	if err != nil {
		return res, err
	}
	return res, c.interpret(cmd, res)
}

func (c *CLI) stateDesc() string {
	if c.Loc.StateDir != "" {
		return c.Loc.StateDir
	}
	return "the target"
}

// bin resolves CLI.Bin to an absolute path of an executable file.
func (c *CLI) bin() (string, error) {
	bin := strings.TrimSpace(c.Bin)
	if bin == "" {
		bin = "openclaw"
	}
	if !strings.ContainsRune(bin, os.PathSeparator) {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", c.notFound(bin, "not on PATH")
		}
		bin = p
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	st, err := os.Stat(bin)
	switch {
	case err != nil:
		return "", c.notFound(bin, "no such file")
	case st.IsDir():
		return "", c.notFound(bin, "is a directory")
	case st.Mode().Perm()&0o111 == 0:
		return "", c.notFound(bin, "not executable")
	}
	return bin, nil
}

func (c *CLI) notFound(bin, why string) error {
	return c.wrap(ErrNotFound,
		"%v: %s (%s). Install it with `npm install -g openclaw` (OpenClaw 2026.9.x needs Node >= 24.16) or set targets[].openclaw_bin to the full path of the openclaw executable",
		ErrNotFound, bin, why)
}

// cliVersion returns the CLI's version, cached per binary file.
func (c *CLI) cliVersion(ctx context.Context, bin string) (string, error) {
	key := bin
	if st, err := os.Stat(bin); err == nil {
		key = fmt.Sprintf("%s|%d|%d", bin, st.Size(), st.ModTime().UnixNano())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verKey == key && c.version != "" {
		return c.version, nil
	}
	res, err := c.exec(ctx, bin, cmdVersion, []string{"--version"})
	if err != nil {
		return "", err
	}
	if err := c.interpret(cmdVersion, res); err != nil {
		return "", err
	}
	m := VersionRE.FindSubmatch(res.Stdout)
	if m == nil {
		return "", c.wrap(ErrNotJSON, "%s: unexpected `openclaw --version` output %q (want like \"OpenClaw 2026.9.6 (eb377ac)\")",
			bin, Snippet(res.Stdout, 120))
	}
	c.verKey, c.version = key, string(m[1])
	return c.version, nil
}

// env is the child's complete environment.
func (c *CLI) env(bin string, cmd *cliCommand) ([]string, error) {
	m := map[string]string{
		"LANG":                    "C.UTF-8",
		"DO_NOT_TRACK":            "1",
		"OPENCLAW_NO_AUTO_UPDATE": "1",
		"NO_COLOR":                "1",
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	m["PATH"] = filepath.Dir(bin) + string(os.PathListSeparator) + path
	home := c.Loc.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home != "" {
		m["HOME"] = home
	}
	if c.Loc.StateDir != "" {
		m["OPENCLAW_STATE_DIR"] = c.Loc.StateDir
	}
	if c.Loc.ConfigPath != "" {
		m["OPENCLAW_CONFIG_PATH"] = c.Loc.ConfigPath
	}
	if c.Loc.AgentDir != "" {
		m["OPENCLAW_AGENT_DIR"] = c.Loc.AgentDir
	}
	for k, v := range c.ExtraEnv {
		if !cliEnvNameRE.MatchString(k) || strings.ContainsRune(v, 0) {
			return nil, c.wrap(ErrInvalidArg, "%v: ExtraEnv %q is not a valid environment variable", ErrInvalidArg, k)
		}
		switch k {
		case "HOME", "OPENCLAW_HOME", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_AGENT_DIR",
			"PI_CODING_AGENT_DIR", "OPENCLAW_PROFILE", "OPENCLAW_GATEWAY_TOKEN":
			return nil, c.wrap(ErrInvalidArg, "%v: ExtraEnv may not set %s (use CLI.Loc / CLI.GatewayToken)", ErrInvalidArg, k)
		}
		m[k] = v
	}
	if cmd.gateway && !c.GatewayToken.IsZero() {
		m["OPENCLAW_GATEWAY_TOKEN"] = c.GatewayToken.Reveal()
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

// dir is the child's working directory. OpenClaw loads ./.env from its cwd,
// so never inherit the bot's (which may hold the bot's own secrets): use the
// state dir (whose .env OpenClaw reads anyway), else HOME, else /.
func (c *CLI) dir() string {
	for _, d := range []string{c.Loc.StateDir, c.Loc.Home} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return "/"
}

func (c *CLI) limits(cmd *cliCommand) (timeout, grace time.Duration) {
	timeout, grace = c.Timeout, c.Grace
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if grace <= 0 {
		grace = DefaultGrace
	}
	return max(timeout, cmd.minTimeout), max(grace, cmd.minGrace)
}

// exec spawns bin in its own process group and waits for it. On timeout or
// cancellation the whole group gets SIGTERM, and SIGKILL only once the grace
// period has passed with something still alive.
// owner is the credential the CLI runs with: when the bot runs as root and
// the state dir belongs to another user, the CLI runs as that user, so every
// file OpenClaw writes (doctor --fix migrations, new databases) keeps its
// owner. Otherwise nil: the bot's own user.
func (c *CLI) owner() *syscall.Credential {
	if os.Geteuid() != 0 || c.Loc.StateDir == "" {
		return nil
	}
	fi, err := os.Stat(c.Loc.StateDir)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	return &syscall.Credential{Uid: st.Uid, Gid: st.Gid, NoSetGroups: true}
}

func (c *CLI) exec(ctx context.Context, bin string, cmd *cliCommand, argv []string) (*Result, error) {
	res := &Result{Args: make([]string, len(argv))}
	for i, a := range argv {
		res.Args[i] = c.Scrub(a)
	}
	env, err := c.env(bin, cmd)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, c.wrap(err, "%s: not started: %v", res.Command(), err)
	}
	timeout, grace := c.limits(cmd)
	limit := c.maxOutput
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	stdout, stderr := &cliCapWriter{max: limit}, &cliCapWriter{max: limit}

	end, err := Program(ctx, Proc{
		Argv: append([]string{bin}, argv...), Env: env, Dir: c.dir(), Credential: c.owner(),
		Stdout: stdout, Stderr: stderr, Timeout: timeout, Grace: grace,
	})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOEXEC) {
			return nil, c.notFound(bin, err.Error())
		}
		return nil, c.wrap(err, "%s: start: %v", res.Command(), err)
	}
	var stopReason string // why we terminated it; "" = it finished by itself
	switch {
	case end.TimedOut:
		stopReason = fmt.Sprintf("timed out after %s", timeout)
	case end.Stopped:
		stopReason = ctx.Err().Error()
	}
	waitErr, killed := end.WaitErr, end.Killed
	res.Duration = end.Took
	res.Stdout, res.StdoutTruncated = stdout.buf.Bytes(), stdout.dropped > 0
	res.Stderr, res.StderrTruncated = stderr.buf.Bytes(), stderr.dropped > 0
	res.ExitCode = end.Exit

	if stopReason != "" {
		how := fmt.Sprintf("sent SIGTERM to its process group; it exited within the %s grace", grace)
		if killed {
			how = fmt.Sprintf("sent SIGTERM to its process group, then SIGKILL after the %s grace", grace)
		}
		ctxErr := ctx.Err()
		if ctxErr == nil || errors.Is(ctxErr, context.DeadlineExceeded) {
			errs := []error{ErrTimeout}
			if ctxErr != nil {
				errs = append(errs, ctxErr)
			}
			return res, c.wrapAll(errs, "%v: %s %s (%s)%s", ErrTimeout, res.Command(), stopReason, how, c.stderrTail(res))
		}
		return res, c.wrap(ctxErr, "%s: %s (%s)", res.Command(), stopReason, how)
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return res, c.wrap(waitErr, "%s: wait: %v", res.Command(), waitErr)
	}
	// 126/127 from `#!/usr/bin/env node`: the interpreter is missing.
	if (res.ExitCode == 127 || res.ExitCode == 126) && len(bytes.TrimSpace(res.Stdout)) == 0 {
		return res, c.wrap(ErrNotFound,
			"%v: %s could not be executed (exit %d: %s). It needs Node >= 24.16: put a `node` next to it (the directory of targets[].openclaw_bin is searched first) or on PATH",
			ErrNotFound, bin, res.ExitCode, Snippet(res.Stderr, 200))
	}
	return res, nil
}

// interpret turns a finished run into an error, if it is one, and fills
// Result.JSON for JSON commands.
func (c *CLI) interpret(cmd *cliCommand, res *Result) error {
	okExit := false
	for _, code := range cmd.okExit {
		okExit = okExit || res.ExitCode == code
	}
	if !cmd.jsonOut {
		if okExit {
			return nil
		}
		return c.wrap(ErrExit, "%v: %s exited with status %d%s", ErrExit, res.Command(), res.ExitCode, c.stderrTail(res))
	}
	doc := FindJSON(res.Stdout)
	if doc == nil {
		if res.StdoutTruncated {
			return c.wrap(ErrOutputTooLarge, "%v: %s printed more than %d bytes (exit %d)",
				ErrOutputTooLarge, res.Command(), len(res.Stdout), res.ExitCode)
		}
		errs := []error{ErrNotJSON}
		if !okExit {
			errs = append(errs, ErrExit)
		}
		return c.wrapAll(errs, "%v: %s (exit %d) printed %q%s",
			ErrNotJSON, res.Command(), res.ExitCode, Snippet(res.Stdout, 200), c.stderrTail(res))
	}
	res.JSON = doc
	if e := c.jsonError(res, doc); e != nil {
		return e
	}
	if !okExit {
		return c.wrap(ErrExit, "%v: %s exited with status %d%s", ErrExit, res.Command(), res.ExitCode, c.stderrTail(res))
	}
	return nil
}

// jsonError parses {"ok":false,"error":…} into a *CLIError.
func (c *CLI) jsonError(res *Result, doc []byte) error {
	var env struct {
		OK    *bool           `json:"ok"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(doc, &env) != nil || env.OK == nil || *env.OK || len(env.Error) == 0 || string(env.Error) == "null" {
		return nil
	}
	e := &CLIError{Command: res.Command(), ExitCode: res.ExitCode}
	var msg string
	if json.Unmarshal(env.Error, &msg) == nil {
		e.Message = msg
	} else {
		var obj struct {
			Type      string `json:"type"`
			Kind      string `json:"kind"`
			Code      any    `json:"code"`
			Message   string `json:"message"`
			Reason    string `json:"reason"`
			Retryable bool   `json:"retryable"`
		}
		if json.Unmarshal(env.Error, &obj) != nil {
			e.Message = string(env.Error)
		} else {
			e.Type, e.Kind, e.Message, e.Reason, e.Retryable = obj.Type, obj.Kind, obj.Message, obj.Reason, obj.Retryable
			if obj.Code != nil {
				e.Code = fmt.Sprint(obj.Code)
			}
		}
	}
	if e.Message == "" {
		e.Message = "error without message"
	}
	e.Type, e.Kind, e.Code = c.Scrub(e.Type), c.Scrub(e.Kind), c.Scrub(e.Code)
	e.Message, e.Reason = c.Scrub(e.Message), c.Scrub(e.Reason)
	return e
}

// cliFindJSON returns the JSON document on stdout: all of it, or from the
// first line that starts one (a plugin may log a line before it).
func FindJSON(out []byte) []byte {
	t := bytes.TrimSpace(out)
	if len(t) > 0 && json.Valid(t) {
		return t
	}
	for off := 0; off < len(out); {
		nl := bytes.IndexByte(out[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
		rest := bytes.TrimSpace(out[off:])
		if len(rest) > 0 && (rest[0] == '{' || rest[0] == '[') && json.Valid(rest) {
			return rest
		}
	}
	return nil
}

func (c *CLI) stderrTail(res *Result) string {
	s := bytes.TrimSpace(res.Stderr)
	if len(s) == 0 {
		return ""
	}
	if len(s) > 400 {
		s = s[len(s)-400:]
	}
	return "; stderr: " + strings.ToValidUTF8(string(s), "?")
}

func Snippet(b []byte, n int) string {
	return text.Truncate(strings.ToValidUTF8(string(bytes.TrimSpace(b)), "?"), n+1)
}

// ---------------------------------------------------------------------------
// Scrubbing and errors.

// Scrub removes the gateway token, credential-shaped ExtraEnv values and
// whatever Scrubber knows from s.
func (c *CLI) Scrub(s string) string {
	s = c.Scrubber.String(s) // nil-safe
	vals := []string{c.GatewayToken.Reveal()}
	for k, v := range c.ExtraEnv {
		if cliSecretNameRE.MatchString(k) {
			vals = append(vals, v)
		}
	}
	return redact.NewScrubber(vals...).String(s)
}

// cliError carries a scrubbed message and the errors it wraps.
type cliError struct {
	msg  string
	errs []error
}

func (e *cliError) Error() string   { return e.msg }
func (e *cliError) Unwrap() []error { return e.errs }

func (c *CLI) wrap(err error, format string, a ...any) error {
	return c.wrapAll([]error{err}, format, a...)
}

func (c *CLI) wrapAll(errs []error, format string, a ...any) error {
	return &cliError{msg: c.Scrub(fmt.Sprintf(format, a...)), errs: errs}
}

// cliCapWriter keeps the first max bytes and drains the rest.
type cliCapWriter struct {
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (w *cliCapWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) <= room {
			w.buf.Write(p)
			return len(p), nil
		}
		w.buf.Write(p[:room])
		w.dropped += int64(len(p) - room)
		return len(p), nil
	}
	w.dropped += int64(len(p))
	return len(p), nil
}
