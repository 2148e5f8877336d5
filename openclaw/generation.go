package openclaw

// generation.go — where each OpenClaw release keeps its Anthropic auth
// state. OpenClaw moved it four times in 2026; installs stay on old releases
// for months, so the bot reads every generation, each the way that release's
// runtime reads it. Every row of Releases was measured by installing the
// release from the npm registry and letting its own CLI onboard and break
// an install (the release matrix test, diagnostics/releases_test.go).

// Generations of the auth state, oldest first. Layout (the public
// status --json value) groups them: the two JSON generations are
// "legacy-json", the two SQLite ones "sqlite".
const (
	// GenJSONInline: agents/<id>/agent/auth-profiles.json holds profiles
	// and their usageStats inline (2026.1.29 – 2026.4.5).
	GenJSONInline = "json-inline"
	// GenJSONSplit: auth-profiles.json holds the profiles only; the usage
	// state lives in agents/<id>/agent/auth-state.json, created at the
	// first failure (2026.4.7 – 2026.6.1).
	GenJSONSplit = "json-split"
	// GenAgentSQLite: agents/<id>/agent/openclaw-agent.sqlite tables
	// auth_profile_store / auth_profile_state, row "primary" (2026.6.5 –
	// 2026.7.35). state/openclaw.sqlite exists but holds no auth rows (its
	// interim auth_profile_stores tables are never written). 2026.8.1+
	// keeps this layout too until auth.sharedStore moves the shared store.
	GenAgentSQLite = "agent-sqlite"
	// GenStateSQLite: state/openclaw.sqlite config_machine_state rows
	// authProfiles.store / authProfiles.state, switched on by
	// auth.sharedStore = {"location":"state-db"} (2026.8.1 –).
	GenStateSQLite = "state-sqlite"
)

// StrictLegacy says whether a legacy JSON credential file beside the SQLite
// store stops that release (unknown version: assume it does).
func StrictLegacy(version string) bool {
	return version == "" || !VersionLess(version, firstStrictLegacy)
}

// Release is one OpenClaw release the bot was tested against.
type Release struct {
	Version    string
	Generation string
	// Refresh is how a running gateway of this release learns about an
	// external edit of the auth state (a reset): RefreshNone, RefreshSecrets
	// or RefreshAuth (see there).
	Refresh string
	// StateSchema is PRAGMA user_version of state/openclaw.sqlite as this
	// release creates it (0: the release creates no such database).
	StateSchema int
	// AgentSchema is PRAGMA user_version of its agent databases (0: none).
	AgentSchema int
}

// How a running gateway picks up a reset, by release (from each release's
// shipped code, dist/, read for every release 2026.1.29–2026.9.6).
const (
	// RefreshNone: up to 2026.2.25 every read goes to the JSON file.
	RefreshNone = "none"
	// RefreshSecrets: 2026.2.26–2026.9.4 keep an in-memory auth snapshot
	// loaded at start; the gateway RPC secrets.reload rebuilds it.
	RefreshSecrets = "secrets.reload"
	// RefreshAuth: 2026.9.5+ have models.authRefresh {"operation":"update"}.
	RefreshAuth = "models.authRefresh"
)

// Releases are the releases the bot supports, oldest first; the README's
// support table is generated from the same facts and a test keeps them equal.
var Releases = []Release{
	{Version: "2026.1.29", Generation: GenJSONInline, Refresh: RefreshNone},
	{Version: "2026.2.26", Generation: GenJSONInline, Refresh: RefreshSecrets},
	{Version: "2026.3.31", Generation: GenJSONInline, Refresh: RefreshSecrets},
	{Version: "2026.4.24", Generation: GenJSONSplit, Refresh: RefreshSecrets},
	{Version: "2026.5.28", Generation: GenJSONSplit, Refresh: RefreshSecrets},
	{Version: "2026.6.11", Generation: GenAgentSQLite, Refresh: RefreshSecrets, StateSchema: 1, AgentSchema: 1},
	{Version: "2026.7.35", Generation: GenAgentSQLite, Refresh: RefreshSecrets, StateSchema: 1, AgentSchema: 1},
	{Version: "2026.8.2", Generation: GenStateSQLite, Refresh: RefreshSecrets, StateSchema: 15, AgentSchema: 19},
	{Version: "2026.9.6", Generation: GenStateSQLite, Refresh: RefreshAuth, StateSchema: 18, AgentSchema: 23},
}

// First versions of each generation (the boundaries; see the README's
// support table for how each was established).
const (
	firstJSONSplit   = "2026.4.7"
	firstAgentSQLite = "2026.6.5"
	firstStateSQLite = "2026.8.1"
	// firstStrictLegacy: from 2026.8.1 a legacy JSON credential file beside
	// the SQLite store makes every auth command fail until `doctor --fix`
	// ("requires legacy credential migration"); 2026.6.5–7.35 ignore it.
	firstStrictLegacy = "2026.8.1"
)

// HasPasteAPIKey says whether `openclaw models auth paste-api-key` exists
// in that release (measured: not in 2026.4.24, in 2026.5.28; unknown = yes).
func HasPasteAPIKey(version string) bool {
	return version == "" || !VersionLess(version, "2026.5.0")
}

// NewestKnown is the newest release the bot knows; state written by a newer
// one in a way the bot has never seen is reported, never guessed at.
func NewestKnown() Release { return Releases[len(Releases)-1] }

// GenerationOf is the generation a release writes ("" for an unknown
// version). It is only a fallback: the files on disk decide first.
func GenerationOf(version string) string {
	switch {
	case version == "":
		return ""
	case VersionLess(version, firstJSONSplit):
		return GenJSONInline
	case VersionLess(version, firstAgentSQLite):
		return GenJSONSplit
	case VersionLess(version, firstStateSQLite):
		return GenAgentSQLite
	}
	return GenStateSQLite
}

// LayoutOf is the public layout name of a generation.
func LayoutOf(gen string) string {
	if gen == GenJSONInline || gen == GenJSONSplit {
		return LayoutLegacy
	}
	return LayoutSQLite
}

// ReleaseOf returns the tested release with exactly that version, if any.
func ReleaseOf(version string) (Release, bool) {
	for _, r := range Releases {
		if r.Version == version {
			return r, true
		}
	}
	return Release{}, false
}

// RefreshOf says how a gateway of that version picks up a reset (see
// Release.Refresh); an unknown version is taken for the newest.
func RefreshOf(version string) string {
	switch {
	case version == "" || !VersionLess(version, "2026.9.5"):
		return RefreshAuth
	case !VersionLess(version, "2026.2.26"):
		return RefreshSecrets
	}
	return RefreshNone
}
