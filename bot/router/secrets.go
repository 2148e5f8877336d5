package router

import (
	"strings"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Kinds of credential a pasted text can contain.
const (
	secretAnthropic = "anthropic"
	secretSlack     = "slack"
	secretTelegram  = "telegram"
	secretOpenClaw  = "openclaw"
)

// credentialKind says what credential-shaped string text contains (the
// patterns of internal/redact), or "".
func credentialKind(text string) string {
	if redact.String(text) == text {
		return ""
	}
	switch {
	case strings.Contains(text, "sk-ant-"):
		return secretAnthropic
	case strings.Contains(text, "xox") || strings.Contains(text, "xapp-"):
		return secretSlack
	case strings.Contains(text, "openclaw-oauth-refresh-fence:"):
		return secretOpenClaw
	}
	return secretTelegram
}

// secretWarning is the answer to a pasted credential. It never contains
// the pasted text.
func secretWarning(kind string) bot.Message {
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevCritical}
	add := func(spans ...bot.Span) { m.Text = append(m.Text, spans...) }
	leaked := bot.T("It was not run, stored or logged, but treat it as leaked: anyone who saw the message may have it. Delete the message if others can see it, then rotate:\n")
	switch kind {
	case secretSlack:
		m.Title = "That looked like a Slack token: never paste credentials into chat"
		add(leaked)
		add(bot.T("1. Rotate it in your Slack app's settings (OAuth & Permissions: reinstall or rotate the bot token; Basic Information: regenerate the app-level token).\n"))
		add(bot.T("2. Give the bot the new one through its config (slack.bot_token / slack.app_token as ${ENV} or a *_file), then restart openclaw-bot.\n"))
	case secretTelegram:
		m.Title = "That looked like a Telegram bot token: never paste credentials into chat"
		add(leaked)
		add(bot.T("1. Revoke it with @BotFather ("), bot.C("/revoke"), bot.T("), which issues a new token.\n"))
		add(bot.T("2. Give the bot the new one through its config (telegram.token as ${ENV} or telegram.token_file), then restart openclaw-bot.\n"))
	case secretOpenClaw:
		m.Title = "That looked like an OpenClaw OAuth credential: never paste credentials into chat"
		add(leaked)
		add(bot.T("1. Log in again on the host: "), bot.C("openclaw models auth login --provider anthropic --profile-id <profile id>"), bot.T(".\n"))
		add(bot.T("2. Check the result: "), bot.C("status"), bot.T(".\n"))
	default:
		m.Title = "That looked like an Anthropic API key: never paste credentials into chat"
		add(leaked)
		add(bot.T("1. Revoke it in the Anthropic console (Settings → API keys) and create a new key there.\n"))
		add(bot.T("2. Store the new key on the host of the install, never in chat: "),
			bot.C(`printf '%s' "$NEW_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id <profile id>`),
			bot.T(" (the profile id is in "), bot.C("status"), bot.T(", e.g. anthropic:default; "), bot.C("diagnose"),
			bot.T(" shows the exact command for this install).\n"))
		add(bot.T("3. Check the new key without spending tokens: "), bot.C("check"), bot.T(".\n"))
	}
	add(bot.T("The bot never needs a credential from chat: it reads the install itself."))
	return m
}
