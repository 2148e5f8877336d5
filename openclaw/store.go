package openclaw

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, "sqlite"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Row keys and table names of OpenClaw 2026.9.6's SQLite stores.
const (
	KeySharedStore  = "auth.sharedStore"
	KeyProfileStore = "authProfiles.store"
	KeyProfileState = "authProfiles.state"
	AgentRowKey     = "primary"
)

// readTimeout bounds one read of OpenClaw's databases; busyTimeout is how
// long SQLite waits for a writer's lock before giving up.
const (
	readTimeout = 3 * time.Second
	busyTimeout = 2 * time.Second
	MaxRowBytes = 8 << 20
)

// ErrLocked means OpenClaw held a write lock for longer than the busy timeout.
var ErrLocked = errors.New("database is locked by OpenClaw for longer than the busy timeout")

// OpenReadOnly opens one of OpenClaw's databases strictly read-only: mode=ro and a
// busy timeout, no journal-mode pragma, no immutable flag (which would let
// us read torn pages while OpenClaw writes). The caller must Close it.
func OpenReadOnly(path string) (*sql.DB, error) {
	if _, err := statRegular(path); err != nil { // a FIFO would block SQLite's open(2)
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: path}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// readRows reads the given keys of a key/value table in one short read
// transaction. Missing keys are absent from the result; a missing table
// yields an empty result.
func readRows(ctx context.Context, path, table, keyCol, valCol string, keys ...string) (map[string][]byte, error) {
	rows, _, err := readRowsAt(ctx, path, table, keyCol, valCol, "", nil, keys...)
	return rows, err
}

// readRowsAt is readRows that also returns, in the same statement, each
// row's timeCol (OpenClaw's updated_at / updated_at_ms, milliseconds since
// the epoch) when the table has that column ("" or a table without it: no
// times).
// With schema set it also reads the database's schema version (and, for a
// version the bot does not know, schema_meta's app_version) on the same
// connection.
func readRowsAt(ctx context.Context, path, table, keyCol, valCol, timeCol string, schema *dbSchema, keys ...string) (map[string][]byte, map[string]int64, error) {
	defer noteReading(ctx, path)()
	db, err := OpenReadOnly(path)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()

	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, SQLiteError(path, err)
	}
	defer conn.Close()
	if schema != nil {
		if err := schema.read(ctx, conn); err != nil {
			return nil, nil, SQLiteError(path, err)
		}
	}
	var n int
	err = conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, table).Scan(&n)
	if err != nil {
		return nil, nil, SQLiteError(path, err)
	}
	out, times := map[string][]byte{}, map[string]int64{}
	if n == 0 {
		return out, times, nil
	}
	timeExpr := "0"
	if timeCol != "" {
		var has int
		err = conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name=?`, table, timeCol).Scan(&has)
		if err != nil {
			return nil, nil, SQLiteError(path, err)
		}
		if has > 0 {
			timeExpr = timeCol
		}
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",")
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	// Table and column names are our constants, never user input.
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT %s, substr(%s, 1, %d), length(%s), %s FROM %s WHERE %s IN (%s)`,
		keyCol, valCol, MaxRowBytes, valCol, timeExpr, table, keyCol, ph), args...)
	if err != nil {
		return nil, nil, SQLiteError(path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		var size int64
		var atv any
		if err := rows.Scan(&k, &v, &size, &atv); err != nil {
			return nil, nil, SQLiteError(path, err)
		}
		if size > MaxRowBytes {
			return nil, nil, fmt.Errorf("%s: row %s is %d bytes, more than the %d we read", path, k, size, MaxRowBytes)
		}
		out[k] = v
		switch at := atv.(type) { // anything else (NULL, text): no time
		case int64:
			if at > 0 {
				times[k] = at
			}
		case float64:
			if at > 0 && at < math.MaxInt64 {
				times[k] = int64(at)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, SQLiteError(path, err)
	}
	return out, times, nil
}

// SQLiteError explains a failure to read one of OpenClaw's databases.
func SQLiteError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked"):
		return fmt.Errorf("%s: %w", path, ErrLocked)
	case strings.Contains(msg, "SQLITE_NOTADB") || strings.Contains(msg, "file is not a database"):
		return fmt.Errorf("%s: not a SQLite database (corrupt or a different file)", path)
	case strings.Contains(msg, "unable to open") || strings.Contains(msg, "SQLITE_CANTOPEN"):
		return fmt.Errorf("%s: cannot open read-only (check that the bot runs as the state dir's owner)", path)
	}
	return fmt.Errorf("read %s: %w", path, err)
}

// ReadStateDB reads the shared rows of state/openclaw.sqlite. found is false
// when the database does not exist.
func ReadStateDB(ctx context.Context, path string) (rows map[string][]byte, found bool, err error) {
	rows, _, _, found, err = readStateDB(ctx, path)
	return rows, found, err
}

// readStateDB is ReadStateDB plus each row's updated_at_ms.
func readStateDB(ctx context.Context, path string) (rows map[string][]byte, times map[string]int64, schema dbSchema, found bool, err error) {
	rows, times, err = readRowsAt(ctx, path, "config_machine_state", "state_key", "value_json", "updated_at_ms", &schema,
		KeySharedStore, KeyProfileStore, KeyProfileState)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, schema, false, nil
	}
	return rows, times, schema, err == nil, err
}

// dbSchema is PRAGMA user_version of one of OpenClaw's databases and, when
// that is newer than the newest release the bot knows, the app_version
// schema_meta records (2026.9.6 writes it; "" before).
type dbSchema struct {
	version int
	app     string
}

func (d *dbSchema) read(ctx context.Context, conn *sql.Conn) error {
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&d.version); err != nil {
		return err
	}
	if d.version <= NewestKnown().StateSchema {
		return nil
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_meta'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	var v sql.NullString
	err := conn.QueryRowContext(ctx, `SELECT app_version FROM schema_meta WHERE meta_key='primary'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	d.app = v.String
	return nil
}

// ReadAgentDB reads the auth rows of agents/<id>/agent/openclaw-agent.sqlite.
func ReadAgentDB(ctx context.Context, path string) (store, state []byte, found bool, err error) {
	store, state, _, found, err = readAgentDB(ctx, path)
	return store, state, found, err
}

// readAgentDB is ReadAgentDB plus auth_profile_store's updated_at (ms; 0
// when there is none).
func readAgentDB(ctx context.Context, path string) (store, state []byte, storeAt int64, found bool, err error) {
	s, at, err := readRowsAt(ctx, path, "auth_profile_store", "store_key", "store_json", "updated_at", nil, AgentRowKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, 0, false, nil
	}
	if err != nil {
		return nil, nil, 0, true, err
	}
	st, err := readRows(ctx, path, "auth_profile_state", "state_key", "state_json", AgentRowKey)
	if err != nil {
		return nil, nil, 0, true, err
	}
	return s[AgentRowKey], st[AgentRowKey], at[AgentRowKey], true, nil
}

// rawStore is the JSON of authProfiles.store / auth_profile_store, and of a
// legacy auth-profiles.json, which also carries the state fields inline.
type rawStore struct {
	Version    int                        `json:"version"`
	Profiles   map[string]json.RawMessage `json:"profiles"`
	Order      map[string][]string        `json:"order"`
	LastGood   map[string]string          `json:"lastGood"`
	UsageStats map[string]rawUsage        `json:"usageStats"`
}

type rawUsage struct {
	CooldownUntil  num    `json:"cooldownUntil"`
	CooldownReason string `json:"cooldownReason"`
	CooldownModel  string `json:"cooldownModel"`
	DisabledUntil  num    `json:"disabledUntil"`
	DisabledReason string `json:"disabledReason"`
	BlockedUntil   num    `json:"blockedUntil"`
	BlockedReason  string `json:"blockedReason"`
	BlockedModel   string `json:"blockedModel"`
	BlockedSource  string `json:"blockedSource"`
	BlockedScope   string `json:"blockedScope"`
	// CooldownClassification refines cooldownReason (OpenAI's WHAM only
	// in 2026.9.6); kept verbatim.
	CooldownClassification string         `json:"cooldownClassification"`
	ErrorCount             num            `json:"errorCount"`
	FailureCounts          map[string]num `json:"failureCounts"`
	LastFailureAt          num            `json:"lastFailureAt"`
	LastUsed               num            `json:"lastUsed"`
	LastProbeAt            num            `json:"lastProbeAt"`
}

// num accepts a JSON number and tolerates anything else as "absent", the
// way OpenClaw's coercers drop non-numeric values.
type num struct {
	v  float64
	ok bool
}

func (n *num) UnmarshalJSON(b []byte) error {
	var f float64
	if json.Unmarshal(b, &f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		n.v, n.ok = f, true
	}
	return nil
}

func (n num) time() time.Time {
	if !n.ok || n.v <= 0 || n.v > 1e15 {
		return time.Time{}
	}
	return time.UnixMilli(int64(n.v)).UTC()
}

type rawCredential struct {
	Type     string          `json:"type"`
	Provider string          `json:"provider"`
	Key      *string         `json:"key"`
	KeyRef   json.RawMessage `json:"keyRef"`
	Token    *string         `json:"token"`
	TokenRef json.RawMessage `json:"tokenRef"`
	Access   *string         `json:"access"`
	Refresh  *string         `json:"refresh"`
	Expires  json.RawMessage `json:"expires"`
	Email    string          `json:"email"`
}

// fencePrefix marks OpenClaw's OAuth refresh fences (§6.4).
const fencePrefix = "openclaw-oauth-refresh-fence:"

// The exact v1 fence shape of 2026.9.x (dist/credential-state-*.mjs,
// parseOAuthRefreshFence): access and refresh both
// openclaw-oauth-refresh-fence:v1:<32 hex claim>:[failed:]access|refresh:<64 hex digest>,
// the same claim, both failed or both not, type oauth and expires exactly 1.
var (
	fenceAccessRE  = regexp.MustCompile(`^openclaw-oauth-refresh-fence:v1:([a-f0-9]{32}):(failed:)?access:[a-f0-9]{64}$`)
	fenceRefreshRE = regexp.MustCompile(`^openclaw-oauth-refresh-fence:v1:([a-f0-9]{32}):(failed:)?refresh:[a-f0-9]{64}$`)
)

// Fence states of Credential.Fence.
const (
	FencePending   = "pending"   // a refresh owner claimed the login and has not settled
	FenceFailed    = "failed"    // the refresh failed: the refresh token is gone
	FenceMalformed = "malformed" // fence text that is not OpenClaw's exact shape
)

// fenceOf classifies the OAuth tokens of a credential the way 2026.9.6
// does (a pending fence carries no state word; a failed one ":failed:").
// Fence text in another shape is "malformed" — 2026.9.6 takes it for an
// ordinary login whose tokens are that text, which no refresh can revive —
// unless it names its state the way issue reports quote other 9.x builds
// (":pending"/":failed:"), which is honoured.
func fenceOf(access, refresh string, expires json.RawMessage) string {
	a, r := fenceAccessRE.FindStringSubmatch(access), fenceRefreshRE.FindStringSubmatch(refresh)
	if a != nil && r != nil && a[1] == r[1] && a[2] == r[2] && strings.TrimSpace(string(expires)) == "1" {
		if a[2] != "" {
			return FenceFailed
		}
		return FencePending
	}
	if !strings.HasPrefix(access, fencePrefix) && !strings.HasPrefix(refresh, fencePrefix) {
		return ""
	}
	switch both := access + " " + refresh; {
	case strings.Contains(both, ":failed:"):
		return FenceFailed
	case strings.Contains(both, ":pending"):
		return FencePending
	}
	return FenceMalformed
}

// parseStore decodes a profile store. Profiles whose JSON is not an object
// are reported in bad, not fatal: one damaged profile must not hide others.
func parseStore(data []byte) (profiles []Credential, st AuthState, bad []string, err error) {
	var rs rawStore
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, st, nil, fmt.Errorf("not valid JSON: %s", jsonErr(err))
	}
	for _, id := range sortedKeys(rs.Profiles) {
		var rc rawCredential
		if err := json.Unmarshal(rs.Profiles[id], &rc); err != nil {
			bad = append(bad, id)
			continue
		}
		profiles = append(profiles, rc.credential(id))
	}
	return profiles, rs.state(), bad, nil
}

func (rs rawStore) state() AuthState {
	st := AuthState{Order: rs.Order, LastGood: rs.LastGood}
	if len(rs.UsageStats) > 0 {
		st.Usage = map[string]UsageStats{}
		for id, u := range rs.UsageStats {
			st.Usage[id] = u.stats()
		}
	}
	return st
}

// parseState decodes authProfiles.state / auth_profile_state.
func parseState(data []byte) (AuthState, error) {
	var rs rawStore
	if err := json.Unmarshal(data, &rs); err != nil {
		return AuthState{}, fmt.Errorf("not valid JSON: %s", jsonErr(err))
	}
	return rs.state(), nil
}

func (u rawUsage) stats() UsageStats {
	s := UsageStats{
		CooldownUntil: u.CooldownUntil.time(), CooldownReason: u.CooldownReason, CooldownModel: u.CooldownModel,
		DisabledUntil: u.DisabledUntil.time(), DisabledReason: u.DisabledReason,
		BlockedUntil: u.BlockedUntil.time(), BlockedReason: u.BlockedReason, BlockedModel: u.BlockedModel,
		BlockedSource: u.BlockedSource, BlockedScope: u.BlockedScope, CooldownClassification: u.CooldownClassification,
		ErrorCount:    int(u.ErrorCount.v),
		LastFailureAt: u.LastFailureAt.time(), LastUsed: u.LastUsed.time(), LastProbeAt: u.LastProbeAt.time(),
	}
	if len(u.FailureCounts) > 0 {
		s.FailureCounts = map[string]int{}
		for k, v := range u.FailureCounts {
			s.FailureCounts[k] = int(v.v)
		}
	}
	return s
}

func (rc rawCredential) credential(id string) Credential {
	c := Credential{ID: id, Provider: rc.Provider, Type: rc.Type, Email: rc.Email, Source: "store"}
	if c.Provider == "" {
		if i := strings.IndexByte(id, ':'); i > 0 {
			c.Provider = id[:i]
		}
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch rc.Type {
	case TypeAPIKey:
		c.Secret = redact.Secret(val(rc.Key))
		c.KeyRef = parseRef(rc.KeyRef)
	case TypeToken:
		c.Secret = redact.Secret(val(rc.Token))
		c.KeyRef = parseRef(rc.TokenRef)
	case TypeOAuth:
		c.Secret = redact.Secret(val(rc.Access))
		c.Refresh = redact.Secret(val(rc.Refresh))
		c.Fence = fenceOf(val(rc.Access), val(rc.Refresh), rc.Expires)
	default:
		c.Secret = redact.Secret(firstNonEmpty(val(rc.Key), val(rc.Token), val(rc.Access)))
	}
	if c.Fence != "" {
		// A fence's "expires: 1" is a marker, not an expiry: never a
		// date in 1970.
		return c
	}
	if len(rc.Expires) > 0 && string(rc.Expires) != "null" {
		var f float64
		if json.Unmarshal(rc.Expires, &f) == nil && f > 0 && !math.IsInf(f, 0) {
			if f > 1e15 {
				c.ExpiresInvalid = true
			} else {
				c.Expires = time.UnixMilli(int64(f)).UTC()
			}
		} else {
			c.ExpiresInvalid = true
		}
	}
	return c
}

func parseRef(raw json.RawMessage) *SecretRef {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var r SecretRef
	if json.Unmarshal(raw, &r) != nil || r.Source == "" {
		return nil
	}
	return &r
}

// sharedLocation is the value of the auth.sharedStore row.
func sharedLocation(data []byte) string {
	var v struct {
		Location string `json:"location"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	return v.Location
}

// legacyOAuth decodes credentials/oauth.json: {provider: {access, refresh,
// expires, …}} → profiles "<provider>:default" (coerceLegacyOAuthFile).
func legacyOAuth(data []byte) ([]Credential, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", jsonErr(err))
	}
	var out []Credential
	for _, provider := range sortedKeys(m) {
		var rc rawCredential
		if json.Unmarshal(m[provider], &rc) != nil {
			continue
		}
		rc.Type, rc.Provider = TypeOAuth, provider
		out = append(out, rc.credential(provider+":default"))
	}
	return out, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// NormalizeSecret is what OpenClaw 2026.9.6 actually sends for a stored or
// env secret (normalizeSecretInput): line breaks removed anywhere, control
// characters and characters above U+00FF dropped, then trimmed.
func NormalizeSecret(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029':
		case r > 0xff || r <= 0x1f || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
