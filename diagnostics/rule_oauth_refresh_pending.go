package diagnostics

import (
	"fmt"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// refreshCallTimeout is 2026.9.6's OAUTH_REFRESH_CALL_TIMEOUT_MS: how long
// other requests wait for the process that claimed a login to refresh it.
const refreshCallTimeout = 2 * time.Minute

// ruleOAuthRefreshPending: an OAuth login replaced by a pending refresh
// fence (openclaw-oauth-refresh-fence:v1:<claim>:access|refresh:<digest>,
// expires 1). A process claimed the login to refresh it; until it writes
// the result, others wait up to 2 minutes and then fail. A fence older than
// that was left by a process that died mid-refresh: nothing in OpenClaw
// settles it, and the refresh token is no longer in the store.
var ruleOAuthRefreshPending = Rule{Name: CodeOAuthRefreshPending, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		if k.Cred.Fence != openclaw.FencePending {
			continue
		}
		ev := fmt.Sprintf("%s in %s holds OpenClaw's pending refresh fence (access/refresh = openclaw-oauth-refresh-fence:v1:<claim>:access|refresh:…, expires=1 — a marker, not an expiry date): "+
			"a process claimed the login to refresh it and has not written the result. Meanwhile `openclaw models status` shows it expired; other requests wait up to %s for the result.",
			k.ID, where(k), text.Duration(refreshCallTimeout, ""))
		f := Finding{Code: CodeOAuthRefreshPending, Subject: subject(k)}
		var at time.Time
		if k.Store != nil {
			at = k.Store.ProfilesAt()
		}
		switch {
		case !at.IsZero() && in.Now.Sub(at) < refreshCallTimeout:
			f.Severity = Info
			f.Title = "The OAuth login of " + k.ID + " is being refreshed (claimed " + text.Relative(at, in.Now, "") + ")"
			ev += " The store was written " + when(at, in.Now) + ": the refresh may still be running."
			f.Remedy = []string{"Nothing yet: look again in a few minutes. If it stays pending, the refreshing process died and the login must be replaced: " + in.cmd.login(k.Agent, k.ID)}
		default:
			f.Severity = Critical
			age := "for an unknown time (the store's write time is not recorded)"
			if !at.IsZero() {
				age = "for at least " + text.Duration(in.Now.Sub(at), "") + " (the store was last written " + when(at, in.Now) + ")"
			}
			f.Title = "The OAuth login of " + k.ID + " is stuck in an interrupted refresh: log in again"
			ev += " It has been pending " + age + ", longer than OpenClaw waits: the process that claimed it most likely died mid-refresh (a gateway restart or crash), " +
				"nothing settles the claim, and the store keeps only a digest of the refresh token, so every request with this login fails."
			f.Remedy = []string{
				"Log in again: " + in.cmd.login(k.Agent, k.ID),
				"Or switch to a setup token (no refresh needed): " + in.cmd.pasteToken(k.Agent, k.ID),
				"A cooldown reset does not help, and editing the fence does not bring the refresh token back.",
			}
		}
		f.Evidence = ev
		out = append(out, f)
	}
	return out
}}
