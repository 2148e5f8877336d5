package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestStoreDriver(t *testing.T) {
	const pw = "Pw-s3cret-9"
	env := map[string]string{
		"DSN":     "postgres://bot:" + pw + "@db.example:5432/openclaw_bot?sslmode=verify-full",
		"KV_DSN":  "host=db.example user=bot password=" + pw + " dbname=openclaw_bot",
		"BAD_DSN": "host=db password='" + pw,
		"MYSQL":   "mysql://bot:" + pw + "@db/x",
	}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	file := filepath.Join(dir, "dsn")
	if err := os.WriteFile(file, []byte(env["KV_DSN"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, yaml  string
		driver, dsn string
		line        int    // of the error; 0 = valid
		msg         string // in the error
		describeHas string
	}{
		{name: "default", yaml: "", driver: "sqlite", describeHas: "openclaw-bot.db"},
		{name: "sqlite spelled out", yaml: "store:\n  driver: SQLite\n", driver: "sqlite"},
		{name: "postgres URL from env", yaml: "store:\n  driver: postgres\n  dsn: ${DSN}\n", driver: "postgres", dsn: env["DSN"],
			describeHas: "postgres postgres://bot:xxxxx@db.example:5432/openclaw_bot"},
		{name: "postgres keywords from a file", yaml: "store:\n  driver: Postgres\n  dsn_file: " + file + "\n", driver: "postgres", dsn: env["KV_DSN"],
			describeHas: "password=xxxxx"},
		{name: "postgres without dsn", yaml: "store:\n  path: x.db\n  driver: postgres\n", line: 3, msg: "store.dsn is empty"},
		{name: "unknown driver", yaml: "store:\n  driver: mysql\n", line: 2, msg: "store.driver"},
		{name: "dsn with sqlite", yaml: "store:\n  dsn: ${DSN}\n", line: 2, msg: "store.dsn is set, but store.driver is \"sqlite\""},
		{name: "a DSN that does not parse", yaml: "store:\n  driver: postgres\n  dsn: ${BAD_DSN}\n", line: 3, msg: "unterminated quote"},
		{name: "another scheme", yaml: "store:\n  driver: postgres\n  dsn: ${MYSQL}\n", line: 3, msg: "not postgres://"},
		{name: "bad DSN from a file", yaml: "store:\n  driver: postgres\n  dsn_file: " + filepath.Join(dir, "nope") + "\n", line: 3, msg: "store.dsn_file"},
		{name: "both dsn and dsn_file", yaml: "store:\n  driver: postgres\n  dsn: ${DSN}\n  dsn_file: " + file + "\n", line: 4, msg: "keep only one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "bot.yaml", getenv)
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Errorf("the error shows the password: %v", err)
			}
			if tc.line > 0 {
				ps := Problems(err)
				if len(ps) != 1 || ps[0].Line != tc.line || !strings.Contains(ps[0].Msg, tc.msg) {
					t.Fatalf("want one problem at line %d saying %q, got %v", tc.line, tc.msg, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Store.Driver != tc.driver || c.Store.DSN.Reveal() != tc.dsn {
				t.Errorf("driver %q, dsn %q", c.Store.Driver, c.Store.DSN.Reveal())
			}
			if d := c.Store.Describe(); strings.Contains(d, pw) || !strings.Contains(d, tc.describeHas) {
				t.Errorf("Describe() = %q, want it to contain %q and no password", d, tc.describeHas)
			}
			if tc.dsn != "" {
				sv := c.SecretValues()
				if !slices.Contains(sv, tc.dsn) || !slices.Contains(sv, pw) {
					t.Errorf("SecretValues lacks the DSN or its password: %d values", len(sv))
				}
				js, err := json.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
				for _, rendered := range []string{fmt.Sprintf("%v %+v", c, c), string(js)} {
					if strings.Contains(rendered, pw) {
						t.Errorf("a rendering of the config shows the password")
					}
				}
			}
		})
	}
}
