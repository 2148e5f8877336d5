package change

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// fixtures are package openclaw's captured installs.
const fixtures = "../../testdata/openclaw/fixtures"

func copyFile(t testing.TB, src, dst string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// onboarded lays out the captured onboarded install: config + minimal DB.
func onboarded(t testing.TB) openclaw.Location {
	t.Helper()
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	copyFile(t, fixtures+"/state/openclaw.onboarded.json", filepath.Join(state, "openclaw.json"), "$WORK/home", home)
	copyFile(t, fixtures+"/state/minimal-state.sqlite", filepath.Join(state, "state", "openclaw.sqlite"))
	loc, err := openclaw.Locate(openclaw.LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
