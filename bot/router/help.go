package router

import (
	"strings"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

func roleText(r Role) string {
	switch r {
	case RoleReader:
		return "anyone allowed to read"
	case RoleResponder:
		return "responder"
	case RoleAdmin:
		return "admin"
	}
	return r.String()
}

// telegramForm is the Telegram spelling of a command name.
func telegramForm(name string) string {
	return "/" + strings.ReplaceAll(strings.ReplaceAll(name, "--", ""), " ", "_")
}

// notes are extra lines of `help <command>`.
var notes = map[string]string{
	CmdCooldownReset: "The preview shows each profile's window, until when, and what the key check last said; when the key is known rejected it says so: a reset does not fix a bad key.",
	CmdSilence:       "Durations: 30m, 1h, 2h30m, 1d (at least 1m, at most 7d). Without a target, profile or code it silences every alert.",
	CmdCheck:         "GET /v1/models with each stored Anthropic key: spends no tokens and writes nothing to OpenClaw.",
	CmdProbeSpend:    "Spends tokens and records a 30 s cooldown on a 401. Prefer check.",
	CmdUndo:          "The audit id is on the reset's reply and in audit.",
	CmdRestart:       "A restart does not end a cooldown on OpenClaw 2026.9.6 (it is persisted).",
}

// helpResult is the grammar with roles, or one command in detail.
func helpResult(topic string, role Role) result {
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo}
	add := func(s ...bot.Span) { m.Text = append(m.Text, s...) }
	if s, ok := SpecOf(topic); ok {
		m.Title = "help: " + s.Usage
		add(bot.T(upperFirst(s.Summary)+".\n"), bot.T("Role: "+roleText(s.Role)))
		if s.Confirm {
			add(bot.T(". Answers with a preview and Confirm/Cancel buttons (2 minutes, only for you, once)"))
		}
		add(bot.T(".\nExample: "), bot.C(s.Example), bot.T(" (Telegram: "), bot.C(telegramForm(s.Name)), bot.T(")\n"))
		if n := notes[s.Name]; n != "" {
			add(bot.T(n + "\n"))
		}
		if s.args == argsTarget || s.args == argsReset || s.args == argsSilence {
			add(bot.T("Arguments: a word with : is a profile id, a known target name is a target, all means every profile."))
		}
		trimText(&m)
		m.Footer = bot.Line(bot.T("You are " + role.String() + " here."))
		return result{msg: m}
	}
	m.Title = "openclaw-bot commands"
	groups := []struct {
		role  Role
		title string
	}{
		{RoleReader, "Anyone allowed to read (viewers anywhere):\n"},
		{RoleResponder, "Responders:\n"},
		{RoleAdmin, "Admins:\n"},
	}
	for _, g := range groups {
		add(bot.B(g.title))
		for _, s := range specs {
			if s.Role != g.role {
				continue
			}
			add(bot.T("  "), bot.C(s.Usage), bot.T(" — "+s.Summary))
			if s.Confirm {
				add(bot.T(" (Confirm)"))
			}
			add(bot.T("\n"))
		}
	}
	add(bot.T("Arguments: a word with : is a profile id (anthropic:default), a known target name is a target, all means every profile. " +
		"Durations: 30m, 1h, 2h30m, 1d (at most 7d).\n"))
	add(bot.T("Changes answer with a preview; only the person who asked can Confirm it, within 2 minutes, once. " +
		"Slack: /openclaw <command>; Telegram: /<command> with _ for spaces (/cooldown_reset)."))
	m.Footer = bot.Line(bot.T("You are "+role.String()+" here · "), bot.C("help <command>"), bot.T(" explains one."))
	return result{msg: m}
}
