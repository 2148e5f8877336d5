package peer

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// An onboarded template HOME is created once per test process and CLI and
// copied for every NewOnboardedSandbox (copy ≈ 10 ms instead of ≈ 6 s of
// onboarding). It lives in $TMPDIR/openclaw-peer-template-<random>; stale
// templates of dead test processes are removed when a new one is built.
type template struct {
	once   sync.Once
	dir    string
	home   string
	apiKey string
	port   int
	err    error
}

var (
	templatesMu sync.Mutex
	templates   = map[string]*template{}
)

const templatePrefix = "openclaw-peer-template-"

// NewOnboardedSandbox returns a sandbox in the state `openclaw onboard`
// (OPENCLAW.md §3) leaves: profile anthropic:default = sb.APIKey (a random
// fake key shared by all sandboxes of this test process), shared auth store in
// state/openclaw.sqlite. It is a copy of a per-process template, so tests
// are independent but cheap. Note: the copies share the template's
// gateway.port and gateway token; call SetGatewayPort before starting a
// gateway in parallel tests.
func NewOnboardedSandbox(t testing.TB, cli *CLI) *Sandbox {
	t.Helper()
	tpl := templateFor(cli)
	tpl.once.Do(func() { tpl.build(t, cli) })
	if tpl.err != nil {
		t.Fatalf("peer: onboarding template: %v", tpl.err)
	}
	sb := NewSandbox(t, cli)
	if err := cloneHome(tpl.home, sb.Home); err != nil {
		t.Fatalf("peer: copy template: %v", err)
	}
	sb.APIKey, sb.GatewayPort = tpl.apiKey, tpl.port
	sb.red.add(tpl.apiKey)
	return sb
}

// Clone copies this sandbox's HOME into a fresh sandbox of t (absolute
// paths in openclaw.json are rewritten). Extra env and secrets are kept.
// Do not clone while a command runs in s.
func (s *Sandbox) Clone(t testing.TB) (*Sandbox, error) {
	c := NewSandbox(t, s.CLI)
	if err := cloneHome(s.Home, c.Home); err != nil {
		return nil, err
	}
	c.APIKey, c.GatewayPort, c.Timeout, c.ProbeTimeout, c.Quiet = s.APIKey, s.GatewayPort, s.Timeout, s.ProbeTimeout, s.Quiet
	s.mu.Lock()
	for k, v := range s.env {
		c.env[k] = v
	}
	s.mu.Unlock()
	s.red.mu.Lock()
	for k := range s.red.secrets {
		c.red.add(k)
	}
	s.red.mu.Unlock()
	return c, nil
}

// SetGatewayPort rewrites gateway.port in openclaw.json.
func (s *Sandbox) SetGatewayPort(port int) error {
	if err := s.EditConfig(func(cfg map[string]any) error {
		Obj(cfg, "gateway")["port"] = port
		return nil
	}); err != nil {
		return err
	}
	s.GatewayPort = port
	return nil
}

func templateFor(cli *CLI) *template {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	tpl := templates[cli.Bin]
	if tpl == nil {
		tpl = &template{}
		templates[cli.Bin] = tpl
	}
	return tpl
}

func (tpl *template) build(t testing.TB, cli *CLI) {
	removeStaleTemplates()
	dir, err := os.MkdirTemp("", templatePrefix)
	if err != nil {
		tpl.err = err
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		tpl.err = err
		return
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		tpl.err = err
		return
	}
	// The template outlives the test that builds it, so it must not log
	// through (or clean up with) that test after it ends.
	sb := newSandbox(quietTB{t}, cli, home)
	sb.Quiet = true
	key := FakeAPIKey()
	if err := sb.Onboard(key); err != nil {
		os.RemoveAll(dir)
		tpl.err = err
		return
	}
	t.Logf("peer: onboarded template %s (%s)", home, cli.VersionLine)
	tpl.dir, tpl.home, tpl.apiKey, tpl.port = dir, home, key, sb.GatewayPort
}

// quietTB is handed to the template sandbox, which never logs.
type quietTB struct{ testing.TB }

func (quietTB) Log(...any)          {}
func (quietTB) Logf(string, ...any) {}

// removeStaleTemplates deletes templates whose owning process is gone.
func removeStaleTemplates() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), templatePrefix+"*"))
	for _, m := range matches {
		b, err := os.ReadFile(filepath.Join(m, "owner.pid"))
		if err != nil {
			continue // being created right now, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		os.RemoveAll(m)
	}
}

// cloneHome copies the tree src into dst (which may exist and be empty) and
// rewrites the absolute src prefix in the config files that embed it.
func cloneHome(src, dst string) error {
	if err := copyTree(src, dst); err != nil {
		return err
	}
	for _, name := range []string{"openclaw.json", "openclaw.json.bak"} {
		p := filepath.Join(dst, ".openclaw", name)
		b, err := os.ReadFile(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		nb := bytes.ReplaceAll(b, []byte(src+string(filepath.Separator)), []byte(dst+string(filepath.Separator)))
		nb = bytes.ReplaceAll(nb, []byte(`"`+src+`"`), []byte(`"`+dst+`"`))
		if !bytes.Equal(b, nb) {
			if err := writeFileAtomic(p, nb, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return nil // sockets, fifos: runtime artefacts, not state
		}
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// CleanupTemplates removes this process's onboarded templates. Call it from
// TestMain after m.Run() if you want no leftovers; otherwise the next test
// process removes them.
func CleanupTemplates() {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	for bin, tpl := range templates {
		if tpl.dir != "" {
			os.RemoveAll(tpl.dir)
		}
		delete(templates, bin)
	}
}
