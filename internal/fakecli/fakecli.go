// Package fakecli reads what the tests' fake openclaw CLI
// (openclaw/run/testdata/fakecli/openclaw) recorded in its FAKECLI_DIR: the
// argv of every invocation and the environment of the last one. The tests of
// openclaw/run and openclaw/change both drive that fake.
package fakecli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Calls returns the argv of every invocation recorded in dir so far.
func Calls(t testing.TB, dir string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "argv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		args := strings.Split(line, "\x1f")
		out = append(out, args[:len(args)-1])
	}
	return out
}

// Env returns the environment of the last invocation recorded in dir.
func Env(t testing.TB, dir string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
