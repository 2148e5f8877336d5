package diagnostics

import (
	"fmt"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// expiringWindow is OpenClaw's warnAfterMs: tokens expiring within 24 h are
// "expiring".
const expiringWindow = 24 * time.Hour

// ruleCredentialExpiry: setup tokens and OAuth logins past (or near) their
// recorded expiry. OAuth logins refresh themselves when a request needs it,
// so an expired one is critical only when nothing can refresh it.
var ruleCredentialExpiry = Rule{Name: CodeCredentialExpired, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		c := k.Cred
		if c.Fence != "" || (c.Type != "token" && c.Type != "oauth") {
			continue
		}
		if c.ExpiresInvalid {
			out = append(out, Finding{
				Code: CodeCredentialExpired, Severity: Critical, Subject: subject(k),
				Title:    k.ID + " has an invalid expiry and is treated as unusable",
				Evidence: fmt.Sprintf("The \"expires\" field of %s in %s is not a valid timestamp (reasonCode invalid_expires).", k.ID, where(k)),
				Remedy:   append(in.replaceRemedy(k), verifyRemedy()),
			})
			continue
		}
		if c.Expires.IsZero() {
			continue
		}
		switch {
		case !in.Now.Before(c.Expires):
			f := Finding{
				Code: CodeCredentialExpired, Severity: Critical, Subject: subject(k),
				Title:    fmt.Sprintf("The %s of %s expired %s", kind(c.Type), k.ID, text.Relative(c.Expires, in.Now, "")),
				Evidence: fmt.Sprintf("%s (%s) in %s expired at %s.", k.ID, c.Type, where(k), when(c.Expires, in.Now)),
				Remedy:   in.replaceRemedy(k),
				Until:    c.Expires,
			}
			if c.Type == "oauth" && !c.Refresh.IsZero() {
				f.Evidence += " OpenClaw will try a refresh at the next request; if that refresh fails the login is destroyed for good (refresh fence)."
				f.Remedy = append(f.Remedy, "Do not run plain-text `openclaw models status` or `openclaw doctor --fix` on this install until it is re-authenticated: both trigger that refresh.")
			}
			out = append(out, f)
		case c.Expires.Sub(in.Now) <= expiringWindow:
			f := Finding{
				Code: CodeCredentialExpiring, Severity: Warning, Subject: subject(k),
				Title:    fmt.Sprintf("The %s of %s expires %s", kind(c.Type), k.ID, text.Relative(c.Expires, in.Now, "")),
				Evidence: fmt.Sprintf("%s (%s) in %s expires at %s.", k.ID, c.Type, where(k), when(c.Expires, in.Now)),
				Remedy:   in.replaceRemedy(k),
				Until:    c.Expires,
			}
			if c.Type == "oauth" {
				f.Evidence += " OpenClaw refreshes OAuth logins within 5 minutes of expiry; this is a warning in case the refresh fails."
			}
			out = append(out, f)
		}
	}
	return append(out, claudeExpiry(in)...)
}}

// claudeExpiry: Claude Code's own login without a refresh token (a
// long-lived token) past or near its expiry, when the bot could read it.
// A login with a refresh token is renewed by Claude Code itself.
func claudeExpiry(in *Input) []Finding {
	k, ok := in.claudeNative()
	l := k.Claude
	if !ok || l.State != openclaw.ClaudeReadable || l.Type != openclaw.TypeToken || l.Expires.IsZero() {
		return nil
	}
	remedy := []string{"Log in to Claude Code again as that user: `claude auth login` (interactive), or create a new token with `claude setup-token`."}
	switch {
	case !in.Now.Before(l.Expires):
		return []Finding{{
			Code: CodeCredentialExpired, Severity: Critical, Subject: k.ID,
			Title:    "Claude Code's login (claude-cli) expired " + text.Relative(l.Expires, in.Now, "") + ": the Claude CLI routes fail",
			Evidence: fmt.Sprintf("%s has no refresh token and expired at %s.", claudeWhere(l), when(l.Expires, in.Now)),
			Remedy:   remedy, Until: l.Expires,
		}}
	case l.Expires.Sub(in.Now) <= expiringWindow:
		return []Finding{{
			Code: CodeCredentialExpiring, Severity: Warning, Subject: k.ID,
			Title:    "Claude Code's login (claude-cli) expires " + text.Relative(l.Expires, in.Now, ""),
			Evidence: fmt.Sprintf("%s has no refresh token and expires at %s.", claudeWhere(l), when(l.Expires, in.Now)),
			Remedy:   remedy, Until: l.Expires,
		}}
	}
	return nil
}
