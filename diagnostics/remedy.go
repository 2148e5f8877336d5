package diagnostics

import (
	"fmt"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// replaceRemedy says how to put a new credential in place of k, for the
// detected layout and credential type.
func (in *Input) replaceRemedy(k keyRef) []string {
	c := in.cmd
	switch {
	case k.Source == SourceEnv && k.Env != nil:
		loc := k.Env.Source
		if k.Env.File != "" {
			loc = fmt.Sprintf("%s:%d", k.Env.File, k.Env.Line)
		}
		return []string{fmt.Sprintf("Put a valid key in %s (%s), then restart the gateway: it reads its environment only at start.", k.Env.Name, loc)}
	case k.Source == SourceConfig:
		return []string{"Fix models.providers.anthropic.apiKey in " + in.Snap.Location.ConfigPath + " (or remove it and store the key as a profile: " + c.pasteKey("", "anthropic:default") + ")."}
	case k.Cred.KeyRef != nil:
		return []string{fmt.Sprintf("The key comes from a %s secret reference (%s); fix the value there, then run `%s`.", k.Cred.KeyRef.Source, k.Cred.KeyRef.ID, c.run("", "secrets reload"))}
	case in.legacyVersion() && !openclaw.HasPasteAPIKey(in.Snap.Version):
		return []string{fmt.Sprintf("Replace the key in %s (OpenClaw %s keeps credentials in this JSON file and has no paste-api-key; `openclaw onboard` can store a new one), or upgrade OpenClaw and use `openclaw models auth paste-api-key`.", k.Store.Path, in.versionText())}
	case k.Cred.Type == "token":
		return []string{"Create a new setup token with `claude setup-token`, then: " + c.pasteToken(k.Agent, k.ID)}
	case k.Cred.Type == "oauth":
		return []string{"Log in again: " + c.login(k.Agent, k.ID)}
	default:
		return []string{"Store a valid key: " + c.pasteKey(k.Agent, k.ID)}
	}
}

// verifyRemedy says how to check a key afterwards without spending tokens.
func verifyRemedy() string {
	return "Check it without spending tokens: `openclaw-bot status --probe` (`openclaw models status` never validates a key; its --probe spends tokens and records a cooldown on 401)."
}

func (in *Input) versionText() string {
	if in.Snap.Version == "" {
		return "(unknown version)"
	}
	return in.Snap.Version
}
