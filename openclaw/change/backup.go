package change

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// BackupState copies what holds an install's credentials and their state —
// openclaw.json, state/openclaw.sqlite, every agent database, legacy JSON
// files and credentials/oauth.json — into dest (created 0700, files 0600).
// SQLite files are copied with VACUUM INTO from a read-only connection, a
// consistent snapshot even while OpenClaw writes. It returns the files copied.
func BackupState(ctx context.Context, loc openclaw.Location, dest string) ([]string, error) {
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var srcs []string
	add := func(p string) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			srcs = append(srcs, p)
		}
	}
	add(loc.ConfigPath)
	add(loc.StateDB())
	add(filepath.Join(loc.OAuthDir(), "oauth.json"))
	agents, _ := filepath.Glob(filepath.Join(loc.StateDir, "agents", "*", "agent"))
	if loc.AgentDir != "" {
		agents = append(agents, loc.AgentDir)
	}
	for _, d := range agents {
		add(openclaw.AgentDB(d))
		for _, n := range openclaw.LegacyNames {
			add(filepath.Join(d, n))
		}
	}
	var done []string
	for _, src := range srcs {
		rel, err := filepath.Rel(loc.StateDir, src)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = filepath.Base(src)
		}
		dst := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return done, fmt.Errorf("backup: %w", err)
		}
		if strings.HasSuffix(src, ".sqlite") {
			err = vacuumInto(ctx, src, dst)
		} else {
			err = copyRegular(src, dst)
		}
		if err != nil {
			return done, fmt.Errorf("backup %s: %w", src, err)
		}
		done = append(done, dst)
	}
	return done, nil
}

func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := openclaw.OpenReadOnly(src)
	if err != nil {
		return err
	}
	defer db.Close()
	target := (&url.URL{Scheme: "file", Path: dst}).String()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", target); err != nil {
		return openclaw.SQLiteError(src, err)
	}
	return os.Chmod(dst, 0o600)
}

func copyRegular(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
