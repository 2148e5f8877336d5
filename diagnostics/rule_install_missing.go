package diagnostics

import (
	"fmt"
	"os/user"
)

// ruleInstallMissing: the state dir does not exist. Every other rule would
// only say "no credential"; the cause is where the bot looks (a typo, the
// wrong user's ~, a gateway started with another OPENCLAW_STATE_DIR or
// --profile), or an install that was never onboarded.
var ruleInstallMissing = Rule{Name: CodeInstallMissing, Check: func(in *Input) []Finding {
	if !in.Snap.StateDirMissing {
		return nil
	}
	loc := in.Snap.Location
	who := ""
	if u, err := user.Current(); err == nil {
		who = " The bot runs as " + u.Username
		if loc.Home != "" {
			who += " (home " + loc.Home + ")"
		}
		who += "."
	}
	return []Finding{{
		Code: CodeInstallMissing, Severity: Critical, Subject: loc.StateDir,
		Title: "No OpenClaw install at " + loc.StateDir + ": the directory does not exist",
		Evidence: fmt.Sprintf("State dir %s (chosen by %s) does not exist, so there is no openclaw.json, credential store or cooldown state to read.%s",
			loc.StateDir, loc.How, who),
		Remedy: []string{
			"Point the bot at the install the gateway uses: --state-dir DIR (or OPENCLAW_STATE_DIR), --openclaw-profile NAME for ~/.openclaw-NAME, or targets[].state_dir in the bot's config. The gateway's own OPENCLAW_STATE_DIR or --profile decides where it is.",
			"Run the bot as the user that runs the gateway: the default ~/.openclaw is that user's, and OpenClaw's files are 0600.",
			"A machine without OpenClaw yet: install and onboard it (`openclaw onboard`), then check again.",
		},
	}}
}}
