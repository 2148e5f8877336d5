package router

import (
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// The cooldown-reset preview says when a reset cannot help (issue #11): a
// subscription login disabled for billing (its "extra usage" errors are
// recorded as billing), a subscription block window, a login held by an
// unfinished refresh.
func TestResetWarningsIssue11(t *testing.T) {
	until := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		p        diagnostics.ProfileStatus
		findings []diagnostics.Finding
		want     []string
		not      []string
	}{
		{name: "API key disabled for billing: top up",
			p:    diagnostics.ProfileStatus{ID: "anthropic:default", Type: "api_key", Health: "disabled", Window: "disabled", Reason: "billing", Until: until},
			want: []string{"A reset adds no credits", "Top up"}, not: []string{"extra usage"}},
		{name: "setup token disabled for billing: extra usage, not a top-up",
			p:        diagnostics.ProfileStatus{ID: "anthropic:manual", Type: "token", Health: "disabled", Window: "disabled", Reason: "billing", Until: until},
			findings: []diagnostics.Finding{{Code: diagnostics.CodeBillingBlocked, Subject: "anthropic:manual"}},
			want:     []string{"Claude subscription login", "extra usage", "A credit top-up does not help", "neither does a reset alone", "disables it again", "paste-api-key"},
			not:      []string{"adds no credits"}},
		{name: "Claude Code copy disabled for billing",
			p:    diagnostics.ProfileStatus{ID: "anthropic:claude-cli", Type: "oauth", Health: "disabled", Window: "disabled", Reason: "billing", Until: until, Location: "a Claude Code login of user alice (uid 1000) in /home/alice/.claude/.credentials.json"},
			want: []string{"extra usage"}},
		{name: "subscription block window",
			p:    diagnostics.ProfileStatus{ID: "anthropic:default", Type: "api_key", Health: "cooldown", Window: "blocked", Reason: "subscription_limit", Model: "claude-opus-5", Until: until},
			want: []string{"subscription's usage limit", "does not lift the limit", "blocks it again"}},
		{name: "pending refresh fence",
			p:        diagnostics.ProfileStatus{ID: "anthropic:oauth", Type: "oauth", Health: "expired", Secret: "refresh-fence:pending"},
			findings: []diagnostics.Finding{{Code: diagnostics.CodeOAuthRefreshPending, Subject: "anthropic:oauth", Remedy: []string{"Log in again: openclaw models auth login --provider anthropic --profile-id anthropic:oauth"}}},
			want:     []string{"unfinished token refresh", "models auth login"}, not: []string{"has expired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := resetWarnings(diagnostics.Report{Profiles: []diagnostics.ProfileStatus{tc.p}, Findings: tc.findings}, tc.p)
			var b strings.Builder
			for _, w := range ws {
				b.WriteString(w.text + "\n" + strings.Join(w.remedy, "\n") + "\n")
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("preview warnings do not say %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("preview warnings say %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// A profile line shows the window's kind and reason verbatim, "no reason
// recorded" when there is none (2026.1–2.x), and where a Claude Code login
// lives.
func TestProfileLineWindows(t *testing.T) {
	until := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		p    diagnostics.ProfileStatus
		want string
	}{
		{diagnostics.ProfileStatus{ID: "a", Health: "cooldown", Window: "cooldown", Until: until}, "(cooldown (no reason recorded) until "},
		{diagnostics.ProfileStatus{ID: "a", Health: "cooldown", Window: "cooldown", Reason: "weird_new_reason", Until: until}, "(cooldown weird_new_reason until "},
		{diagnostics.ProfileStatus{ID: "a", Health: "cooldown", Window: "blocked", Reason: "subscription_limit", Model: "claude-opus-5", Until: until}, "(blocked subscription_limit on claude-opus-5 until "},
		{diagnostics.ProfileStatus{ID: "claude-cli", Health: "unverified", Location: "a Claude Code login of user alice (uid 1000) in /home/alice/.claude/.credentials.json"}, " · a Claude Code login of user alice"},
	} {
		var b strings.Builder
		for _, s := range profileLine(tc.p) {
			b.WriteString(s.Text)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("line %q does not contain %q", b.String(), tc.want)
		}
	}
}
