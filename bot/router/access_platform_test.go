package router

import (
	"testing"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
)

// A role given to a Telegram id is not a Slack user's with the same id; a
// bare id keeps matching on every platform; the console stays admin.
func TestRolesKeyedByPlatform(t *testing.T) {
	a := access{cfg: config.Access{Admins: []string{"telegram:42"}, Responders: []string{"U0RESP"}}}
	for _, c := range []struct {
		w    Who
		want Role
	}{
		{Who{Surface: bot.SurfaceTelegram, UserID: "42"}, RoleAdmin},
		{Who{Surface: bot.SurfaceSlack, UserID: "42"}, RoleNone},
		{Who{Surface: bot.SurfaceSlack, UserID: "U0RESP"}, RoleResponder},
		{Who{Surface: bot.SurfaceTelegram, UserID: "U0RESP"}, RoleResponder},
		{Who{Surface: bot.SurfaceConsole, UserID: "console"}, RoleAdmin},
		{Who{Surface: bot.SurfaceSlack}, RoleNone},
	} {
		if got := a.listed(c.w); got != c.want {
			t.Errorf("%s/%s: %s, want %s", c.w.Surface, c.w.UserID, got, c.want)
		}
	}
}
