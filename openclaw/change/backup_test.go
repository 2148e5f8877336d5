package change

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

func TestBackupState(t *testing.T) {
	loc := onboarded(t)
	before := sum(t, loc.StateDB())
	dest := filepath.Join(t.TempDir(), "backup")
	files, err := BackupState(context.Background(), loc, dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("copied %v, want openclaw.json and the state database", files)
	}
	if sum(t, loc.StateDB()) != before {
		t.Fatal("the backup changed the source database")
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dest, "state", "openclaw.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM config_machine_state WHERE state_key='authProfiles.store'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("backup database: %d rows, %v", n, err)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %o, want 0600", f, fi.Mode().Perm())
		}
	}
}
