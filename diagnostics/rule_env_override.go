package diagnostics

import "fmt"

// ruleEnvOverride: ANTHROPIC_BASE_URL (and similar) set in the gateway's
// environment. OpenClaw 2026.9.6 ignores it for the anthropic provider
// (only models.providers.anthropic.baseUrl counts); older releases and
// other tools (Claude CLI) honour it. Informational.
var ruleEnvOverride = Rule{Name: CodeEnvOverride, Check: func(in *Input) []Finding {
	var out []Finding
	for _, name := range []string{"ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_UNIX_SOCKET"} {
		e, ok := in.Snap.LookupEnv(name)
		if !ok {
			continue
		}
		effect := fmt.Sprintf("OpenClaw %s ignores it for the anthropic provider: requests go to %s.", in.versionText(), in.effectiveBase())
		if in.legacyVersion() {
			effect = "Older OpenClaw releases and the Claude CLI honour it, so requests may go elsewhere than models.providers.anthropic.baseUrl says."
		}
		out = append(out, Finding{
			Code: CodeEnvOverride, Severity: Info, Subject: "env:" + name,
			Title:    name + " is set in the gateway's environment",
			Evidence: fmt.Sprintf("%s from %s. %s", name, e.Source, effect),
			Remedy:   []string{"To redirect OpenClaw's Anthropic traffic use `" + in.cmd.run("", "config set models.providers.anthropic.baseUrl URL") + "`; remove " + name + " if nothing else needs it."},
			File:     e.File, Line: e.Line,
		})
	}
	return out
}}

func (in *Input) effectiveBase() string {
	if c := in.Snap.Config; c != nil && c.AnthropicBaseURL != "" {
		return c.AnthropicBaseURL + " (models.providers.anthropic.baseUrl)"
	}
	return "https://api.anthropic.com"
}
