package openclaw

// claudecli.go — Anthropic models served through Claude Code ("claude-cli").
//
// What each release records (read in every release's dist/, 2026.1.29 –
// 2026.9.6):
//
//   - Every release has a "claude-cli" CLI backend that runs the `claude`
//     binary, which authenticates with Claude Code's own login: on Linux
//     $CLAUDE_CONFIG_DIR/.credentials.json or ~/.claude/.credentials.json of
//     the user the gateway runs as (JSON claudeAiOauth: accessToken,
//     refreshToken, expiresAt, subscriptionType, rateLimitTier); on macOS
//     the login keychain, service "Claude Code-credentials" (with a
//     -<8 hex> suffix under CLAUDE_CONFIG_DIR). The config routes models to
//     it with "claude-cli/<model>" refs (all releases),
//     agents.defaults.embeddedHarness.runtime "claude-cli" (2026.4.x), or
//     agentRuntime.id "claude-cli" on agents.defaults.models entries and
//     models.providers (2026.5+; `--auth-choice anthropic-cli` writes it).
//   - 2026.1–3.x: a stored profile "anthropic:claude-cli" (provider
//     anthropic) is a deprecated copy from older releases; doctor offers to
//     remove it ("use setup-token").
//   - 2026.4–7.x keep a copy of the login in OpenClaw's own store: profile
//     "anthropic:claude-cli", provider "claude-cli", type oauth (or token),
//     written at setup (cli-migration buildClaudeCliAuthProfiles) and, from
//     2026.5, re-read from Claude Code's file when the copy is unusable
//     (external-cli-sync EXTERNAL_CLI_SYNC_PROVIDERS). Failures can be
//     recorded against it like against any profile.
//   - 2026.8.1+ keep nothing: "anthropic:claude-cli" is a retired id that
//     means "Claude Code's native login" (nativeAuthProfileIds); OpenClaw
//     asks `claude auth status --json` (loggedIn) and records no cooldown
//     for native runs (no effective auth profile).
//
// The bot never runs `claude`, never reads a keychain, reads Claude Code's
// file only when the install routes models through it, and keeps only the
// expiry, the subscription type and whether tokens are present — never a
// token.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw/json5"
)

// ClaudeCLIProfileID is OpenClaw's id for the Claude Code login (a stored
// copy in 2026.4–7.x, a retired id meaning "native login" in 2026.8.1+).
const ClaudeCLIProfileID = "anthropic:claude-cli"

// ClaudeCLIProvider is the synthetic provider/backend id of Claude Code.
const ClaudeCLIProvider = "claude-cli"

// firstClaudeNative: from this release OpenClaw keeps no copy of the login
// and ignores a stored "anthropic:claude-cli" (nativeAuthProfileIds).
const firstClaudeNative = "2026.8.1"

// Modes of ClaudeLogin.
const (
	// ClaudeNative: OpenClaw keeps nothing; Claude Code uses its own login.
	ClaudeNative = "native"
	// ClaudeCopy: OpenClaw keeps a copy as profile anthropic:claude-cli
	// (2026.4–7.x).
	ClaudeCopy = "copy"
)

// States of ClaudeLogin: what the bot could see of Claude Code's login.
const (
	ClaudeReadable   = "readable"   // the file was read: Type/Expires are known
	ClaudeNoLogin    = "no-login"   // the file exists but holds no usable claudeAiOauth login
	ClaudeMissing    = "missing"    // no credentials file where Claude Code keeps it
	ClaudeUnreadable = "unreadable" // the file exists but the bot may not read it
	ClaudeKeychain   = "keychain"   // macOS: in the keychain, which the bot never reads
	ClaudeHelper     = "api-key-helper"
	ClaudeNoHome     = "no-home" // the gateway user's home is unknown
)

// ClaudeLogin is the Claude Code login that serves an install's Anthropic
// models through the claude-cli backend. It holds no secret.
type ClaudeLogin struct {
	// Routes say where the install routes models through Claude Code, one
	// short sentence each with its config path.
	Routes []string `json:"routes"`
	// Models lists the Anthropic model refs the routes name (for a route
	// that covers every Anthropic model, AllModels is set).
	Models    []string `json:"models,omitempty"`
	AllModels bool     `json:"all_models,omitempty"`
	// Mode is ClaudeNative or ClaudeCopy.
	Mode string `json:"mode"`
	// StoredCopy is set when OpenClaw's store holds profile
	// anthropic:claude-cli with provider claude-cli; CopyIgnored when the
	// release ignores it (2026.8.1+).
	StoredCopy  bool `json:"stored_copy,omitempty"`
	CopyIgnored bool `json:"copy_ignored,omitempty"`

	// Home is the gateway user's home; HomeFrom says how the bot knows it.
	Home     string `json:"home,omitempty"`
	HomeFrom string `json:"home_from,omitempty"`
	// ConfigDir is Claude Code's config dir (CLAUDE_CONFIG_DIR or ~/.claude),
	// ConfigDirFrom where CLAUDE_CONFIG_DIR was found.
	ConfigDir     string `json:"config_dir,omitempty"`
	ConfigDirFrom string `json:"config_dir_from,omitempty"`
	// Path is the credentials file Claude Code uses on this platform.
	Path string `json:"path,omitempty"`
	// Owner is who the file (or the home) belongs to: "alice (uid 1000)".
	Owner string `json:"owner,omitempty"`
	// Keychain is the macOS keychain service when the platform keeps it there.
	Keychain string `json:"keychain,omitempty"`
	// State is one of the Claude* states; Problem says why it is unreadable.
	State   string `json:"state"`
	Problem string `json:"problem,omitempty"`

	// From the file, never a token: Type is "oauth" (a refresh token is
	// present: Claude Code renews the access token itself) or "token".
	Type          string    `json:"type,omitempty"`
	Expires       time.Time `json:"expires,omitzero"`
	Subscription  string    `json:"subscription,omitempty"`
	RateLimitTier string    `json:"rate_limit_tier,omitempty"`
}

// claudeGOOS is the platform whose storage Claude Code uses (tests set it).
var claudeGOOS = runtime.GOOS

// ClaudeRoute is one place of openclaw.json that sends models through
// Claude Code.
type ClaudeRoute struct {
	Path  string // config path, e.g. agents.defaults.models["anthropic/claude-opus-5"].agentRuntime.id
	Model string // the model ref it routes, "" for every Anthropic model
}

// RunsOnClaudeCLI says whether the config sends model ref m through Claude
// Code rather than OpenClaw's own Anthropic credentials.
func (c *Config) RunsOnClaudeCLI(m string) bool {
	if c == nil {
		return false
	}
	if strings.HasPrefix(m, ClaudeCLIProvider+"/") {
		return true
	}
	for _, r := range c.ClaudeRoutes {
		if r.Model == "" || r.Model == m {
			return true
		}
	}
	return false
}

// readClaudeRoutes records every place that sets the claude-cli runtime:
// agents.defaults / agents.entries.<id> embeddedHarness.runtime (2026.4.x)
// and models.<ref>.agentRuntime.id (2026.5+), models.providers.<p>
// agentRuntime.id and its models[].agentRuntime.id.
func (c *Config) readClaudeRoutes(root *json5.Node) {
	isCLI := func(n *json5.Node) bool {
		return n != nil && n.Kind == json5.String && strings.EqualFold(strings.TrimSpace(n.Str), ClaudeCLIProvider)
	}
	scope := func(base string, n *json5.Node) {
		if isCLI(n.Get("embeddedHarness", "runtime")) {
			c.ClaudeRoutes = append(c.ClaudeRoutes, ClaudeRoute{Path: base + ".embeddedHarness.runtime"})
		}
		if ms := n.Get("models"); ms != nil && ms.Kind == json5.Object {
			for _, m := range ms.Members {
				if isCLI(m.Value.Get("agentRuntime", "id")) {
					c.ClaudeRoutes = append(c.ClaudeRoutes, ClaudeRoute{Path: fmt.Sprintf("%s.models[%q].agentRuntime.id", base, m.Key), Model: m.Key})
				}
			}
		}
	}
	scope("agents.defaults", root.Get("agents", "defaults"))
	if es := root.Get("agents", "entries"); es != nil && es.Kind == json5.Object {
		for _, e := range es.Members {
			scope("agents.entries."+e.Key, e.Value)
		}
	}
	if ps := root.Get("models", "providers"); ps != nil && ps.Kind == json5.Object {
		for _, p := range ps.Members {
			if p.Key != "anthropic" {
				continue // only the Anthropic models' credentials are ours to watch
			}
			if isCLI(p.Value.Get("agentRuntime", "id")) {
				c.ClaudeRoutes = append(c.ClaudeRoutes, ClaudeRoute{Path: "models.providers.anthropic.agentRuntime.id"})
			}
			if ms := p.Value.Get("models"); ms != nil && ms.Kind == json5.Array {
				for i, m := range ms.Elems {
					if isCLI(m.Get("agentRuntime", "id")) {
						id := str(m.Get("id"))
						c.ClaudeRoutes = append(c.ClaudeRoutes, ClaudeRoute{Path: fmt.Sprintf("models.providers.anthropic.models[%d].agentRuntime.id", i), Model: "anthropic/" + id})
					}
				}
			}
		}
	}
}

// claudeLogin builds the Claude Code login of an install when its config
// or store routes models through Claude Code (nil otherwise), and reads
// the expiry of Claude Code's login where the gateway's user keeps it.
func claudeLogin(ctx context.Context, snap *Snapshot) *ClaudeLogin {
	l := &ClaudeLogin{Mode: ClaudeNative}
	if c := snap.Config; c != nil {
		seen := map[string]bool{}
		for _, m := range append(c.Models(), c.AllowModels...) {
			if strings.HasPrefix(m, ClaudeCLIProvider+"/") && !seen[m] {
				seen[m] = true
				l.Routes = append(l.Routes, fmt.Sprintf("model ref %s", m))
				l.Models = append(l.Models, m)
			}
		}
		for _, r := range c.ClaudeRoutes {
			l.Routes = append(l.Routes, r.Path+` = "claude-cli"`)
			if r.Model == "" {
				l.AllModels = true
			} else if !seen[r.Model] {
				seen[r.Model] = true
				l.Models = append(l.Models, r.Model)
			}
		}
	}
	native := snap.Version != "" && !VersionLess(snap.Version, firstClaudeNative)
	for _, st := range snap.stores() {
		if p := st.Profile(ClaudeCLIProfileID); p != nil && p.Provider == ClaudeCLIProvider {
			l.StoredCopy = true
			if native {
				l.CopyIgnored = true
				l.Routes = append(l.Routes, fmt.Sprintf("profile %s (provider claude-cli) in %s: a copy an older release kept; OpenClaw %s ignores it (Claude Code's own login is used)", ClaudeCLIProfileID, st.Path, snap.Version))
			} else {
				l.Mode = ClaudeCopy
				l.Routes = append(l.Routes, fmt.Sprintf("profile %s (provider claude-cli) in %s", ClaudeCLIProfileID, st.Path))
			}
			break
		}
	}
	if len(l.Routes) == 0 {
		return nil
	}
	l.locate(snap)
	l.read(ctx)
	return l
}

// stores lists the install's credential stores (shared first).
func (s *Snapshot) stores() []*AuthStore {
	var out []*AuthStore
	if s.Shared != nil {
		out = append(out, s.Shared)
	}
	for _, a := range s.Agents {
		if a.Own != nil && a.Own != s.Shared {
			out = append(out, a.Own)
		}
	}
	return out
}

// locate finds the gateway user's home and Claude Code's files there, the
// way 2026.9.6 resolves them (provider-auth-claude-compat:
// resolveClaudeCliConfigDir, resolveClaudeCliCredentialsPath).
func (l *ClaudeLogin) locate(snap *Snapshot) {
	switch {
	case snap.gatewayEnv["HOME"] != "":
		l.Home, l.HomeFrom = snap.gatewayEnv["HOME"], fmt.Sprintf("HOME of gateway process %d", snap.Gateway.PID)
	case snap.StateDirUID >= 0:
		if u, err := user.LookupId(strconv.Itoa(snap.StateDirUID)); err == nil && u.HomeDir != "" {
			l.Home, l.HomeFrom = u.HomeDir, fmt.Sprintf("home of %s (uid %d), who owns the state dir and so runs the gateway", u.Username, snap.StateDirUID)
		}
	}
	if l.Home == "" && snap.Location.Home != "" {
		l.Home, l.HomeFrom = snap.Location.Home, "the home the bot located the install from"
	}
	env := func(name string) (string, string, bool) {
		if e, ok := snap.LookupEnv(name); ok && e.Unresolved == "" {
			return e.Value.Reveal(), e.Source, true
		}
		return "", "", false
	}
	if d, from, ok := env("CLAUDE_CONFIG_DIR"); ok && d != "" {
		l.ConfigDir, l.ConfigDirFrom = ExpandHome(d, l.Home), "CLAUDE_CONFIG_DIR from "+from
	} else if l.Home != "" {
		l.ConfigDir = filepath.Join(l.Home, ".claude")
	}
	credDir := l.ConfigDir
	if d, from, ok := env("CLAUDE_SECURESTORAGE_CONFIG_DIR"); ok {
		credDir = filepath.Join(l.Home, ".claude")
		if d != "" {
			credDir = ExpandHome(d, l.Home)
		}
		l.ConfigDirFrom = strings.TrimPrefix(l.ConfigDirFrom+"; ", "; ") + "CLAUDE_SECURESTORAGE_CONFIG_DIR from " + from
	}
	if credDir != "" {
		l.Path = filepath.Join(credDir, ".credentials.json")
	}
	if claudeGOOS == "darwin" {
		l.Keychain = "Claude Code-credentials"
		if l.ConfigDirFrom != "" {
			l.Keychain += "-<8 hex of the config dir>"
		}
	}
}

// maxClaudeFile bounds what the bot reads of Claude Code's files.
const maxClaudeFile = 1 << 20

// read looks at Claude Code's credentials file for its expiry. It keeps no
// token: the JSON is decoded into presence flags and the bytes are wiped.
func (l *ClaudeLogin) read(ctx context.Context) {
	if l.Path == "" {
		l.State = ClaudeNoHome
		return
	}
	if l.ConfigDir != "" && hasAPIKeyHelper(ctx, filepath.Join(l.ConfigDir, "settings.json")) {
		// 2026.9.6 prefers an apiKeyHelper over the login (readClaudeCliCredentials).
		l.State = ClaudeHelper
		return
	}
	data, fi, err := readSmall(ctx, l.Path)
	defer clear(data)
	if fi != nil {
		l.Owner = ownerOf(fi)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.State = ClaudeMissing
		if l.Keychain != "" {
			l.State = ClaudeKeychain
		}
		if st, err := os.Stat(l.Home); err == nil && l.Owner == "" {
			l.Owner = ownerOf(st)
		}
		return
	case err != nil:
		l.State, l.Problem = ClaudeUnreadable, DescribeErr(err)
		return
	}
	var f struct {
		OAuth *struct {
			Access           presence `json:"accessToken"`
			Refresh          presence `json:"refreshToken"`
			ExpiresAt        num      `json:"expiresAt"`
			SubscriptionType string   `json:"subscriptionType"`
			RateLimitTier    string   `json:"rateLimitTier"`
		} `json:"claudeAiOauth"`
	}
	if json.Unmarshal(data, &f) != nil || f.OAuth == nil || !bool(f.OAuth.Access) || !f.OAuth.ExpiresAt.ok || f.OAuth.ExpiresAt.v <= 0 {
		// parseClaudeCliOauthCredential: no usable login without an access
		// token and a positive expiresAt.
		l.State = ClaudeNoLogin
		return
	}
	l.State = ClaudeReadable
	l.Type = TypeToken
	if bool(f.OAuth.Refresh) {
		l.Type = TypeOAuth
	}
	l.Expires = f.OAuth.ExpiresAt.time()
	l.Subscription = strings.TrimSpace(f.OAuth.SubscriptionType)
	l.RateLimitTier = strings.TrimSpace(f.OAuth.RateLimitTier)
}

// presence records whether a JSON value is a non-empty string, and nothing
// else of it.
type presence bool

func (p *presence) UnmarshalJSON(b []byte) error {
	*p = len(b) > 2 && b[0] == '"'
	return nil
}

func hasAPIKeyHelper(ctx context.Context, path string) bool {
	data, _, err := readSmall(ctx, path)
	defer clear(data)
	if err != nil {
		return false
	}
	var s struct {
		Helper presence `json:"apiKeyHelper"`
	}
	return json.Unmarshal(data, &s) == nil && bool(s.Helper)
}

// readSmall reads a regular file of at most maxClaudeFile bytes.
func readSmall(ctx context.Context, path string) ([]byte, fs.FileInfo, error) {
	defer noteReading(ctx, path)()
	fi, err := statRegular(path)
	if err != nil {
		return nil, fi, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fi, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxClaudeFile+1))
	if err == nil && len(data) > maxClaudeFile {
		clear(data)
		return nil, fi, fmt.Errorf("%s is larger than %d KiB", path, maxClaudeFile>>10)
	}
	return data, fi, err
}

// ownerOf names the owner of a file: "alice (uid 1000)".
func ownerOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		return u.Username + " (uid " + uid + ")"
	}
	return "uid " + uid
}
