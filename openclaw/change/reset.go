package change

// reset.go — the ONE place where the bot writes OpenClaw state: clearing a
// profile's cooldown / disable / failure counters ("cooldown reset").
//
// Flow: PlanReset reads, decides where the profile's usage state really
// lives and returns the exact bytes it read (the preview). ApplyReset writes
// only if those bytes are still there (optimistic check, ErrChanged
// otherwise), in one short BEGIN IMMEDIATE transaction (SQLite) or under
// OpenClaw's own auth-profiles.json.lock (2026.3.x JSON). RestoreBackup is
// the undo. RefreshGateway tells a running gateway, which keeps the auth
// state in memory and ignores external edits until told (OPENCLAW.md §7):
// with models.authRefresh, secrets.reload, or not at all, by release
// (Release.Refresh; 2026.8.x only drops it when restarted).
//
// What a reset does is exactly OpenClaw's own success path (2026.9.6
// dist/usage-state-*.mjs resetAuthProfileFailureState, used by
// markAuthProfileSuccess and by logins with resetFailureState):
//
//	{...existing, errorCount: 0, blockedUntil/Reason/Source/Model/Scope: undefined,
//	 cooldownUntil/Reason/Classification/Model: undefined,
//	 disabledUntil/Reason: undefined, failureCounts: undefined}
//
// so failureCounts is removed (not set to {}), lastFailureAt, lastUsed,
// lastProbeAt and every other field are kept, errorCount keeps its position
// (or is appended when absent). 2026.3.31 (dist/order-*.js resetUsageStats)
// clears the same minus the blocked* fields and cooldownClassification,
// which that version does not know; legacy files get that set.
//
// Everything else is kept byte for byte: the JSON is edited as ordered
// members with the original raw keys and values, so other profiles, order,
// lastGood and fields we (or OpenClaw) do not know survive unchanged, and a
// row OpenClaw wrote (JSON.stringify, compact) only changes in the edited
// entries.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// ResetPlan is the preview of one cooldown reset: which profiles, in which
// store, and the exact bytes read there. ApplyReset writes only if the
// store still holds Before.
type ResetPlan struct {
	Loc      openclaw.Location
	AgentID  string   // the agent whose effective view was planned
	Profiles []string // profiles whose state will change (sorted)
	// Where is StoreStateDB ("state-db": authProfiles.state of
	// state/openclaw.sqlite), StoreAgentDB ("agent-db": auth_profile_state
	// 'primary' of an agent database) or StoreLegacyJSON ("legacy-json":
	// a 2026.3.x auth-profiles.json).
	Where string
	Path  string // the database or file
	Key   string // the row key (authProfiles.state or primary); "" for the JSON files
	// Before is the exact row value or file content read for the preview.
	Before []byte
	// Fields are the usageStats fields the reset removes: those the
	// release's own success path removes (resetFieldsFor). Empty in plans
	// written before they were recorded: then the store kind decides.
	Fields []string `json:",omitempty"`
}

// Errors of the reset API; test with errors.Is.
var (
	// ErrChanged: the state changed since the preview (or since ApplyReset,
	// for RestoreBackup). Nothing was written; re-preview.
	ErrChanged = errors.New("OpenClaw's state changed since it was read; nothing was written")
	// ErrNoGateway: no gateway is listening. Not a failure: a gateway reads
	// the state from disk when it starts.
	ErrNoGateway = errors.New("no OpenClaw gateway is running (fine: it reads the state when it starts)")
	// ErrNothingToReset: the profiles have no cooldown, disable or failure
	// counters where OpenClaw reads them.
	ErrNothingToReset = errors.New("nothing to reset")
	// ErrAmbiguous: the bot cannot tell for sure which copy of the state
	// OpenClaw uses, so it refuses to write.
	ErrAmbiguous = errors.New("cannot tell which copy of the state OpenClaw uses; refusing to reset")
	// ErrSplitStores: the profiles' state lives in more than one store; use
	// PlanResets (one plan per store).
	ErrSplitStores = errors.New("the profiles' state lives in different stores")
	// ErrLegacyLocked: OpenClaw held auth-profiles.json.lock for longer than
	// the bot waits.
	ErrLegacyLocked = errors.New("auth-profiles.json is locked by OpenClaw")
)

// Tunables (variables so tests can shorten them).
var (
	// writeBusyTimeout is how long a write waits for OpenClaw's SQLite lock.
	writeBusyTimeout = 5 * time.Second
	// legacyLockWait bounds the wait for auth-profiles.json.lock.
	legacyLockWait = 10 * time.Second
	// legacyLockStale: OpenClaw's AUTH_STORE_LOCK_OPTIONS.stale.
	legacyLockStale = 30 * time.Second
)

// resetFields are removed from a usageStats entry by 2026.9.6's
// resetAuthProfileFailureState (besides errorCount → 0).
var resetFields = []string{
	"blockedUntil", "blockedReason", "blockedSource", "blockedModel", "blockedScope",
	"cooldownUntil", "cooldownReason", "cooldownClassification", "cooldownModel",
	"disabledUntil", "disabledReason", "failureCounts",
}

// legacyResetFields: 2026.3.31's resetUsageStats.
var legacyResetFields = []string{
	"cooldownUntil", "cooldownReason", "cooldownModel", "disabledUntil", "disabledReason", "failureCounts",
}

// resetFieldsFor is what the success path of that release removes from a
// usageStats entry besides setting errorCount to 0 (read in every release's
// dist/: resetUsageStats, resetAuthProfileFailureState; 2026.1–2.x clear
// the cooldown in clearAuthProfileCooldown and the rest in
// markAuthProfileUsed). Fields a release does not know are never present
// in its files, so removing them is a no-op. An unknown version gets the
// newest release's list.
func resetFieldsFor(version string) []string {
	switch {
	case version == "" || !openclaw.VersionLess(version, "2026.8.1"):
		return resetFields
	case !openclaw.VersionLess(version, "2026.5.12"):
		return []string{"blockedUntil", "blockedReason", "blockedSource", "blockedModel",
			"cooldownUntil", "cooldownReason", "cooldownModel", "disabledUntil", "disabledReason", "failureCounts"}
	}
	return legacyResetFields
}

// ---------------------------------------------------------------------------
// Planning.

// PlanReset finds where the usage state of each profile really lives for
// agentID ("" = the default agent) and returns the preview. Profiles whose
// state is already clean are left out of the plan; if none is left it
// returns ErrNothingToReset. It refuses (ErrAmbiguous) when it cannot be
// sure which copy OpenClaw reads, and returns ErrSplitStores when the
// profiles live in different stores (use PlanResets). It only reads.
func PlanReset(ctx context.Context, snap *openclaw.Snapshot, agentID string, profiles []string) (*ResetPlan, error) {
	plans, err := PlanResets(ctx, snap, agentID, profiles)
	if err != nil {
		return nil, err
	}
	if len(plans) > 1 {
		var parts []string
		for _, p := range plans {
			parts = append(parts, fmt.Sprintf("%s in %s", strings.Join(p.Profiles, ", "), p.Path))
		}
		return nil, fmt.Errorf("%w: %s; reset them separately", ErrSplitStores, strings.Join(parts, "; "))
	}
	return plans[0], nil
}

// PlanResets is PlanReset returning one plan per store (sorted by path).
func PlanResets(ctx context.Context, snap *openclaw.Snapshot, agentID string, profiles []string) ([]*ResetPlan, error) {
	if snap == nil {
		return nil, errors.New("plan reset: no snapshot")
	}
	if snap.Newer != "" {
		return nil, fmt.Errorf("%w: %s", ErrAmbiguous, snap.Newer)
	}
	ids, err := resetProfileIDs(profiles)
	if err != nil {
		return nil, err
	}
	if agentID == "" {
		agentID = snap.DefaultAgent()
	}
	ag := snap.Agent(agentID)
	if ag == nil {
		var known []string
		for _, a := range snap.Agents {
			known = append(known, a.ID)
		}
		return nil, fmt.Errorf("plan reset: unknown agent %q (known: %s)", agentID, strings.Join(known, ", "))
	}
	var rp *resetPlanner
	if snap.Layout == openclaw.LayoutLegacy {
		rp, err = planLegacy(snap, ag)
	} else {
		rp, err = planSQLite(ctx, snap, ag)
	}
	if err != nil {
		return nil, err
	}
	return rp.plans(snap, agentID, ids)
}

func resetProfileIDs(profiles []string) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, p := range profiles {
		if p == "" || strings.TrimSpace(p) != p || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("plan reset: invalid profile id %q", p)
		}
		if !seen[p] {
			seen[p] = true
			ids = append(ids, p)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("plan reset: no profile given")
	}
	sort.Strings(ids)
	return ids, nil
}

// stateCopy is one place usage state is kept, as read for the preview.
type stateCopy struct {
	where, path, key string
	raw              []byte     // the exact row value / file ("" if absent)
	usage            jsonObject // usageStats members (nil if none)
	valid            bool       // OpenClaw reads this copy's state at all
	why              string     // when !valid: why OpenClaw ignores it
	profiles         map[string]bool
}

// resetPlanner holds the copies of the usage state an agent's view is merged
// from, in precedence order: the first copy holding a profile's entry is the
// one OpenClaw uses (usageStats merge per profile id, the later copy's entry
// replacing the earlier one's as a whole). The last copy is the shared store.
type resetPlanner struct {
	fields []string
	chain  []*stateCopy
	known  map[string]bool
}

func planSQLite(ctx context.Context, snap *openclaw.Snapshot, ag *openclaw.Agent) (*resetPlanner, error) {
	loc := snap.Location
	// 2026.8.1+ refuse auth until legacy files are migrated, and `doctor
	// --fix` imports their usageStats: which copy wins is not ours to guess.
	// 2026.6.5–7.35 never read them (only their doctor imports them).
	for _, l := range snap.Legacy {
		if openclaw.StrictLegacy(snap.Version) && (l.AgentID == "" || l.AgentID == "main" || l.AgentID == ag.ID) {
			return nil, fmt.Errorf("%w: %s is a legacy credential file not migrated into SQLite yet (OpenClaw 2026.4+ refuses auth until `openclaw doctor --fix` migrates it, importing its usageStats); run that first",
				ErrAmbiguous, l.Path)
		}
	}
	rows, found, err := openclaw.ReadStateDB(ctx, loc.StateDB())
	if err != nil {
		return nil, fmt.Errorf("plan reset: %w", err)
	}
	location := "legacy-main"
	if found {
		if b, ok := rows[openclaw.KeySharedStore]; ok {
			location = strictSharedLocation(b)
			if location == "" {
				return nil, fmt.Errorf("%w: %s row %s is %s, which OpenClaw rejects as an invalid shared auth store location (run `openclaw doctor --fix`)",
					ErrAmbiguous, loc.StateDB(), openclaw.KeySharedStore, resetSnippet(b))
			}
		}
	}
	rp := &resetPlanner{fields: resetFieldsFor(snap.Version), known: map[string]bool{}}
	var sharedDB string
	var shared *stateCopy
	if location == "state-db" {
		sharedDB = loc.StateDB()
		shared, err = newStateCopy(openclaw.StoreStateDB, sharedDB, openclaw.KeyProfileState, rows[openclaw.KeyProfileStore], rows[openclaw.KeyProfileState], true)
	} else {
		sharedDB = openclaw.AgentDB(loc.AgentDirOf("main"))
		var store, state []byte
		store, state, _, err = openclaw.ReadAgentDB(ctx, sharedDB)
		if err != nil {
			return nil, fmt.Errorf("plan reset: %w", err)
		}
		shared, err = newStateCopy(openclaw.StoreAgentDB, sharedDB, openclaw.AgentRowKey, store, state, true)
	}
	if err != nil {
		return nil, err
	}
	if own := openclaw.AgentDB(ag.Dir); filepath.Clean(own) != filepath.Clean(sharedDB) {
		store, state, ok, err := openclaw.ReadAgentDB(ctx, own)
		if err != nil {
			return nil, fmt.Errorf("plan reset: %w", err)
		}
		if ok {
			local, err := newStateCopy(openclaw.StoreAgentDB, own, openclaw.AgentRowKey, store, state, false)
			if err != nil {
				return nil, err
			}
			rp.chain = append(rp.chain, local)
		}
	}
	rp.chain = append(rp.chain, shared)
	rp.collectKnown()
	return rp, nil
}

func planLegacy(snap *openclaw.Snapshot, ag *openclaw.Agent) (*resetPlanner, error) {
	if v := snap.Version; v != "" && !openclaw.VersionLess(v, openclaw.FirstAgentSQLite) {
		return nil, fmt.Errorf("%w: the install uses legacy auth-profiles.json but was last written by OpenClaw %s, which keeps credentials in SQLite and ignores (2026.6.5–7.x) or refuses (2026.8.1+) these files until `openclaw doctor --fix` migrates them; run that first",
			ErrAmbiguous, v)
	}
	loc := snap.Location
	rp := &resetPlanner{fields: resetFieldsFor(snap.Version), known: map[string]bool{}}
	if snap.Version == "" {
		rp.fields = legacyResetFields
	}
	// Per agent dir: auth-state.json (GenJSONSplit) over the inline state
	// of auth-profiles.json; the agent's own files over main's.
	addDir := func(dir string, shared bool) error {
		file := filepath.Join(dir, "auth-profiles.json")
		raw, err := readLegacyForPlan(file)
		if err != nil {
			return err
		}
		if raw == nil && !shared {
			return nil
		}
		inline, err := newStateCopy(openclaw.StoreLegacyJSON, file, "", raw, raw, shared)
		if err != nil {
			return err
		}
		if snap.Generation == openclaw.GenJSONSplit {
			statePath := filepath.Join(dir, openclaw.AuthStateName)
			state, err := readLegacyForPlan(statePath)
			if err != nil {
				return err
			}
			split, err := newStateCopy(openclaw.StoreAuthState, statePath, "", raw, state, shared)
			if err != nil {
				return err
			}
			if raw == nil {
				split.valid, split.why = false, "its auth-profiles.json is missing, so OpenClaw ignores its state"
			}
			rp.chain = append(rp.chain, split)
		}
		rp.chain = append(rp.chain, inline)
		return nil
	}
	mainDir := loc.AgentDirOf("main")
	if filepath.Clean(ag.Dir) != filepath.Clean(mainDir) {
		if err := addDir(ag.Dir, false); err != nil {
			return nil, err
		}
	}
	if err := addDir(mainDir, true); err != nil {
		return nil, err
	}
	rp.collectKnown()
	return rp, nil
}

// readLegacyForPlan reads a legacy file (nil if absent), retrying briefly
// over 2026.3.x's truncate-then-write.
func readLegacyForPlan(path string) ([]byte, error) {
	b, _, err := readLegacyStable(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan reset: %w", err)
	}
	return b, nil
}

// newStateCopy parses a copy's credential store and state. For SQLite,
// store and state are the two rows; for legacy JSON both are the file.
// OpenClaw ignores an agent copy's state unless its credential store parses
// as an object with a "profiles" object (coercePersistedAuthProfileStore /
// 2026.3.x coerceAuthStore); the shared copy is always read.
func newStateCopy(where, path, key string, store, state []byte, shared bool) (*stateCopy, error) {
	c := &stateCopy{where: where, path: path, key: key, profiles: map[string]bool{}}
	c.raw = state
	var storeObj jsonObject
	if store != nil {
		var err error
		if storeObj, err = parseJSONObject(store); err != nil {
			if shared || where == openclaw.StoreLegacyJSON {
				return nil, fmt.Errorf("%w: %s: the credential store is not a JSON object (%v)", ErrAmbiguous, path, err)
			}
		}
	}
	if p, ok := storeObj.get("profiles"); ok {
		if po, err := parseJSONObject(p); err == nil {
			c.valid = true
			for _, m := range po {
				c.profiles[m.name] = true
			}
		}
	}
	switch {
	case shared:
		c.valid = true
	case store == nil:
		c.why = "it has no credential store row, so OpenClaw ignores its state"
	case !c.valid:
		c.why = `its credential store has no "profiles" object, so OpenClaw ignores its state`
	}
	if state == nil {
		return c, nil
	}
	top, err := parseJSONObject(state)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: the usage state is not a JSON object OpenClaw could read (%v)", ErrAmbiguous, c.describe(), err)
	}
	if u, ok := top.get("usageStats"); ok && !isJSONNull(u) {
		if c.usage, err = parseJSONObject(u); err != nil {
			return nil, fmt.Errorf("%w: %s: usageStats is not an object (%v)", ErrAmbiguous, c.describe(), err)
		}
	}
	return c, nil
}

func (c *stateCopy) describe() string {
	if c.key != "" {
		return fmt.Sprintf("%s row %s", c.path, c.key)
	}
	return c.path
}

func (c *stateCopy) entry(id string) (json.RawMessage, bool) {
	if c == nil {
		return nil, false
	}
	return c.usage.get(id)
}

func (rp *resetPlanner) collectKnown() {
	for _, c := range rp.chain {
		for id := range c.profiles {
			rp.known[id] = true
		}
		for _, m := range c.usage {
			rp.known[m.name] = true
		}
	}
}

func (rp *resetPlanner) plans(snap *openclaw.Snapshot, agentID string, ids []string) ([]*ResetPlan, error) {
	fields := rp.fields
	byCopy := map[*stateCopy][]string{}
	var clean []string
	for _, id := range ids {
		// The first copy holding an entry is the one OpenClaw uses
		// (mergeAuthProfileStores / mergeAuthProfileState: per key).
		var c *stateCopy
		for _, cand := range rp.chain {
			if _, ok := cand.entry(id); ok {
				c = cand
				break
			}
		}
		if c != nil && !c.valid {
			return nil, fmt.Errorf("%w: %s has usage state for %s but %s; the state that applies is elsewhere and the bot will not guess",
				ErrAmbiguous, c.describe(), id, c.why)
		}
		if c == nil {
			if !rp.known[id] && !strings.HasPrefix(id, "inline-api-key:") {
				return nil, fmt.Errorf("plan reset: no profile %s for agent %s (not in %s)", id, agentID, rp.paths())
			}
			clean = append(clean, id)
			continue
		}
		e, _ := c.entry(id)
		eo, err := parseJSONObject(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: usageStats[%s] is not an object (%v)", ErrAmbiguous, c.describe(), id, err)
		}
		if _, changed := resetEntry(eo, fields); !changed {
			clean = append(clean, id)
			continue
		}
		byCopy[c] = append(byCopy[c], id)
	}
	if len(byCopy) == 0 {
		return nil, fmt.Errorf("%w: %s %s no cooldown, disable or failure count where OpenClaw reads %s for agent %s",
			ErrNothingToReset, strings.Join(clean, ", "), plural(len(clean), "has", "have"), plural(len(clean), "it", "them"), agentID)
	}
	var out []*ResetPlan
	for c, pids := range byCopy {
		out = append(out, &ResetPlan{
			Loc: snap.Location, AgentID: agentID, Profiles: pids,
			Where: c.where, Path: c.path, Key: c.key, Before: bytes.Clone(c.raw), Fields: fields,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// paths names the files the planner read, for errors.
func (rp *resetPlanner) paths() string {
	var out []string
	for _, c := range rp.chain {
		if !slices.Contains(out, c.path) {
			out = append(out, c.path)
		}
	}
	return strings.Join(out, " or ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// strictSharedLocation parses auth.sharedStore like OpenClaw's
// parseSharedAuthStoreOwnership: exactly {"location":"legacy-main"|"state-db"}.
func strictSharedLocation(b []byte) string {
	o, err := parseJSONObject(b)
	if err != nil || len(o) != 1 || o[0].name != "location" {
		return ""
	}
	var s string
	if json.Unmarshal(o[0].val, &s) != nil || (s != "legacy-main" && s != "state-db") {
		return ""
	}
	return s
}

// ---------------------------------------------------------------------------
// Applying and undoing.

// ApplyReset performs the plan: it re-reads the row (or file), aborts with
// ErrChanged if it differs from plan.Before, clears the failure state of
// plan.Profiles exactly like OpenClaw's resetAuthProfileFailureState and
// writes it back, all in one short transaction (SQLite: BEGIN IMMEDIATE
// with a busy timeout; legacy JSON: under OpenClaw's own lock, atomic
// replace). It returns the bytes written. A running gateway keeps its
// in-memory copy until RefreshGateway.
func ApplyReset(ctx context.Context, plan *ResetPlan) (after []byte, err error) {
	if err := plan.check(); err != nil {
		return nil, err
	}
	if len(plan.Profiles) == 0 {
		return nil, errors.New("apply reset: the plan names no profile")
	}
	fields := plan.Fields
	if len(fields) == 0 {
		fields = resetFields
		if plan.Where == openclaw.StoreLegacyJSON || plan.Where == openclaw.StoreAuthState {
			fields = legacyResetFields
		}
	}
	next := func(cur []byte) ([]byte, error) {
		out, err := resetState(cur, plan.Profiles, fields, plan.Where == openclaw.StoreLegacyJSON || plan.Where == openclaw.StoreAuthState)
		if err != nil {
			return nil, fmt.Errorf("apply reset: %s: %w", plan.describe(), err)
		}
		return out, nil
	}
	return swapState(ctx, plan, plan.Before, next)
}

// RestoreBackup is the undo of ApplyReset: it writes backup (normally
// plan.Before) back, but only if the row or file still holds expectCurrent
// (what ApplyReset returned); otherwise ErrChanged and nothing is written.
func RestoreBackup(ctx context.Context, plan *ResetPlan, backup, expectCurrent []byte) error {
	if err := plan.check(); err != nil {
		return err
	}
	if _, err := parseJSONObject(backup); err != nil {
		return fmt.Errorf("restore: the backup is not a JSON object: %v", err)
	}
	if len(expectCurrent) == 0 {
		return errors.New("restore: no expected current value")
	}
	_, err := swapState(ctx, plan, expectCurrent, func([]byte) ([]byte, error) { return bytes.Clone(backup), nil })
	return err
}

func (p *ResetPlan) check() error {
	if p == nil {
		return errors.New("reset: nil plan")
	}
	if len(p.Before) == 0 {
		return errors.New("reset: the plan has no preview bytes")
	}
	base := filepath.Base(p.Path)
	switch p.Where {
	case openclaw.StoreStateDB:
		if p.Key != openclaw.KeyProfileState || base != "openclaw.sqlite" {
			return fmt.Errorf("reset: a state-db plan must target row %s of state/openclaw.sqlite, not %q of %s", openclaw.KeyProfileState, p.Key, p.Path)
		}
	case openclaw.StoreAgentDB:
		if p.Key != openclaw.AgentRowKey || base != "openclaw-agent.sqlite" {
			return fmt.Errorf("reset: an agent-db plan must target row %s of an openclaw-agent.sqlite, not %q of %s", openclaw.AgentRowKey, p.Key, p.Path)
		}
	case openclaw.StoreLegacyJSON:
		if p.Key != "" || base != "auth-profiles.json" {
			return fmt.Errorf("reset: a legacy-json plan must target an auth-profiles.json, not %s", p.Path)
		}
	case openclaw.StoreAuthState:
		if p.Key != "" || base != openclaw.AuthStateName {
			return fmt.Errorf("reset: an auth-state-json plan must target an %s, not %s", openclaw.AuthStateName, p.Path)
		}
	default:
		return fmt.Errorf("reset: unknown store kind %q", p.Where)
	}
	if !filepath.IsAbs(p.Path) {
		return fmt.Errorf("reset: path %s is not absolute", p.Path)
	}
	return nil
}

func (p *ResetPlan) describe() string {
	if p.Key != "" {
		return fmt.Sprintf("%s row %s", p.Path, p.Key)
	}
	return p.Path
}

// swapState replaces the state with next(cur) if cur equals expect.
func swapState(ctx context.Context, plan *ResetPlan, expect []byte, next func([]byte) ([]byte, error)) ([]byte, error) {
	switch plan.Where {
	case openclaw.StoreLegacyJSON:
		return swapLegacy(ctx, plan.Path, plan.Path, expect, next)
	case openclaw.StoreAuthState:
		// 2026.4.7–6.1 take the auth-profiles.json lock for both files
		// (updateAuthProfileStoreWithLock) and write them atomically.
		return swapLegacy(ctx, filepath.Join(filepath.Dir(plan.Path), "auth-profiles.json"), plan.Path, expect, next)
	}
	table, keyCol, valCol, timeCol := "config_machine_state", "state_key", "value_json", "updated_at_ms"
	if plan.Where == openclaw.StoreAgentDB {
		table, keyCol, valCol, timeCol = "auth_profile_state", "state_key", "state_json", "updated_at"
	}
	return swapSQLite(ctx, plan.Path, table, keyCol, valCol, timeCol, plan.Key, expect, next)
}

// openRW opens an existing OpenClaw database read-write: mode=rw (never
// creates it), a busy timeout, BEGIN IMMEDIATE transactions. No
// journal-mode pragma (OpenClaw's WAL stays), never immutable.
func openRW(path string) (*sql.DB, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	u := url.URL{Scheme: "file", Path: path}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", writeBusyTimeout.Milliseconds()))
	q.Set("_txlock", "immediate")
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, fi, nil
}

func swapSQLite(ctx context.Context, path, table, keyCol, valCol, timeCol, key string, expect []byte, next func([]byte) ([]byte, error)) (out []byte, err error) {
	db, fi, err := openRW(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		db.Close()
		fixSidecarOwner(path, fi)
	}()
	ctx, cancel := context.WithTimeout(ctx, writeBusyTimeout+5*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return nil, writeErr(path, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Table and column names are constants chosen by Where, never input.
	var cur string
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ?`, valCol, table, keyCol), key).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s row %s no longer exists", ErrChanged, path, key)
	}
	if err != nil {
		return nil, writeErr(path, err)
	}
	if !bytes.Equal([]byte(cur), expect) {
		return nil, fmt.Errorf("%w: %s row %s differs from what was previewed", ErrChanged, path, key)
	}
	out, err = next([]byte(cur))
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = ?, %s = ? WHERE %s = ?`, table, valCol, timeCol, keyCol),
		string(out), time.Now().UnixMilli(), key)
	if err != nil {
		return nil, writeErr(path, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, fmt.Errorf("%s: update of row %s affected %d rows (%v); rolled back", path, key, n, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, writeErr(path, err)
	}
	return out, nil
}

func writeErr(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked"):
		return fmt.Errorf("%s: %w", path, openclaw.ErrLocked)
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "SQLITE_READONLY") || strings.Contains(msg, "unable to open") || strings.Contains(msg, "SQLITE_CANTOPEN"):
		return fmt.Errorf("%s: cannot write (check that the bot runs as the state dir's owner): %v", path, err)
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// fixSidecarOwner gives WAL/SHM files SQLite may have created while we (as
// root) had the database open back to the database's owner, so OpenClaw
// running as that user can still open it.
func fixSidecarOwner(path string, fi os.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 || st.Uid == 0 {
		return
	}
	for _, suf := range []string{"-wal", "-shm", "-journal"} {
		var s syscall.Stat_t
		if syscall.Lstat(path+suf, &s) == nil && s.Uid == 0 {
			_ = os.Lchown(path+suf, int(st.Uid), int(st.Gid))
		}
	}
}

// ---------------------------------------------------------------------------
// Legacy auth-profiles.json (2026.3.x).

// swapLegacy replaces a JSON state file under OpenClaw's lock of lockFile.
func swapLegacy(ctx context.Context, lockFile, path string, expect []byte, next func([]byte) ([]byte, error)) ([]byte, error) {
	lock, err := acquireLegacyLock(ctx, lockFile)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	cur, fi, err := readLegacyStable(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s no longer exists", ErrChanged, path)
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(cur, expect) {
		return nil, fmt.Errorf("%w: %s differs from what was previewed", ErrChanged, path)
	}
	out, err := next(cur)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomicLike(path, out, fi); err != nil {
		return nil, err
	}
	return out, nil
}

// readLegacyStable reads a legacy JSON file, retrying briefly while it is
// empty or invalid (2026.3.x truncates, then writes).
func readLegacyStable(path string) ([]byte, os.FileInfo, error) {
	var lastErr error
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 {
			time.Sleep(25 * time.Millisecond)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, nil, err
		}
		if fi.Size() > openclaw.MaxRowBytes {
			return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d we read", path, fi.Size(), openclaw.MaxRowBytes)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		if json.Valid(b) {
			return b, fi, nil
		}
		lastErr = fmt.Errorf("%w: %s is not valid JSON (%d bytes; OpenClaw may be writing it, or it is damaged)", ErrAmbiguous, path, len(b))
	}
	return nil, nil, lastErr
}

// writeFileAtomicLike replaces path with data: a temp file in the same
// directory with the old file's mode and owner, fsync, rename, fsync dir.
func writeFileAtomicLike(path string, data []byte, old os.FileInfo) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".openclaw-bot-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Chmod(old.Mode().Perm()); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		if err = f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("keep the owner %d:%d of %s: %w", st.Uid, st.Gid, path, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

type legacyLock struct {
	path    string
	payload []byte
}

// legacyLockPath is OpenClaw's realpath(dirname(file)) + "/" + basename + ".lock".
func legacyLockPath(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	dir := filepath.Dir(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Join(dir, filepath.Base(abs)+".lock")
}

// acquireLegacyLock takes OpenClaw 2026.3.x's auth-profiles.json.lock: an
// O_EXCL sidecar with JSON.stringify({pid, createdAt}, null, 2). A lock of
// a dead (or zombie) pid, older than 30 s by createdAt, or unreadable with
// an mtime older than 30 s is stale and removed, like OpenClaw does. Other
// locks are waited for with OpenClaw's backoff (100 ms ·2^n, jittered,
// ≤ 10 s per step) for at most legacyLockWait. Unlike OpenClaw, the bot
// never writes without the lock.
func acquireLegacyLock(ctx context.Context, file string) (*legacyLock, error) {
	lockPath := legacyLockPath(file)
	deadline := time.Now().Add(legacyLockWait)
	for attempt := 0; ; attempt++ {
		payload := fmt.Appendf(nil, "{\n  \"pid\": %d,\n  \"createdAt\": %q\n}", os.Getpid(),
			time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
		f, err := os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.Write(payload)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(lockPath)
				return nil, fmt.Errorf("write %s: %v", lockPath, errors.Join(werr, cerr))
			}
			return &legacyLock{path: lockPath, payload: payload}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", lockPath, err)
		}
		held, stale := legacyLockStaleness(lockPath)
		if stale && time.Now().Before(deadline) {
			// Re-check right before removing so a lock that was replaced
			// meanwhile is not removed (OpenClaw just rm's it).
			if b, err := os.ReadFile(lockPath); err == nil && bytes.Equal(b, held) {
				if err := os.Remove(lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("remove stale lock %s: %w", lockPath, err)
				}
			}
			continue
		}
		wait := time.Duration(min(10000, float64(max(100, 100*(1<<min(attempt, 10))))*(1+rand.Float64()))) * time.Millisecond
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%w: %s held (%s) for longer than %s; try again later", ErrLegacyLocked, lockPath, legacyLockOwner(held), legacyLockWait)
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// legacyLockStaleness reads a lock and applies OpenClaw's isStaleLock.
func legacyLockStaleness(lockPath string) (content []byte, stale bool) {
	b, err := os.ReadFile(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true // gone: retry at once
	}
	var p struct {
		PID       *float64 `json:"pid"`
		CreatedAt *string  `json:"createdAt"`
	}
	if err == nil && json.Unmarshal(b, &p) == nil && p.PID != nil && p.CreatedAt != nil {
		if *p.PID != 0 && !pidAlive(*p.PID) {
			return b, true
		}
		t, perr := parseJSDate(*p.CreatedAt)
		if perr != nil || time.Since(t) > legacyLockStale {
			return b, true
		}
	}
	fi, err := os.Stat(lockPath)
	if err != nil {
		return b, true
	}
	return b, time.Since(fi.ModTime()) > legacyLockStale
}

func legacyLockOwner(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "empty lock file"
	}
	return text.Truncate(s, 121)
}

func parseJSDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

// pidAlive is OpenClaw's isPidAlive: kill(pid, 0) succeeds (EPERM counts as
// dead, as in Node) and the process is not a zombie.
func pidAlive(f float64) bool {
	pid := int(f)
	if float64(pid) != f || pid <= 0 {
		return false
	}
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			return !strings.HasPrefix(strings.TrimSpace(v), "Z")
		}
	}
	return true
}

func (l *legacyLock) release() {
	if b, err := os.ReadFile(l.path); err == nil && bytes.Equal(b, l.payload) {
		os.Remove(l.path)
	}
}

// ---------------------------------------------------------------------------
// Gateway.

// What RefreshGateway achieved (GatewayRefresh.Outcome).
const (
	// GatewayReloaded: the RPC that makes this release drop the old
	// cooldown (Release.Refresh, measured) answered OK.
	GatewayReloaded = "reloaded"
	// GatewayRestartNeeded: the gateway runs a release that keeps the old
	// cooldown in memory whatever it is told (2026.8.x, RefreshRestart):
	// only a restart ends it. No reload RPC was sent.
	GatewayRestartNeeded = "restart-needed"
	// GatewayReadsDisk: the gateway reads the state from disk on every use
	// (up to 2026.2.25, RefreshNone): nothing to tell it.
	GatewayReadsDisk = "reads-disk"
	// GatewayUnconfirmed: the gateway accepted secrets.reload, but its
	// release is unknown, and 2026.8.x gateways accept it too without
	// dropping the cooldown: if it still skips the profile, restart it.
	GatewayUnconfirmed = "unconfirmed"
)

// GatewayRefresh is what RefreshGateway did.
type GatewayRefresh struct {
	// Version is the OpenClaw release the choice was made for: the running
	// gateway's runtimeVersion when RefreshGateway asked it, else the
	// install's (meta.lastTouchedVersion); "" when unknown.
	Version string `json:"version,omitempty"`
	// Outcome is GatewayReloaded, GatewayRestartNeeded, GatewayReadsDisk
	// or GatewayUnconfirmed ("" with an error).
	Outcome string `json:"outcome,omitempty"`
	// Method is the reload RPC that answered, or that failed when an error
	// is returned ("models.authRefresh", "secrets.reload"); "" when none
	// was sent.
	Method string `json:"method,omitempty"`
	// Unknown lists the RPCs the gateway answered with "unknown method".
	Unknown []string `json:"unknown,omitempty"`
}

// RefreshGateway makes a running gateway drop the auth state it keeps in
// memory after the bot edited it on disk (a reset or an undo), the way that
// release's gateway can (Release.Refresh, measured on a real gateway of
// 2026.4.24, 6.11, 7.35, 8.2 and 9.6):
//
//   - 2026.9.5+: `gateway call models.authRefresh {"operation":"update"}`
//     (RefreshGatewayAgent; per agent when the gateway asks for agentId);
//   - 2026.2.26 – 7.x: `gateway call secrets.reload {}`;
//   - 2026.8.x: nothing reloads it; RefreshGateway only asks the gateway
//     its runtimeVersion (`gateway call status`) and returns
//     GatewayRestartNeeded;
//   - up to 2026.2.25: nothing to do (GatewayReadsDisk).
//
// version is the install's release (Snapshot.Version); "" falls back to
// cli.ExpectVersion, then to meta.lastTouchedVersion of the install's
// openclaw.json, then to the newest behaviour. A gateway that answers
// models.authRefresh with "unknown method" is older than that: its
// runtimeVersion decides, and when it has none secrets.reload is tried
// (GatewayUnconfirmed when accepted, GatewayReadsDisk when unknown too).
//
// Every call goes through the guarded runner (the gateway token in the
// environment, never argv). A gateway that is not running yields
// ErrNoGateway, which is fine: a gateway reads the state when it starts.
func RefreshGateway(ctx context.Context, cli *run.CLI, version string) (GatewayRefresh, error) {
	if cli == nil {
		return GatewayRefresh{}, errors.New("refresh gateway: no CLI")
	}
	if version == "" {
		version = strings.TrimPrefix(strings.TrimSpace(cli.ExpectVersion), "v")
	}
	if version == "" {
		if cfg, err := openclaw.ReadConfig(cli.Loc.ConfigPath); err == nil && cfg != nil {
			version = cfg.Version
		}
	}
	out := GatewayRefresh{Version: version}
	switch openclaw.RefreshOf(version) {
	case openclaw.RefreshNone:
		out.Outcome = GatewayReadsDisk
		return out, nil
	case openclaw.RefreshSecrets:
		return refreshSecrets(ctx, cli, out, true)
	case openclaw.RefreshRestart:
		// Ask the gateway what it runs: it may be newer than the config
		// says, and a gateway that is down needs no restart.
		rv, err := gatewayRuntimeVersion(ctx, cli)
		if errors.Is(err, ErrNoGateway) {
			return out, err
		}
		if rv != "" && openclaw.RefreshOf(rv) != openclaw.RefreshRestart {
			out.Version = rv
			if openclaw.RefreshOf(rv) == openclaw.RefreshAuth {
				return refreshAuth(ctx, cli, out)
			}
			return refreshSecrets(ctx, cli, out, true)
		}
		out.Outcome = GatewayRestartNeeded
		return out, nil
	}
	return refreshAuth(ctx, cli, out)
}

// refreshAuth: models.authRefresh, then, on "unknown method", what the
// gateway's runtimeVersion calls for.
func refreshAuth(ctx context.Context, cli *run.CLI, out GatewayRefresh) (GatewayRefresh, error) {
	out.Method = openclaw.RefreshAuth
	err := refreshAuthAll(ctx, cli)
	if err == nil {
		out.Outcome = GatewayReloaded
		return out, nil
	}
	if !errors.Is(err, errUnknownMethod) {
		return out, err
	}
	out.Unknown = append(out.Unknown, openclaw.RefreshAuth)
	out.Method = ""
	rv, verr := gatewayRuntimeVersion(ctx, cli)
	if errors.Is(verr, ErrNoGateway) { // stopped meanwhile
		return out, verr
	}
	if rv != "" && openclaw.RefreshOf(rv) != openclaw.RefreshAuth {
		out.Version = rv
		switch openclaw.RefreshOf(rv) {
		case openclaw.RefreshRestart:
			out.Outcome = GatewayRestartNeeded
			return out, nil
		case openclaw.RefreshNone:
			out.Outcome = GatewayReadsDisk
			return out, nil
		}
		return refreshSecrets(ctx, cli, out, true)
	}
	// Older than models.authRefresh, but which release is unknown.
	if out.Version != "" && !openclaw.VersionLess(out.Version, openclaw.FirstRefreshAuth) {
		out.Version = "" // the install's version is not the gateway's
	}
	return refreshSecrets(ctx, cli, out, false)
}

// refreshSecrets sends secrets.reload. known: the gateway's release is one
// that secrets.reload is known to reload (GatewayReloaded), else
// GatewayUnconfirmed. "unknown method" means a gateway before 2026.2.26,
// which reads the state from disk.
func refreshSecrets(ctx context.Context, cli *run.CLI, out GatewayRefresh, known bool) (GatewayRefresh, error) {
	out.Method = openclaw.RefreshSecrets
	res, err := cli.GatewayCall(ctx, openclaw.RefreshSecrets, map[string]any{})
	if err != nil {
		if unknownMethod(res, err, openclaw.RefreshSecrets) {
			out.Unknown = append(out.Unknown, openclaw.RefreshSecrets)
			out.Method, out.Outcome = "", GatewayReadsDisk
			return out, nil
		}
		return out, gatewayCallError(err)
	}
	var ok struct {
		OK *bool `json:"ok"`
	}
	if err := res.Decode(&ok); err != nil || ok.OK == nil || !*ok.OK {
		return out, fmt.Errorf("refresh gateway: %s answered %s, not {\"ok\":true}", res.Command(), run.Snippet(res.JSON, 200))
	}
	out.Outcome = GatewayUnconfirmed
	if known {
		out.Outcome = GatewayReloaded
	}
	return out, nil
}

// refreshAuthAll is models.authRefresh without agentId. Without one the
// gateway refreshes its ambient model-auth owner (the sole agent, or
// agents.defaults.systemAgent). A multi-agent install without one answers
// INVALID_REQUEST "… Pass agentId to select a configured agent." (measured
// on 2026.9.6); then every agent configured in the install's openclaw.json
// is refreshed, one call each.
func refreshAuthAll(ctx context.Context, cli *run.CLI) error {
	err := RefreshGatewayAgent(ctx, cli, "")
	var ce *run.CLIError
	if err == nil || !errors.As(err, &ce) || ce.Code != "INVALID_REQUEST" || !strings.Contains(ce.Message, "Pass agentId") {
		return err
	}
	cfg, cerr := openclaw.ReadConfig(cli.Loc.ConfigPath)
	if cerr != nil || cfg == nil || len(cfg.Agents) == 0 {
		return fmt.Errorf("%w (and the agents of %s could not be listed: %v)", err, cli.Loc.ConfigPath, cerr)
	}
	var errs []error
	for _, a := range cfg.Agents {
		if e := RefreshGatewayAgent(ctx, cli, a.ID); e != nil {
			errs = append(errs, fmt.Errorf("agent %s: %w", a.ID, e))
		}
	}
	return errors.Join(errs...)
}

// RefreshGatewayAgent sends models.authRefresh {"operation":"update"} with
// params.agentId (none when ""). A gateway before 2026.9.5 answers
// "unknown method" (an error wrapping errUnknownMethod).
func RefreshGatewayAgent(ctx context.Context, cli *run.CLI, agentID string) error {
	if cli == nil {
		return errors.New("refresh gateway: no CLI")
	}
	params := map[string]string{"operation": "update"}
	if agentID != "" {
		params["agentId"] = agentID
	}
	res, err := cli.GatewayCall(ctx, openclaw.RefreshAuth, params)
	if err != nil {
		if unknownMethod(res, err, openclaw.RefreshAuth) {
			return fmt.Errorf("refresh gateway: %w: %w", errUnknownMethod, err)
		}
		return gatewayCallError(err)
	}
	var out struct {
		Refreshed bool `json:"refreshed"`
	}
	if err := res.Decode(&out); err != nil || !out.Refreshed {
		return fmt.Errorf("refresh gateway: %s answered %s, not {\"refreshed\":true}", res.Command(), run.Snippet(res.JSON, 200))
	}
	return nil
}

// gatewayRuntimeVersion asks the gateway its release (`gateway call status`
// answers runtimeVersion since 2026.3.x; measured on 2026.8.2). "" when it
// does not say; ErrNoGateway when none runs.
func gatewayRuntimeVersion(ctx context.Context, cli *run.CLI) (string, error) {
	res, err := cli.GatewayCall(ctx, "status", map[string]any{})
	if err != nil {
		return "", gatewayCallError(err)
	}
	var st struct {
		RuntimeVersion string `json:"runtimeVersion"`
	}
	if res.Decode(&st) != nil {
		return "", nil
	}
	return run.VersionRE.FindString(st.RuntimeVersion), nil
}

// errUnknownMethod: the gateway does not know the method (it predates it).
var errUnknownMethod = errors.New("the gateway does not know this method")

// unknownMethod: the gateway answered "unknown method: <method>" —
// INVALID_REQUEST as JSON (2026.6.11+, measured), or as text on stderr
// ("Gateway call failed: GatewayClientRequestError: unknown method: …",
// 2026.4.24, measured).
func unknownMethod(res *run.Result, err error, method string) bool {
	want := "unknown method: " + method
	var ce *run.CLIError
	if errors.As(err, &ce) {
		return ce.Type != "gateway_transport_error" && strings.Contains(ce.Message, want)
	}
	return res != nil && len(res.JSON) == 0 && bytes.Contains(res.Stderr, []byte(want))
}

// gatewayCallError types a failed gateway call: ErrNoGateway when nothing
// listens, else the error as is.
func gatewayCallError(err error) error {
	var ce *run.CLIError
	if errors.As(err, &ce) && gatewayNotRunning(ce) {
		return &noGatewayError{cause: err}
	}
	return fmt.Errorf("refresh gateway: %w", err)
}

// gatewayNotRunning: nothing listens on the gateway port (ECONNREFUSED).
// Other transport failures (reset, timeout) may be a gateway that is up but
// busy or restarting: that is not "fine", the caller must say so.
func gatewayNotRunning(ce *run.CLIError) bool {
	return ce.Type == "gateway_transport_error" && ce.Kind == "closed" &&
		strings.Contains(ce.Message+" "+ce.Reason, "ECONNREFUSED")
}

type noGatewayError struct{ cause error }

func (e *noGatewayError) Error() string   { return ErrNoGateway.Error() + ": " + e.cause.Error() }
func (e *noGatewayError) Unwrap() []error { return []error{ErrNoGateway, e.cause} }

// ---------------------------------------------------------------------------
// Order-preserving JSON editing.

// jsonMember is one member of a JSON object: its decoded name, its raw key
// token (as written, escapes included) and its raw value.
type jsonMember struct {
	name string
	key  []byte
	val  json.RawMessage
}

type jsonObject []jsonMember

// parseJSONObject splits a JSON object into its members in order, keeping
// raw keys and values. Duplicate names are refused (which one OpenClaw
// would use is not worth guessing).
func parseJSONObject(b []byte) (jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	obj := jsonObject{}
	seen := map[string]bool{}
	prev := dec.InputOffset()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected token %v", tok)
		}
		end := dec.InputOffset()
		key := bytes.TrimLeft(b[prev:end], " \t\r\n,")
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		prev = dec.InputOffset()
		if seen[name] {
			return nil, fmt.Errorf("duplicate key %q", name)
		}
		seen[name] = true
		obj = append(obj, jsonMember{name: name, key: bytes.Clone(key), val: val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return obj, nil
}

func (o jsonObject) get(name string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.name == name {
			return m.val, true
		}
	}
	return nil, false
}

func (o jsonObject) set(name string, val []byte) jsonObject {
	for i := range o {
		if o[i].name == name {
			o[i].val = val
			return o
		}
	}
	key, _ := json.Marshal(name)
	return append(o, jsonMember{name: name, key: key, val: val})
}

func (o jsonObject) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.key)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func isJSONNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// resetEntry is resetAuthProfileFailureState on one usageStats entry:
// fields removed, errorCount 0 in place (appended when absent).
func resetEntry(e jsonObject, fields []string) (jsonObject, bool) {
	out := make(jsonObject, 0, len(e)+1)
	for _, m := range e {
		if slices.Contains(fields, m.name) {
			continue
		}
		out = append(out, m)
	}
	out = out.set("errorCount", []byte("0"))
	return out, !bytes.Equal(compactJSON(e.encode()), compactJSON(out.encode()))
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// resetState applies resetEntry to the given profiles of a state document
// (an authProfiles.state / auth_profile_state row, or a whole legacy file)
// and returns it compact (SQLite rows, JSON.stringify) or indented by two
// spaces with a final newline (legacy files, JSON.stringify(…, null, 2)+"\n").
func resetState(doc []byte, profiles, fields []string, indent bool) ([]byte, error) {
	top, err := parseJSONObject(doc)
	if err != nil {
		return nil, fmt.Errorf("state is not a JSON object: %v", err)
	}
	u, ok := top.get("usageStats")
	if !ok || isJSONNull(u) {
		return nil, fmt.Errorf("%w: no usageStats", ErrNothingToReset)
	}
	usage, err := parseJSONObject(u)
	if err != nil {
		return nil, fmt.Errorf("usageStats is not an object: %v", err)
	}
	changed := false
	for _, id := range profiles {
		e, ok := usage.get(id)
		if !ok {
			continue
		}
		eo, err := parseJSONObject(e)
		if err != nil {
			return nil, fmt.Errorf("usageStats[%s] is not an object: %v", id, err)
		}
		ne, ch := resetEntry(eo, fields)
		if ch {
			usage = usage.set(id, ne.encode())
			changed = true
		}
	}
	if !changed {
		return nil, fmt.Errorf("%w: %s already clean", ErrNothingToReset, strings.Join(profiles, ", "))
	}
	top = top.set("usageStats", usage.encode())
	out := compactJSON(top.encode())
	if !json.Valid(out) {
		return nil, errors.New("internal error: the edited state is not valid JSON")
	}
	if !indent {
		return out, nil
	}
	var b bytes.Buffer
	if err := json.Indent(&b, out, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func resetSnippet(b []byte) string { return text.Truncate(string(b), 81) }

// ReadFrom reports whether the plan was made from exactly the state bytes
// snap read from the same store, so that what snap shows (its Windows) is
// what ApplyReset will compare against inside its write transaction.
func (p *ResetPlan) ReadFrom(snap *openclaw.Snapshot) bool {
	return p != nil && snap.Holds(p.Path, p.Before)
}
