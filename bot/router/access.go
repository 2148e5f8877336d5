package router

import (
	"slices"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
)

// Role is what a user may do. Roles are ordered: each includes the ones
// below it (admins ⊇ responders ⊇ viewers ⊇ readers).
type Role int

// Roles, least first.
const (
	// RoleNone may do nothing (a stranger outside the allowed channels).
	RoleNone Role = iota
	// RoleReader is anyone in an allowed channel or chat: the read-only
	// commands, there only.
	RoleReader
	// RoleViewer (access.viewers) may read from anywhere the bot hears
	// them, direct messages included.
	RoleViewer
	// RoleResponder (access.responders): check, silence, unsilence, ack,
	// cooldown reset, undo, doctor.
	RoleResponder
	// RoleAdmin (access.admins): audit, restart, doctor fix, probe --spend.
	// The console (the local operator) is always admin.
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleReader:
		return "reader"
	case RoleViewer:
		return "viewer"
	case RoleResponder:
		return "responder"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Who is the caller of one request or press.
type Who struct {
	Surface string
	UserID  string
	Name    string
	Where   string
	Private bool
}

// key identifies the user across surfaces (ids are only unique within one).
func (w Who) key() string { return w.Surface + "/" + w.UserID }

// display is "Name (id)" or the id.
func (w Who) display() string {
	if w.Name == "" || w.Name == w.UserID {
		return w.UserID
	}
	return w.Name + " (" + w.UserID + ")"
}

// access decides roles from config.Access. Only immutable ids are used;
// display names never are.
type access struct {
	cfg          config.Access
	alertChannel string
	alertChat    string
}

// listed is the role the user's id has from the access lists alone.
func (a access) listed(w Who) Role {
	switch {
	case w.Surface == bot.SurfaceConsole:
		return RoleAdmin
	}
	// Keyed by (platform, id): "telegram:42" never matches Slack's user 42.
	switch a.cfg.Level(w.Surface, w.UserID) {
	case config.LevelAdmin:
		return RoleAdmin
	case config.LevelResponder:
		return RoleResponder
	case config.LevelViewer:
		return RoleViewer
	}
	return RoleNone
}

// allowedPlace reports whether anyone may read where w is.
func (a access) allowedPlace(w Who) bool {
	if w.Where == "" {
		return w.Surface == bot.SurfaceConsole
	}
	switch w.Surface {
	case bot.SurfaceConsole:
		return true
	case bot.SurfaceSlack:
		return placeIn(w.Where, a.cfg.SlackChannels, a.alertChannel)
	case bot.SurfaceTelegram:
		return placeIn(w.Where, a.cfg.TelegramChats, a.alertChat)
	}
	return false
}

func placeIn(where string, list []string, fallback string) bool {
	if len(list) == 0 {
		return fallback != "" && where == fallback
	}
	return slices.Contains(list, where)
}

// role is the effective role of w where w is.
func (a access) role(w Who) Role {
	r := a.listed(w)
	if r < RoleReader && a.allowedPlace(w) {
		r = RoleReader
	}
	return r
}

// placeName says what kind of place w is in, for whoami and refusals.
func placeName(w Who) string {
	switch {
	case w.Surface == bot.SurfaceConsole:
		return "the console"
	case w.Private:
		return "a direct message"
	case w.Surface == bot.SurfaceTelegram:
		return "this chat"
	}
	return "this channel"
}

// listName is the config key that lists the allowed places of w's surface.
func listName(w Who) string {
	if w.Surface == bot.SurfaceTelegram {
		return "access.telegram_chats"
	}
	return "access.slack_channels"
}
