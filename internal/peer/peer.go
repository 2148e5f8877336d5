// Package peer runs the real OpenClaw CLI (the pinned version, 2026.9.6) as a
// test peer: it finds the installed CLI, gives every test an isolated HOME
// (a "sandbox"), drives onboarding, auth and `models status` commands, and
// reads and writes the SQLite rows OpenClaw keeps its credentials and
// cooldowns in.
//
// It is test-support code for integration tests in other packages. Tests
// call Require, which skips (or, with OPENCLAW_PEER_REQUIRED=1, fails) when
// the CLI is not installed:
//
//	bash scripts/install-peer.sh
//	export PATH="$HOME/.cache/openclaw-peer/bin:$PATH" DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1
//
// The CLI never gets the caller's environment: every command runs with only
// HOME (the sandbox), PATH, DO_NOT_TRACK=1, OPENCLAW_NO_AUTO_UPDATE=1 and the
// variables a test sets explicitly, so ANTHROPIC_*/CLAUDE*/OPENAI_API_KEY of
// the developer's shell never reach it. Point models.providers.anthropic.baseUrl
// at a loopback fake (Sandbox.SetBaseURL with a fakeanthropic server) before
// anything that talks to the provider (--probe, agent turns), and never run
// text-mode `models status` on OAuth profiles (it may try to refresh them over
// the network and destroy the stored login).
package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Version is the OpenClaw version the peer tests were written against.
const Version = "2026.9.6"

// Environment variables understood by this package.
const (
	// EnvBin names the openclaw executable to use (skips the PATH search).
	EnvBin = "OPENCLAW_BIN"
	// EnvVersion overrides the required version substring of `openclaw --version`.
	EnvVersion = "OPENCLAW_PEER_VERSION"
	// EnvRequired=1 turns "CLI not found" into a test failure instead of a skip.
	EnvRequired = "OPENCLAW_PEER_REQUIRED"
)

// EnableHint says how to make the peer available; it is part of every skip message.
const EnableHint = `to enable the OpenClaw peer tests run:
    bash scripts/install-peer.sh
    export PATH="$HOME/.cache/openclaw-peer/bin:$PATH" DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1
(or set ` + EnvBin + `=/path/to/openclaw; ` + EnvRequired + `=1 makes a missing peer fail instead of skip)`

// CLI is a located, version-checked openclaw executable.
type CLI struct {
	// Bin is the path of the openclaw executable (not symlink-resolved).
	Bin string
	// PathPrefix is put first in the child's PATH: the directory of Bin,
	// which (for install-peer.sh) also holds the matching `node`.
	PathPrefix string
	// VersionLine is the first line of `openclaw --version`,
	// e.g. "OpenClaw 2026.9.6 (eb377ac)".
	VersionLine string
}

type findResult struct {
	cli *CLI
	why string
}

var (
	findMu    sync.Mutex
	findCache = map[string]findResult{} // key: candidate list + wanted version
)

// Find looks for the OpenClaw CLI: $OPENCLAW_BIN if set (then nothing else is
// tried), else `openclaw` on PATH, else ~/.cache/openclaw-peer/bin/openclaw.
// A candidate is accepted when `openclaw --version` (run with its own
// directory first on PATH, so the sibling `node` is used) contains
// $OPENCLAW_PEER_VERSION, default Version. why explains a failure (or names
// the accepted version line on success). Results are cached per process.
func Find() (bin string, ok bool, why string) {
	cli, why := find()
	if cli == nil {
		return "", false, why
	}
	return cli.Bin, true, why
}

// FindCLI is Find returning the full CLI description.
func FindCLI() (*CLI, error) {
	cli, why := find()
	if cli == nil {
		return nil, errors.New(why)
	}
	return cli, nil
}

func wantVersion() string {
	if v := strings.TrimSpace(os.Getenv(EnvVersion)); v != "" {
		return v
	}
	return Version
}

func candidates() (list []string, explicit bool) {
	if b := strings.TrimSpace(os.Getenv(EnvBin)); b != "" {
		return []string{b}, true
	}
	if p, err := exec.LookPath("openclaw"); err == nil {
		list = append(list, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "openclaw-peer", "bin", "openclaw")
		if len(list) == 0 || list[0] != p {
			list = append(list, p)
		}
	}
	return list, false
}

func find() (*CLI, string) {
	list, explicit := candidates()
	want := wantVersion()
	key := strings.Join(list, "\x00") + "\x01" + want
	findMu.Lock()
	defer findMu.Unlock()
	if r, ok := findCache[key]; ok {
		return r.cli, r.why
	}
	var reasons []string
	var found *CLI
	for _, c := range list {
		cli, err := checkCandidate(c, want)
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		found = cli
		break
	}
	var why string
	switch {
	case found != nil:
		why = fmt.Sprintf("%s (%s)", found.VersionLine, found.Bin)
	case len(list) == 0:
		why = "openclaw not found on PATH and no ~/.cache/openclaw-peer/bin/openclaw"
	case explicit:
		why = EnvBin + ": " + strings.Join(reasons, "; ")
	default:
		why = strings.Join(reasons, "; ")
	}
	findCache[key] = findResult{found, why}
	return found, why
}

func checkCandidate(bin, want string) (*CLI, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", bin, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", abs, errors.Unwrap(err))
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s: not an executable file", abs)
	}
	cli := &CLI{Bin: abs, PathPrefix: filepath.Dir(abs)}
	tmp, err := os.MkdirTemp("", "openclaw-peer-version-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, abs, "--version")
	cmd.Env = cli.baseEnv(tmp)
	cmd.Dir = tmp
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	setProcessGroup(cmd)
	if err := cmd.Run(); err != nil {
		msg := text.Truncate(strings.TrimSpace(errb.String()), 301)
		return nil, fmt.Errorf("%s --version failed: %v %s", abs, err, msg)
	}
	line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(out.String()), "\n", 2)[0])
	if !strings.Contains(line, want) {
		return nil, fmt.Errorf("%s is %q, want version %s (set %s to override)", abs, line, want, EnvVersion)
	}
	cli.VersionLine = line
	return cli, nil
}

// baseEnv is the whole environment of a child process: nothing from the
// caller's environment except PATH (behind the CLI's own directory).
func (c *CLI) baseEnv(home string) []string {
	path := c.PathPrefix
	if p := os.Getenv("PATH"); p != "" {
		path += string(os.PathListSeparator) + p
	} else {
		path += string(os.PathListSeparator) + "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{
		"HOME=" + home,
		"PATH=" + path,
		"DO_NOT_TRACK=1",
		"OPENCLAW_NO_AUTO_UPDATE=1",
	}
	// How this machine reaches the npm registry (2026.4.x installs its
	// plugins' dependencies with npm on first use): CA bundles and proxies,
	// never credentials.
	for _, k := range []string{"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "npm_config_cafile",
		"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Require returns the CLI or skips the test with EnableHint. With
// OPENCLAW_PEER_REQUIRED=1 a missing CLI fails the test instead. In -short
// mode the (slow) peer tests are skipped unless required.
func Require(t testing.TB) *CLI {
	t.Helper()
	required := os.Getenv(EnvRequired) == "1"
	if testing.Short() && !required {
		t.Skip("OpenClaw peer tests are slow; skipped in -short mode (" + EnvRequired + "=1 forces them)")
	}
	cli, err := FindCLI()
	if err != nil {
		msg := fmt.Sprintf("OpenClaw %s peer CLI not available: %v\n%s", wantVersion(), err, EnableHint)
		if required {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return cli
}
