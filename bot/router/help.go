package router

import (
	"context"

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

// help is the grammar with roles, or one command in detail.
func (r *Router) help(_ context.Context, who Who, cmd Command) result {
	topic, role := cmd.Topic, r.access.role(who)
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo}
	add := func(s ...bot.Span) { m.Text = append(m.Text, s...) }
	if s, ok := SpecOf(topic); ok {
		m.Title = "help: " + s.Usage
		add(bot.T(upperFirst(s.Summary)+".\n"), bot.T("Role: "+roleText(s.Role)))
		if s.Confirm {
			add(bot.T(". Answers with a preview and Confirm/Cancel buttons (2 minutes, only for you, once)"))
		}
		add(bot.T(".\nExample: "), bot.C(s.Example), bot.T(" (Telegram: "), bot.C("/"+TelegramName(s.Name)), bot.T(")\n"))
		if s.Note != "" {
			add(bot.T(s.Note + "\n"))
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
