package diagnostics

import (
	"fmt"
	"strings"
)

// ruleAuthMissing: a provider in use has no credential at all, or a stored
// profile has no usable secret (empty, or an unresolvable reference).
var ruleAuthMissing = Rule{Name: CodeAuthMissing, Check: func(in *Input) []Finding {
	var out []Finding
	for _, p := range in.providersInUse() {
		if p != "anthropic" || in.Snap.StateDirMissing || len(in.unreadable()) > 0 {
			// The bot watches Anthropic credentials. With no install
			// (install.missing) or a store it cannot read (state.unreadable)
			// it cannot know there is none.
			continue
		}
		if len(in.anthropicKeys()) > 0 || in.anthropicOnClaude() {
			// Models that run through Claude Code use its login, not one
			// of OpenClaw's: auth.external says what is known of it.
			continue
		}
		store := "the credential store"
		if in.Snap.Shared != nil {
			store = in.Snap.Shared.Path
		}
		out = append(out, Finding{
			Code: CodeAuthMissing, Severity: Critical, Subject: p,
			Title: "No Anthropic credential: every request to anthropic models fails with \"No API key found\"",
			Evidence: fmt.Sprintf("Models in use: %s. No anthropic profile in %s, no inline models.providers.anthropic.apiKey, and no %s in any environment source the gateway reads (%s).",
				modelsInUse(in), store, strings.Join(anthropicEnvNames(), " or "), envPlaces(in)),
			Remedy: []string{
				"Store an API key: " + in.cmd.pasteKey("", "anthropic:default"),
				"Or a setup token (Claude subscription): " + in.cmd.pasteToken("", "anthropic:manual"),
				verifyRemedy(),
			},
		})
	}
	for _, k := range in.anthropicKeys() {
		if !k.Cred.Secret.IsZero() || k.Shadowed {
			continue
		}
		ev := fmt.Sprintf("Profile %s (%s) in %s has no secret.", k.ID, k.Cred.Type, where(k))
		if r := k.Cred.KeyRef; r != nil {
			_, why := in.Snap.ResolveRef(r)
			ev = fmt.Sprintf("Profile %s takes its secret from a %s reference %q that does not resolve: %s.", k.ID, r.Source, r.ID, why)
			if r.Source == "exec" {
				// We never run exec references: we cannot know.
				continue
			}
		}
		if k.Cred.Type == "oauth" && k.Cred.Fence != "" {
			continue // reported by oauth.refresh_failed
		}
		out = append(out, Finding{
			Code: CodeAuthMissing, Severity: Critical, Subject: subject(k),
			Title:    "Profile " + k.ID + " has no usable secret: OpenClaw reports \"No credentials found for profile\"",
			Evidence: ev,
			Remedy:   append(in.replaceRemedy(k), verifyRemedy()),
		})
	}
	return out
}}

// modelsInUse lists the configured models, or says that OpenClaw's
// default applies.
func modelsInUse(in *Input) string {
	if m := in.Snap.Config.Models(); len(m) > 0 {
		return strings.Join(m, ", ")
	}
	if in.Snap.ConfigErr != nil {
		return "unknown (openclaw.json cannot be parsed)"
	}
	return "none configured (OpenClaw's default, an anthropic model)"
}

func anthropicEnvNames() []string { return []string{"ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"} }

func envPlaces(in *Input) string {
	places := []string{}
	if g := in.Snap.Gateway; g != nil {
		if g.EnvReadable {
			places = append(places, fmt.Sprintf("gateway process %d", g.PID))
		} else {
			places = append(places, fmt.Sprintf("gateway process %d NOT readable", g.PID))
		}
	} else {
		places = append(places, "no running gateway found")
	}
	places = append(places, "$STATE/.env", "~/.config/openclaw/gateway.env", "openclaw.json env.vars")
	if c := in.Snap.Config; c != nil && c.ShellEnvEnabled {
		// OpenClaw imports the login shell's environment; reading it would
		// mean running the user's shell, which the bot never does.
		places = append(places, "env.shellEnv is on: keys exported by the gateway user's login shell are not visible to the bot")
	}
	return strings.Join(places, ", ")
}
