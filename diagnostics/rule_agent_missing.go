package diagnostics

import (
	"fmt"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleAgentMissing: a configured agent that ends up with no Anthropic
// credential although the install has one. Measured on 2026.9.6 with a
// second agent (`openclaw agents add ops`): agents inherit the shared store,
// and an agent's own database overrides it per profile id. So an agent
// lacks a credential only when its own profiles shadow the shared ones
// with unusable ones (or, on layouts that do not inherit, have none).
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
			Evidence: agentEvidence(s, a),
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

func agentEvidence(s *openclaw.Snapshot, a openclaw.Agent) string {
	if a.Own != nil && a.Inherits {
		return fmt.Sprintf("Agent %s has its own auth store %s; its profiles override the shared ones with the same id, and none of the resulting anthropic profiles has a secret.", a.ID, a.Own.Path)
	}
	return fmt.Sprintf("Agent %s (%s) does not see the shared profiles on this layout and has no anthropic profile of its own.", a.ID, a.Dir)
}
