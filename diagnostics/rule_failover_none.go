package diagnostics

import "fmt"

// ruleFailoverNone: one Anthropic credential and no fallback model, so a
// single cooldown stops the assistant. Informational.
var ruleFailoverNone = Rule{Name: CodeFailoverNone, Check: func(in *Input) []Finding {
	keys := 0
	for _, k := range in.anthropicKeys() {
		if !k.Shadowed && !k.Cred.Secret.IsZero() {
			keys++
		}
	}
	c := in.Snap.Config
	if keys != 1 || c == nil || len(c.Fallbacks) > 0 {
		return nil
	}
	return []Finding{{
		Code: CodeFailoverNone, Severity: Info, Subject: "anthropic",
		Title:    "No failover: one Anthropic credential and no fallback model",
		Evidence: fmt.Sprintf("Default model %s, no agents.defaults.model.fallbacks, one usable anthropic credential. One auth or billing failure stops every answer.", orNone(c.DefaultModel)),
		Remedy: []string{
			"Add a second profile: " + in.cmd.pasteKey("", "anthropic:backup"),
			"Or a fallback model of another provider: `" + in.cmd.run("", "models fallbacks add PROVIDER/MODEL") + "`.",
		},
	}}
}}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
