package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxCmdLines bounds the production code of this package: flags, usage
// and dispatch. What serve runs belongs in package app, a command's work
// in its own package (internal/demo, internal/buildinfo, …). Eight
// commands' flags and usage fit in it (fleet's work is app.Fleet).
const maxCmdLines = 625

func TestCmdStaysThin(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	total, per := 0, map[string]int{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := bytes.Count(b, []byte("\n")) // as wc -l counts
		per[f] = n
		total += n
	}
	if total > maxCmdLines {
		t.Errorf("cmd/openclaw-bot has %d production lines (%v), more than %d: move the work into a package (serve's into app)", total, per, maxCmdLines)
	}
}
