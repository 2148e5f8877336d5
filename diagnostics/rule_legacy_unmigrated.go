package diagnostics

import (
	"fmt"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

var ruleLegacyUnmigrated = Rule{Name: CodeStoreLegacyUnmigrated, Check: func(in *Input) []Finding {
	s := in.Snap
	// 2026.6.5–7.35 never read the JSON files once SQLite exists (only
	// their doctor imports them); from 2026.8.1 they stop every command.
	if s.Layout != openclaw.LayoutSQLite || len(s.Legacy) == 0 || in.legacyVersion() || !openclaw.StrictLegacy(s.Version) {
		return nil
	}
	var paths []string
	for _, l := range s.Legacy {
		paths = append(paths, l.Path)
	}
	return []Finding{{
		Code: CodeStoreLegacyUnmigrated, Severity: Critical, Subject: s.Location.StateDir,
		Title:    fmt.Sprintf("Legacy JSON credentials are not migrated: OpenClaw %s refuses to load auth until they are", in.versionText()),
		Evidence: "Legacy credential files present beside the SQLite store:\n" + strings.Join(paths, "\n") + "\n`openclaw models status` fails with \"requires legacy credential migration\" (AUTH_PROFILE_MIGRATION_REQUIRED).",
		Remedy: []string{
			"Back up the state dir: `tar -C " + shellQuote(s.Location.StateDir) + " -czf openclaw-state-backup.tgz .`",
			"Migrate: `" + in.cmd.run("", "doctor --fix --non-interactive --yes") + "` (it archives each file as *.migrated-<date>; note that --fix also refreshes expired OAuth logins, and a failed refresh destroys them).",
		},
		File: paths[0],
	}}
}}
