package peer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Row keys of config_machine_state in $STATE/state/openclaw.sqlite.
const (
	RowSharedStore   = "auth.sharedStore"   // {"location":"state-db"}; absent ⇒ legacy-main
	RowProfilesStore = "authProfiles.store" // secrets
	RowProfilesState = "authProfiles.state" // order / lastGood / usageStats (cooldowns)
)

// AgentAuthTable selects one of the auth tables of an agent database.
type AgentAuthTable string

const (
	// AgentAuthStore is auth_profile_store (store_key 'primary', store_json).
	AgentAuthStore AgentAuthTable = "store"
	// AgentAuthState is auth_profile_state (state_key 'primary', state_json).
	AgentAuthState AgentAuthTable = "state"
)

func (t AgentAuthTable) sql() (table, keyCol, valCol, timeCol string, err error) {
	switch t {
	case AgentAuthStore:
		return "auth_profile_store", "store_key", "store_json", "updated_at", nil
	case AgentAuthState:
		return "auth_profile_state", "state_key", "state_json", "updated_at", nil
	}
	return "", "", "", "", fmt.Errorf("unknown agent auth table %q", string(t))
}

const sqliteBusy = 5 * time.Second

// openDB opens an existing OpenClaw SQLite file read-write (never creates
// one: OpenClaw must own the schema).
func openDB(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist (onboard the sandbox first, or let the CLI create it)", path)
		}
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: path}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusy.Milliseconds()))
	q.Set("_txlock", "immediate")
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func compactJSON(value []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, value); err != nil {
		return nil, fmt.Errorf("value is not valid JSON: %w", err)
	}
	return b.Bytes(), nil
}

// SetStateRow upserts config_machine_state[key] = value (compacted JSON,
// updated_at_ms = now), like tools/setstore.py. No gateway must be running:
// a gateway ignores external edits until models.authRefresh.
func (s *Sandbox) SetStateRow(key string, value []byte) error {
	v, err := compactJSON(value)
	if err != nil {
		return fmt.Errorf("set state row %s: %w", key, err)
	}
	return s.execDB(s.StateDBPath(), "set state row "+key,
		`INSERT INTO config_machine_state(state_key, value_json, updated_at_ms) VALUES(?, ?, ?)
		 ON CONFLICT(state_key) DO UPDATE SET value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms`,
		key, string(v), time.Now().UnixMilli())
}

// DeleteStateRow deletes config_machine_state[key] (absent is not an error).
func (s *Sandbox) DeleteStateRow(key string) error {
	return s.execDB(s.StateDBPath(), "delete state row "+key,
		`DELETE FROM config_machine_state WHERE state_key = ?`, key)
}

// StateRow returns config_machine_state[key]. A read error (other than the
// row being absent) is reported with t.Errorf and returns (nil, false).
func (s *Sandbox) StateRow(key string) ([]byte, bool) {
	v, ok, err := s.ReadStateRow(key)
	if err != nil {
		s.T.Errorf("peer: %v", err)
		return nil, false
	}
	return v, ok
}

// ReadStateRow is StateRow with the error returned.
func (s *Sandbox) ReadStateRow(key string) ([]byte, bool, error) {
	return s.queryDB(s.StateDBPath(), "read state row "+key,
		`SELECT value_json FROM config_machine_state WHERE state_key = ?`, key)
}

// SetAgentAuthRow upserts the 'primary' row of auth_profile_store or
// auth_profile_state in $STATE/agents/<id>/agent/openclaw-agent.sqlite. The
// database must exist (the CLI creates it, with its schema_meta owner row,
// e.g. on `paste-api-key --agent <id>`).
func (s *Sandbox) SetAgentAuthRow(agentID string, table AgentAuthTable, value []byte) error {
	tbl, keyCol, valCol, timeCol, err := table.sql()
	if err != nil {
		return err
	}
	v, err := compactJSON(value)
	if err != nil {
		return fmt.Errorf("set agent %s %s row: %w", agentID, tbl, err)
	}
	q := fmt.Sprintf(`INSERT INTO %s(%s, %s, %s) VALUES('primary', ?, ?)
		ON CONFLICT(%s) DO UPDATE SET %s = excluded.%s, %s = excluded.%s`,
		tbl, keyCol, valCol, timeCol, keyCol, valCol, valCol, timeCol, timeCol)
	return s.execDB(s.AgentDBPath(agentID), fmt.Sprintf("set agent %s %s row", agentID, tbl), q, string(v), time.Now().UnixMilli())
}

// DeleteAgentAuthRow deletes the 'primary' row of an agent auth table.
func (s *Sandbox) DeleteAgentAuthRow(agentID string, table AgentAuthTable) error {
	tbl, keyCol, _, _, err := table.sql()
	if err != nil {
		return err
	}
	return s.execDB(s.AgentDBPath(agentID), fmt.Sprintf("delete agent %s %s row", agentID, tbl),
		fmt.Sprintf(`DELETE FROM %s WHERE %s = 'primary'`, tbl, keyCol))
}

// AgentAuthRow reads the 'primary' row of an agent auth table. A missing
// database or row gives ok=false without error.
func (s *Sandbox) AgentAuthRow(agentID string, table AgentAuthTable) ([]byte, bool, error) {
	tbl, keyCol, valCol, _, err := table.sql()
	if err != nil {
		return nil, false, err
	}
	if _, err := os.Stat(s.AgentDBPath(agentID)); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return s.queryDB(s.AgentDBPath(agentID), fmt.Sprintf("read agent %s %s row", agentID, tbl),
		fmt.Sprintf(`SELECT %s FROM %s WHERE %s = 'primary'`, valCol, tbl, keyCol))
}

func (s *Sandbox) execDB(path, what, query string, args ...any) error {
	db, err := openDB(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), sqliteBusy+5*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s in %s: %s", what, path, s.red.redact(err.Error()))
	}
	return nil
}

func (s *Sandbox) queryDB(path, what, query string, args ...any) ([]byte, bool, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), sqliteBusy+5*time.Second)
	defer cancel()
	var v string
	err = db.QueryRowContext(ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s in %s: %s", what, path, s.red.redact(err.Error()))
	}
	return []byte(v), true, nil
}
