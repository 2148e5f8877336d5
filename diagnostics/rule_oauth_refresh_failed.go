package diagnostics

import "fmt"

// ruleOAuthRefreshFailed: OpenClaw replaced an OAuth login by a failed
// refresh fence; the refresh token is gone and only a new login helps.
var ruleOAuthRefreshFailed = Rule{Name: CodeOAuthRefreshFailed, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		if k.Cred.Fence != "failed" {
			continue
		}
		out = append(out, Finding{
			Code: CodeOAuthRefreshFailed, Severity: Critical, Subject: subject(k),
			Title: "The OAuth login of " + k.ID + " is gone: a token refresh failed and OpenClaw fenced it",
			Evidence: fmt.Sprintf("%s in %s holds an OpenClaw refresh fence (access/refresh = openclaw-oauth-refresh-fence:v1:…:failed:…, expires=1). "+
				"The single-use refresh token was consumed; users see \"OAuth token refresh failed for anthropic\".", k.ID, where(k)),
			Remedy: []string{
				"Log in again: " + in.cmd.login(k.Agent, k.ID),
				"Or switch to a setup token (no refresh needed): " + in.cmd.pasteToken(k.Agent, k.ID),
				"Avoid plain-text `openclaw models status` on OAuth profiles: it refreshes expired logins and a failed refresh does this; use --json.",
			},
		})
	}
	return out
}}
