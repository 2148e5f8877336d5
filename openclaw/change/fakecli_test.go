package change

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakecli"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// fakeCLI is a run.CLI pointed at package run's testdata/fakecli/openclaw,
// copied into a temp dir, plus the directory the fake records into (the
// same fake package run tests its CLI with).
type fakeCLI struct {
	*run.CLI
	t   *testing.T
	rec string
}

// newFakeCLI sets up the fake; firstLine, if set, replaces its shebang.
func newFakeCLI(t *testing.T, mode, firstLine string) *fakeCLI {
	t.Helper()
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	rec := filepath.Join(tmp, "rec")
	home := filepath.Join(tmp, "home")
	state := filepath.Join(home, ".openclaw")
	for _, d := range []string{binDir, rec, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join("..", "run", "testdata", "fakecli", "openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	if firstLine != "" {
		_, rest, _ := strings.Cut(string(script), "\n")
		script = []byte(firstLine + "\n" + rest)
	}
	bin := filepath.Join(binDir, "openclaw")
	if err := os.WriteFile(bin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &run.CLI{
		Bin:      bin,
		Loc:      openclaw.Location{StateDir: state, ConfigPath: filepath.Join(state, "openclaw.json"), Home: home, How: "test"},
		Timeout:  20 * time.Second,
		Grace:    2 * time.Second,
		ExtraEnv: map[string]string{"FAKECLI_DIR": rec, "FAKECLI_MODE": mode},
	}
	return &fakeCLI{CLI: c, t: t, rec: rec}
}

// calls returns the argv of every invocation of the fake so far.
func (f *fakeCLI) calls() [][]string { f.t.Helper(); return fakecli.Calls(f.t, f.rec) }

// env returns the environment of the last invocation.
func (f *fakeCLI) env() map[string]string { f.t.Helper(); return fakecli.Env(f.t, f.rec) }

func sum(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
