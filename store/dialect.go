package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between SQLite and PostgreSQL in the query code.
// The queries are written once, in SQLite's spelling (? and ?N
// placeholders), in SQL that both databases understand: RETURNING, ON
// CONFLICT … DO UPDATE, IS DISTINCT FROM, partial indexes. The few holes are
// fields here.
type dialect struct {
	name  string        // DriverSQLite | DriverPostgres
	goose goose.Dialect // for the migration library
	// pg: rewrite placeholders to $N, and carry strings through text
	// columns with encodeText/decodeText (PostgreSQL's text cannot hold
	// NUL bytes or invalid UTF-8; SQLite's can, and keeps them as they are).
	pg bool
	// forUpdate locks the rows a read-then-write transaction reads
	// (PostgreSQL: FOR UPDATE; SQLite has no row locks: BEGIN IMMEDIATE
	// already holds the only write lock).
	forUpdate string
	// skipLocked is for claims: concurrent claimers skip each other's rows
	// instead of waiting for them.
	skipLocked string
	// silenceID matches silences.id case-insensitively (ASCII, like
	// SQLite's NOCASE; PostgreSQL: lower() under the "C" collation, which
	// folds ASCII only, backed by a unique index on the same expression).
	silenceID string

	rebound sync.Map // query → PostgreSQL spelling
}

var (
	sqliteDialect = &dialect{name: DriverSQLite, goose: goose.DialectSQLite3, silenceID: `id = ?`}
	pgDialect     = &dialect{name: DriverPostgres, goose: goose.DialectPostgres, pg: true,
		forUpdate: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED",
		silenceID: `lower(id COLLATE "C") = lower(? COLLATE "C")`}
)

// sql returns q in this dialect's spelling.
func (d *dialect) sql(q string) string {
	if !d.pg {
		return q
	}
	if v, ok := d.rebound.Load(q); ok {
		return v.(string)
	}
	r := rebind(q)
	d.rebound.Store(q, r)
	return r
}

// rebind turns ? into $1, $2, … and ?N into $N, outside quoted strings and
// identifiers.
func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteString("$" + q[i+1:j])
				i = j - 1
			} else {
				n++
				b.WriteString("$" + strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (d *dialect) args(args []any) []any {
	if !d.pg {
		return args
	}
	var out []any
	for i, a := range args {
		if s, ok := a.(string); ok {
			if e := encodeText(s); e != s {
				if out == nil {
					out = append([]any(nil), args...)
				}
				out[i] = e
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// textEscape starts an escape in a PostgreSQL text value: ESC and two
// lower-case hex digits stand for one byte.
const textEscape = '\x1b'

// encodeText makes s storable in a PostgreSQL text column, reversibly and
// deterministically (so equality and uniqueness work on the encoded form):
// a valid UTF-8 string without NUL and ESC is stored as it is (every real
// id, name and message), otherwise NUL, ESC and each byte of an invalid
// UTF-8 sequence become ESC + two hex digits. ASCII letters are never
// escaped, so lower() folds encoded strings like the originals.
func encodeText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsAny(s, "\x00\x1b") {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0 || r == textEscape {
			c := s[i]
			b.WriteByte(textEscape)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// decodeText reverses encodeText.
func decodeText(s string) string {
	if !strings.ContainsRune(s, textEscape) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == textEscape && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// scan scans through sc, decoding the text columns on PostgreSQL.
func (d *dialect) scan(sc func(...any) error, dest []any) error {
	if !d.pg {
		return sc(dest...)
	}
	var strs []*string
	for i, p := range dest {
		if sp, ok := p.(*string); ok {
			tmp := new(string)
			if strs == nil {
				dest = append([]any(nil), dest...)
				strs = make([]*string, len(dest))
			}
			strs[i] = sp
			dest[i] = tmp
		}
	}
	if err := sc(dest...); err != nil {
		return err
	}
	for i, sp := range strs {
		if sp != nil {
			*sp = decodeText(*dest[i].(*string))
		}
	}
	return nil
}

// isUnique reports a unique or primary key violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ---- the query handle: *sql.DB or *sql.Tx in this dialect ----

type querier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// handle runs queries written in the store's spelling on a *sql.DB or
// *sql.Tx of either database.
type handle struct {
	q querier
	d *dialect
}

func (h handle) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return h.q.ExecContext(ctx, h.d.sql(q), h.d.args(args)...)
}

func (h handle) QueryContext(ctx context.Context, q string, args ...any) (*rows, error) {
	r, err := h.q.QueryContext(ctx, h.d.sql(q), h.d.args(args)...)
	if err != nil {
		return nil, err
	}
	return &rows{r: r, d: h.d}, nil
}

func (h handle) QueryRowContext(ctx context.Context, q string, args ...any) *row {
	return &row{r: h.q.QueryRowContext(ctx, h.d.sql(q), h.d.args(args)...), d: h.d}
}

// Exec and QueryRow are for tests.
func (h handle) Exec(q string, args ...any) (sql.Result, error) {
	return h.ExecContext(context.Background(), q, args...)
}

func (h handle) QueryRow(q string, args ...any) *row {
	return h.QueryRowContext(context.Background(), q, args...)
}

type row struct {
	r *sql.Row
	d *dialect
}

func (r *row) Scan(dest ...any) error { return r.d.scan(r.r.Scan, dest) }

type rows struct {
	r *sql.Rows
	d *dialect
}

func (r *rows) Next() bool             { return r.r.Next() }
func (r *rows) Err() error             { return r.r.Err() }
func (r *rows) Close() error           { return r.r.Close() }
func (r *rows) Scan(dest ...any) error { return r.d.scan(r.r.Scan, dest) }
