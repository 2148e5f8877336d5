package store

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// testdata/legacy-v1.db was written by the store as it was before goose
// (commit 18ec51a: the hand-written migrate(), schema_version 1), with a row
// in every table. Opening it must keep every row and only record, in goose's
// table, that migration 1 is there.
func TestUpgradeFromHandWrittenMigrate(t *testing.T) {
	src, err := os.ReadFile("testdata/legacy-v1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bot.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	// It is what it claims to be: no goose table yet.
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var n, v int
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM sqlite_schema WHERE name = 'goose_db_version'), (SELECT version FROM schema_version)`).Scan(&n, &v); err != nil || n != 0 || v != 1 {
		t.Fatalf("fixture: goose table %d, schema_version %d, %v", n, v, err)
	}
	raw.Close()

	ctx := t.Context()
	s := openAt(t, path)
	var versions []int64
	rows, err := s.raw.Query(`SELECT version_id FROM goose_db_version ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		must(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	rows.Close()
	if !reflect.DeepEqual(versions, []int64{0, 1, 2}) {
		t.Errorf("goose versions %v, want [0 1 2] (baseline, migration 1 not re-run, 2 applied)", versions)
	}
	if v, rows := schemaVersion(t, s); v != int(latestVersion()) || rows != 1 {
		t.Errorf("schema_version %d in %d rows", v, rows)
	}

	// Every row, every kind of value.
	open, err := s.OpenIncidents(ctx, "")
	if err != nil || len(open) != 1 {
		t.Fatalf("open incidents: %+v, %v", open, err)
	}
	in := open[0]
	if in.ID != 1 || in.Code != "cooldown.active" || in.Seen != 3 || in.AckedBy != "U0123" || !in.AckedAt.Equal(ms0(t0.Add(time.Minute))) ||
		!in.FirstSeen.Equal(ms0(t0)) || string(in.Finding) != `{"code":"cooldown.active"}` || in.GroupRef != "alert:local:g1" {
		t.Errorf("incident 1: %+v", in)
	}
	if act, err := s.ActiveIncidents(ctx); err != nil || len(act) != 2 || act[1].State != StateResolved {
		t.Errorf("active incidents (with the resolved group member): %+v, %v", act, err)
	}
	o, err := s.OutboxItem(ctx, 1)
	if err != nil || !bytes.Equal(o.Payload, []byte("{\"title\":\"nul\x00\xff\"}")) || o.Attempts != 1 || o.External != sent("C1", "1700000000.000100") {
		t.Errorf("outbox 1: %+v, %v", o, err)
	}
	if due, err := s.DueOutbox(ctx, t0.Add(time.Hour), 0); err != nil || len(due) != 1 || due[0].ID != 2 {
		t.Errorf("due: %+v, %v", due, err)
	}
	if log, err := s.NotificationLog(ctx, 0); err != nil || len(log) != 1 || log[0].OutboxID != 1 {
		t.Errorf("notification log: %+v, %v", log, err)
	}
	for k, want := range map[string]string{"version/local": "2026.9.6", "nul\x00key": "v\xff"} {
		if got, ok, err := s.Get(ctx, k); err != nil || !ok || got != want {
			t.Errorf("kv %q = %q, %v, %v", k, got, ok, err)
		}
	}
	if sil, err := s.Silence(ctx, "ABCD2345"); err != nil || sil.Comment != "upgrade" {
		t.Errorf("silence: %+v, %v", sil, err)
	}
	au, err := s.Audit(ctx, 0)
	if err != nil || len(au) != 1 || !reflect.DeepEqual(au[0].Args, []string{"anthropic:default", "nul\x00"}) ||
		au[0].BackupPath != "/var/lib/openclaw-bot/openclaw-bot-backups/auth-profiles.json.1" || au[0].Duration != 1500*time.Microsecond {
		t.Errorf("audit: %+v, %v", au, err)
	}
	if p, err := s.TakePending(ctx, "pendingid2345678", "U0123", t0.Add(time.Minute)); err != nil || string(p.Preview) != `{"p":1}` {
		t.Errorf("pending: %+v, %v", p, err)
	}

	// New rows continue the old ids (AUTOINCREMENT's counters survived).
	b := Batch{Incidents: []Incident{inc("local", "x", "y", StatePending)}, Outbox: []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: "r"}}}
	must(t, s.Apply(ctx, b))
	if b.Incidents[0].ID != 3 || b.Outbox[0].ID != 3 {
		t.Errorf("new ids %d, %d; want 3, 3", b.Incidents[0].ID, b.Outbox[0].ID)
	}
	s.Close()

	// And the next migration applies to it like to any other.
	withMigrations(t, map[string]string{"99990_note.sql": `ALTER TABLE kv ADD COLUMN note TEXT NOT NULL DEFAULT '';`})
	s = openAt(t, path)
	if _, err := s.db.Exec(`UPDATE kv SET note = 'x'`); err != nil {
		t.Errorf("migration after the baseline: %v", err)
	}
	if v, ok, _ := s.Get(ctx, "version/local"); !ok || v != "2026.9.6" {
		t.Errorf("kv after the next migration: %q", v)
	}
}
