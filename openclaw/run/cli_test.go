package run

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakecli"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// fakeCLI is a CLI pointed at testdata/fakecli/openclaw, copied into a temp
// dir, plus the directory the fake records into.
type fakeCLI struct {
	*CLI
	t      *testing.T
	binDir string
	rec    string
}

// newFakeCLI sets up the fake; firstLine, if set, replaces its shebang.
func newFakeCLI(t *testing.T, mode, firstLine string) *fakeCLI {
	t.Helper()
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	rec := filepath.Join(tmp, "rec")
	home := filepath.Join(tmp, "home")
	state := filepath.Join(home, ".openclaw")
	for _, d := range []string{binDir, rec, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join("testdata", "fakecli", "openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	if firstLine != "" {
		_, rest, _ := strings.Cut(string(script), "\n")
		script = []byte(firstLine + "\n" + rest)
	}
	bin := filepath.Join(binDir, "openclaw")
	if err := os.WriteFile(bin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &CLI{
		Bin: bin,
		Loc: openclaw.Location{
			StateDir:   state,
			ConfigPath: filepath.Join(state, "openclaw.json"),
			Home:       home,
			How:        "test",
		},
		Timeout:  20 * time.Second,
		Grace:    2 * time.Second,
		ExtraEnv: map[string]string{"FAKECLI_DIR": rec, "FAKECLI_MODE": mode},
	}
	return &fakeCLI{CLI: c, t: t, binDir: binDir, rec: rec}
}

// calls returns the argv of every invocation of the fake so far.
func (f *fakeCLI) calls() [][]string { f.t.Helper(); return fakecli.Calls(f.t, f.rec) }

// env returns the environment of the last invocation.
func (f *fakeCLI) env() map[string]string { f.t.Helper(); return fakecli.Env(f.t, f.rec) }

func (f *fakeCLI) file(name string) string {
	data, _ := os.ReadFile(filepath.Join(f.rec, name))
	return string(data)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCLIAllowListRefusals(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	f.ExpectVersion = "2026.9.6"
	ctx := ctxT(t)
	refused := [][]string{
		{},
		{"models", "status"}, // text mode
		{"models", "status", "--plain"},
		{"models", "status", "--json", "--plain"},
		{"models", "status", "--json", "--probe"}, // probe without the opt-in
		{"models", "status", "--probe", "--json"},
		{"models", "status", "--json", "--check"},
		{"models", "status", "--json", "--agent", "main", "--agent", "ops"},
		{"models", "status", "--json", "--agent", "../x"},
		{"models", "status", "--json", "--agent"},
		{"models", "status", "--json", "--json"},
		{"models", "auth", "list"},
		{"models", "auth", "logout", "anthropic:default", "--yes"},
		{"models", "auth", "paste-api-key", "--provider", "anthropic"},
		{"models", "set", "anthropic/claude-opus-5"},
		{"doctor"},
		{"doctor", "--json"},
		{"doctor", "--fix"},
		{"doctor", "--fix", "--non-interactive", "--yes", "--force"},
		{"doctor", "--lint", "--json"},
		{"doctor", "--lint", "--only", "core/doctor/other", "--json"},
		{"doctor", "--lint", "--only", "core/doctor/auth-profiles", "--json", "--all"},
		{"gateway", "call"},
		{"gateway", "call", "config.set", "--params", "{}", "--json"},
		{"gateway", "call", "models.authSetApiKey", "--params", `{"provider":"anthropic"}`, "--json"},
		{"gateway", "call", "health", "--json"},
		{"gateway", "call", "health", "--params", "{}", "--json", "--token", "x"},
		{"gateway", "call", "health", "--params", "{}", "--json", "--url", "ws://evil:1"},
		{"gateway", "call", "health", "--params", "[1]", "--json"},
		{"gateway", "call", "models.probe", "--params", "{}", "--json"}, // spends tokens
		{"gateway", "run"},
		{"gateway", "restart"},
		{"gateway", "restart", "--json", "--force"},
		{"health"},
		{"onboard", "--non-interactive", "--accept-risk"},
		{"status", "--all"},
		{"reset", "--scope", "full", "--yes"},
		{"--version", "--json"},
		{"--profile", "x", "models", "status", "--json"},
	}
	for _, argv := range refused {
		res, err := f.run(ctx, argv, false)
		if !errors.Is(err, ErrNotAllowed) || res != nil {
			t.Errorf("run %q: got (%v, %v), want ErrNotAllowed", argv, res, err)
		}
	}
	typed := map[string]func() (*Result, error){
		"GatewayCall config.patch":   func() (*Result, error) { return f.GatewayCall(ctx, "config.patch", nil) },
		"GatewayCall models.probe":   func() (*Result, error) { return f.GatewayCall(ctx, "models.probe", nil) },
		"GatewayCall empty":          func() (*Result, error) { return f.GatewayCall(ctx, "", nil) },
		"GatewayCall health --token": func() (*Result, error) { return f.GatewayCall(ctx, "health --token x", nil) },
	}
	for name, call := range typed {
		if _, err := call(); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("%s: err = %v, want ErrNotAllowed", name, err)
		}
	}
	invalid := map[string]func() (*Result, error){
		"agent ../x":         func() (*Result, error) { return f.ModelsStatus(ctx, "../x") },
		"agent --probe":      func() (*Result, error) { return f.ModelsStatus(ctx, "--probe") },
		"agent with space":   func() (*Result, error) { return f.ModelsStatus(ctx, "main --probe") },
		"agent too long":     func() (*Result, error) { return f.ModelsStatus(ctx, strings.Repeat("a", 65)) },
		"auth list agent":    func() (*Result, error) { return f.ModelsAuthList(ctx, "ma;in", "") },
		"auth list provider": func() (*Result, error) { return f.ModelsAuthList(ctx, "", "anthropic --json") },
		"probe profile": func() (*Result, error) {
			return f.ModelsProbe(ctx, ProbeOptions{ProfileIDs: []string{"anthropic:default", "--x"}})
		},
		"probe provider": func() (*Result, error) { return f.ModelsProbe(ctx, ProbeOptions{Provider: "Anthropic!"}) },
		"params agentId": func() (*Result, error) {
			return f.GatewayCall(ctx, "models.authStatus", map[string]any{"agentId": "../../etc"})
		},
		"params not object": func() (*Result, error) { return f.GatewayCall(ctx, "health", []int{1}) },
		"params unmarshalable": func() (*Result, error) {
			return f.GatewayCall(ctx, "health", map[string]any{"f": func() {}})
		},
	}
	for name, call := range invalid {
		if _, err := call(); !errors.Is(err, ErrInvalidArg) {
			t.Errorf("%s: err = %v, want ErrInvalidArg", name, err)
		}
	}
	if calls := f.calls(); len(calls) != 0 {
		t.Fatalf("refused commands must not spawn anything (not even --version), fake saw %q", calls)
	}
}

func TestCLIAlwaysJSONAndExactArgv(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	ctx := ctxT(t)
	type step struct {
		name string
		call func() (*Result, error)
		want []string
	}
	steps := []step{
		{"ModelsStatus", func() (*Result, error) { return f.ModelsStatus(ctx, "") },
			[]string{"models", "status", "--json"}},
		{"ModelsStatus agent", func() (*Result, error) { return f.ModelsStatus(ctx, "ops-2") },
			[]string{"models", "status", "--json", "--agent", "ops-2"}},
		{"ModelsProbe", func() (*Result, error) {
			return f.ModelsProbe(ctx, ProbeOptions{AgentID: "main", Provider: "anthropic",
				ProfileIDs: []string{"anthropic:default", "anthropic:manual"}, Timeout: 5 * time.Second, MaxTokens: 8})
		}, []string{"models", "status", "--json", "--probe", "--agent", "main", "--probe-provider", "anthropic",
			"--probe-profile", "anthropic:default,anthropic:manual", "--probe-timeout", "5000", "--probe-max-tokens", "8"}},
		{"ModelsAuthList", func() (*Result, error) { return f.ModelsAuthList(ctx, "main", "anthropic") },
			[]string{"models", "auth", "list", "--json", "--agent", "main", "--provider", "anthropic"}},
		{"DoctorLint", func() (*Result, error) { return f.DoctorLint(ctx) },
			[]string{"doctor", "--lint", "--only", "core/doctor/auth-profiles", "--json"}},
		{"GatewayCall health", func() (*Result, error) { return f.GatewayCall(ctx, "health", nil) },
			[]string{"gateway", "call", "health", "--params", "{}", "--json"}},
		{"GatewayCall authRefresh", func() (*Result, error) {
			return f.GatewayCall(ctx, "models.authRefresh", map[string]string{"operation": "update", "agentId": "main"})
		}, []string{"gateway", "call", "models.authRefresh", "--params", `{"agentId":"main","operation":"update"}`, "--json"}},
		{"GatewayProbe", func() (*Result, error) { return f.GatewayProbe(ctx, map[string]string{"provider": "anthropic"}) },
			[]string{"gateway", "call", "models.probe", "--params", `{"provider":"anthropic"}`, "--json"}},
		{"GatewayRestart", func() (*Result, error) { return f.GatewayRestart(ctx) },
			[]string{"gateway", "restart", "--json"}},
		{"Health", func() (*Result, error) { return f.Health(ctx) }, []string{"health", "--json"}},
	}
	for _, s := range steps {
		res, err := s.call()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		calls := f.calls()
		got := calls[len(calls)-1]
		if strings.Join(got, "\x00") != strings.Join(s.want, "\x00") {
			t.Errorf("%s: argv = %q, want %q", s.name, got, s.want)
		}
		if strings.Join(res.Args, "\x00") != strings.Join(s.want, "\x00") {
			t.Errorf("%s: Result.Args = %q, want %q", s.name, res.Args, s.want)
		}
		var doc map[string]any
		if err := res.Decode(&doc); err != nil || len(doc) == 0 {
			t.Errorf("%s: Decode: %v (%s)", s.name, err, res.Stdout)
		}
		if res.ExitCode != 0 || res.Duration <= 0 {
			t.Errorf("%s: exit %d duration %v", s.name, res.ExitCode, res.Duration)
		}
	}
	// DoctorFix is the only non-JSON command besides --version.
	if _, err := f.DoctorFix(ctx); err != nil {
		t.Fatalf("DoctorFix: %v", err)
	}
	for _, argv := range f.calls() {
		if len(argv) > 0 && (argv[0] == "--version" || (argv[0] == "doctor" && argv[1] == "--fix")) {
			continue
		}
		if !cliTestContains(argv, "--json") {
			t.Errorf("argv without --json: %q", argv)
		}
	}
	if last := f.calls()[len(f.calls())-1]; strings.Join(last, " ") != "doctor --fix --non-interactive --yes" {
		t.Errorf("DoctorFix argv = %q", last)
	}
}

func TestCLITextModeModelsStatusImpossible(t *testing.T) {
	// Every path to `models status` carries --json; the raw runner refuses
	// anything else, even with the token-spending opt-in.
	for _, spend := range []bool{false, true} {
		for _, argv := range [][]string{
			{"models", "status"},
			{"models", "status", "--agent", "main"},
			{"models", "status", "--plain"},
			{"models", "status", "--check"},
			{"models", "status", "--probe"},
			{"models", "status", "--probe", "--json"},
			{"models", "status", "--json", "--probe", "--plain"},
		} {
			if _, err := cliMatch(argv, spend); !errors.Is(err, ErrNotAllowed) {
				t.Errorf("cliMatch(%q, spend=%v) = %v, want refusal", argv, spend, err)
			}
		}
	}
	f := newFakeCLI(t, "ok", "")
	ctx := ctxT(t)
	if _, err := f.ModelsStatus(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ModelsProbe(ctx, ProbeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, argv := range f.calls() {
		if len(argv) >= 2 && argv[0] == "models" && argv[1] == "status" && (len(argv) < 3 || argv[2] != "--json") {
			t.Errorf("models status without --json: %q", argv)
		}
	}
}

func TestCLIEnvHasNoBotSecrets(t *testing.T) {
	botSecrets := map[string]string{
		"SLACK_BOT_TOKEN":        "xoxb-000000000000-bot-secret-value",
		"SLACK_APP_TOKEN":        "xapp-1-A000-app-secret-value",
		"TELEGRAM_BOT_TOKEN":     "123456789:telegram-secret-value-abcdefghijkl",
		"ANTHROPIC_API_KEY":      "sk-ant-api03-bots-own-anthropic-key-value",
		"ANTHROPIC_OAUTH_TOKEN":  "sk-ant-oat01-bots-own-oauth-token-value",
		"OPENAI_API_KEY":         "sk-openai-bot-secret-value",
		"OPENCLAW_GATEWAY_TOKEN": "bot-env-gateway-token-value",
		"OPENCLAW_STATE_DIR":     "/somewhere/else",
		"OPENCLAW_PROFILE":       "evil",
		"NODE_OPTIONS":           "--require /tmp/evil.js",
	}
	for k, v := range botSecrets {
		t.Setenv(k, v)
	}
	f := newFakeCLI(t, "ok", "")
	f.Loc.AgentDir = filepath.Join(f.Loc.StateDir, "agents", "main", "agent")
	ctx := ctxT(t)
	if _, err := f.ModelsStatus(ctx, ""); err != nil {
		t.Fatal(err)
	}
	env := f.env()
	allowed := map[string]string{
		"PATH":                    "",
		"HOME":                    f.Loc.Home,
		"OPENCLAW_STATE_DIR":      f.Loc.StateDir,
		"OPENCLAW_CONFIG_PATH":    f.Loc.ConfigPath,
		"OPENCLAW_AGENT_DIR":      f.Loc.AgentDir,
		"LANG":                    "C.UTF-8",
		"DO_NOT_TRACK":            "1",
		"OPENCLAW_NO_AUTO_UPDATE": "1",
		"NO_COLOR":                "1",
		"FAKECLI_DIR":             f.rec,
		"FAKECLI_MODE":            "ok",
	}
	shellOwn := map[string]bool{"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true}
	for k, v := range env {
		if shellOwn[k] {
			continue
		}
		want, ok := allowed[k]
		if !ok {
			t.Errorf("child env has %s=%q, not in the minimal set", k, v)
			continue
		}
		if want != "" && v != want {
			t.Errorf("child env %s=%q, want %q", k, v, want)
		}
	}
	for k := range allowed {
		if _, ok := env[k]; !ok {
			t.Errorf("child env lacks %s", k)
		}
	}
	for k, secret := range botSecrets {
		for ek, ev := range env {
			if strings.Contains(ev, secret) {
				t.Errorf("bot's %s leaked into child env %s", k, ek)
			}
		}
	}
	if !strings.HasPrefix(env["PATH"], f.binDir+":") {
		t.Errorf("PATH %q does not start with the binary's dir %q", env["PATH"], f.binDir)
	}
	if got := strings.TrimSpace(f.file("cwd")); got != f.Loc.StateDir {
		t.Errorf("child cwd = %q, want the state dir %q (never the bot's cwd, whose .env OpenClaw would load)", got, f.Loc.StateDir)
	}

	for _, k := range []string{"HOME", "OPENCLAW_STATE_DIR", "OPENCLAW_GATEWAY_TOKEN", "BAD-NAME"} {
		g := newFakeCLI(t, "ok", "")
		g.ExtraEnv[k] = "x"
		if _, err := g.ModelsStatus(ctx, ""); !errors.Is(err, ErrInvalidArg) {
			t.Errorf("ExtraEnv[%s]: err = %v, want ErrInvalidArg", k, err)
		}
	}
}

func TestCLIGatewayTokenInEnvNotArgv(t *testing.T) {
	const token = "gw-token-5f1c9a7e0b2d4c6a8e"
	f := newFakeCLI(t, "ok", "")
	f.GatewayToken = redact.Secret(token)
	ctx := ctxT(t)
	res, err := f.GatewayCall(ctx, "models.authStatus", map[string]any{"agentId": "main", "refresh": false})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.env()["OPENCLAW_GATEWAY_TOKEN"]; got != token {
		t.Errorf("OPENCLAW_GATEWAY_TOKEN in child env = %q, want the token", got)
	}
	for _, argv := range f.calls() {
		for _, a := range argv {
			if strings.Contains(a, token) || a == "--token" {
				t.Errorf("gateway token in argv: %q", argv)
			}
		}
	}
	if strings.Contains(strings.Join(res.Args, " "), token) {
		t.Errorf("token in Result.Args")
	}
	// Commands that do not talk to the gateway do not get it.
	if _, err := f.ModelsStatus(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if v, ok := f.env()["OPENCLAW_GATEWAY_TOKEN"]; ok {
		t.Errorf("models status got OPENCLAW_GATEWAY_TOKEN=%q", v)
	}
	if _, err := f.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if f.env()["OPENCLAW_GATEWAY_TOKEN"] != token {
		t.Errorf("health did not get the gateway token")
	}
}

func TestCLIVersionMismatchRefusal(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	f.ExtraEnv["FAKECLI_VERSION"] = "2026.9.7"
	f.ExpectVersion = "2026.9.6"
	ctx := ctxT(t)
	res, err := f.ModelsStatus(ctx, "")
	if !errors.Is(err, ErrVersionMismatch) || res != nil {
		t.Fatalf("got (%v, %v), want ErrVersionMismatch", res, err)
	}
	for _, want := range []string{"2026.9.7", "2026.9.6", f.Bin, f.Loc.StateDir, "targets[].openclaw_bin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := f.DoctorFix(ctx); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("DoctorFix: %v", err)
	}
	for _, argv := range f.calls() {
		if len(argv) != 1 || argv[0] != "--version" {
			t.Errorf("only --version may run on a mismatch, fake saw %q", argv)
		}
	}
	// Version itself still answers.
	if v, err := f.Version(ctx); err != nil || v != "2026.9.7" {
		t.Errorf("Version = %q, %v", v, err)
	}
}

func TestCLIVersionCached(t *testing.T) {
	f := newFakeCLI(t, "ok", "")
	f.ExpectVersion = "2026.9.6"
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		if _, err := f.ModelsStatus(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := f.Version(ctx); err != nil || v != "2026.9.6" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	n := 0
	for _, argv := range f.calls() {
		if len(argv) == 1 && argv[0] == "--version" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("--version ran %d times, want 1 (cached)", n)
	}
	// A replaced binary is asked again.
	data, _ := os.ReadFile(f.Bin)
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(f.Bin, append(data, '\n'), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(f.Bin, later, later)
	if _, err := f.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if last := f.calls()[len(f.calls())-1]; len(last) != 1 || last[0] != "--version" {
		t.Errorf("changed binary: version not re-read (last call %q)", last)
	}
}

func TestCLITimeoutSIGTERMThenExit(t *testing.T) {
	f := newFakeCLI(t, "hang", "")
	f.Timeout = 300 * time.Millisecond
	f.Grace = 5 * time.Second
	res, err := f.ModelsStatus(ctxT(t), "")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if res == nil || res.Duration >= 3*time.Second {
		t.Fatalf("a child that exits on SIGTERM must not wait out the grace: %+v", res)
	}
	if !strings.Contains(f.file("signals"), "TERM") {
		t.Errorf("fake did not record SIGTERM")
	}
	if strings.Contains(err.Error(), "SIGKILL") || !strings.Contains(err.Error(), "SIGTERM") {
		t.Errorf("error should say SIGTERM only: %v", err)
	}
}

func TestCLITimeoutSIGKILLAfterGrace(t *testing.T) {
	f := newFakeCLI(t, "hang-ignore-term", "")
	f.Timeout = 300 * time.Millisecond
	f.Grace = 700 * time.Millisecond
	res, err := f.ModelsStatus(ctxT(t), "")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if res.Duration < f.Timeout+f.Grace {
		t.Errorf("SIGKILL before the grace ended: ran %v, timeout %v + grace %v", res.Duration, f.Timeout, f.Grace)
	}
	if res.Duration > 10*time.Second {
		t.Errorf("took %v", res.Duration)
	}
	if !strings.Contains(f.file("signals"), "TERM") {
		t.Errorf("fake did not record SIGTERM before the kill")
	}
	if !strings.Contains(err.Error(), "SIGKILL") {
		t.Errorf("error should mention SIGKILL: %v", err)
	}
	if res.ExitCode != -1 {
		t.Errorf("exit code = %d, want -1 (signalled)", res.ExitCode)
	}
	// The grandchild ignored SIGTERM; SIGKILL went to the whole group.
	pid, _ := strconv.Atoi(strings.TrimSpace(f.file("grandchild")))
	if pid <= 0 {
		t.Fatal("no grandchild pid recorded")
	}
	deadline := time.Now().Add(3 * time.Second)
	for !cliTestDead(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cliTestDead: gone, or a zombie waiting for a reaper.
func cliTestDead(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(after, "Z") || strings.HasPrefix(after, "X")
}

func TestCLICancelSendsSIGTERM(t *testing.T) {
	f := newFakeCLI(t, "hang", "")
	f.Grace = 5 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res, err := f.ModelsStatus(ctx, "")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled (not a timeout)", err)
	}
	if res == nil || res.Duration > 3*time.Second || !strings.Contains(f.file("signals"), "TERM") {
		t.Errorf("cancel must SIGTERM the child: %+v signals=%q", res, f.file("signals"))
	}

	// A context deadline counts as a timeout.
	g := newFakeCLI(t, "hang", "")
	dctx, dcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer dcancel()
	if _, err := g.ModelsStatus(dctx, ""); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v", err)
	}
}

func TestCLIDoctorFixLimits(t *testing.T) {
	c := &CLI{Timeout: time.Second, Grace: 100 * time.Millisecond}
	if to, gr := c.limits(cmdDoctorFix); gr < 60*time.Second || to < 3*time.Minute {
		t.Errorf("doctor --fix limits = %v/%v, want >= 3m timeout and >= 60s grace", to, gr)
	}
	if to, gr := c.limits(cmdModelsStatus); to != time.Second || gr != 100*time.Millisecond {
		t.Errorf("models status limits = %v/%v", to, gr)
	}
	if to, gr := (&CLI{}).limits(cmdModelsStatus); to != DefaultTimeout || gr != DefaultGrace {
		t.Errorf("defaults = %v/%v", to, gr)
	}
}

func TestCLIOutputCaps(t *testing.T) {
	f := newFakeCLI(t, "big", "")
	res, err := f.ModelsStatus(ctxT(t), "")
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
	if len(res.Stdout) != DefaultMaxOutput || !res.StdoutTruncated {
		t.Errorf("stdout %d bytes truncated=%v, want %d", len(res.Stdout), res.StdoutTruncated, DefaultMaxOutput)
	}
	if len(res.Stderr) != DefaultMaxOutput || !res.StderrTruncated {
		t.Errorf("stderr %d bytes truncated=%v", len(res.Stderr), res.StderrTruncated)
	}
	if res.ExitCode != 0 {
		t.Errorf("the child must be drained to completion, exit %d", res.ExitCode)
	}
	g := newFakeCLI(t, "big", "")
	g.maxOutput = 1000
	res, _ = g.ModelsStatus(ctxT(t), "")
	if len(res.Stdout) != 1000 || len(res.Stderr) != 1000 {
		t.Errorf("maxOutput 1000: got %d/%d", len(res.Stdout), len(res.Stderr))
	}
}

func TestCLIScrubbedErrors(t *testing.T) {
	const token = "gw-token-5f1c9a7e0b2d4c6a8e"
	f := newFakeCLI(t, "error", "")
	f.GatewayToken = redact.Secret(token)
	ctx := ctxT(t)
	res, err := f.GatewayCall(ctx, "health", nil)
	var ce *CLIError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CLIError", err)
	}
	if ce.Type != "gateway_request_error" || ce.Code != "UNAUTHORIZED" || ce.ExitCode != 1 || res == nil {
		t.Errorf("CLIError = %+v", ce)
	}
	for _, s := range []string{err.Error(), ce.Message} {
		if strings.Contains(s, token) || strings.Contains(s, "sk-ant-api03-AbCd") {
			t.Errorf("secret in error: %s", s)
		}
		if !strings.Contains(s, redact.Placeholder) {
			t.Errorf("no placeholder in %q", s)
		}
	}

	g := newFakeCLI(t, "stderr-secret", "")
	g.GatewayToken = redact.Secret(token)
	g.Scrubber = redact.NewScrubber("custom-known-secret")
	_, err = g.Health(ctx)
	if !errors.Is(err, ErrExit) || !errors.Is(err, ErrNotJSON) {
		t.Fatalf("err = %v, want ErrExit and ErrNotJSON", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "xoxb-1234567890") ||
		!strings.Contains(err.Error(), "boom") {
		t.Errorf("stderr not scrubbed (or missing) in %q", err)
	}

	h := newFakeCLI(t, "error-string", "")
	_, err = h.GatewayRestart(ctx)
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "no supported service manager") {
		t.Errorf("string error: %v", err)
	}
}

func TestCLINonJSONAndExitCodes(t *testing.T) {
	ctx := ctxT(t)
	f := newFakeCLI(t, "notjson", "")
	res, err := f.ModelsStatus(ctx, "")
	if !errors.Is(err, ErrNotJSON) || res == nil || res.JSON != nil {
		t.Errorf("notjson: %v", err)
	}
	g := newFakeCLI(t, "noise-then-json", "")
	res, err = g.Health(ctx)
	if err != nil || string(res.JSON) != `{"ok":true,"noise":true}` {
		t.Errorf("noise before JSON: %v %q", err, res.JSON)
	}
	h := newFakeCLI(t, "exit3", "")
	res, err = h.ModelsStatus(ctx, "")
	if !errors.Is(err, ErrExit) || res.ExitCode != 3 || !strings.Contains(err.Error(), "something odd") {
		t.Errorf("exit 3: %v", err)
	}
	// doctor --lint exit 1 only means findings.
	l := newFakeCLI(t, "findings", "")
	res, err = l.DoctorLint(ctx)
	if err != nil || res.ExitCode != 1 {
		t.Fatalf("lint with findings: %v", err)
	}
	var lint struct {
		OK       bool `json:"ok"`
		Findings []struct {
			CheckID, Target string
		} `json:"findings"`
	}
	if err := res.Decode(&lint); err != nil || lint.OK || len(lint.Findings) != 1 || lint.Findings[0].Target != "anthropic:default" {
		t.Errorf("lint decode: %v %+v", err, lint)
	}
}

func TestCLINotFound(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "openclaw-not-exec")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{filepath.Join(dir, "nope", "openclaw"), dir, plain} {
		c := &CLI{Bin: bin}
		_, err := c.ModelsStatus(ctx, "")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", bin, err)
			continue
		}
		for _, want := range []string{"targets[].openclaw_bin", "npm install"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", bin, err, want)
			}
		}
		if _, err := c.Version(ctx); !errors.Is(err, ErrNotFound) {
			t.Errorf("Version %s: %v", bin, err)
		}
	}
	// The interpreter (node) is missing.
	f := newFakeCLI(t, "ok", "#!/usr/bin/env openclaw-test-missing-node")
	if _, err := f.Version(ctx); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "node") {
		t.Errorf("missing interpreter: %v", err)
	}
}

func TestCLIPathFindsSiblingNode(t *testing.T) {
	// Like a real install: `openclaw` is `#!/usr/bin/env node` with node next to it.
	f := newFakeCLI(t, "ok", "#!/usr/bin/env node")
	shim, err := os.ReadFile(filepath.Join("testdata", "fakecli", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.binDir, "node"), shim, 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := f.Version(ctxT(t))
	if err != nil || v != "2026.9.6" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	if !strings.Contains(f.file("node"), "used") {
		t.Errorf("the node next to the binary was not used")
	}
}

// TestCLIRealRunner runs the real CLI (OPENCLAW_BIN, or the peer install) on
// an empty temporary HOME.
func TestCLIRealRunner(t *testing.T) {
	bin := os.Getenv("OPENCLAW_BIN")
	if bin == "" {
		bin = "/root/.cache/openclaw-peer/bin/openclaw"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("real openclaw CLI not found at %s (set OPENCLAW_BIN): %v", bin, err)
	}
	if testing.Short() {
		t.Skip("real CLI is slow; skipped with -short")
	}
	home := t.TempDir()
	loc, err := openclaw.Locate(openclaw.LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	c := &CLI{Bin: bin, Loc: loc, Timeout: 120 * time.Second, Grace: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != "2026.9.6" {
		t.Fatalf("Version = %q, want 2026.9.6", v)
	}
	c.ExpectVersion = v
	res, err := c.ModelsStatus(ctx, "")
	if err != nil {
		t.Fatalf("ModelsStatus: %v", err)
	}
	var st struct {
		ConfigPath string `json:"configPath"`
		Auth       *struct {
			UnusableProfiles []json.RawMessage `json:"unusableProfiles"`
		} `json:"auth"`
	}
	if err := res.Decode(&st); err != nil || st.Auth == nil {
		t.Fatalf("models status JSON: %v\n%s", err, res.Stdout)
	}
	if st.ConfigPath != loc.ConfigPath {
		t.Errorf("configPath = %q, want %q", st.ConfigPath, loc.ConfigPath)
	}
	if len(st.Auth.UnusableProfiles) != 0 {
		t.Errorf("unusable profiles on an empty HOME: %s", res.JSON)
	}
	t.Logf("real CLI %s: models status --json in %v (exit %d)", v, res.Duration, res.ExitCode)

	lint, err := c.DoctorLint(ctx)
	if err != nil {
		t.Fatalf("DoctorLint: %v", err)
	}
	var l struct {
		SchemaVersion int  `json:"schemaVersion"`
		OK            bool `json:"ok"`
	}
	if err := lint.Decode(&l); err != nil || l.SchemaVersion != 1 || !l.OK {
		t.Errorf("doctor lint on an empty HOME: %v %s", err, lint.JSON)
	}

	// No gateway on a port nobody listens on: a typed transport error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.ExtraEnv = map[string]string{"OPENCLAW_GATEWAY_PORT": strconv.Itoa(port)}
	c.GatewayToken = redact.Secret("real-test-gateway-token-0123456789")
	_, err = c.GatewayCall(ctx, "health", nil)
	var ce *CLIError
	if !errors.As(err, &ce) || !ce.GatewayUnreachable() {
		t.Errorf("gateway call health without a gateway: %v", err)
	} else {
		t.Logf("gateway call health: %v", err)
	}
}

func cliTestContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// As root, the CLI runs as the owner of the state dir, so files OpenClaw
// writes keep their owner.
func TestCLIRunsAsStateDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	dir := t.TempDir()
	c := &CLI{Loc: openclaw.Location{StateDir: dir}}
	if c.owner() != nil {
		t.Fatal("a root-owned state dir needs no credential change")
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Skip("chown:", err)
	}
	cred := c.owner()
	if cred == nil || cred.Uid != 65534 || cred.Gid != 65534 {
		t.Fatalf("credential %+v, want 65534:65534", cred)
	}
}
