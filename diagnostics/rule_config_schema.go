package diagnostics

import (
	"fmt"
	"strings"
)

var ruleConfigSchema = Rule{Name: CodeConfigSchema, Check: func(in *Input) []Finding {
	c := in.Snap.Config
	if c == nil || len(c.Issues) == 0 {
		return nil
	}
	var lines []string
	first := c.Issues[0]
	for _, is := range c.Issues {
		// Before the SQLite era the root schema had other keys; only the
		// auth-profile checks are known to hold for those versions.
		if in.legacyVersion() && !strings.HasPrefix(is.Path, "auth.") {
			continue
		}
		lines = append(lines, fmt.Sprintf("- %s: %s (line %d)", is.Path, is.Msg, is.Pos.Line))
	}
	if len(lines) == 0 {
		return nil
	}
	return []Finding{{
		Code: CodeConfigSchema, Severity: Critical, Subject: c.Path,
		Title:    fmt.Sprintf("openclaw.json is rejected by OpenClaw %s's schema: every command fails with \"Invalid config\"", in.versionText()),
		Evidence: "Invalid config at " + c.Path + ":\n" + strings.Join(lines, "\n"),
		Remedy: []string{
			"Fix or remove the keys listed; `" + in.cmd.run("", "doctor --fix --non-interactive --yes") + "` migrates known legacy keys (it can also refresh OAuth logins: back up the state dir first).",
			"auth.profiles.*.mode must be one of api_key, aws-sdk, oauth, token.",
		},
		File: c.Path, Line: first.Pos.Line, Column: first.Pos.Column,
	}}
}}
