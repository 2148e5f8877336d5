package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadOptions tunes ReadSnapshot.
type ReadOptions struct {
	Env EnvSources
	Now func() time.Time // default time.Now
}

// Paths of an install.
func (l Location) StateDB() string { return filepath.Join(l.StateDir, "state", "openclaw.sqlite") }

// AgentDir is the agent directory of an agent id (OPENCLAW_AGENT_DIR
// relocates the main agent).
func (l Location) AgentDirOf(id string) string {
	if id == "main" && l.AgentDir != "" {
		return l.AgentDir
	}
	return filepath.Join(l.StateDir, "agents", id, "agent")
}

// AgentDB is the agent database path of an agent dir.
func AgentDB(agentDir string) string { return filepath.Join(agentDir, "openclaw-agent.sqlite") }

// LegacyNames are the per-agent JSON files 2026.9.6 only migrates.
var LegacyNames = []string{"auth-profiles.json", "auth-state.json", "auth.json"}

// ReadSnapshot reads one install natively. It never writes, never spawns a
// process and never touches the network. Problems that prevent reading a
// part are recorded in Snapshot.Problems; only a cancelled context is an error.
func ReadSnapshot(ctx context.Context, loc Location, opts ReadOptions) (*Snapshot, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	snap := &Snapshot{Location: loc, TakenAt: now().UTC(), StateDirUID: -1}
	fi, err := os.Stat(loc.StateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		snap.StateDirMissing = true
	case err == nil:
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			snap.StateDirUID = int(st.Uid)
		}
	}

	cfg, err := ReadConfig(loc.ConfigPath)
	var ce *ConfigError
	switch {
	case errors.As(err, &ce):
		snap.ConfigErr = ce
	case err != nil:
		snap.Problems = append(snap.Problems, err.Error())
	}
	snap.Config = cfg
	if cfg != nil {
		snap.Version = cfg.Version
	}

	agents := agentDirs(loc, cfg)
	snap.Generation = detectGeneration(loc, agents, snap.Version)
	snap.Layout = LayoutOf(snap.Generation)
	if snap.Layout == LayoutLegacy {
		readLegacy(snap, agents)
	} else {
		if err := readSQLite(ctx, snap, agents); err != nil {
			return nil, err
		}
	}
	collectEnv(ctx, snap, opts.Env)
	resolveCredentialRefs(snap)
	snap.ClaudeCLI = claudeLogin(ctx, snap)
	snap.Files = sensitiveFiles(snap, agents)
	return snap, ctx.Err()
}

// newerState says why the state database was written by an OpenClaw newer
// than any the bot knows ("" when it was not): a schema version above the
// newest known release's.
func newerState(path string, schema dbSchema, configVersion string) string {
	known := NewestKnown()
	if schema.version <= known.StateSchema {
		return ""
	}
	who := schema.app
	if who == "" {
		who = configVersion
	}
	if who == "" {
		who = "an unknown version"
	}
	return fmt.Sprintf("%s has schema version %d, written by OpenClaw %s; this openclaw-bot knows schema versions up to %d (OpenClaw %s), so it cannot tell where that release keeps the auth state: upgrade openclaw-bot",
		path, schema.version, who, known.StateSchema, known.Version)
}

type agentDir struct {
	id, dir    string
	isDefault  bool
	configured bool
}

// agentDirs lists configured agents, then agent directories found on disk;
// "main" is always present.
func agentDirs(loc Location, cfg *Config) []agentDir {
	var out []agentDir
	seen := map[string]bool{}
	if cfg != nil {
		for _, a := range cfg.Agents {
			d := a.AgentDir
			if d == "" {
				d = loc.AgentDirOf(a.ID)
			} else {
				d = ExpandHome(d, loc.Home)
			}
			out = append(out, agentDir{id: a.ID, dir: d, isDefault: a.Default, configured: true})
			seen[a.ID] = true
		}
	}
	if !seen["main"] {
		out = append([]agentDir{{id: "main", dir: loc.AgentDirOf("main")}}, out...)
		seen["main"] = true
	}
	if ents, err := os.ReadDir(filepath.Join(loc.StateDir, "agents")); err == nil {
		for _, e := range ents {
			if e.IsDir() && !seen[e.Name()] {
				out = append(out, agentDir{id: e.Name(), dir: loc.AgentDirOf(e.Name())})
				seen[e.Name()] = true
			}
		}
	}
	return out
}

// detectGeneration decides where the install keeps its auth state from
// what is on disk, the way its runtime would find it, falling back to the
// version that last wrote the config.
func detectGeneration(loc Location, agents []agentDir, version string) string {
	sqlite := exists(loc.StateDB())
	for _, a := range agents {
		sqlite = sqlite || exists(AgentDB(a.dir))
	}
	// A 2026.1–5.x install has no database: its JSON files are its store,
	// not leftovers (2026.6+ creates both databases at onboarding).
	if gen := GenerationOf(version); (gen == GenJSONInline || gen == GenJSONSplit) && !sqlite {
		return gen
	}
	if sqlite {
		// readSQLite tells state-sqlite from agent-sqlite by auth.sharedStore.
		return GenAgentSQLite
	}
	for _, a := range agents {
		if exists(filepath.Join(a.dir, AuthStateName)) {
			return GenJSONSplit
		}
	}
	for _, a := range agents {
		if exists(filepath.Join(a.dir, "auth-profiles.json")) {
			return GenJSONInline
		}
	}
	if exists(filepath.Join(loc.OAuthDir(), "oauth.json")) {
		return GenJSONInline
	}
	if gen := GenerationOf(version); gen != "" {
		return gen
	}
	return GenStateSQLite
}

// AuthStateName is GenJSONSplit's usage-state file.
const AuthStateName = "auth-state.json"

// OAuthDir is where OpenClaw keeps oauth.json (OPENCLAW_OAUTH_DIR, else
// <state>/credentials).
func (loc Location) OAuthDir() string {
	if d := os.Getenv("OPENCLAW_OAUTH_DIR"); d != "" {
		return ExpandHome(d, loc.Home)
	}
	return filepath.Join(loc.StateDir, "credentials")
}

func readSQLite(ctx context.Context, snap *Snapshot, agents []agentDir) error {
	loc := snap.Location
	rows, times, schema, found, err := readStateDB(ctx, loc.StateDB())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		snap.Problems = append(snap.Problems, err.Error())
	}
	if newer := newerState(loc.StateDB(), schema, snap.Version); newer != "" {
		// Never a guess: a schema the bot has never seen may keep the
		// auth state anywhere, so nothing of it is reported as read.
		snap.Newer = newer
		snap.Problems = append(snap.Problems, newer)
		return nil
	}
	sharedInStateDB := found && sharedLocation(rows[KeySharedStore]) == "state-db"
	if sharedInStateDB {
		snap.Generation = GenStateSQLite
		st := &AuthStore{Kind: StoreStateDB, Path: loc.StateDB()}
		if b, ok := rows[KeyProfileStore]; ok {
			profiles, _, bad, err := parseStore(b)
			if err != nil {
				snap.Problems = append(snap.Problems, fmt.Sprintf("%s row %s: %v", loc.StateDB(), KeyProfileStore, err))
			}
			st.Profiles = profiles
			st.CredentialsAt = msTime(times[KeyProfileStore])
			for _, id := range bad {
				snap.Problems = append(snap.Problems, fmt.Sprintf("%s row %s: profile %s is not an object", loc.StateDB(), KeyProfileStore, id))
			}
		}
		if b, ok := rows[KeyProfileState]; ok {
			state, err := parseState(b)
			if err != nil {
				snap.Problems = append(snap.Problems, fmt.Sprintf("%s row %s: %v", loc.StateDB(), KeyProfileState, err))
			}
			st.State = state
			st.setStateSum(b)
		}
		snap.Shared = st
	}

	for _, a := range agents {
		ag := Agent{ID: a.id, Dir: a.dir, Default: a.isDefault, Inherits: true}
		st, err := readAgentStore(ctx, a.id, a.dir)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			snap.Problems = append(snap.Problems, err.Error())
		}
		switch {
		case a.id == "main" && !sharedInStateDB:
			// legacy-main: the shared store is the main agent's database.
			if st == nil {
				st = &AuthStore{Kind: StoreAgentDB, Path: AgentDB(a.dir), AgentID: "main"}
			}
			snap.Shared = st
		case st != nil && (len(st.Profiles) > 0 || len(st.State.Usage) > 0):
			ag.Own = st
		}
		if a.configured || ag.Own != nil || a.id == "main" {
			snap.Agents = append(snap.Agents, ag)
		}
		for _, name := range LegacyNames {
			if p := filepath.Join(a.dir, name); exists(p) {
				snap.Legacy = append(snap.Legacy, LegacyFile{Path: p, AgentID: a.id})
			}
		}
	}
	if p := filepath.Join(loc.OAuthDir(), "oauth.json"); exists(p) {
		snap.Legacy = append(snap.Legacy, LegacyFile{Path: p})
	}
	return nil
}

func readAgentStore(ctx context.Context, id, dir string) (*AuthStore, error) {
	path := AgentDB(dir)
	storeJSON, stateJSON, storeAt, found, err := readAgentDB(ctx, path)
	if err != nil || !found {
		return nil, err
	}
	st := &AuthStore{Kind: StoreAgentDB, Path: path, AgentID: id}
	if storeJSON != nil {
		st.CredentialsAt = msTime(storeAt)
	}
	var problems []string
	if storeJSON != nil {
		profiles, _, bad, err := parseStore(storeJSON)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s auth_profile_store: %v", path, err))
		}
		for _, b := range bad {
			problems = append(problems, fmt.Sprintf("%s auth_profile_store: profile %s is not an object", path, b))
		}
		st.Profiles = profiles
	}
	if stateJSON != nil {
		state, err := parseState(stateJSON)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s auth_profile_state: %v", path, err))
		}
		st.State = state
		st.setStateSum(stateJSON)
	}
	if len(problems) > 0 {
		return st, errors.New(strings.Join(problems, "; "))
	}
	return st, nil
}

// msTime is a millisecond timestamp of OpenClaw's; zero stays zero.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// readLegacy reads the JSON generations: per-agent auth-profiles.json with
// inline usageStats (GenJSONInline) and, for GenJSONSplit, the
// auth-state.json beside it, plus credentials/oauth.json for the main agent.
func readLegacy(snap *Snapshot, agents []agentDir) {
	split := snap.Generation == GenJSONSplit
	for _, a := range agents {
		path := filepath.Join(a.dir, "auth-profiles.json")
		st, err := readLegacyFile(path, a.id)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			snap.Problems = append(snap.Problems, err.Error())
		}
		if split {
			if st, err = mergeAuthState(st, path); err != nil {
				snap.Problems = append(snap.Problems, err.Error())
			}
		}
		ag := Agent{ID: a.id, Dir: a.dir, Default: a.isDefault, Inherits: true}
		if a.id == "main" {
			if st == nil {
				st = &AuthStore{Kind: StoreLegacyJSON, Path: path, AgentID: "main"}
				if split {
					st.StatePath = filepath.Join(a.dir, AuthStateName)
				}
			}
			snap.Shared = st
		} else if st != nil {
			ag.Own = st
		}
		if a.configured || ag.Own != nil || a.id == "main" {
			snap.Agents = append(snap.Agents, ag)
		}
	}
	p := filepath.Join(snap.Location.OAuthDir(), "oauth.json")
	if data, err := readRegular(p); err == nil {
		creds, err := legacyOAuth(data)
		if err != nil {
			snap.Problems = append(snap.Problems, fmt.Sprintf("%s: %v", p, err))
		}
		for _, c := range creds {
			if snap.Shared.Profile(c.ID) == nil {
				c.Source = "store"
				snap.Shared.Profiles = append(snap.Shared.Profiles, c)
			}
		}
	} else if errors.As(err, new(*NotRegularError)) {
		snap.Problems = append(snap.Problems, err.Error())
	}
}

// mergeAuthState overlays GenJSONSplit's auth-state.json on the store read
// from auth-profiles.json the way 2026.4–5.x's loadPersistedAuthProfileStore
// does (mergeAuthProfileState): order, lastGood and usageStats are merged per
// key, the auth-state.json entry replacing the inline one as a whole. A
// missing auth-state.json (it is written at the first failure) is normal.
func mergeAuthState(st *AuthStore, profilesPath string) (*AuthStore, error) {
	statePath := filepath.Join(filepath.Dir(profilesPath), AuthStateName)
	if st != nil {
		st.StatePath = statePath
	}
	data, fi, err := readJSONStable(statePath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st == nil) {
		// No state, or state without a profile store: OpenClaw has
		// nothing to merge it into.
		return st, nil
	}
	if err != nil {
		return st, err
	}
	state, err := parseState(data)
	if err != nil {
		return st, fmt.Errorf("%s: %v", statePath, err)
	}
	st.State.Order = mergeMap(st.State.Order, state.Order)
	st.State.LastGood = mergeMap(st.State.LastGood, state.LastGood)
	st.State.Usage = mergeMap(st.State.Usage, state.Usage)
	if t := fi.ModTime().UTC(); t.After(st.UpdatedAt) {
		st.UpdatedAt = t
	}
	return st, nil
}

func mergeMap[V any](base, over map[string]V) map[string]V {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]V, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

func readLegacyFile(path, agentID string) (*AuthStore, error) {
	data, fi, err := readJSONStable(path)
	if err != nil {
		return nil, err
	}
	profiles, state, bad, err := parseStore(data)
	st := &AuthStore{Kind: StoreLegacyJSON, Path: path, AgentID: agentID, Profiles: profiles, State: state, UpdatedAt: fi.ModTime().UTC()}
	st.setStateSum(data)
	if err != nil {
		return st, fmt.Errorf("%s: %v", path, err)
	}
	if len(bad) > 0 {
		return st, fmt.Errorf("%s: profiles %s are not objects", path, strings.Join(bad, ", "))
	}
	return st, nil
}

// readJSONStable reads one of OpenClaw's JSON state files. 2026.1–3.x
// rewrite auth-profiles.json in place (writeFileSync, no rename): a reader
// can catch it empty or half-written (measured), so it retries briefly.
// A missing file is reported as fs.ErrNotExist.
func readJSONStable(path string) ([]byte, os.FileInfo, error) {
	fi, err := statRegular(path)
	var nre *NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.As(err, &nre):
		return nil, nil, err
	case err != nil:
		return nil, nil, fmt.Errorf("%s: %s", path, DescribeErr(err))
	}
	if fi.Size() > MaxRowBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d we read", path, fi.Size(), MaxRowBytes)
	}
	var data []byte
	for attempt := 0; ; attempt++ {
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s", path, DescribeErr(err))
		}
		if json.Valid(data) || attempt == 4 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return data, fi, nil
}

// resolveCredentialRefs fills Secret for keyRef/tokenRef profiles whose
// reference can be resolved without running anything.
func resolveCredentialRefs(snap *Snapshot) {
	fix := func(st *AuthStore) {
		if st == nil {
			return
		}
		for i := range st.Profiles {
			c := &st.Profiles[i]
			if c.KeyRef == nil || !c.Secret.IsZero() {
				continue
			}
			c.Source = "ref:" + c.KeyRef.Source + ":" + c.KeyRef.ID
			if v, _ := snap.ResolveRef(c.KeyRef); !v.IsZero() {
				c.Secret = v
			}
		}
	}
	fix(snap.Shared)
	for i := range snap.Agents {
		fix(snap.Agents[i].Own)
	}
}

// sensitiveFiles lists the files holding secrets, with their modes.
func sensitiveFiles(snap *Snapshot, agents []agentDir) []FileMode {
	loc := snap.Location
	cands := []string{loc.ConfigPath, loc.StateDB(), filepath.Join(loc.StateDir, ".env"), filepath.Join(loc.OAuthDir(), "oauth.json")}
	for _, a := range agents {
		cands = append(cands, AgentDB(a.dir), filepath.Join(a.dir, "auth-profiles.json"))
	}
	var out []FileMode
	seen := map[string]bool{}
	for _, p := range cands {
		if seen[p] {
			continue
		}
		seen[p] = true
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, FileMode{Path: p, Mode: uint32(fi.Mode().Perm())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// VersionLess compares OpenClaw's calendar versions (2026.9.6, 2026.3.31,
// optionally with a -suffix). Unparseable parts compare as 0.
func VersionLess(a, b string) bool {
	pa, pb := VersionParts(a), VersionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

// VersionParts is year, month, day of a version like 2026.9.6 (zeros when
// it is not one).
func VersionParts(v string) [3]int {
	var out [3]int
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	for i, p := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}
