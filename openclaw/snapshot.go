package openclaw

import (
	"slices"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Layouts of the credential store.
const (
	LayoutSQLite = "sqlite"      // 2026.6+: agent databases, then state/openclaw.sqlite
	LayoutLegacy = "legacy-json" // 2026.1–5.x: agents/<id>/agent/auth-profiles.json (+ auth-state.json)
)

// Credential types as OpenClaw stores them.
const (
	TypeAPIKey = "api_key"
	TypeToken  = "token"
	TypeOAuth  = "oauth"
)

// Snapshot is everything the bot knows about one install at one instant,
// read natively: no Node, no network, no writes.
type Snapshot struct {
	Location Location  `json:"location"`
	TakenAt  time.Time `json:"taken_at"`
	// Version is meta.lastTouchedVersion of openclaw.json ("" if unknown).
	Version string `json:"version"`
	Layout  string `json:"layout"`
	// Generation is where the release keeps its auth state (GenJSONInline,
	// GenJSONSplit, GenAgentSQLite, GenStateSQLite).
	Generation string `json:"generation"`

	Config    *Config      `json:"-"`
	ConfigErr *ConfigError `json:"config_error,omitempty"` // syntax error (file unusable)

	// Shared is the store the main agent (and, in 2026.9.6, every agent
	// without its own profiles) reads: state/openclaw.sqlite or, for the
	// legacy-main layout, agents/main/agent/openclaw-agent.sqlite, or the
	// legacy main auth-profiles.json.
	Shared *AuthStore `json:"shared,omitempty"`
	// Agents lists the configured agents with any store of their own.
	Agents []Agent `json:"agents"`
	// Legacy lists legacy JSON credential files that a 2026.4+ install has
	// not migrated yet (they make every `models status` fail).
	Legacy []LegacyFile `json:"legacy,omitempty"`
	// Env holds every ANTHROPIC_*/CLAUDE* value found in the places the
	// gateway reads its environment from, in OpenClaw's precedence order.
	Env []EnvVar `json:"env,omitempty"`
	// ClaudeCLI is the Claude Code login that serves Anthropic models when
	// the install routes them through Claude Code (claude-cli); nil if not.
	ClaudeCLI *ClaudeLogin `json:"claude_cli,omitempty"`
	// Gateway describes the running gateway process, if one was found.
	Gateway *GatewayProcess `json:"gateway,omitempty"`
	// Files are the sensitive files with their permissions.
	Files []FileMode `json:"files,omitempty"`
	// gatewayEnv is the gateway's whole environment, only for resolving
	// ${VAR} references; never printed.
	gatewayEnv map[string]string
	// StateDirMissing: the state dir does not exist (a wrong path, the
	// wrong user's ~, or an install that was never onboarded).
	StateDirMissing bool `json:"state_dir_missing,omitempty"`
	// StateDirUID owns the state dir (-1: unknown). The gateway runs as
	// it, and so must the bot to read OpenClaw's 0600 files.
	StateDirUID int `json:"-"`
	// Newer is set when the state was written by an OpenClaw newer than
	// any the bot knows, in a form it has never seen (then nothing of the
	// auth state is read); it says both versions.
	Newer string `json:"newer,omitempty"`
	// Problems are things that could not be read (permission denied, a
	// locked or corrupt database). Each is a plain sentence with the path.
	Problems []string `json:"problems,omitempty"`
}

// Agent is one entry of agents.entries (or "main" when none is configured).
type Agent struct {
	ID       string     `json:"id"`
	Dir      string     `json:"dir"`
	Default  bool       `json:"default,omitempty"`
	Own      *AuthStore `json:"own,omitempty"` // the agent's own database/file, if it has one with profiles
	Inherits bool       `json:"inherits"`      // reads the shared store for profiles it does not own
}

// AuthStore is one credential store: profiles (secrets) plus usage state
// (order, lastGood, usageStats = cooldowns).
type AuthStore struct {
	Kind string `json:"kind"` // state-db | agent-db | legacy-json
	Path string `json:"path"`
	// StatePath is where the usage state lives when it is not in Path
	// (GenJSONSplit: the auth-state.json beside auth-profiles.json).
	StatePath string       `json:"state_path,omitempty"`
	AgentID   string       `json:"agent_id,omitempty"`
	Profiles  []Credential `json:"profiles"`
	State     AuthState    `json:"state"`
	UpdatedAt time.Time    `json:"updated_at,omitzero"`
	// CredentialsAt is when OpenClaw last wrote the credential row (the
	// profiles and their secrets) of a SQLite store: updated_at_ms of
	// authProfiles.store, updated_at of auth_profile_store. Every SQLite
	// release (2026.6.11–2026.9.6, measured) writes that row only for a
	// credential change (onboarding, paste-api-key, paste-token, login,
	// logout, an OAuth refresh), never for a failure or a cooldown, which
	// go to the state row. Zero where it cannot tell: the JSON
	// generations rewrite auth-profiles.json at every failure (2026.5.28:
	// 1 ms after lastFailureAt, measured), so its mtime proves nothing.
	CredentialsAt time.Time `json:"credentials_at,omitzero"`
	// stateSum is the SHA-256 of the usage state bytes read (the state
	// row, or the legacy file): ResetPlan.ReadFrom compares it.
	stateSum []byte
}

// Store kinds.
const (
	StoreStateDB    = "state-db"
	StoreAgentDB    = "agent-db"
	StoreLegacyJSON = "legacy-json"
	StoreAuthState  = "auth-state-json" // GenJSONSplit's auth-state.json (usage state only)
)

// ProfilesAt is when the profiles were last written, at the latest: the
// credential row's write time (CredentialsAt), or for the JSON files their
// mtime (UpdatedAt), which failures also bump; zero when unknown. A refresh
// fence in the profiles is at least that old.
func (s *AuthStore) ProfilesAt() time.Time {
	if !s.CredentialsAt.IsZero() {
		return s.CredentialsAt
	}
	if s.Kind == StoreLegacyJSON {
		return s.UpdatedAt
	}
	return time.Time{}
}

// StateFile is the file or database the usage state of the store lives in.
func (s *AuthStore) StateFile() string {
	if s.StatePath != "" {
		return s.StatePath
	}
	return s.Path
}

// Profile returns the credential with the given id, or nil.
func (s *AuthStore) Profile(id string) *Credential {
	if s == nil {
		return nil
	}
	for i := range s.Profiles {
		if s.Profiles[i].ID == id {
			return &s.Profiles[i]
		}
	}
	return nil
}

// Credential is one stored auth profile. Secret fields are redact.Secret.
type Credential struct {
	ID       string        `json:"id"`
	Provider string        `json:"provider"`
	Type     string        `json:"type"` // api_key | token | oauth (others kept as read)
	Secret   redact.Secret `json:"-"`    // api key, setup token, or OAuth access token
	Refresh  redact.Secret `json:"-"`    // OAuth refresh token
	KeyRef   *SecretRef    `json:"key_ref,omitempty"`
	Expires  time.Time     `json:"expires,omitzero"` // zero: no expiry recorded
	// ExpiresInvalid is set when "expires" is present but not a positive number.
	ExpiresInvalid bool   `json:"expires_invalid,omitempty"`
	Email          string `json:"email,omitempty"`
	// Fence is FencePending, FenceFailed or FenceMalformed when OpenClaw
	// (2026.9.x) replaced the tokens by a refresh fence: pending while a
	// refresh owner holds the login (or died holding it), failed when the
	// refresh failed and the refresh token is gone. Expires is then zero:
	// a fence's "expires: 1" is a marker, not a date.
	Fence string `json:"fence,omitempty"`
	// Source is where the secret came from: "store" or "env:NAME" for a keyRef.
	Source string `json:"source"`
}

// SecretRef is OpenClaw's {source, provider, id} secret reference.
type SecretRef struct {
	Source   string `json:"source"` // env | file | exec | store
	Provider string `json:"provider"`
	ID       string `json:"id"`
}

// AuthState is the usage state of a store.
type AuthState struct {
	Order    map[string][]string   `json:"order,omitempty"`
	LastGood map[string]string     `json:"last_good,omitempty"`
	Usage    map[string]UsageStats `json:"usage,omitempty"`
}

// UsageStats is usageStats[profileId]: cooldowns, disables and counters.
type UsageStats struct {
	CooldownUntil  time.Time `json:"cooldown_until,omitzero"`
	CooldownReason string    `json:"cooldown_reason,omitempty"`
	CooldownModel  string    `json:"cooldown_model,omitempty"`
	DisabledUntil  time.Time `json:"disabled_until,omitzero"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	BlockedUntil   time.Time `json:"blocked_until,omitzero"`
	BlockedReason  string    `json:"blocked_reason,omitempty"`
	BlockedModel   string    `json:"blocked_model,omitempty"`
	BlockedSource  string    `json:"blocked_source,omitempty"`
	BlockedScope   string    `json:"blocked_scope,omitempty"`
	// CooldownClassification refines cooldownReason (2026.8+, OpenAI WHAM).
	CooldownClassification string         `json:"cooldown_classification,omitempty"`
	ErrorCount             int            `json:"error_count,omitempty"`
	FailureCounts          map[string]int `json:"failure_counts,omitempty"`
	LastFailureAt          time.Time      `json:"last_failure_at,omitzero"`
	LastUsed               time.Time      `json:"last_used,omitzero"`
	LastProbeAt            time.Time      `json:"last_probe_at,omitzero"`
}

// Window is an active unusable window of a profile.
type Window struct {
	Kind   string    // cooldown | disabled | blocked
	Reason string    // auth, rate_limit, billing, subscription_limit, … verbatim ("" when none was recorded)
	Model  string    // set only when the window really spares the other models (ModelScoped)
	Until  time.Time // end of the window
}

// Window kinds.
const (
	WindowCooldown = "cooldown"
	WindowDisabled = "disabled"
	WindowBlocked  = "blocked"
)

// modelScopedCooldownReasons are the reasons whose cooldownModel limits a
// cooldown to that model (isModelScopedCooldownReason: rate_limit up to
// 2026.5.x, + timeout in 2026.6–7.x, + model_not_found in 2026.8+). Every
// release writes cooldownModel only for its own scoped reasons, so the
// union decides correctly for each; a cooldownModel next to any other
// reason (an unknown one included) cools the whole profile down.
var modelScopedCooldownReasons = []string{"rate_limit", "timeout", "model_not_found"}

// CooldownModelScoped says whether a cooldown with this reason and model
// spares the profile's other models.
func CooldownModelScoped(reason, model string) bool {
	return model != "" && slices.Contains(modelScopedCooldownReasons, reason)
}

// BlockModelScoped says whether a blocked window spares the profile's other
// models: only blockedScope "model" with a blockedModel does (2026.8+,
// isBlockScopedToDifferentModel). 2026.5.12–7.x write a blockedModel
// without a scope and block the whole profile with it.
func BlockModelScoped(scope, model string) bool {
	return scope == "model" && model != ""
}

// Active returns the window that makes the profile unusable at now, the
// one ending last as OpenClaw's resolveProfileUnusableUntil does, or false.
// Its Model is set only for a window that really spares the other models;
// the stored cooldownModel/blockedModel stay in UsageStats either way.
func (u UsageStats) Active(now time.Time) (Window, bool) {
	var w Window
	if now.Before(u.DisabledUntil) {
		w = Window{Kind: WindowDisabled, Reason: u.DisabledReason, Until: u.DisabledUntil}
	}
	if now.Before(u.CooldownUntil) && u.CooldownUntil.After(w.Until) {
		w = Window{Kind: WindowCooldown, Reason: u.CooldownReason, Until: u.CooldownUntil}
		if CooldownModelScoped(u.CooldownReason, u.CooldownModel) {
			w.Model = u.CooldownModel
		}
	}
	if now.Before(u.BlockedUntil) && u.BlockedUntil.After(w.Until) {
		w = Window{Kind: WindowBlocked, Reason: u.BlockedReason, Until: u.BlockedUntil}
		if BlockModelScoped(u.BlockedScope, u.BlockedModel) {
			w.Model = u.BlockedModel
		}
	}
	return w, w.Kind != ""
}

// LegacyFile is a legacy JSON credential file found beside a SQLite store.
type LegacyFile struct {
	Path    string `json:"path"`
	AgentID string `json:"agent_id,omitempty"`
}

// EnvVar is one environment value relevant to Anthropic auth.
type EnvVar struct {
	Name   string        `json:"name"`
	Value  redact.Secret `json:"-"`
	Source string        `json:"source"` // human: "gateway process 1234", "$STATE/.env", "openclaw.json env.vars", …
	File   string        `json:"file,omitempty"`
	Line   int           `json:"line,omitempty"`
	// Rank orders sources by OpenClaw's precedence: lower wins.
	Rank int `json:"rank"`
	// Unresolved is set when the value is a ${VAR} reference that could not
	// be resolved, or a secret reference we must not resolve (exec).
	Unresolved string `json:"unresolved,omitempty"`
}

// GatewayProcess is a running gateway found in /proc.
type GatewayProcess struct {
	PID         int    `json:"pid"`
	Cwd         string `json:"cwd,omitempty"`
	EnvReadable bool   `json:"env_readable"`
}

// FileMode records a sensitive file and its permission bits.
type FileMode struct {
	Path string `json:"path"`
	Mode uint32 `json:"mode"`
}

// Profiles returns the effective profiles of an agent: the agent's own
// profiles first, then (if it inherits) the shared ones it does not own.
// With agent "" it returns the shared store's profiles.
func (s *Snapshot) Profiles(agentID string) []Credential {
	var out []Credential
	seen := map[string]bool{}
	if a := s.Agent(agentID); a != nil && a.Own != nil {
		for _, c := range a.Own.Profiles {
			out = append(out, c)
			seen[c.ID] = true
		}
		if !a.Inherits {
			return out
		}
	}
	if s.Shared != nil {
		for _, c := range s.Shared.Profiles {
			if !seen[c.ID] {
				out = append(out, c)
			}
		}
	}
	return out
}

// Usage returns the usage stats that apply to a profile for an agent.
// OpenClaw 2026.9.6 merges the shared store (base) with the agent's own
// (override) per profile id: an agent-local usageStats entry replaces the
// shared one as a whole (measured; dist/persisted-*.mjs mergeAuthProfileStores).
func (s *Snapshot) Usage(agentID, profileID string) (UsageStats, *AuthStore) {
	if a := s.Agent(agentID); a != nil && a.Own != nil {
		if u, ok := a.Own.State.Usage[profileID]; ok || a.Own.Profile(profileID) != nil {
			return u, a.Own
		}
	}
	if s.Shared != nil {
		return s.Shared.State.Usage[profileID], s.Shared
	}
	return UsageStats{}, nil
}

// Agent returns the agent with the given id, or nil.
func (s *Snapshot) Agent(id string) *Agent {
	for i := range s.Agents {
		if s.Agents[i].ID == id {
			return &s.Agents[i]
		}
	}
	return nil
}

// DefaultAgent returns the default agent id ("main" unless configured).
func (s *Snapshot) DefaultAgent() string {
	for _, a := range s.Agents {
		if a.Default {
			return a.ID
		}
	}
	if len(s.Agents) > 0 {
		return s.Agents[0].ID
	}
	return "main"
}
