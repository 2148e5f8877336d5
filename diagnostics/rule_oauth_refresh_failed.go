package diagnostics

import (
	"fmt"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleOAuthRefreshFailed: OpenClaw (2026.9.x) replaced an OAuth login by a
// failed refresh fence — access and refresh are
// openclaw-oauth-refresh-fence:v1:<claim>:failed:access|refresh:<digest>
// and expires is 1, a marker rather than a date —: the refresh token is
// gone and only a new login helps. Fence text in any other shape is
// reported here too: no refresh can revive tokens that are fence text.
var ruleOAuthRefreshFailed = Rule{Name: CodeOAuthRefreshFailed, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		fence := k.Cred.Fence
		if fence != openclaw.FenceFailed && fence != openclaw.FenceMalformed {
			continue
		}
		ev := fmt.Sprintf("%s in %s holds OpenClaw's failed refresh fence (access/refresh = openclaw-oauth-refresh-fence:v1:<claim>:failed:…, expires=1 — a marker, not an expiry date). "+
			"A refresh failed and OpenClaw keeps only a digest of the single-use refresh token; users see \"OAuth token refresh failed for anthropic\".", k.ID, where(k))
		if fence == openclaw.FenceMalformed {
			ev = fmt.Sprintf("%s in %s holds refresh-fence text (openclaw-oauth-refresh-fence:…) that is not OpenClaw's exact marker (both tokens v1:<32 hex claim>:[failed:]access|refresh:<64 hex>, the same claim, expires=1): "+
				"OpenClaw takes it for a login whose tokens are that text, and no refresh can work with them.", k.ID, where(k))
		}
		if k.Store != nil && !k.Store.ProfilesAt().IsZero() {
			t := k.Store.ProfilesAt()
			ev += " The store was last written " + when(t, in.Now) + "."
		}
		out = append(out, Finding{
			Code: CodeOAuthRefreshFailed, Severity: Critical, Subject: subject(k),
			Title:    "The OAuth login of " + k.ID + " is gone: a token refresh failed and OpenClaw fenced it; log in again",
			Evidence: ev,
			Remedy: []string{
				"Log in again: " + in.cmd.login(k.Agent, k.ID),
				"Or switch to a setup token (no refresh needed): " + in.cmd.pasteToken(k.Agent, k.ID),
				"A cooldown reset does not help: the fence is the credential now, not a window.",
				"Avoid plain-text `openclaw models status` on OAuth profiles: it refreshes expired logins and a failed refresh does this; use --json.",
			},
		})
	}
	return out
}}
