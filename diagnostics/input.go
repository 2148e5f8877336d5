package diagnostics

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Credential sources in the status JSON.
const (
	SourceStore  = "store"
	SourceEnv    = "env"
	SourceConfig = "config"
)

// keyRef is one credential in play for a provider, wherever it came from.
type keyRef struct {
	ID       string // profile id, "env:NAME", or "inline-api-key:<provider>"
	Agent    string // agent that owns it ("" for the shared store, env and config)
	Source   string // store | env | config
	Cred     openclaw.Credential
	Store    *openclaw.AuthStore
	Env      *openclaw.EnvVar
	Shadowed bool // present but never used by OpenClaw (profile-first)
	// Inherited marks an agent's view of a shared profile that carries
	// agent-local usage state; it is not a credential of its own.
	Inherited bool
	// Claude is set for Claude Code's login (claude-cli): the native login
	// itself (ID "claude-cli", no secret of ours) or OpenClaw's stored copy
	// of it (profile anthropic:claude-cli, provider claude-cli).
	Claude *openclaw.ClaudeLogin
}

// ClaudeKeyID is the id the report gives Claude Code's own login.
const ClaudeKeyID = "claude-cli"

// Fingerprint of the secret, "" when there is none.
func (k keyRef) Fingerprint() string { return k.Cred.Secret.Fingerprint() }

func (in *Input) prepare() {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	if in.cmd == nil {
		in.cmd = newCommander(in.Snap)
	}
	if in.keys == nil {
		in.keys = collectKeys(in.Snap)
	}
}

// collectKeys lists stored profiles (shared store, then agents' own), the
// inline config key, then the env keys of the Anthropic provider.
func collectKeys(s *openclaw.Snapshot) []keyRef {
	var out []keyRef
	if s.Shared != nil {
		for _, c := range s.Shared.Profiles {
			out = append(out, keyRef{ID: c.ID, Source: SourceStore, Cred: c, Store: s.Shared})
		}
	}
	claudeCopy := func(k *keyRef) {
		if l := s.ClaudeCLI; l != nil && k.Cred.Provider == openclaw.ClaudeCLIProvider && k.ID == openclaw.ClaudeCLIProfileID {
			k.Claude = l
			k.Shadowed = l.CopyIgnored
		}
	}
	for i := range out {
		claudeCopy(&out[i])
	}
	for _, a := range s.Agents {
		if a.Own == nil || a.Own == s.Shared {
			continue
		}
		for _, c := range a.Own.Profiles {
			k := keyRef{ID: c.ID, Agent: a.ID, Source: SourceStore, Cred: c, Store: a.Own}
			claudeCopy(&k)
			out = append(out, k)
		}
		// An agent-local usageStats entry for an inherited profile applies
		// to that agent only (it replaces the shared entry for it).
		for _, id := range sortedKeys(a.Own.State.Usage) {
			if a.Own.Profile(id) != nil || s.Shared.Profile(id) == nil {
				continue
			}
			out = append(out, keyRef{ID: id, Agent: a.ID, Source: SourceStore, Cred: *s.Shared.Profile(id), Store: a.Own, Inherited: true})
		}
	}
	if l := s.ClaudeCLI; l != nil && l.Mode == openclaw.ClaudeNative {
		// Claude Code's own login: nothing of it is in OpenClaw's store.
		out = append(out, keyRef{ID: ClaudeKeyID, Source: SourceConfig, Claude: l,
			Cred: openclaw.Credential{ID: ClaudeKeyID, Provider: openclaw.ClaudeCLIProvider, Type: l.Type, Expires: l.Expires, Source: "claude-code"}})
	}
	storedAnthropic := false
	for _, k := range out {
		if k.Cred.Provider == "anthropic" {
			storedAnthropic = true
		}
	}
	if c := s.Config; c != nil && (c.AnthropicAPIKey != "" || c.AnthropicAPIKeyRef != nil) {
		cred := openclaw.Credential{ID: "inline-api-key:anthropic", Provider: "anthropic", Type: openclaw.TypeAPIKey, Source: SourceConfig}
		switch {
		case c.AnthropicAPIKeyRef != nil:
			cred.KeyRef = c.AnthropicAPIKeyRef
			cred.Secret, _ = s.ResolveRef(c.AnthropicAPIKeyRef)
		case strings.HasPrefix(c.AnthropicAPIKey, "${") && strings.HasSuffix(c.AnthropicAPIKey, "}"):
			if e, ok := s.LookupEnv(c.AnthropicAPIKey[2 : len(c.AnthropicAPIKey)-1]); ok {
				cred.Secret = e.Value
			}
		default:
			cred.Secret = redact.Secret(c.AnthropicAPIKey)
		}
		out = append(out, keyRef{ID: cred.ID, Source: SourceConfig, Cred: cred})
	}
	// Env keys: ANTHROPIC_OAUTH_TOKEN beats ANTHROPIC_API_KEY, and any
	// stored profile beats both (measured: profile-first).
	envUsed := false
	for _, name := range openclaw.AnthropicEnvNames {
		e, ok := s.LookupEnv(name)
		if !ok {
			continue
		}
		typ := openclaw.TypeAPIKey
		if name == "ANTHROPIC_OAUTH_TOKEN" {
			typ = openclaw.TypeToken
		}
		ev := e
		k := keyRef{ID: "env:" + name, Source: SourceEnv, Env: &ev,
			Cred: openclaw.Credential{ID: "env:" + name, Provider: "anthropic", Type: typ, Secret: e.Value, Source: "env:" + name}}
		k.Shadowed = storedAnthropic || envUsed
		envUsed = true
		out = append(out, k)
	}
	return out
}

// anthropicKeys returns the credentials of the Anthropic provider.
func (in *Input) anthropicKeys() []keyRef {
	var out []keyRef
	for _, k := range in.keys {
		if k.Cred.Provider == "anthropic" && !k.Inherited {
			out = append(out, k)
		}
	}
	return out
}

// windowKeys returns every Anthropic key whose usage state can hold a
// cooldown: the credentials plus agents' local state on inherited profiles,
// and OpenClaw's stored copy of a Claude Code login (2026.4–7.x record
// failures against it like against any profile).
func (in *Input) windowKeys() []keyRef {
	var out []keyRef
	for _, k := range in.keys {
		if k.Cred.Provider == "anthropic" || (k.Claude != nil && k.Store != nil) {
			out = append(out, k)
		}
	}
	return out
}

// claudeNative returns the key of Claude Code's own login, if the install
// uses one.
func (in *Input) claudeNative() (keyRef, bool) {
	for _, k := range in.keys {
		if k.Claude != nil && k.Store == nil {
			return k, true
		}
	}
	return keyRef{}, false
}

// anthropicOnClaude says whether every Anthropic model the install uses runs
// through Claude Code, so that no Anthropic credential of OpenClaw's own
// is needed.
func (in *Input) anthropicOnClaude() bool {
	l, c := in.Snap.ClaudeCLI, in.Snap.Config
	if l == nil || c == nil {
		return false
	}
	var models []string
	for _, m := range c.Models() {
		if p, _, ok := strings.Cut(m, "/"); ok && p == "anthropic" {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return l.AllModels // the built-in default is an anthropic model
	}
	for _, m := range models {
		if !c.RunsOnClaudeCLI(m) {
			return false
		}
	}
	return true
}

// subscription says whether a key is a Claude subscription login (a setup
// token, an OAuth login or Claude Code's) rather than an API key.
func subscription(k keyRef) bool {
	return k.Claude != nil || k.Cred.Type == openclaw.TypeToken || k.Cred.Type == openclaw.TypeOAuth
}

// usage returns the usage stats OpenClaw keeps for a key.
func (in *Input) usage(k keyRef) openclaw.UsageStats {
	if k.Store == nil {
		if k.Source == SourceConfig && in.Snap.Shared != nil {
			return in.Snap.Shared.State.Usage[k.ID]
		}
		return openclaw.UsageStats{}
	}
	return k.Store.State.Usage[k.ID]
}

// check returns the zero-token check result for a key, if any.
func (in *Input) check(k keyRef) (KeyCheck, bool) {
	fp := k.Fingerprint()
	if fp == "" || in.Checks == nil {
		return KeyCheck{}, false
	}
	c, ok := in.Checks[fp]
	return c, ok
}

// providersInUse are the providers of the configured model refs; with no
// model configured, the providers that have credentials; never empty.
func (in *Input) providersInUse() []string {
	var out []string
	add := func(p string) {
		if p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	if c := in.Snap.Config; c != nil {
		for _, m := range c.Models() {
			if p, _, ok := strings.Cut(m, "/"); ok {
				add(p)
			}
		}
	}
	if len(out) == 0 {
		for _, k := range in.keys {
			add(k.Cred.Provider)
		}
	}
	if len(out) == 0 {
		add("anthropic")
	}
	return out
}

// legacyVersion reports whether the install runs a pre-SQLite OpenClaw
// (the JSON generations, 2026.1–5.x).
func (in *Input) legacyVersion() bool {
	v := in.Snap.Version
	return in.Snap.Layout == openclaw.LayoutLegacy || (v != "" && openclaw.LayoutOf(openclaw.GenerationOf(v)) == openclaw.LayoutLegacy)
}

// commander writes OpenClaw commands that target exactly this install.
type commander struct {
	prefix   string
	defAgent string
}

func newCommander(s *openclaw.Snapshot) *commander {
	c := &commander{prefix: "openclaw", defAgent: s.DefaultAgent()}
	loc := s.Location
	def := loc.Home != "" && loc.StateDir == filepath.Join(loc.Home, ".openclaw")
	switch {
	case strings.HasPrefix(loc.How, "--openclaw-profile ") || strings.HasPrefix(loc.How, "OPENCLAW_PROFILE="):
		name := strings.TrimPrefix(strings.TrimPrefix(loc.How, "--openclaw-profile "), "OPENCLAW_PROFILE=")
		c.prefix = "openclaw --profile " + shellQuote(name)
	case !def:
		c.prefix = "OPENCLAW_STATE_DIR=" + shellQuote(loc.StateDir) + " openclaw"
		if loc.ConfigPath != "" && loc.ConfigPath != filepath.Join(loc.StateDir, "openclaw.json") {
			c.prefix = "OPENCLAW_CONFIG_PATH=" + shellQuote(loc.ConfigPath) + " " + c.prefix
		}
	}
	return c
}

// run renders `openclaw <args>` for this install, with --agent for a
// non-default agent.
func (c *commander) run(agent string, args ...string) string {
	s := c.prefix + " " + strings.Join(args, " ")
	if agent != "" && agent != c.defAgent {
		s += " --agent " + shellQuote(agent)
	}
	return s
}

// Command is `openclaw <args>` as an operator types it for the install of
// s: prefixed with OPENCLAW_STATE_DIR (and OPENCLAW_CONFIG_PATH) or
// --profile unless it is ~/.openclaw, so that it acts on that install and
// no other. For messages that are not findings (an action's outcome). A
// nil s (the install could not be read) gives the bare command.
func Command(s *openclaw.Snapshot, args ...string) string {
	if s == nil {
		return "openclaw " + strings.Join(args, " ")
	}
	return newCommander(s).run("", args...)
}

// PasteKeyCommand is the command that stores a new API key as profile of
// the install of s (the key read from $NEW_ANTHROPIC_KEY, never typed).
func PasteKeyCommand(s *openclaw.Snapshot, profile string) string {
	return newCommander(s).pasteKey("", profile)
}

func (c *commander) pasteKey(agent, profile string) string {
	return `printf '%s' "$NEW_ANTHROPIC_KEY" | ` + c.run(agent, "models auth paste-api-key --provider anthropic --profile-id", shellQuote(profile))
}

func (c *commander) pasteToken(agent, profile string) string {
	return `printf '%s' "$SETUP_TOKEN" | ` + c.run(agent, "models auth paste-token --provider anthropic --profile-id", shellQuote(profile), "--expires-in 365d")
}

func (c *commander) login(agent, profile string) string {
	return c.run(agent, "models auth login --provider anthropic --profile-id", shellQuote(profile)) + "   # interactive: needs a terminal"
}

// shellQuote quotes a word for POSIX shells when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// when renders an instant as "2026-11-25T13:00:00Z (in 4m)".
func when(t, now time.Time) string {
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), text.Relative(t, now, ""))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// subject names a key for findings: the profile id, with the agent when the
// key belongs to an agent's own store.
func subject(k keyRef) string {
	if k.Agent != "" {
		return k.ID + " (agent " + k.Agent + ")"
	}
	return k.ID
}

// where says where a key lives, for evidence.
func where(k keyRef) string {
	switch {
	case k.Claude != nil && k.Store == nil:
		return claudeWhere(k.Claude)
	case k.Store != nil:
		return k.Store.Path
	case k.Env != nil:
		s := k.Env.Source
		if k.Env.File != "" && k.Env.Line > 0 {
			s += fmt.Sprintf(" (%s:%d)", k.Env.File, k.Env.Line)
		}
		return s
	default:
		return "openclaw.json models.providers.anthropic.apiKey"
	}
}
