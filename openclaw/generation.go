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
	// and their usageStats inline (2026.1 – 2026.3).
	GenJSONInline = "json-inline"
	// GenJSONSplit: auth-profiles.json holds the profiles only; the usage
	// state lives in agents/<id>/agent/auth-state.json, created at the
	// first failure (2026.4 – 2026.5).
	GenJSONSplit = "json-split"
	// GenAgentSQLite: agents/<id>/agent/openclaw-agent.sqlite tables
	// auth_profile_store / auth_profile_state, row "primary" (2026.6 –
	// 2026.7). state/openclaw.sqlite exists but holds no auth rows.
	GenAgentSQLite = "agent-sqlite"
	// GenStateSQLite: state/openclaw.sqlite config_machine_state rows
	// authProfiles.store / authProfiles.state, switched on by
	// auth.sharedStore = {"location":"state-db"} (2026.8 –).
	GenStateSQLite = "state-sqlite"
)

// Release is one OpenClaw release the bot was tested against.
type Release struct {
	Version    string
	Generation string
	// Refresh says how a running gateway of this release learns about an
	// external edit of the auth state (a reset): "rpc" (models.authRefresh),
	// "mtime" (it re-reads the JSON files when their mtime changes), or
	// "restart" (it keeps its in-memory copy until restarted).
	Refresh string
	// StateSchema is PRAGMA user_version of state/openclaw.sqlite as this
	// release creates it (0: the release keeps no auth state there).
	StateSchema int
}

// Releases are the releases the bot supports, oldest first; the README's
// support table is generated from the same facts and a test keeps them equal.
var Releases = []Release{
	{Version: "2026.1.29", Generation: GenJSONInline, Refresh: "mtime"},
	{Version: "2026.2.26", Generation: GenJSONInline, Refresh: "mtime"},
	{Version: "2026.3.31", Generation: GenJSONInline, Refresh: "mtime"},
	{Version: "2026.4.24", Generation: GenJSONSplit, Refresh: "mtime"},
	{Version: "2026.5.28", Generation: GenJSONSplit, Refresh: "mtime"},
	{Version: "2026.6.11", Generation: GenAgentSQLite, Refresh: "restart", StateSchema: 1},
	{Version: "2026.7.35", Generation: GenAgentSQLite, Refresh: "restart", StateSchema: 1},
	{Version: "2026.8.2", Generation: GenStateSQLite, Refresh: "restart", StateSchema: 15},
	{Version: "2026.9.6", Generation: GenStateSQLite, Refresh: "rpc", StateSchema: 18},
}

// First versions of each generation (the boundaries; see the README's
// support table for how each was established).
const (
	firstJSONSplit   = "2026.4.0"
	firstAgentSQLite = "2026.6.0"
	firstStateSQLite = "2026.8.0"
)

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
// Release.Refresh); for a version between tested releases it is the one of
// the newest tested release not newer than it.
func RefreshOf(version string) string {
	if version == "" {
		return NewestKnown().Refresh
	}
	out := Releases[0].Refresh
	for _, r := range Releases {
		if !VersionLess(version, r.Version) {
			out = r.Refresh
		}
	}
	return out
}
