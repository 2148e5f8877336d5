package openclaw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Ranks of environment sources, in OpenClaw's first-wins order
// (dist/dotenv-global: pre-existing process env, then $STATE/.env, then
// ~/.config/openclaw/gateway.env; config env.vars fill only what is unset).
const (
	RankProcess   = 10 // the gateway's own environment (/proc/<pid>/environ)
	RankCompose   = 11 // environment: of the compose service (becomes the process env)
	RankComposeEF = 12 // env_file: of the compose service
	RankCwdDotenv = 20 // .env in the gateway's working directory
	RankStateEnv  = 30 // $STATE/.env
	RankGatewayEF = 40 // ~/.config/openclaw/gateway.env
	RankConfig    = 50 // openclaw.json env.vars / env.<KEY>
	RankLegacy    = 60 // ~/.clawdbot/.env (read by 2026.3.x and earlier)
)

// AnthropicEnvNames are the variables OpenClaw's Anthropic provider reads,
// in its order: an OAuth token beats an API key (plugin manifest
// setup.providers[0].envVars).
var AnthropicEnvNames = []string{"ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"}

// relevantEnv selects the names we collect: ANTHROPIC_* and CLAUDE*.
func relevantEnv(name string) bool {
	return strings.HasPrefix(name, "ANTHROPIC_") || strings.HasPrefix(name, "CLAUDE")
}

// EnvSources says where, beyond the state dir, to look for environment.
type EnvSources struct {
	ComposeFile    string // a docker compose file running the gateway
	ComposeService string // its service name; default openclaw-gateway
	ProcRoot       string // default /proc (tests point it elsewhere)
	NoProc         bool   // do not look for a gateway process
}

// collectEnv gathers every ANTHROPIC_*/CLAUDE* value from the places the
// gateway reads its environment, sorted by precedence. It reads files only.
func collectEnv(ctx context.Context, snap *Snapshot, src EnvSources) {
	stateDir, home := snap.Location.StateDir, snap.Location.Home
	add := func(vars []EnvVar) { snap.Env = append(snap.Env, vars...) }
	dotenv := func(path, source string, rank int) {
		defer noteReading(ctx, path)()
		vars, err := readDotenv(path, source, rank)
		if err != nil {
			snap.Problems = append(snap.Problems, err.Error())
		}
		add(vars)
	}

	if !src.NoProc {
		gw, vars, full, problem := findGateway(ctx, src.ProcRoot, stateDir, home)
		if problem != "" {
			snap.Problems = append(snap.Problems, problem)
		}
		if gw != nil {
			snap.Gateway = gw
			snap.gatewayEnv = full
			add(vars)
			if gw.Cwd != "" {
				dotenv(filepath.Join(gw.Cwd, ".env"), "gateway cwd .env", RankCwdDotenv)
			}
		}
	}
	if src.ComposeFile != "" {
		done := noteReading(ctx, src.ComposeFile)
		vars, err := composeEnv(src.ComposeFile, src.ComposeService)
		done()
		if err != nil {
			snap.Problems = append(snap.Problems, err.Error())
		}
		add(vars)
	}
	dotenv(filepath.Join(stateDir, ".env"), "$STATE/.env", RankStateEnv)
	if home != "" && filepath.Clean(stateDir) == filepath.Join(home, ".openclaw") {
		dotenv(filepath.Join(home, ".config", "openclaw", "gateway.env"), "~/.config/openclaw/gateway.env", RankGatewayEF)
	}
	if c := snap.Config; c != nil {
		for _, e := range c.EnvVars {
			if !relevantEnv(e.Name) {
				continue
			}
			where := "openclaw.json env.vars." + e.Name
			if e.Direct {
				where = "openclaw.json env." + e.Name
			}
			add([]EnvVar{{Name: e.Name, Value: redact.Secret(e.Value), Source: where, File: c.Path, Line: e.Pos.Line, Rank: RankConfig}})
		}
	}
	if home != "" {
		dotenv(filepath.Join(home, ".clawdbot", ".env"), "legacy ~/.clawdbot/.env", RankLegacy)
	}
	sort.SliceStable(snap.Env, func(i, j int) bool { return snap.Env[i].Rank < snap.Env[j].Rank })
	resolveRefs(snap)
}

var refRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// resolveRefs substitutes ${VAR} references in collected values using the
// rest of the collected environment plus the gateway's full environment.
func resolveRefs(snap *Snapshot) {
	for i := range snap.Env {
		v := snap.Env[i].Value.Reveal()
		if !strings.Contains(v, "${") {
			continue
		}
		var missing []string
		out := refRE.ReplaceAllStringFunc(v, func(m string) string {
			name := m[2 : len(m)-1]
			if got, ok := snap.LookupEnv(name); ok && !strings.Contains(got.Value.Reveal(), "${") {
				return got.Value.Reveal()
			}
			if got, ok := snap.gatewayEnv[name]; ok {
				return got
			}
			missing = append(missing, name)
			return m
		})
		if len(missing) > 0 {
			snap.Env[i].Unresolved = "references unset ${" + strings.Join(missing, "}, ${") + "}"
			continue
		}
		snap.Env[i].Value = redact.Secret(out)
	}
}

// LookupEnv returns the value of an environment variable as the gateway
// would see it: the source with the best rank wins.
func (s *Snapshot) LookupEnv(name string) (EnvVar, bool) {
	for _, e := range s.Env { // sorted by rank
		if e.Name == name {
			return e, true
		}
	}
	return EnvVar{}, false
}

// EnvAll returns every value found for name, best first.
func (s *Snapshot) EnvAll(name string) []EnvVar {
	var out []EnvVar
	for _, e := range s.Env {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// readDotenv parses a dotenv file; a missing or unreadable file yields
// nothing, a FIFO or device (never opened) a *NotRegularError.
func readDotenv(path, source string, rank int) ([]EnvVar, error) {
	data, err := readRegular(path)
	if nr := (*NotRegularError)(nil); errors.As(err, &nr) {
		return nil, nr
	}
	if err != nil || len(data) > 1<<20 {
		return nil, nil
	}
	var out []EnvVar
	for _, kv := range ParseDotenv(data) {
		if relevantEnv(kv.Name) {
			out = append(out, EnvVar{Name: kv.Name, Value: redact.Secret(kv.Value), Source: source, File: path, Line: kv.Line, Rank: rank})
		}
	}
	return out, nil
}

// DotenvEntry is one KEY=VALUE of a dotenv file.
type DotenvEntry struct {
	Name, Value string
	Line        int
}

// ParseDotenv parses the dotenv format the way the npm dotenv package does
// for the common cases: `KEY=value`, optional `export `, # comments, single,
// double and backtick quotes (double quotes expand \n), inline comments after
// unquoted values, and multi-line quoted values.
func ParseDotenv(data []byte) []DotenvEntry {
	var out []DotenvEntry
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		lineNo := i + 1
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		eq := strings.IndexAny(line, "=:")
		if eq <= 0 {
			continue
		}
		name := strings.TrimSpace(line[:eq])
		if !validEnvName(name) {
			continue
		}
		val := strings.TrimSpace(line[eq+1:])
		if len(val) > 0 && (val[0] == '"' || val[0] == '\'' || val[0] == '`') {
			q := val[0]
			body := val[1:]
			for !strings.Contains(body, string(q)) && i+1 < len(lines) {
				i++
				body += "\n" + lines[i]
			}
			if end := strings.IndexByte(body, q); end >= 0 {
				body = body[:end]
			}
			if q == '"' {
				body = strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(body)
			}
			val = body
		} else if hash := strings.Index(val, " #"); hash >= 0 {
			val = strings.TrimSpace(val[:hash])
		}
		out = append(out, DotenvEntry{Name: name, Value: val, Line: lineNo})
	}
	return out
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// findGateway looks in /proc for an OpenClaw gateway serving this state
// dir and reads its environment when permitted. It returns a problem text
// when a gateway exists but its environment cannot be read.
func findGateway(ctx context.Context, procRoot, stateDir, home string) (gw *GatewayProcess, vars []EnvVar, full map[string]string, problem string) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	defer noteReading(ctx, procRoot)()
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, nil, nil, ""
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		noteReading(ctx, dir) // restored by the defer above
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !IsGatewayCmdline(cmd) {
			continue
		}
		gw := &GatewayProcess{PID: pid}
		gw.Cwd, _ = os.Readlink(filepath.Join(dir, "cwd"))
		raw, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil {
			return gw, nil, nil, fmt.Sprintf("gateway process %d found but its environment is not readable (%s): run the bot as the gateway's user to see env keys", pid, DescribeErr(err))
		}
		env := map[string]string{}
		for _, kv := range bytes.Split(raw, []byte{0}) {
			if k, v, ok := strings.Cut(string(kv), "="); ok {
				env[k] = v
			}
		}
		if !GatewayServes(env, stateDir, home) {
			continue
		}
		gw.EnvReadable = true
		for _, k := range sortedKeys(env) {
			if relevantEnv(k) {
				vars = append(vars, EnvVar{Name: k, Value: redact.Secret(env[k]), Source: fmt.Sprintf("gateway process %d environment", pid), Rank: RankProcess})
			}
		}
		return gw, vars, env, ""
	}
	return nil, nil, nil, ""
}

// IsGatewayCmdline reports whether a NUL-separated /proc cmdline is an
// OpenClaw gateway: `openclaw gateway run|start` or `openclaw-gateway`.
func IsGatewayCmdline(cmdline []byte) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	sawOpenclaw := false
	for _, a := range args {
		base := filepath.Base(a)
		switch {
		case base == "openclaw-gateway":
			return true
		case base == "openclaw" || base == "openclaw.mjs" || strings.HasSuffix(a, "/openclaw/dist/index.js") || strings.HasSuffix(a, "/openclaw/openclaw.mjs"):
			sawOpenclaw = true
		case sawOpenclaw && a == "gateway":
			return true
		}
	}
	return false
}

// GatewayServes decides from a gateway's environment whether it uses stateDir.
func GatewayServes(env map[string]string, stateDir, home string) bool {
	if sd := strings.TrimSpace(env["OPENCLAW_STATE_DIR"]); sd != "" {
		return filepath.Clean(ExpandHome(sd, env["HOME"])) == filepath.Clean(stateDir)
	}
	h := env["OPENCLAW_HOME"]
	if h == "" {
		h = env["HOME"]
	}
	if h == "" {
		h = home
	}
	want := filepath.Join(h, ".openclaw")
	if p := strings.TrimSpace(env["OPENCLAW_PROFILE"]); p != "" {
		want = profileDir(h, p)
	}
	return filepath.Clean(want) == filepath.Clean(stateDir)
}

// composeEnv reads environment: and env_file: of one compose service.
func composeEnv(path, service string) ([]EnvVar, error) {
	if service == "" {
		service = "openclaw-gateway"
	}
	data, err := readRegular(path)
	if nr := (*NotRegularError)(nil); errors.As(err, &nr) {
		return nil, fmt.Errorf("compose file %w", nr)
	}
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %s", path, DescribeErr(err))
	}
	var doc struct {
		Services map[string]struct {
			Environment yaml.Node `yaml:"environment"`
			EnvFile     yaml.Node `yaml:"env_file"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("compose file %s: %v", path, err)
	}
	svc, ok := doc.Services[service]
	if !ok {
		return nil, fmt.Errorf("compose file %s has no service %q (set compose_service)", path, service)
	}
	var out []EnvVar
	src := fmt.Sprintf("compose %s service %s environment", filepath.Base(path), service)
	addKV := func(k, v string, line int) {
		if relevantEnv(k) {
			out = append(out, EnvVar{Name: k, Value: redact.Secret(v), Source: src, File: path, Line: line, Rank: RankCompose})
		}
	}
	switch svc.Environment.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(svc.Environment.Content); i += 2 {
			addKV(svc.Environment.Content[i].Value, svc.Environment.Content[i+1].Value, svc.Environment.Content[i].Line)
		}
	case yaml.SequenceNode:
		for _, n := range svc.Environment.Content {
			k, v, _ := strings.Cut(n.Value, "=")
			addKV(k, v, n.Line)
		}
	}
	var files []string
	switch svc.EnvFile.Kind {
	case yaml.ScalarNode:
		files = append(files, svc.EnvFile.Value)
	case yaml.SequenceNode:
		for _, n := range svc.EnvFile.Content {
			if n.Kind == yaml.MappingNode { // long form {path: …, required: …}
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == "path" {
						files = append(files, n.Content[i+1].Value)
					}
				}
				continue
			}
			files = append(files, n.Value)
		}
	}
	var errs []error
	for _, f := range files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(path), f)
		}
		vars, err := readDotenv(f, "compose env_file "+filepath.Base(f), RankComposeEF)
		if err != nil {
			errs = append(errs, fmt.Errorf("compose env_file %w", err))
		}
		out = append(out, vars...)
	}
	return out, errors.Join(errs...)
}

// ResolveRef resolves a SecretRef without ever running anything: env refs
// from the gateway's environment view, file refs from secrets.providers.
// exec refs are never resolved (running a command is not ours to do).
func (s *Snapshot) ResolveRef(r *SecretRef) (redact.Secret, string) {
	if r == nil {
		return "", "no reference"
	}
	switch r.Source {
	case "env":
		if e, ok := s.LookupEnv(r.ID); ok && e.Unresolved == "" {
			return e.Value, ""
		}
		if _, ok := s.LookupEnv(r.ID); !ok && s.Gateway != nil && !s.Gateway.EnvReadable {
			return "", fmt.Sprintf("env %s: the gateway's environment is not readable", r.ID)
		}
		return "", fmt.Sprintf("env %s is not set in any source the gateway reads", r.ID)
	case "file":
		var p SecretProvider
		if s.Config != nil {
			p = s.Config.SecretProviders[r.Provider]
		}
		if p.Source != "file" || p.Path == "" {
			return "", fmt.Sprintf("secrets.providers.%s is not a file provider", r.Provider)
		}
		data, err := readRegular(ExpandHome(p.Path, s.Location.Home))
		if nr := (*NotRegularError)(nil); errors.As(err, &nr) {
			return "", fmt.Sprintf("file provider %s: %v", r.Provider, nr)
		}
		if err != nil {
			return "", fmt.Sprintf("file provider %s: %s", r.Provider, DescribeErr(err))
		}
		if p.Mode == "singleValue" || r.ID == "value" {
			return redact.Secret(strings.TrimRight(string(data), "\r\n")), ""
		}
		var doc any
		if json.Unmarshal(data, &doc) != nil {
			return "", fmt.Sprintf("file provider %s: not JSON", r.Provider)
		}
		v, ok := jsonPointer(doc, r.ID)
		if !ok {
			return "", fmt.Sprintf("file provider %s has no %s", r.Provider, r.ID)
		}
		return redact.Secret(v), ""
	case "exec":
		return "", "exec secret references are never run by the bot"
	default:
		return "", fmt.Sprintf("%s secret references are not readable by the bot", r.Source)
	}
}

func jsonPointer(doc any, ptr string) (string, bool) {
	if !strings.HasPrefix(ptr, "/") {
		return "", false
	}
	cur := doc
	for _, part := range strings.Split(ptr[1:], "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur, ok = m[part]
		if !ok {
			return "", false
		}
	}
	s, ok := cur.(string)
	return s, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
