package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
)

// The one-line form is a stable format: scripts parse it.
var versionLineRE = regexp.MustCompile(`^openclaw-bot \S+( \([0-9a-f]{1,12}(\+dirty)?\))? go\S+\n$`)

func TestVersionCommand(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		rc         int
		stdoutLine bool // stdout is the one-line form
		jsonOut    bool // stdout is the JSON form
		stderr     string
	}{
		{args: []string{"version"}, rc: exitOK, stdoutLine: true},
		{args: []string{"--version"}, rc: exitOK, stdoutLine: true},
		{args: []string{"-v"}, rc: exitOK, stdoutLine: true},
		{args: []string{"version", "--json"}, rc: exitOK, jsonOut: true},
		{args: []string{"version", "-json"}, rc: exitOK, jsonOut: true},
		{args: []string{"version", "--help"}, rc: exitOK, stderr: "Usage: openclaw-bot version [--json]"},
		{args: []string{"version", "-h"}, rc: exitOK, stderr: "Usage: openclaw-bot version [--json]"},
		{args: []string{"version", "--bogus"}, rc: exitError, stderr: "flag provided but not defined"},
		{args: []string{"version", "extra"}, rc: exitError, stderr: `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, rc := runCmd(t, "", tc.args...)
			if rc != tc.rc {
				t.Fatalf("rc %d, want %d (stdout %q, stderr %q)", rc, tc.rc, out, errOut)
			}
			if tc.stdoutLine && !versionLineRE.MatchString(out) {
				t.Errorf("stdout %q does not match %s", out, versionLineRE)
			}
			if tc.jsonOut {
				checkVersionJSON(t, out)
			}
			if !tc.stdoutLine && !tc.jsonOut && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.stderr)
			}
		})
	}
}

// checkVersionJSON: exactly the documented keys, with the running binary's
// Go version and platform.
func checkVersionJSON(t *testing.T, out string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("version --json: %v in %q", err, out)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"arch", "built", "go", "modified", "os", "revision", "version"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version == "" || v.OS != runtime.GOOS || v.Arch != runtime.GOARCH || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version --json: %+v", v)
	}
}

// The -X variables: version always wins; revision and built stand in for a
// missing VCS stamp (a Docker build has no .git).
func TestVersionLdflags(t *testing.T) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				t.Skip("this test binary carries a VCS stamp, which takes precedence over -X main.revision")
			}
		}
	}
	oldV, oldR, oldB := version, revision, built
	t.Cleanup(func() { version, revision, built = oldV, oldR, oldB })
	version, revision, built = "test-1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-11-25T12:00:00Z"

	line := versionString()
	if want := "openclaw-bot test-1.2.3 (0123456789ab) go"; !strings.HasPrefix(line, want) || !versionLineRE.MatchString(line+"\n") {
		t.Errorf("versionString() = %q, want prefix %q", line, want)
	}
	out, _, rc := runCmd(t, "", "version", "--json")
	if rc != exitOK {
		t.Fatalf("rc %d", rc)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	want := versionInfo{Version: "test-1.2.3", Revision: revision, Built: built, Go: v.Go, OS: runtime.GOOS, Arch: runtime.GOARCH}
	if v != want {
		t.Errorf("version --json = %+v, want %+v", v, want)
	}

	version, revision, built = "", "", ""
	if got := readVersionInfo(); got.Version == "" || got.Revision != "" || got.Built != "" {
		t.Errorf("without -X: %+v, want a version (module version or dev) and no revision", got)
	}
}
