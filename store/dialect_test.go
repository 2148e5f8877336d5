package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
)

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT a FROM t WHERE x = ? AND y = ?`:          `SELECT a FROM t WHERE x = $1 AND y = $2`,
		`WHERE (?1 = '' OR target = ?1) LIMIT ?2`:        `WHERE ($1 = '' OR target = $1) LIMIT $2`,
		`WHERE a = '?' AND "b?" = ? AND c LIKE 'x''?'`:   `WHERE a = '?' AND "b?" = $1 AND c LIKE 'x''?'`,
		`INSERT INTO t VALUES (?,?,?)`:                   `INSERT INTO t VALUES ($1,$2,$3)`,
		`SELECT 1`:                                       `SELECT 1`,
		`lower(id COLLATE "C") = lower(? COLLATE "C")`:   `lower(id COLLATE "C") = lower($1 COLLATE "C")`,
		`SET attempts = attempts + 1 WHERE due <= ?1 ?3`: `SET attempts = attempts + 1 WHERE due <= $1 $3`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// PostgreSQL's text takes neither NUL nor invalid UTF-8: encodeText makes
// any string storable, reversibly, leaves ordinary strings alone, and is
// injective (so equality and unique keys keep their meaning).
func TestTextEncoding(t *testing.T) {
	for _, s := range []string{"", "anthropic:default", "emoji 🙂", "ünïcödé", "C0123456789", `quote ' " \`} {
		if encodeText(s) != s {
			t.Errorf("encodeText(%q) = %q, want it unchanged", s, encodeText(s))
		}
	}
	for s, want := range map[string]string{
		"a\x00b":     "a\x1b00b",
		"\x1b":       "\x1b1b",
		"\xff\xfe":   "\x1bff\x1bfe",
		"é\xc3":      "é\x1bc3",
		"\x1b00":     "\x1b1b00",
		"UPPER\x00x": "UPPER\x1b00x",
	} {
		if got := encodeText(s); got != want {
			t.Errorf("encodeText(%q) = %q, want %q", s, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]string{}
	alphabet := []byte("ab\x00\x1b\xff\xc3\xa9 0f")
	for range 20000 {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		e := encodeText(s)
		if !utf8.ValidString(e) || strings.ContainsRune(e, 0) {
			t.Fatalf("encodeText(%q) = %q is not storable", s, e)
		}
		if back := decodeText(e); back != s {
			t.Fatalf("decodeText(encodeText(%q)) = %q", s, back)
		}
		if prev, ok := seen[e]; ok && prev != s {
			t.Fatalf("%q and %q both encode to %q", prev, s, e)
		}
		seen[e] = s
	}
}

// Times are unix milliseconds in a 64-bit integer column, byte strings are
// BLOB (SQLite) or BYTEA (PostgreSQL).
func TestColumnTypes(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		s := d.openFresh(t)
		b := Batch{Outbox: []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: "r", Payload: []byte{0, 1, 0xff}, CreatedAt: t0}}}
		must(t, s.Apply(t.Context(), b))
		var ms int64
		var payload []byte
		if err := s.db.QueryRow(`SELECT created_at, payload FROM outbox WHERE id = ?`, b.Outbox[0].ID).Scan(&ms, &payload); err != nil {
			t.Fatal(err)
		}
		if ms != t0.UnixMilli() || string(payload) != "\x00\x01\xff" {
			t.Errorf("created_at %d (want %d), payload %q", ms, t0.UnixMilli(), payload)
		}
		want := map[string]string{"created_at": "BIGINT", "payload": "BLOB", "id": "INTEGER"}
		q := `SELECT name, type FROM pragma_table_info('outbox') WHERE name IN ('created_at', 'payload', 'id')`
		if d.name == DriverPostgres {
			want = map[string]string{"created_at": "bigint", "payload": "bytea", "id": "bigint"}
			q = `SELECT column_name, data_type FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'outbox' AND column_name IN ('created_at', 'payload', 'id')`
		}
		rows, err := s.db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var n, ty string
			must(t, rows.Scan(&n, &ty))
			got[n] = ty
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("column types %v, want %v", got, want)
		}
	})
}

// A rolled-back insert: SQLite gives its id to the next row (AUTOINCREMENT's
// counter is in the transaction), PostgreSQL does not (sequences are not
// transactional), so ids there may have gaps.
func TestIDsAfterRollback(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		s := d.openFresh(t)
		ctx := t.Context()
		ok := func() OutboxItem { return OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: "r"} }
		first := Batch{Outbox: []OutboxItem{ok()}}
		must(t, s.Apply(ctx, first))
		if err := s.Apply(ctx, Batch{Outbox: []OutboxItem{ok(), {Channel: ChannelSlack, Kind: "delete"}}}); err == nil {
			t.Fatal("a batch with an invalid kind was applied")
		}
		next := Batch{Outbox: []OutboxItem{ok()}}
		must(t, s.Apply(ctx, next))
		want := first.Outbox[0].ID + 1
		if d.name == DriverPostgres {
			want++
		}
		if next.Outbox[0].ID != want {
			t.Errorf("id after a rolled-back insert: %d, want %d", next.Outbox[0].ID, want)
		}
	})
}

// PostgreSQL: a schema that holds somebody else's tables is refused and
// left as it was; the bot's own schema (search_path) next to it is fine; a
// database that is not UTF8 is refused; a DSN's password never shows.
func TestPostgresForeignSchema(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := t.Context()
	name, err := srv.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.DropDatabase(ctx, name) })
	must(t, srv.Exec(ctx, name,
		`CREATE TABLE users (id int)`,
		`CREATE SCHEMA other`, `CREATE TABLE other.schema_version (id int, version int)`,
		`CREATE SCHEMA bot`))
	tables := func() int {
		var n int
		s, err := OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: srv.DSN(name) + "&search_path=bot"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.raw.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'other')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct{ name, searchPath, want string }{
		{"tables of another application", "public", `schema "public" has 1 tables`},
		{"a schema_version that is not ours", "other", `schema "other" has 1 tables`},
	} {
		_, err := OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: srv.DSN(name) + "&search_path=" + tc.searchPath})
		if !errors.Is(err, ErrForeignDB) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want ErrForeignDB saying %q", tc.name, err, tc.want)
		}
	}
	if n := tables(); n != 2 {
		t.Errorf("the foreign schemas now have %d tables, want 2: Open wrote there", n)
	}
	// The bot's schema works, and reopening it finds it its own.
	s := pgDriver.open(t, Config{Driver: DriverPostgres, DSN: srv.DSN(name) + "&search_path=bot"})
	must(t, s.Put(ctx, "k", "v"))
	s.Close()
	s = pgDriver.open(t, Config{Driver: DriverPostgres, DSN: srv.DSN(name) + "&search_path=bot"})
	if v, _, err := s.Get(ctx, "k"); err != nil || v != "v" {
		t.Errorf("reopened schema: %q, %v", v, err)
	}

	if _, err := OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: srv.DSN(name) + "&search_path=nosuchschema"}); err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("search_path without a schema: %v", err)
	}
}

func TestPostgresEncodingRefused(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := t.Context()
	name, err := srv.CreateDatabase(ctx, "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.DropDatabase(ctx, name) })
	if _, err := OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: srv.DSN(name)}); err == nil || !strings.Contains(err.Error(), "LATIN1") || !strings.Contains(err.Error(), "UTF8") {
		t.Errorf("LATIN1 database: Open = %v", err)
	}
}

func TestPostgresDSNPasswordNotShown(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := t.Context()
	const pw = "Pw-s3cret-7"
	for _, dsn := range []string{
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/no_such_db?sslmode=disable", pw, srv.Port),
		fmt.Sprintf("postgres://postgres@127.0.0.1:%d/no_such_db?sslmode=disable&password=%s", srv.Port, pw),
		fmt.Sprintf("host=127.0.0.1 port=%d user=postgres password=%s dbname=no_such_db sslmode=disable", srv.Port, pw),
		fmt.Sprintf("host=127.0.0.1 port=1 user=postgres password=%s dbname=x sslmode=disable connect_timeout=2", pw),
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/x?sslmode=bogus", pw, srv.Port),
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%%zz/x", pw),
		"host=x password='" + pw,
	} {
		s, err := OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: dsn})
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), pw) || !strings.HasPrefix(err.Error(), "store: open") {
			t.Errorf("error shows the password or lacks context: %v", err)
		}
	}
	// Whatever a driver says, the password is masked and the error kept.
	inner := fmt.Errorf("dial: password %s rejected: %w", pw, ErrNotFound)
	err := redactErr(inner, "postgres://u:"+pw+"@h/db")
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "xxxxx") || !errors.Is(err, ErrNotFound) {
		t.Errorf("redactErr: %v", err)
	}
}

// OpenConfig's driver names.
func TestOpenConfigDrivers(t *testing.T) {
	ctx := t.Context()
	s, err := OpenConfig(ctx, Config{Path: t.TempDir() + "/default.db"})
	if err != nil || s.Driver() != DriverSQLite || s.Path() == "" {
		t.Fatalf("default driver: %v, %v", s, err)
	}
	s.Close()
	for _, c := range []Config{
		{Driver: "mysql", DSN: "x"},
		{Driver: DriverSQLite, Path: t.TempDir() + "/x.db", DSN: "postgres://h/db"},
		{Driver: DriverPostgres},
	} {
		if s, err := OpenConfig(ctx, c); err == nil || !strings.HasPrefix(err.Error(), "store: open") {
			if s != nil {
				s.Close()
			}
			t.Errorf("OpenConfig(%+v) = %v", c, err)
		}
	}
}

// The kv upsert (ON CONFLICT … DO UPDATE … WHERE … IS DISTINCT FROM) writes
// only a changed value: updated_at is when the value last changed.
func TestKVUpsertOnlyOnChange(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		s := d.openFresh(t)
		ctx := t.Context()
		at := func() int64 {
			t.Helper()
			var ms int64
			if err := s.db.QueryRow(`SELECT updated_at FROM kv WHERE key = ?`, "k").Scan(&ms); err != nil {
				t.Fatal(err)
			}
			return ms
		}
		must(t, s.Put(ctx, "k", "v\x00"))
		first := at()
		time.Sleep(5 * time.Millisecond)
		must(t, s.Put(ctx, "k", "v\x00"))
		if got := at(); got != first {
			t.Errorf("unchanged value rewrote updated_at: %d -> %d", first, got)
		}
		time.Sleep(5 * time.Millisecond)
		must(t, s.Put(ctx, "k", "v\x00\xff"))
		if got := at(); got <= first {
			t.Errorf("changed value kept updated_at %d", got)
		}
		if v, _, _ := s.Get(ctx, "k"); v != "v\x00\xff" {
			t.Errorf("Get = %q", v)
		}
	})
}
