package peer

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The release matrix: one install-peer.sh prefix per OpenClaw release, at
// $OPENCLAW_RELEASES_DIR/openclaw-peer-<version> (default ~/.cache), all on
// the same Node. scripts/test installs every release of openclaw.Releases.
const (
	// EnvReleasesDir is the folder holding the per-release prefixes.
	EnvReleasesDir = "OPENCLAW_RELEASES_DIR"
	// EnvReleasesRequired=1 turns a missing release into a test failure.
	EnvReleasesRequired = "OPENCLAW_RELEASES_REQUIRED"
)

var (
	releaseMu    sync.Mutex
	releaseCache = map[string]findResult{}
	versionRe    = regexp.MustCompile(`\b20\d\d\.\d+\.\d+\b`)
)

// ReleaseDir is the install-peer.sh prefix of one release.
func ReleaseDir(version string) string {
	root := os.Getenv(EnvReleasesDir)
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".cache")
		}
	}
	return filepath.Join(root, "openclaw-peer-"+version)
}

// RequireRelease returns the CLI of exactly that OpenClaw release or skips
// the test saying how to install it (fails with OPENCLAW_RELEASES_REQUIRED=1).
// The pinned release (Version) is also found where Require finds it.
func RequireRelease(t testing.TB, version string) *CLI {
	t.Helper()
	required := os.Getenv(EnvReleasesRequired) == "1"
	if testing.Short() && !required {
		t.Skip("OpenClaw release tests are slow; skipped in -short mode")
	}
	releaseMu.Lock()
	r, ok := releaseCache[version]
	if !ok {
		bin := filepath.Join(ReleaseDir(version), "bin", "openclaw")
		cli, err := checkCandidate(bin, version)
		if err != nil && version == Version {
			if c, e := FindCLI(); e == nil {
				cli, err = c, nil
			}
		}
		r = findResult{cli: cli}
		if err != nil {
			r.why = err.Error()
		}
		releaseCache[version] = r
	}
	releaseMu.Unlock()
	if r.cli == nil {
		msg := fmt.Sprintf("OpenClaw %s not installed: %s\nto enable: OPENCLAW_VERSION=%s bash scripts/install-peer.sh %s",
			version, r.why, version, ReleaseDir(version))
		if required {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return r.cli
}

// ReleaseVersion is the calendar version in the CLI's --version line.
func (c *CLI) ReleaseVersion() string { return versionRe.FindString(c.VersionLine) }

// NewReleaseSandbox is NewSandbox for any release: 2026.4.x installs its
// plugins' runtime dependencies with npm on first use (~550 MB); they go to
// one stage folder per release prefix, outside any npm project (inside one,
// that npm run replaces the installed release by the newest).
func NewReleaseSandbox(t testing.TB, cli *CLI) *Sandbox {
	t.Helper()
	s := NewSandbox(t, cli)
	s.Setenv("OPENCLAW_PLUGIN_STAGE_DIR", filepath.Join(filepath.Dir(cli.PathPrefix), "plugin-stage"))
	return s
}

// OnboardRelease runs the non-interactive onboarding every release since
// 2026.1.29 accepts (--skip-search from 2026.3.31, --skip-hooks from
// 2026.5.28, where `onboard --help` lists them) with an API key stored as
// anthropic:default, then points models.providers.anthropic at baseURL
// (with "models": [], which 2026.1.29 requires).
func (s *Sandbox) OnboardRelease(apiKey, baseURL string) error {
	if apiKey == "" {
		return fmt.Errorf("onboard: empty API key")
	}
	s.red.add(apiKey)
	port, err := FreePort()
	if err != nil {
		return fmt.Errorf("onboard: pick gateway port: %w", err)
	}
	v := s.CLI.ReleaseVersion()
	args := []string{"onboard", "--non-interactive", "--accept-risk", "--mode", "local",
		"--auth-choice", "apiKey", "--anthropic-api-key", apiKey,
		"--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-ui"}
	if !versionBefore(v, "2026.3.31") {
		args = append(args, "--skip-search")
	}
	if !versionBefore(v, "2026.5.28") {
		args = append(args, "--skip-hooks")
	}
	args = append(args, "--gateway-bind", "loopback", "--gateway-port", fmt.Sprint(port), "--json")
	r := s.Exec(RunOptions{}, args...)
	if r.RC != 0 || r.Err != nil {
		return s.fail("onboard", r)
	}
	// 2026.1.x prints progress lines before its JSON and no "ok" member.
	if !strings.Contains(r.Stdout, `"authChoice"`) {
		return fmt.Errorf("onboard %s: unexpected stdout: %s", v, s.red.redact(head(r.Stdout, 400)))
	}
	s.APIKey, s.GatewayPort = apiKey, port
	return s.EditConfig(func(cfg map[string]any) error {
		a := Obj(Obj(Obj(cfg, "models"), "providers"), "anthropic")
		a["baseUrl"] = baseURL
		if _, ok := a["models"]; !ok {
			a["models"] = []any{}
		}
		return nil
	})
}

// versionBefore compares calendar versions (a < b); "" is never before.
func versionBefore(a, b string) bool {
	if a == "" {
		return false
	}
	var pa, pb [3]int
	fmt.Sscanf(a, "%d.%d.%d", &pa[0], &pa[1], &pa[2])
	fmt.Sscanf(b, "%d.%d.%d", &pb[0], &pb[1], &pb[2])
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}
