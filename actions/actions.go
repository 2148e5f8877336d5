// Package actions carries out the confirmed chat commands that change an
// OpenClaw install: cooldown reset (with backup and undo), gateway restart,
// doctor, OpenClaw's own token-spending probe. The chat router calls it only
// after the requester confirmed the preview; every action is time-limited,
// one at a time per target, and says plainly what it did and verified.
package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// Target is one install the actions may change.
type Target struct {
	diagnostics.Target
	CLI       *run.CLI          // guarded runner; nil: doctor, gateway refresh and probe --spend unavailable
	Restarter *change.Restarter // nil: restart unavailable
}

// Options configure Actions.
type Options struct {
	Targets   []Target
	Checker   *diagnostics.Checker // verifies keys after a reset; nil: not verified
	BackupDir string               // where reset backups go (0700 dir, 0600 files)
	Log       zerolog.Logger
	Now       func() time.Time
	// UndoWindow is how long a reset can be undone (default 1h).
	UndoWindow time.Duration
	// AfterChange runs after an action changed a target (serve re-evaluates
	// it at once, so the incident's alert message is updated in place).
	AfterChange func(ctx context.Context, target string)
}

// changed tells the watcher side that target was changed by an action.
func (a *Actions) changed(ctx context.Context, target string) {
	if a.opts.AfterChange != nil {
		a.opts.AfterChange(ctx, target)
	}
}

// Actions implements router.Actions.
type Actions struct {
	opts  Options
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

var (
	_ router.Actions   = (*Actions)(nil)
	_ router.Explainer = (*Actions)(nil)
)

// New returns the actions over the given targets.
func New(opts Options) *Actions {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UndoWindow <= 0 {
		opts.UndoWindow = time.Hour
	}
	return &Actions{opts: opts, locks: map[string]*sync.Mutex{}}
}

// ErrBusy means another action runs on the same target (the router's
// sentinel: an automatic reset that meets it did not start).
var ErrBusy = router.ErrBusy

// begin takes the target's action lock without waiting.
func (a *Actions) begin(target string) (Target, func(), error) {
	t, ok := a.target(target)
	if !ok {
		return Target{}, nil, fmt.Errorf("no target %q", target)
	}
	a.mu.Lock()
	m, ok := a.locks[t.Name]
	if !ok {
		m = &sync.Mutex{}
		a.locks[t.Name] = m
	}
	a.mu.Unlock()
	if !m.TryLock() {
		return t, nil, fmt.Errorf("%w (%s): try again when it has finished", ErrBusy, t.Name)
	}
	return t, m.Unlock, nil
}

func (a *Actions) target(name string) (Target, bool) {
	for _, t := range a.opts.Targets {
		if t.Name == name || name == "" && len(a.opts.Targets) == 1 {
			return t, true
		}
	}
	return Target{}, false
}

// Explain implements router.Explainer: a command whose action needs what
// the target lacks (router.Spec.Needs) answers with the manual steps
// instead of Confirm.
func (a *Actions) Explain(command, target string, args []string) (bot.Message, bool) {
	t, ok := a.target(target)
	spec, _ := router.SpecOf(command)
	if ok && (spec.Needs == router.NeedCLI && t.CLI == nil || spec.Needs == router.NeedRestarter && t.Restarter == nil) {
		return router.Unavailable{}.Explain(command, target, args)
	}
	return bot.Message{}, false
}

func (a *Actions) snapshot(ctx context.Context, t Target) (*openclaw.Snapshot, error) {
	loc, err := openclaw.Locate(t.Locate)
	if err != nil {
		return nil, err
	}
	// Bounded (a hung mount): an action refuses rather than hangs.
	return openclaw.ReadSnapshotWithin(ctx, loc, openclaw.ReadOptions{Env: t.Env, Now: a.opts.Now}, 0)
}

// backup is what a reset writes before changing anything; undo reads it.
type backup struct {
	Target string       `json:"target"`
	At     time.Time    `json:"at"`
	Plans  []backupPlan `json:"plans"`
}

type backupPlan struct {
	Plan   *change.ResetPlan `json:"plan"`
	Before []byte            `json:"before"`
	After  []byte            `json:"after,omitempty"`
}

func (a *Actions) writeBackup(b *backup) (string, error) {
	if a.opts.BackupDir == "" {
		return "", errors.New("no backup directory configured: refusing to change OpenClaw's state without a backup")
	}
	if err := os.MkdirAll(a.opts.BackupDir, 0o700); err != nil {
		return "", fmt.Errorf("backup dir: %w", err)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	path := filepath.Join(a.opts.BackupDir, fmt.Sprintf("reset-%s-%d.json", safeName(b.Target), b.At.UnixNano()))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, os.Rename(tmp, path)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func reply(sev bot.Severity, target, title string, lines ...[]bot.Span) bot.Message {
	m := bot.Message{Kind: bot.KindReply, Severity: sev, Target: target, Title: title}
	for i, l := range lines {
		if i > 0 {
			m.Text = append(m.Text, bot.T("\n"))
		}
		m.Text = append(m.Text, l...)
	}
	return m
}
