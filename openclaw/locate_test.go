package openclaw

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocate(t *testing.T) {
	home := t.TempDir()
	legacyHome := t.TempDir()
	if err := os.MkdirAll(filepath.Join(legacyHome, ".clawdbot"), 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                string
		opts                LocateOptions
		env                 map[string]string
		wantState, wantConf string
		wantHow             string
	}{
		{name: "default", opts: LocateOptions{Home: home},
			wantState: filepath.Join(home, ".openclaw"), wantConf: filepath.Join(home, ".openclaw", "openclaw.json"), wantHow: "default ~/.openclaw"},
		{name: "legacy ~/.clawdbot when ~/.openclaw is absent", opts: LocateOptions{Home: legacyHome},
			wantState: filepath.Join(legacyHome, ".clawdbot"), wantHow: "legacy ~/.clawdbot"},
		{name: "env state dir", opts: LocateOptions{Home: home}, env: map[string]string{"OPENCLAW_STATE_DIR": "/srv/oc"},
			wantState: "/srv/oc", wantConf: "/srv/oc/openclaw.json", wantHow: "OPENCLAW_STATE_DIR"},
		{name: "flag beats env", opts: LocateOptions{Home: home, StateDir: "/flag"}, env: map[string]string{"OPENCLAW_STATE_DIR": "/srv/oc", "OPENCLAW_CONFIG_PATH": "/env/cfg.json"},
			wantState: "/flag", wantConf: "/flag/openclaw.json", wantHow: "--state-dir"},
		{name: "state dir from the bot config says so", opts: LocateOptions{Home: home, StateDir: "/cfg", StateDirFrom: "state_dir of target prod in the bot config"},
			wantState: "/cfg", wantHow: "state_dir of target prod in the bot config"},
		{name: "env config path", opts: LocateOptions{Home: home}, env: map[string]string{"OPENCLAW_CONFIG_PATH": "/etc/oc.json5"},
			wantState: filepath.Join(home, ".openclaw"), wantConf: "/etc/oc.json5"},
		{name: "config flag", opts: LocateOptions{Home: home, ConfigPath: "~/cfg.json"},
			wantConf: filepath.Join(home, "cfg.json")},
		{name: "profile flag", opts: LocateOptions{Home: home, Profile: "work"}, env: map[string]string{"OPENCLAW_STATE_DIR": "/srv/oc"},
			wantState: filepath.Join(home, ".openclaw-work"), wantHow: "--openclaw-profile work"},
		{name: "profile env", opts: LocateOptions{Home: home}, env: map[string]string{"OPENCLAW_PROFILE": "dev"},
			wantState: filepath.Join(home, ".openclaw-dev")},
		{name: "profile default is ~/.openclaw", opts: LocateOptions{Home: home, Profile: "default"},
			wantState: filepath.Join(home, ".openclaw")},
		{name: "OPENCLAW_HOME replaces HOME", opts: LocateOptions{}, env: map[string]string{"OPENCLAW_HOME": "/oh", "HOME": "/h"},
			wantState: "/oh/.openclaw"},
		{name: "tilde in env", opts: LocateOptions{Home: home}, env: map[string]string{"OPENCLAW_STATE_DIR": "~/x"},
			wantState: filepath.Join(home, "x")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Getenv = func(k string) string { return tc.env[k] }
			loc, err := Locate(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantState != "" && loc.StateDir != tc.wantState {
				t.Errorf("state dir = %s, want %s", loc.StateDir, tc.wantState)
			}
			if tc.wantConf != "" && loc.ConfigPath != tc.wantConf {
				t.Errorf("config = %s, want %s", loc.ConfigPath, tc.wantConf)
			}
			if tc.wantHow != "" && loc.How != tc.wantHow {
				t.Errorf("how = %q, want %q", loc.How, tc.wantHow)
			}
		})
	}
}

func TestVersionLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"2026.3.31", "2026.4.0", true}, {"2026.9.6", "2026.4.0", false}, {"2026.9.6", "2026.9.6", false},
		{"2026.10.1", "2026.9.6", false}, {"2026.9.6-beta.1", "2026.9.7", true}, {"", "2026.1.1", true},
	} {
		if got := VersionLess(tc.a, tc.b); got != tc.want {
			t.Errorf("VersionLess(%q,%q)=%v", tc.a, tc.b, got)
		}
	}
}
