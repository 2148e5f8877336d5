// Package sandbox writes OpenClaw state dirs of our own making: for tests and
// for `openclaw-bot demo`. It never touches an install it did not create:
// every function takes the directory to write into.
package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Schema of the tables the bot reads (fixtures/state/schema.auth-tables.sql).
const (
	stateSchema = `CREATE TABLE IF NOT EXISTS config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT`
	agentSchema = `CREATE TABLE IF NOT EXISTS auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT`
)

// Dir is a state dir being built.
type Dir struct {
	Path string
	// Now is the clock of the rows' updated_at(_ms) (nil: time.Now), so a
	// test can say when OpenClaw "wrote" a credential.
	Now func() time.Time
}

func (d *Dir) now() int64 {
	if d.Now != nil {
		return d.Now().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// New creates (or reuses) a state dir at path with mode 0700.
func New(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return &Dir{Path: path}, nil
}

// WriteFile writes a file relative to the state dir, 0600.
func (d *Dir) WriteFile(rel string, data []byte) error {
	p := filepath.Join(d.Path, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// WriteJSON marshals v into a file relative to the state dir.
func (d *Dir) WriteJSON(rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return d.WriteFile(rel, b)
}

// Config writes openclaw.json for OpenClaw version with one anthropic
// api_key profile per id, default model anthropic/claude-opus-5.
func (d *Dir) Config(version string, extra map[string]any, profiles ...string) error {
	ps := map[string]any{}
	for _, id := range profiles {
		ps[id] = map[string]any{"provider": "anthropic", "mode": "api_key"}
	}
	cfg := map[string]any{
		"meta":   map[string]any{"lastTouchedVersion": version},
		"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "anthropic/claude-opus-5"}}},
		"auth":   map[string]any{"profiles": ps},
		"gateway": map[string]any{"mode": "local", "port": 18789, "bind": "loopback",
			"auth": map[string]any{"mode": "token", "token": "0000000000000000000000000000000000000000sandbox0"}},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return d.WriteJSON("openclaw.json", cfg)
}

// SetRow upserts a row of state/openclaw.sqlite config_machine_state.
// A nil value deletes the row.
func (d *Dir) SetRow(key string, value any) error {
	return d.exec(filepath.Join(d.Path, "state", "openclaw.sqlite"), stateSchema, func(db *sql.DB) error {
		if value == nil {
			_, err := db.Exec(`DELETE FROM config_machine_state WHERE state_key=?`, key)
			return err
		}
		b, err := json.Marshal(value)
		if err != nil {
			return err
		}
		_, err = db.Exec(`INSERT INTO config_machine_state(state_key,value_json,updated_at_ms) VALUES(?,?,?)
ON CONFLICT(state_key) DO UPDATE SET value_json=excluded.value_json, updated_at_ms=excluded.updated_at_ms`, key, string(b), d.now())
		return err
	})
}

// SharedStore writes the three rows of a 2026.9.6 shared store.
func (d *Dir) SharedStore(store, state any) error {
	if err := d.SetRow("auth.sharedStore", map[string]any{"location": "state-db"}); err != nil {
		return err
	}
	if err := d.SetRow("authProfiles.store", store); err != nil {
		return err
	}
	if state == nil {
		return nil
	}
	return d.SetRow("authProfiles.state", state)
}

// AgentStore writes an agent database (agents/<id>/agent/openclaw-agent.sqlite).
func (d *Dir) AgentStore(agent string, store, state any) error {
	p := filepath.Join(d.Path, "agents", agent, "agent", "openclaw-agent.sqlite")
	return d.exec(p, agentSchema, func(db *sql.DB) error {
		put := func(table, keyCol, valCol string, v any) error {
			if v == nil {
				return nil
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			_, err = db.Exec(fmt.Sprintf(`INSERT INTO %s(%s,%s,updated_at) VALUES('primary',?,?)
ON CONFLICT(%s) DO UPDATE SET %s=excluded.%s, updated_at=excluded.updated_at`, table, keyCol, valCol, keyCol, valCol, valCol), string(b), d.now())
			return err
		}
		if err := put("auth_profile_store", "store_key", "store_json", store); err != nil {
			return err
		}
		return put("auth_profile_state", "state_key", "state_json", state)
	})
}

func (d *Dir) exec(path, schema string, f func(*sql.DB) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sandbox: schema %s: %w", path, err)
	}
	if err := f(db); err != nil {
		return fmt.Errorf("sandbox: write %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// APIKey returns a fake Anthropic API key of the real shape, derived from
// seed so tests are repeatable: sk-ant-api03- + 95 characters + AA.
func APIKey(seed string) string { return "sk-ant-api03-" + fill(seed, 95) + "AA" }

// SetupToken returns a fake setup token of the real shape.
func SetupToken(seed string) string { return "sk-ant-oat01-" + fill(seed, 95) + "AA" }

func fill(seed string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	h := uint64(1469598103934665603)
	for _, c := range seed {
		h = (h ^ uint64(c)) * 1099511628211
	}
	out := make([]byte, n)
	for i := range out {
		h ^= h << 13
		h ^= h >> 7
		h ^= h << 17
		out[i] = alphabet[h%uint64(len(alphabet))]
	}
	return string(out)
}
