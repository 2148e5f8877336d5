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
	// external edit of the auth state (a reset): RefreshNone, RefreshSecrets,
	// RefreshRestart or RefreshAuth (see there; the rows say which were
	// measured on a real gateway and which were read from code).
	Refresh string
	// StateSchema is PRAGMA user_version of state/openclaw.sqlite as this
	// release creates it (0: the release creates no such database).
	StateSchema int
	// AgentSchema is PRAGMA user_version of its agent databases (0: none).
	AgentSchema int
}

// How a running gateway picks up a reset, by release. Measured (marked so
// in Releases) on a real gateway of 2026.4.24, 6.11, 7.35, 8.2 and 9.6: the
// gateway records an auth cooldown itself (an agent turn through it against
// a fake Anthropic answering 401), the bot clears it on disk exactly as its
// cooldown reset does, then agent turns through the gateway show whether it
// still refuses the profile ("Provider anthropic has auth issue (skipping
// all models)", no request) before any RPC and after each of secrets.reload,
// models.authStatus {"refresh":true} and models.authRefresh
// {"operation":"update"}. Every measured gateway refused after the disk
// edit alone. The other rows are read from each release's dist/.
const (
	// RefreshNone: up to 2026.2.25 every read goes to the JSON file; there
	// is nothing to tell (read from code, not measured).
	RefreshNone = "none"
	// RefreshSecrets: the gateway RPC secrets.reload ({"ok":true,
	// "warningCount":0}) makes it drop the old cooldown. Measured on
	// 2026.4.24, 6.11 and 7.35; 2026.2.26 – 3.31 and 5.28 from code
	// (the in-memory snapshot appears in 2026.2.26). models.authStatus
	// {"refresh":true} also works on 6.11 and 7.35 (not on 4.24);
	// models.authRefresh is "unknown method".
	RefreshSecrets = "secrets.reload"
	// RefreshRestart: no RPC makes the gateway drop the old cooldown; only a
	// restart does (its in-process restart on SIGUSR1 too). Measured on
	// 2026.8.2: secrets.reload answers {"ok":true} and
	// models.authStatus {"refresh":true} answers normally, yet the gateway
	// keeps refusing the profile; models.authRefresh is "unknown method".
	// Assumed for the whole state-db generation before models.authRefresh
	// (2026.8.1 – 9.4): no release in between was measured.
	RefreshRestart = "restart"
	// RefreshAuth: 2026.9.5+ have models.authRefresh {"operation":"update"}
	// ({"refreshed":true}). Measured on 2026.9.6, where secrets.reload and
	// models.authStatus {"refresh":true} work as well.
	RefreshAuth = "models.authRefresh"
)

// First versions of each way a gateway learns about a reset.
const (
	firstRefreshSecrets = "2026.2.26"      // in-memory auth snapshot, secrets.reload (code)
	firstRefreshRestart = firstStateSQLite // the state-db generation (measured on 8.2 only)
	FirstRefreshAuth    = "2026.9.5"       // models.authRefresh (code; measured on 9.6)
)

// Releases are the releases the bot supports, oldest first; the README's
// support table is generated from the same facts and a test keeps them equal.
var Releases = []Release{
	{Version: "2026.1.29", Generation: GenJSONInline, Refresh: RefreshNone},                                      // code
	{Version: "2026.2.26", Generation: GenJSONInline, Refresh: RefreshSecrets},                                   // code
	{Version: "2026.3.31", Generation: GenJSONInline, Refresh: RefreshSecrets},                                   // code
	{Version: "2026.4.24", Generation: GenJSONSplit, Refresh: RefreshSecrets},                                    // measured
	{Version: "2026.5.28", Generation: GenJSONSplit, Refresh: RefreshSecrets},                                    // code
	{Version: "2026.6.11", Generation: GenAgentSQLite, Refresh: RefreshSecrets, StateSchema: 1, AgentSchema: 1},  // measured
	{Version: "2026.7.35", Generation: GenAgentSQLite, Refresh: RefreshSecrets, StateSchema: 1, AgentSchema: 1},  // measured
	{Version: "2026.8.2", Generation: GenStateSQLite, Refresh: RefreshRestart, StateSchema: 15, AgentSchema: 19}, // measured
	{Version: "2026.9.6", Generation: GenStateSQLite, Refresh: RefreshAuth, StateSchema: 18, AgentSchema: 23},    // measured
}

// First versions of each generation (the boundaries; see the README's
// support table for how each was established).
const (
	firstJSONSplit   = "2026.4.7"
	FirstAgentSQLite = "2026.6.5"
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
	case VersionLess(version, FirstAgentSQLite):
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

// RefreshOf says how a gateway of that version picks up a reset (see
// Release.Refresh); an unknown version is taken for the newest (whose RPC
// an older gateway answers with "unknown method", see RefreshGateway).
func RefreshOf(version string) string {
	switch {
	case version == "" || !VersionLess(version, FirstRefreshAuth):
		return RefreshAuth
	case !VersionLess(version, firstRefreshRestart):
		return RefreshRestart
	case !VersionLess(version, firstRefreshSecrets):
		return RefreshSecrets
	}
	return RefreshNone
}
