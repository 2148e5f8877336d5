package openclaw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw/json5"
)

// maxConfigBytes bounds how much of openclaw.json we read.
const maxConfigBytes = 16 << 20

// Config is the part of openclaw.json that matters for Anthropic auth.
type Config struct {
	Path string
	Root *json5.Node

	Version      string   // meta.lastTouchedVersion
	DefaultModel string   // agents.defaults.model.primary (or a plain string)
	Fallbacks    []string // agents.defaults.model.fallbacks
	AllowModels  []string // keys of agents.defaults.models

	Agents []AgentConfig
	// Profiles is auth.profiles, in file order.
	Profiles []ProfileConfig
	Order    map[string][]string // auth.order

	// AnthropicBaseURL is models.providers.anthropic.baseUrl.
	AnthropicBaseURL string
	// AnthropicAPIKey is models.providers.anthropic.apiKey (inline or ${VAR}).
	AnthropicAPIKey     string
	AnthropicAPIKeyRef  *SecretRef
	AnthropicAPIKeyNode *json5.Node

	EnvVars         []ConfigEnv // env.vars and the direct env.<KEY> form
	ShellEnvEnabled bool        // env.shellEnv.enabled

	SecretProviders map[string]SecretProvider // secrets.providers

	GatewayPort int
	GatewayBind string
	GatewayURL  string // gateway.remote.url when mode is remote
	GatewayMode string

	// ClaudeRoutes are the places that run models through Claude Code
	// (runtime "claude-cli"); claude-cli/<model> refs are in the models.
	ClaudeRoutes []ClaudeRoute

	// Issues are schema problems found while reading (config.schema).
	Issues []ConfigIssue
}

// AgentConfig is one entry of agents.entries.
type AgentConfig struct {
	ID       string
	AgentDir string
	Default  bool
	Model    string
}

// ProfileConfig is one auth.profiles entry.
type ProfileConfig struct {
	ID       string
	Provider string
	Mode     string
	Pos      json5.Pos
}

// ConfigEnv is one environment value declared in the config.
type ConfigEnv struct {
	Name   string
	Value  string
	Direct bool // env.<KEY> rather than env.vars.<KEY>
	Pos    json5.Pos
}

// SecretProvider is secrets.providers.<name>.
type SecretProvider struct {
	Source string // env | file | exec
	Path   string // file
	Mode   string // file: json | singleValue
}

// ConfigIssue is a schema problem at a position of the file.
type ConfigIssue struct {
	Path string // dotted path, like OpenClaw prints it ("<root>" for the top)
	Msg  string
	Pos  json5.Pos
}

// ConfigError means openclaw.json could not be parsed at all.
type ConfigError struct {
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Msg    string `json:"message"`
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// ReadConfig reads and interprets openclaw.json. A missing file returns
// (nil, nil): OpenClaw runs on defaults then. A file that is not valid JSON5
// returns a *ConfigError with line and column; one that cannot be read
// (permissions) a plain error: the file may be fine, the bot cannot tell.
func ReadConfig(path string) (*Config, error) {
	_, err := statRegular(path) // a FIFO would block open(2)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var nr *NotRegularError
	if errors.As(err, &nr) {
		return nil, nr
	}
	var f *os.File
	if err == nil {
		f, err = os.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %s", path, DescribeErr(err))
	}
	defer f.Close()
	data := make([]byte, 0, 8192)
	buf := make([]byte, 32<<10)
	for len(data) <= maxConfigBytes {
		n, rerr := f.Read(buf)
		data = append(data, buf[:n]...)
		if rerr != nil {
			break
		}
	}
	if len(data) > maxConfigBytes {
		return nil, &ConfigError{Path: path, Msg: fmt.Sprintf("file is larger than %d MiB", maxConfigBytes>>20)}
	}
	return ParseConfig(path, data)
}

// ParseConfig interprets the bytes of openclaw.json.
func ParseConfig(path string, data []byte) (*Config, error) {
	root, err := json5.Parse(data)
	if err != nil {
		var se *json5.SyntaxError
		if errors.As(err, &se) {
			return nil, &ConfigError{Path: path, Line: se.Line, Column: se.Column, Msg: se.Error()}
		}
		return nil, &ConfigError{Path: path, Msg: err.Error()}
	}
	c := &Config{Path: path, Root: root}
	if root.Kind != json5.Object {
		c.issue("<root>", "Invalid input: expected object", root.Pos)
		return c, nil
	}
	c.Version = str(root.Get("meta", "lastTouchedVersion"))
	c.readModel(root.Get("agents", "defaults"))
	c.readAgents(root.Get("agents", "entries"))
	c.readAuth(root.Get("auth"))
	c.readProviders(root.Get("models", "providers", "anthropic"))
	c.readEnv(root.Get("env"))
	c.readSecrets(root.Get("secrets", "providers"))
	c.readGateway(root.Get("gateway"))
	c.readClaudeRoutes(root)
	c.checkTopLevel(root)
	return c, nil
}

func (c *Config) issue(path, msg string, pos json5.Pos) {
	c.Issues = append(c.Issues, ConfigIssue{Path: path, Msg: msg, Pos: pos})
}

func (c *Config) readModel(defaults *json5.Node) {
	m := defaults.Get("model")
	switch {
	case m == nil:
	case m.Kind == json5.String:
		c.DefaultModel = m.Str
	default:
		c.DefaultModel = str(m.Get("primary"))
		if fb := m.Get("fallbacks"); fb != nil && fb.Kind == json5.Array {
			for _, e := range fb.Elems {
				if e.Kind == json5.String {
					c.Fallbacks = append(c.Fallbacks, e.Str)
				}
			}
		}
	}
	if ms := defaults.Get("models"); ms != nil && ms.Kind == json5.Object {
		for _, mem := range ms.Members {
			c.AllowModels = append(c.AllowModels, mem.Key)
		}
	}
}

func (c *Config) readAgents(entries *json5.Node) {
	if entries == nil || entries.Kind != json5.Object {
		return
	}
	defer c.checkOwnership(entries)
	for _, m := range entries.Members {
		if m.Value.Kind != json5.Object {
			c.issue("agents.entries."+m.Key, "Invalid input: expected object", m.Value.Pos)
			continue
		}
		a := AgentConfig{ID: m.Key, AgentDir: str(m.Value.Get("agentDir"))}
		if d := m.Value.Get("default"); d != nil && d.Kind == json5.Bool {
			a.Default = d.Bool
		}
		if mod := m.Value.Get("model"); mod != nil {
			if mod.Kind == json5.String {
				a.Model = mod.Str
			} else {
				a.Model = str(mod.Get("primary"))
			}
		}
		c.Agents = append(c.Agents, a)
	}
}

// checkOwnership: 2026.9.6 refuses a multi-agent roster without an owner
// (measured: every command fails with this message).
func (c *Config) checkOwnership(entries *json5.Node) {
	if len(c.Agents) < 2 || str(c.Root.Get("agents", "ownership")) == "explicit" {
		return
	}
	for _, a := range c.Agents {
		if a.Default {
			return
		}
	}
	c.issue("agents.ownership", `multi-agent rosters require agents.ownership="explicit" or one legacy default=true marker`, entries.Pos)
}

// profileModes are the values 2026.9.6 accepts for auth.profiles.*.mode.
var profileModes = []string{"api_key", "aws-sdk", "oauth", "token"}

func (c *Config) readAuth(auth *json5.Node) {
	if auth == nil {
		return
	}
	if profiles := auth.Get("profiles"); profiles != nil && profiles.Kind == json5.Object {
		for _, m := range profiles.Members {
			p := ProfileConfig{ID: m.Key, Pos: m.KeyPos}
			path := "auth.profiles." + m.Key
			if m.Value.Kind != json5.Object {
				c.issue(path, "Invalid input: expected object", m.Value.Pos)
				continue
			}
			p.Provider = str(m.Value.Get("provider"))
			if p.Provider == "" {
				c.issue(path+".provider", "Invalid input: expected string, received undefined", m.Value.Pos)
			}
			mode := m.Value.Get("mode")
			p.Mode = str(mode)
			if !contains(profileModes, p.Mode) {
				pos := m.Value.Pos
				if mode != nil {
					pos = mode.Pos
				}
				c.issue(path+".mode", `Invalid input (allowed: "api_key", "aws-sdk", "oauth", "token")`, pos)
			}
			for _, f := range m.Value.Members {
				switch f.Key {
				case "provider", "mode", "email", "displayName":
				default:
					c.issue(path, fmt.Sprintf("Unrecognized key: %q", f.Key), f.KeyPos)
				}
			}
			c.Profiles = append(c.Profiles, p)
		}
	}
	if order := auth.Get("order"); order != nil && order.Kind == json5.Object {
		c.Order = map[string][]string{}
		for _, m := range order.Members {
			for _, e := range m.Value.Elems {
				if e.Kind == json5.String {
					c.Order[m.Key] = append(c.Order[m.Key], e.Str)
				}
			}
		}
	}
}

func (c *Config) readProviders(anth *json5.Node) {
	if anth == nil {
		return
	}
	c.AnthropicBaseURL = str(anth.Get("baseUrl"))
	if k := anth.Get("apiKey"); k != nil {
		c.AnthropicAPIKeyNode = k
		switch k.Kind {
		case json5.String:
			c.AnthropicAPIKey = k.Str
		case json5.Object:
			c.AnthropicAPIKeyRef = secretRef(k)
		}
	}
}

func (c *Config) readEnv(env *json5.Node) {
	if env == nil || env.Kind != json5.Object {
		return
	}
	for _, m := range env.Members {
		switch m.Key {
		case "vars":
			if m.Value.Kind != json5.Object {
				c.issue("env.vars", "Invalid input: expected record", m.Value.Pos)
				continue
			}
			for _, v := range m.Value.Members {
				if v.Value.Kind == json5.String {
					c.EnvVars = append(c.EnvVars, ConfigEnv{Name: v.Key, Value: v.Value.Str, Pos: v.KeyPos})
				}
			}
		case "shellEnv":
			if e := m.Value.Get("enabled"); e != nil && e.Kind == json5.Bool {
				c.ShellEnvEnabled = e.Bool
			}
		default:
			// The direct form env.<KEY>: "value". Older releases read it;
			// 2026.9.6's schema is strict here and rejects it (the rule
			// for config.schema decides by version).
			if m.Value.Kind == json5.String {
				c.EnvVars = append(c.EnvVars, ConfigEnv{Name: m.Key, Value: m.Value.Str, Direct: true, Pos: m.KeyPos})
			}
		}
	}
}

func (c *Config) readSecrets(providers *json5.Node) {
	if providers == nil || providers.Kind != json5.Object {
		return
	}
	c.SecretProviders = map[string]SecretProvider{}
	for _, m := range providers.Members {
		c.SecretProviders[m.Key] = SecretProvider{
			Source: str(m.Value.Get("source")),
			Path:   str(m.Value.Get("path")),
			Mode:   str(m.Value.Get("mode")),
		}
	}
}

func (c *Config) readGateway(gw *json5.Node) {
	if gw == nil {
		return
	}
	if p := gw.Get("port"); p != nil && p.Kind == json5.Number {
		c.GatewayPort = int(p.Num)
	}
	c.GatewayBind = str(gw.Get("bind"))
	c.GatewayMode = str(gw.Get("mode"))
	c.GatewayURL = str(gw.Get("remote", "url"))
}

// topLevelKeys are the keys 2026.9.6's strict root schema accepts
// (dist/zod-schema-*.mjs, OpenClawSchemaShape).
var topLevelKeys = []string{"$schema", "meta", "env", "wizard", "diagnostics", "logging", "update",
	"telemetry", "browser", "ui", "secrets", "auth", "accessGroups", "acp", "models", "nodeHost",
	"agents", "worktreeRoot", "worktreeAcceleration", "tools", "security", "bindings", "broadcast",
	"attachments", "messages", "tts", "commands", "approvals", "session", "cron", "transcripts",
	"hooks", "channels", "discovery", "talk", "gateway", "cloudWorkers", "desktop", "memory", "mcp",
	"skills", "plugins", "surfaces", "proxy"}

// checkTopLevel records keys the 2026.9.6 schema rejects. Which of them are
// fatal depends on the version, so the diagnostics rule filters by version.
func (c *Config) checkTopLevel(root *json5.Node) {
	for _, m := range root.Members {
		if !contains(topLevelKeys, m.Key) {
			c.issue("<root>", fmt.Sprintf("Unrecognized key: %q", m.Key), m.KeyPos)
		}
	}
	if meta := root.Get("meta"); meta != nil {
		for _, m := range meta.Members {
			if m.Key != "lastTouchedVersion" && m.Key != "migrations" {
				c.issue("meta", fmt.Sprintf("Unrecognized key: %q", m.Key), m.KeyPos)
			}
		}
	}
	if ts := root.Get("gateway", "tailscale"); ts != nil {
		for _, m := range ts.Members {
			if m.Key == "resetOnExit" {
				c.issue("gateway.tailscale", `Unrecognized key: "resetOnExit"`, m.KeyPos)
			}
		}
	}
	for _, e := range c.EnvVars {
		if e.Direct {
			c.issue("env", fmt.Sprintf("Unrecognized key: %q", e.Name), e.Pos)
		}
	}
	sort.SliceStable(c.Issues, func(i, j int) bool { return c.Issues[i].Pos.Line < c.Issues[j].Pos.Line })
}

// Agent returns the configured agent with that id, or nil.
func (c *Config) Agent(id string) *AgentConfig {
	if c == nil {
		return nil
	}
	for i := range c.Agents {
		if c.Agents[i].ID == id {
			return &c.Agents[i]
		}
	}
	return nil
}

// Profile returns the auth.profiles entry with that id, or nil.
func (c *Config) Profile(id string) *ProfileConfig {
	if c == nil {
		return nil
	}
	for i := range c.Profiles {
		if c.Profiles[i].ID == id {
			return &c.Profiles[i]
		}
	}
	return nil
}

// Models returns the model refs in use: the default model and its fallbacks
// and the agents' own models, each once, in that order.
func (c *Config) Models() []string {
	if c == nil {
		return nil
	}
	var out []string
	add := func(m string) {
		if m != "" && !contains(out, m) {
			out = append(out, m)
		}
	}
	add(c.DefaultModel)
	for _, m := range c.Fallbacks {
		add(m)
	}
	for _, a := range c.Agents {
		add(a.Model)
	}
	return out
}

func secretRef(n *json5.Node) *SecretRef {
	if n == nil || n.Kind != json5.Object {
		return nil
	}
	r := &SecretRef{Source: str(n.Get("source")), Provider: str(n.Get("provider")), ID: str(n.Get("id"))}
	if r.Source == "" {
		return nil
	}
	return r
}

func str(n *json5.Node) string {
	if n == nil || n.Kind != json5.String {
		return ""
	}
	return n.Str
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DescribeErr says what went wrong with a file, briefly (no path repeated).
func DescribeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.TrimSpace(err.Error())
}
