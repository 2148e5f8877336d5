package config

import (
	"strings"
	"testing"
)

// Roles are keyed by (platform, id): a bare id matches on every platform,
// as it always did; a prefixed one only on its platform.
func TestAccessLevelByPlatform(t *testing.T) {
	a := Access{
		Admins:     []string{"slack:U0ADMIN"},
		Responders: []string{"telegram:42", "U0RESP"},
		Viewers:    []string{"7", "slack:U0RESP"},
	}
	for _, c := range []struct {
		platform, id string
		want         Level
	}{
		{"slack", "U0ADMIN", LevelAdmin},
		{"telegram", "U0ADMIN", LevelNone}, // slack: only
		{"telegram", "42", LevelResponder},
		{"slack", "42", LevelNone}, // a Telegram id is not Slack's user 42
		{"slack", "U0RESP", LevelResponder},
		{"telegram", "U0RESP", LevelResponder}, // bare: any platform, as before
		{"telegram", "7", LevelViewer},
		{"slack", "7", LevelViewer},
		{"slack", "", LevelNone},
		{"slack", "nobody", LevelNone},
	} {
		if got := a.Level(c.platform, c.id); got != c.want {
			t.Errorf("Level(%s, %s) = %d, want %d", c.platform, c.id, got, c.want)
		}
	}
}

func TestAccessPrefixValidation(t *testing.T) {
	ok := "access:\n  viewers: [\"slack:U0123\", \"telegram:42\", \"U0999\", \"-1001\"]\n  admins: [\"Telegram:7\"]\n"
	if _, err := Parse([]byte(ok), "c.yaml", func(string) string { return "" }); err != nil {
		t.Fatalf("prefixed ids refused: %v", err)
	}
	for in, want := range map[string]string{
		"access:\n  viewers: [\"slak:U0123\"]\n": `access.viewers[0]: "slak:U0123" has the prefix "slak", which is no chat platform`,
		"access:\n  admins: [\"telegram:\"]\n":   `access.admins[0]: "telegram:" has no id after the prefix`,
		"access:\n  responders: [\"irc:bob\"]\n": "write slack:ID, telegram:ID or the bare id",
	} {
		_, err := Parse([]byte(in), "c.yaml", func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
