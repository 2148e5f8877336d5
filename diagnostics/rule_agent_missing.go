package diagnostics

import "fmt"

// ruleAgentMissing: a configured agent that ends up with no Anthropic
// credential although the install has one — it has its own store that
// hides the shared one, or does not inherit it.
var ruleAgentMissing = Rule{Name: CodeAgentMissing, Check: func(in *Input) []Finding {
	s := in.Snap
	var out []Finding
	if len(in.anthropicKeys()) == 0 {
		return nil // auth.missing says it for everyone
	}
	for _, a := range s.Agents {
		if a.ID == s.DefaultAgent() {
			continue
		}
		has := false
		for _, c := range s.Profiles(a.ID) {
			if c.Provider == "anthropic" && !c.Secret.IsZero() {
				has = true
			}
		}
		if has || hasEnvKey(in) {
			continue
		}
		out = append(out, Finding{
			Code: CodeAgentMissing, Severity: Critical, Subject: "agent " + a.ID,
			Title:    "Agent " + a.ID + " has no Anthropic credential",
			Evidence: fmt.Sprintf("Agent %s (%s) has its own auth store without an anthropic profile and does not see the shared profiles.", a.ID, a.Dir),
			Remedy:   []string{"Store a key for this agent: " + in.cmd.pasteKey(a.ID, "anthropic:default")},
		})
	}
	return out
}}

func hasEnvKey(in *Input) bool {
	for _, k := range in.anthropicKeys() {
		if k.Source == SourceEnv && !k.Cred.Secret.IsZero() {
			return true
		}
	}
	return false
}
