package diagnostics

import "strings"

var ruleStateUnreadable = Rule{Name: CodeStateUnreadable, Check: func(in *Input) []Finding {
	var hard []string
	for _, p := range in.Snap.Problems {
		// A gateway whose environment we may not read is reported by the
		// env rules; everything else means part of the state is unknown.
		if strings.Contains(p, "environment is not readable") {
			continue
		}
		hard = append(hard, p)
	}
	if len(hard) == 0 {
		return nil
	}
	return []Finding{{
		Code: CodeStateUnreadable, Severity: Critical, Subject: in.Snap.Location.StateDir,
		Title:    "Part of OpenClaw's credential state could not be read, so this diagnosis is incomplete",
		Evidence: strings.Join(hard, "\n"),
		Remedy: []string{
			"Run the bot as the user that owns " + in.Snap.Location.StateDir + " (OpenClaw's files are 0600).",
			"A locked database clears by itself when OpenClaw finishes writing; a corrupt one needs `" + in.cmd.run("", "doctor") + "`.",
		},
	}}
}}
