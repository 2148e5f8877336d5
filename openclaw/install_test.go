package openclaw

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// Installs written by internal/sandbox (package change's reset tests have
// the same helpers).

const resetStoreRow = `{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-AAAA"},"anthropic:second":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-BBBB"}}}`

// resetInstall is an install of that version written by internal/sandbox.
func resetInstall(t *testing.T, version string) (*sandbox.Dir, Location) {
	t.Helper()
	home := t.TempDir()
	d, err := sandbox.New(filepath.Join(home, ".openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config(version, nil, "anthropic:default", "anthropic:second"); err != nil {
		t.Fatal(err)
	}
	loc, err := Locate(LocateOptions{StateDir: d.Path, Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return d, loc
}

func resetSnap(t *testing.T, loc Location) *Snapshot {
	t.Helper()
	s, err := ReadSnapshot(context.Background(), loc, ReadOptions{Env: EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sharedInstall(t *testing.T, state string) (*sandbox.Dir, Location) {
	t.Helper()
	d, loc := resetInstall(t, "2026.9.6")
	if err := d.SharedStore(json.RawMessage(resetStoreRow), json.RawMessage(state)); err != nil {
		t.Fatal(err)
	}
	return d, loc
}
