package openclaw

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/openclaw-bot/openclaw-bot"

// statusFiles are the files `openclaw-bot status` and `diagnose` are made
// of: what they import is all they can do.
var statusFiles = []string{"status.go", "targets.go"}

// What status may not reach: the process runner, the writers, and os/exec
// itself. modernc.org/libc (the SQLite driver's C library) imports os/exec
// for system() and popen(), which OpenClaw's databases never call; any
// other importer of os/exec among status's dependencies fails.
var (
	forbidden    = []string{module + "/openclaw/run", module + "/openclaw/change", "os/exec"}
	execImporter = []string{"modernc.org/libc"}
)

// "status never runs the CLI" is enforced by the imports: nothing status
// depends on can start a process or write to an install.
func TestReadOnlyImports(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	pkgs := statusImports(t)
	if !slices.Contains(pkgs, module+"/openclaw") || !slices.Contains(pkgs, module+"/diagnostics") {
		t.Fatalf("status imports %v: expected openclaw and diagnostics among them", pkgs)
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}"}, pkgs...)
	out, err := exec.Command(gobin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if !slices.Contains(forbidden, imp) {
				continue
			}
			if imp == "os/exec" && slices.Contains(execImporter, pkg) {
				continue
			}
			t.Errorf("%s imports %s: status (which imports %s) could start a process or write", pkg, imp, strings.Join(pkgs, ", "))
		}
	}
}

// statusImports lists the module's packages the status command's files
// import.
func statusImports(t *testing.T) []string {
	t.Helper()
	var pkgs []string
	for _, name := range statusFiles {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "cmd", "openclaw-bot", name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module+"/") && !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	slices.Sort(pkgs)
	return pkgs
}
