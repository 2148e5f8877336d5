package diagnostics

import (
	"fmt"
	"os"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleClaudeCLI: Anthropic models that run through Claude Code
// ("claude-cli") authenticate with Claude Code's own login, which lives
// outside the state dir, in the gateway user's home. The finding says where
// it lives, whose it is, what the release keeps of it and what the bot
// could see of it: its expiry when the file is readable, "unverified"
// otherwise. The bot reads only expiresAt/subscriptionType, never a token.
var ruleClaudeCLI = Rule{Name: CodeAuthExternal, Check: func(in *Input) []Finding {
	l := in.Snap.ClaudeCLI
	if l == nil {
		return nil
	}
	subject := ClaudeKeyID
	if l.Mode == openclaw.ClaudeCopy {
		subject = openclaw.ClaudeCLIProfileID
	}
	f := Finding{Code: CodeAuthExternal, Severity: Info, Subject: subject}
	ev := []string{"Routed through Claude Code: " + strings.Join(l.Routes, "; ") + "."}
	switch {
	case l.Mode == openclaw.ClaudeCopy:
		ev = append(ev, fmt.Sprintf("OpenClaw %s keeps a copy of the login as profile %s (provider claude-cli) in its store and, from 2026.5, re-reads it from Claude Code's file when the copy is unusable; the original is Claude Code's.", in.versionText(), openclaw.ClaudeCLIProfileID))
	case in.Snap.Version == "" || !openclaw.VersionLess(in.Snap.Version, "2026.8.1"):
		ev = append(ev, fmt.Sprintf("OpenClaw %s keeps nothing of it: before a Claude CLI run it asks `claude auth status --json` and the `claude` binary uses its own login; native runs record no cooldown.", in.versionText()))
	default:
		ev = append(ev, fmt.Sprintf("OpenClaw %s runs the `claude` binary for these models, which uses its own login.", in.versionText()))
	}
	home := ""
	if l.HomeFrom != "" {
		home = " (" + l.HomeFrom
		if l.ConfigDirFrom != "" {
			home += "; " + l.ConfigDirFrom
		}
		home += ")"
	}
	ev = append(ev, "The credential is "+claudeWhere(l)+home+", outside the state dir.")
	remedy := []string{}
	as := "the gateway's user"
	if l.Owner != "" {
		as = l.Owner
	}
	check := "Check it as " + as + ": `claude auth status --json` must say \"loggedIn\": true."
	login := "Log in to Claude Code as " + as + ": `claude auth login` (interactive), or route these models to an API key: " + in.cmd.pasteKey("", "anthropic:default")
	switch l.State {
	case openclaw.ClaudeReadable:
		f.Title = "Anthropic models run on Claude Code's login of " + as + ", outside the state dir"
		detail := "The bot read only its expiry"
		if l.Subscription != "" {
			detail += " and subscription type (" + l.Subscription + ")"
		}
		if l.Type == openclaw.TypeOAuth {
			detail += fmt.Sprintf(": access token valid until %s; Claude Code renews it with its refresh token when it runs.", when(l.Expires, in.Now))
		} else {
			detail += fmt.Sprintf(": a token without a refresh token, valid until %s.", when(l.Expires, in.Now))
		}
		ev = append(ev, detail)
		remedy = append(remedy, check)
	case openclaw.ClaudeMissing, openclaw.ClaudeNoLogin:
		f.Severity = Warning
		f.Title = "No Claude Code login for " + as + ": the Claude CLI routes fail"
		if l.State == openclaw.ClaudeMissing {
			ev = append(ev, "There is no such file: Claude Code is not logged in as that user, so each Claude CLI run fails (\"Claude CLI is not authenticated\") — unless the gateway runs with another HOME or CLAUDE_CONFIG_DIR than the bot found.")
		} else {
			ev = append(ev, "The file holds no claudeAiOauth login with an access token and an expiry, so Claude Code is not logged in.")
		}
		remedy = append(remedy, login, check)
	case openclaw.ClaudeUnreadable:
		f.Title = "Anthropic models run on Claude Code's login of " + as + ": unverified, it lives outside the state dir"
		ev = append(ev, fmt.Sprintf("Unverified: the bot (uid %d) cannot read it (%s).", os.Geteuid(), l.Problem))
		remedy = append(remedy, "Run openclaw-bot as "+as+" (the gateway's user) to see its expiry.", check)
	case openclaw.ClaudeKeychain:
		f.Title = "Anthropic models run on Claude Code's login in the macOS keychain: unverified"
		ev = append(ev, "Unverified: on macOS Claude Code keeps the login in the keychain; the bot never reads a keychain.")
		remedy = append(remedy, check)
	case openclaw.ClaudeHelper:
		f.Title = "Anthropic models run on Claude Code with an apiKeyHelper: unverified"
		ev = append(ev, "Unverified: Claude Code gets its key by running the apiKeyHelper command of its settings.json (OpenClaw 2026.9.6 prefers it to the login); the bot never runs it.")
		remedy = append(remedy, check)
	default: // no home
		f.Title = "Anthropic models run on Claude Code's own login: unverified, the gateway's user is unknown"
		ev = append(ev, "Unverified: the bot found no readable gateway process and no owner of the state dir, so it does not know whose home holds the login.")
		remedy = append(remedy, "Run openclaw-bot as the gateway's user, or on the gateway's host, to see the login's expiry.", check)
	}
	if l.CopyIgnored {
		remedy = append(remedy, "Remove the ignored copy: `"+in.cmd.run("", "doctor")+"` offers it (deprecated profile "+openclaw.ClaudeCLIProfileID+").")
	}
	remedy = append(remedy, "The bot never runs `claude`, never reads a keychain and never reads or prints the tokens: only expiresAt and subscriptionType.")
	f.Evidence, f.Remedy = strings.Join(ev, " "), remedy
	return []Finding{f}
}}

// claudeWhere says where Claude Code's login lives and whose it is.
func claudeWhere(l *openclaw.ClaudeLogin) string {
	who := "the gateway's user"
	if l.Owner != "" {
		who = "user " + l.Owner
	}
	switch l.State {
	case openclaw.ClaudeKeychain:
		return fmt.Sprintf("a Claude Code login of %s in the macOS keychain (service %q; no file %s)", who, l.Keychain, l.Path)
	case openclaw.ClaudeHelper:
		return fmt.Sprintf("Claude Code's apiKeyHelper of %s (%s/settings.json)", who, l.ConfigDir)
	case openclaw.ClaudeNoHome:
		return "a Claude Code login in the gateway user's home (not found)"
	}
	return fmt.Sprintf("a Claude Code login of %s in %s", who, l.Path)
}
