package diagnostics

import (
	"fmt"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// schemaKnownFrom is the first release whose root schema is the one the bot
// checks (2026.9.6's, dist/zod-schema-*.mjs). Releases up to 2026.7.x write
// keys it rejects at their own onboarding (gateway.tailscale.resetOnExit,
// meta.lastTouchedAt: measured on 2026.1.29–2026.7.35) and accept them, so
// for a config written by another release those issues are only a warning.
const schemaKnownFrom = "2026.9.0"

// ownOnboardingKeys are issues the 2026.9.x schema finds in what 2026.1.29–
// 2026.7.35 write at their own onboarding (measured on each) and accept:
// no finding at all for a config those releases wrote.
var ownOnboardingKeys = map[string]string{
	"gateway.tailscale": `Unrecognized key: "resetOnExit"`,
	"meta":              `Unrecognized key: "lastTouchedAt"`,
}

var ruleConfigSchema = Rule{Name: CodeConfigSchema, Check: func(in *Input) []Finding {
	c := in.Snap.Config
	if c == nil || len(c.Issues) == 0 {
		return nil
	}
	v := in.Snap.Version
	known := v != "" && !openclaw.VersionLess(v, schemaKnownFrom) && !openclaw.VersionLess(openclaw.NewestKnown().Version, v)
	var fatal, unsure []string
	var first *openclaw.ConfigIssue
	older := v != "" && openclaw.VersionLess(v, "2026.8.0")
	for i, is := range c.Issues {
		if older && ownOnboardingKeys[is.Path] == is.Msg {
			continue
		}
		line := fmt.Sprintf("- %s: %s (line %d)", is.Path, is.Msg, is.Pos.Line)
		// The auth-profile checks hold for every release since 2026.1.
		if known || strings.HasPrefix(is.Path, "auth.") {
			fatal = append(fatal, line)
			if first == nil {
				first = &c.Issues[i]
			}
			continue
		}
		unsure = append(unsure, line)
	}
	var out []Finding
	if len(fatal) > 0 {
		out = append(out, Finding{
			Code: CodeConfigSchema, Severity: Critical, Subject: c.Path,
			Title:    fmt.Sprintf("openclaw.json is rejected by OpenClaw %s's schema: every command fails with \"Invalid config\"", in.versionText()),
			Evidence: "Invalid config at " + c.Path + ":\n" + strings.Join(fatal, "\n"),
			Remedy: []string{
				"Fix or remove the keys listed; `" + in.cmd.run("", "doctor --fix --non-interactive --yes") + "` migrates known legacy keys (it can also refresh OAuth logins: back up the state dir first).",
				"auth.profiles.*.mode must be one of api_key, aws-sdk, oauth, token.",
			},
			File: c.Path, Line: first.Pos.Line, Column: first.Pos.Column,
		})
	}
	if len(unsure) > 0 && len(fatal) == 0 {
		is := c.Issues[0]
		why := "the config was last written by OpenClaw " + in.versionText()
		if v == "" {
			why = "the config does not say which OpenClaw wrote it (no meta.lastTouchedVersion)"
		}
		out = append(out, Finding{
			Code: CodeConfigSchemaUnverified, Severity: Warning, Subject: c.Path,
			Title: "openclaw.json has keys OpenClaw " + openclaw.NewestKnown().Version + "'s schema rejects; the release that wrote it may accept them",
			Evidence: "The bot checks the " + openclaw.NewestKnown().Version + " schema, but " + why + ", whose schema differs (its own onboarding writes keys such as gateway.tailscale.resetOnExit that " +
				openclaw.NewestKnown().Version + " rejects):\n" + strings.Join(unsure, "\n"),
			Remedy: []string{
				"Nothing to do while this release runs. If `" + in.cmd.run("", "models status --json") + "` fails with \"Invalid config\", fix the keys listed.",
				"Before upgrading to " + openclaw.NewestKnown().Version + ": `" + in.cmd.run("", "doctor --fix --non-interactive --yes") + "` after the upgrade migrates them (back up the state dir first).",
			},
			File: c.Path, Line: is.Pos.Line, Column: is.Pos.Column,
		})
	}
	return out
}}
