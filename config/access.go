package config

import (
	"fmt"
	"slices"
	"strings"
)

// Platforms are the chat platforms config has a section for, by the name
// their surface reports (bot.SurfaceSlack, …): the prefixes an id in
// access.viewers/responders/admins may carry. The app's surface list has
// one entry per name (TestSurfacesComplete checks both agree).
var Platforms = []string{"slack", "telegram"}

// UserKey is one entry of access.viewers/responders/admins: a user id on a
// platform. Platform "" (an id written without a prefix, as before
// prefixes existed) matches that id on every platform.
type UserKey struct{ Platform, ID string }

// ParseUserKey reads "U0123ABCD" (any platform), "slack:U0123ABCD" or
// "telegram:42" (that platform only). Neither Slack nor Telegram ids
// contain ':', so a bare id is never mistaken for a prefixed one.
func ParseUserKey(s string) UserKey {
	if p, id, ok := strings.Cut(s, ":"); ok {
		return UserKey{Platform: strings.ToLower(p), ID: id}
	}
	return UserKey{ID: s}
}

// Matches reports whether k names user id on platform.
func (k UserKey) Matches(platform, id string) bool {
	return k.ID == id && (k.Platform == "" || k.Platform == platform)
}

// Level is what access.viewers/responders/admins grant; each includes the
// ones below it.
type Level int

// Levels, least first.
const (
	LevelNone Level = iota
	LevelViewer
	LevelResponder
	LevelAdmin
)

// Level is the highest level the lists give user id on platform. Ids are
// compared as strings, keyed by (platform, id): "telegram:42" is never the
// Slack user 42; a bare "42" is user 42 on any platform.
func (a Access) Level(platform, id string) Level {
	if id == "" {
		return LevelNone
	}
	for _, l := range []struct {
		level Level
		ids   []string
	}{{LevelAdmin, a.Admins}, {LevelResponder, a.Responders}, {LevelViewer, a.Viewers}} {
		if slices.ContainsFunc(l.ids, func(s string) bool { return ParseUserKey(s).Matches(platform, id) }) {
			return l.level
		}
	}
	return LevelNone
}

// checkUserKey reports what is wrong with one access list entry ("" = ok).
func checkUserKey(s string) string {
	k := ParseUserKey(s)
	switch {
	case !strings.Contains(s, ":"):
		return ""
	case !slices.Contains(Platforms, k.Platform):
		return fmt.Sprintf("%s has the prefix %q, which is no chat platform; write %s:ID or the bare id (any platform)", show(s), k.Platform, strings.Join(Platforms, ":ID, "))
	case k.ID == "":
		return fmt.Sprintf("%s has no id after the prefix; write e.g. %s:U0123ABCD", show(s), k.Platform)
	}
	return ""
}
