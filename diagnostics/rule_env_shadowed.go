package diagnostics

import (
	"fmt"
	"strings"
)

// ruleEnvShadowed: a key that is set but never used — an env key behind a
// stored profile (OpenClaw is profile-first), ANTHROPIC_API_KEY behind
// ANTHROPIC_OAUTH_TOKEN, or the same variable with different values in two
// sources (the first source wins).
var ruleEnvShadowed = Rule{Name: CodeEnvShadowed, Check: func(in *Input) []Finding {
	var out []Finding
	var stored []string
	for _, k := range in.anthropicKeys() {
		if k.Source == SourceStore {
			stored = append(stored, k.ID)
		}
	}
	for _, k := range in.anthropicKeys() {
		if k.Source != SourceEnv || !k.Shadowed {
			continue
		}
		winner := "stored profile " + strings.Join(stored, ", ")
		if len(stored) == 0 {
			winner = "ANTHROPIC_OAUTH_TOKEN"
		}
		out = append(out, Finding{
			Code: CodeEnvShadowed, Severity: Warning, Subject: k.ID,
			Title: fmt.Sprintf("%s is set but never used: OpenClaw uses %s instead", k.Env.Name, winner),
			Evidence: fmt.Sprintf("%s=%s from %s. OpenClaw resolves the stored profile first and never falls back to the env key, even when the profile's key is rejected.",
				k.Env.Name, k.Cred.Secret.Masked(), where(k)),
			Remedy: []string{
				"If the env key is the one you meant to use, store it as the profile: " + in.cmd.pasteKey("", firstOr(stored, "anthropic:default")),
				"Otherwise remove " + k.Env.Name + " from " + k.Env.Source + " so nobody rotates the wrong key.",
			},
			File: k.Env.File, Line: k.Env.Line,
		})
	}
	// The same name with different values in several sources.
	for _, name := range anthropicEnvNames() {
		all := in.Snap.EnvAll(name)
		for _, loser := range all[min(1, len(all)):] {
			if loser.Value == all[0].Value {
				continue
			}
			out = append(out, Finding{
				Code: CodeEnvShadowed, Severity: Warning, Subject: "env:" + name,
				Title: fmt.Sprintf("%s differs between %s and %s; the gateway uses the first", name, all[0].Source, loser.Source),
				Evidence: fmt.Sprintf("%s=%s (%s) wins over %s=%s (%s).",
					name, all[0].Value.Masked(), all[0].Source, name, loser.Value.Masked(), loser.Source),
				Remedy: []string{"Keep " + name + " in one place; delete it from " + loser.Source + "."},
				File:   loser.File, Line: loser.Line,
			})
		}
	}
	return out
}}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
