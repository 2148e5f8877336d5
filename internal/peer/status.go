package peer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// ModelsStatus is the output of `openclaw models status --json` (2026.9.6),
// or its error form `{"ok":false,"error":{"type":…,"message":…}}` (then OK is
// non-nil and false and Error is set). Raw keeps the exact stdout.
type ModelsStatus struct {
	OK    *bool     `json:"ok,omitempty"`
	Error *CLIError `json:"error,omitempty"`

	ConfigPath      string            `json:"configPath"`
	AgentDir        string            `json:"agentDir"`
	DefaultModel    string            `json:"defaultModel"`
	ResolvedDefault string            `json:"resolvedDefault"`
	Fallbacks       []string          `json:"fallbacks"`
	ImageModel      *string           `json:"imageModel"`
	ImageFallbacks  []string          `json:"imageFallbacks"`
	UtilityModel    *UtilityModel     `json:"utilityModel"`
	Aliases         map[string]string `json:"aliases"`
	Allowed         []string          `json:"allowed"`
	Auth            StatusAuth        `json:"auth"`

	Raw json.RawMessage `json:"-"`
}

// CLIError is the error object of OpenClaw's JSON error output.
type CLIError struct {
	Type    string `json:"type"` // "cli_error", "gateway_transport_error", …
	Message string `json:"message"`
}

func (e *CLIError) Error() string { return "openclaw " + e.Type + ": " + e.Message }

// UtilityModel is models status' utilityModel.
type UtilityModel struct {
	Ref    string `json:"ref"`
	Source string `json:"source"`
}

// StatusAuth is models status' auth object.
type StatusAuth struct {
	StorePath             string           `json:"storePath"`
	ShellEnvFallback      ShellEnvFallback `json:"shellEnvFallback"`
	ProvidersWithOAuth    []string         `json:"providersWithOAuth"`
	MissingProvidersInUse []string         `json:"missingProvidersInUse"`
	ModelRouteIssues      []RouteIssue     `json:"modelRouteIssues"`
	RuntimeAuthRoutes     []RuntimeRoute   `json:"runtimeAuthRoutes"`
	Providers             []ProviderAuth   `json:"providers"`
	UnusableProfiles      []Unusable       `json:"unusableProfiles"`
	OAuth                 OAuthStatus      `json:"oauth"`
	Probes                *Probes          `json:"probes,omitempty"`
}

// ShellEnvFallback is auth.shellEnvFallback.
type ShellEnvFallback struct {
	Enabled     bool     `json:"enabled"`
	AppliedKeys []string `json:"appliedKeys"`
}

// RouteIssue is one auth.modelRouteIssues entry ("incompatible"/"indeterminate").
type RouteIssue struct {
	Kind     string `json:"kind"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Evidence string `json:"evidence"`
	Message  string `json:"message"`
}

// RuntimeRoute is one auth.runtimeAuthRoutes entry.
type RuntimeRoute struct {
	Provider         string     `json:"provider"`
	AuthProvider     string     `json:"authProvider"`
	Runtime          string     `json:"runtime"`
	RuntimeStatus    string     `json:"runtimeStatus"`
	RuntimeReason    string     `json:"runtimeReason"`
	RuntimeDetail    string     `json:"runtimeDetail"`
	RuntimePluginIDs []string   `json:"runtimePluginIds"`
	Status           string     `json:"status"`
	AuthStatus       string     `json:"authStatus"`
	Effective        *Effective `json:"effective"`
}

// ProviderAuth is one auth.providers entry.
type ProviderAuth struct {
	Provider  string        `json:"provider"`
	Effective Effective     `json:"effective"`
	Profiles  ProfileCounts `json:"profiles"`
	Env       *EnvSource    `json:"env,omitempty"`
}

// Effective says where a provider's credential comes from: Kind "profiles"
// (Detail = store path, ~-shortened), "env" (Detail = masked value), …
type Effective struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// ProfileCounts is auth.providers[].profiles.
type ProfileCounts struct {
	Count  int      `json:"count"`
	OAuth  int      `json:"oauth"`
	Token  int      `json:"token"`
	APIKey int      `json:"apiKey"`
	Labels []string `json:"labels"`
}

// EnvSource is auth.providers[].env (masked value, e.g. "env: ANTHROPIC_API_KEY").
type EnvSource struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Unusable is one auth.unusableProfiles entry (cooldown / disabled / blocked).
type Unusable struct {
	ProfileID    string `json:"profileId"`
	Provider     string `json:"provider"`
	Kind         string `json:"kind"`   // "cooldown", "disabled", "blocked"
	Reason       string `json:"reason"` // "auth", "billing", "rate_limit", …
	RecoveryHint string `json:"recoveryHint"`
	Until        int64  `json:"until"`
	RemainingMs  int64  `json:"remainingMs"`
}

// OAuthStatus is auth.oauth: per-profile health of every profile (api_key
// profiles show status "static").
type OAuthStatus struct {
	WarnAfterMs int64            `json:"warnAfterMs"`
	Profiles    []ProfileHealth  `json:"profiles"`
	Providers   []ProviderHealth `json:"providers"`
}

// ProfileHealth is one auth.oauth.profiles entry.
type ProfileHealth struct {
	ProfileID   string `json:"profileId"`
	Provider    string `json:"provider"`
	Type        string `json:"type"`   // api_key, token, oauth
	Status      string `json:"status"` // static, ok, expiring, expired, missing
	Source      string `json:"source"` // store, env, …
	Label       string `json:"label"`
	ExpiresAt   int64  `json:"expiresAt,omitempty"`
	RemainingMs int64  `json:"remainingMs,omitempty"`
	ReasonCode  string `json:"reasonCode,omitempty"`
}

// ProviderHealth is one auth.oauth.providers entry.
type ProviderHealth struct {
	Provider          string          `json:"provider"`
	Status            string          `json:"status"`
	ExpiresAt         int64           `json:"expiresAt,omitempty"`
	RemainingMs       int64           `json:"remainingMs,omitempty"`
	Profiles          []ProfileHealth `json:"profiles"`
	EffectiveProfiles []ProfileHealth `json:"effectiveProfiles"`
}

// Probes is auth.probes (only with --probe).
type Probes struct {
	StartedAt    int64         `json:"startedAt"`
	FinishedAt   int64         `json:"finishedAt"`
	DurationMs   int64         `json:"durationMs"`
	TotalTargets int           `json:"totalTargets"`
	Options      ProbeOptions  `json:"options"`
	Results      []ProbeResult `json:"results"`
}

// ProbeOptions is auth.probes.options.
type ProbeOptions struct {
	ProfileIDs  []string `json:"profileIds"`
	TimeoutMs   int64    `json:"timeoutMs"`
	Concurrency int      `json:"concurrency"`
	MaxTokens   int      `json:"maxTokens"`
}

// ProbeResult is one auth.probes.results entry; Status is one of
// ok, auth, rate_limit, billing, timeout, format, unknown, no_model.
type ProbeResult struct {
	Provider  string `json:"provider"`
	Model     string `json:"model"`
	ProfileID string `json:"profileId"`
	Label     string `json:"label"`
	Source    string `json:"source"`
	Mode      string `json:"mode"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	LatencyMs int64  `json:"latencyMs"`
}

// ParseModelsStatus parses `models status --json` stdout. For the error form
// it returns the parsed value (Error set) and a *CLIError.
func ParseModelsStatus(stdout []byte) (*ModelsStatus, error) {
	trimmed := bytes.TrimSpace(stdout)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("models status: empty stdout")
	}
	var st ModelsStatus
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("models status: stdout is not the expected JSON: %v (starts %q)", err, Redact(head(string(trimmed), 120)))
	}
	st.Raw = append(json.RawMessage(nil), trimmed...)
	if st.OK != nil && !*st.OK {
		if st.Error == nil {
			st.Error = &CLIError{Type: "unknown", Message: "ok:false without error"}
		}
		return &st, st.Error
	}
	if st.ConfigPath == "" && st.Auth.StorePath == "" {
		return &st, fmt.Errorf("models status: JSON has neither configPath nor auth.storePath: %s", Redact(head(string(trimmed), 200)))
	}
	return &st, nil
}

// Provider returns the auth.providers entry for name, or nil.
func (s *ModelsStatus) Provider(name string) *ProviderAuth {
	for i := range s.Auth.Providers {
		if s.Auth.Providers[i].Provider == name {
			return &s.Auth.Providers[i]
		}
	}
	return nil
}

// Profile returns the auth.oauth.profiles entry for id, or nil.
func (s *ModelsStatus) Profile(id string) *ProfileHealth {
	for i := range s.Auth.OAuth.Profiles {
		if s.Auth.OAuth.Profiles[i].ProfileID == id {
			return &s.Auth.OAuth.Profiles[i]
		}
	}
	return nil
}

// UnusableProfile returns the auth.unusableProfiles entry for id, or nil.
func (s *ModelsStatus) UnusableProfile(id string) *Unusable {
	for i := range s.Auth.UnusableProfiles {
		if s.Auth.UnusableProfiles[i].ProfileID == id {
			return &s.Auth.UnusableProfiles[i]
		}
	}
	return nil
}

// MissingInUse reports whether provider is in auth.missingProvidersInUse.
func (s *ModelsStatus) MissingInUse(provider string) bool {
	for _, p := range s.Auth.MissingProvidersInUse {
		if p == provider {
			return true
		}
	}
	return false
}

func head(s string, n int) string { return text.Truncate(strings.TrimSpace(s), n+1) }
