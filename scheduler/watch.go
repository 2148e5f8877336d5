package scheduler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchedNames are the files whose change can change a diagnosis.
var watchedNames = map[string]bool{
	"openclaw.json": true, "clawdbot.json": true, ".env": true,
	"openclaw.sqlite": true, "openclaw.sqlite-wal": true,
	"openclaw-agent.sqlite": true, "openclaw-agent.sqlite-wal": true,
	"auth-profiles.json": true, "auth-state.json": true, "auth.json": true, "oauth.json": true,
}

// WatchOptions tune a Watcher.
type WatchOptions struct {
	// Debounce coalesces bursts of writes (SQLite writes the WAL and the
	// database in quick succession). Default 200ms.
	Debounce time.Duration
	// PollEvery is the polling period when fsnotify cannot be used (the
	// kernel's inotify limits are reached) and the rescan period for new
	// agent directories. Default 1s.
	PollEvery time.Duration
	// ForcePoll disables fsnotify (tests, network file systems).
	ForcePoll bool
	// OnChange is called with the target whose state changed; calls for
	// one target never overlap.
	OnChange func(target string)
	// OnMode is told "fsnotify" or "poll: <why>" when the mode is chosen.
	OnMode func(mode string)
}

// Watcher is the one shared watcher of every target's state dir: fsnotify on
// directories (atomic replaces swap inodes, so files are not watched
// directly), filtered by name, debounced per target; polling when the
// kernel limit on watches is reached.
type Watcher struct {
	opts    WatchOptions
	mu      sync.Mutex
	targets map[string]string // target → state dir
	timers  map[string]*time.Timer
	running map[string]bool
	pending map[string]bool
}

// NewWatcher returns a watcher; Add targets, then Run.
func NewWatcher(opts WatchOptions) *Watcher {
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = time.Second
	}
	if opts.OnChange == nil {
		opts.OnChange = func(string) {}
	}
	if opts.OnMode == nil {
		opts.OnMode = func(string) {}
	}
	return &Watcher{opts: opts, targets: map[string]string{}, timers: map[string]*time.Timer{}, running: map[string]bool{}, pending: map[string]bool{}}
}

// Add registers a target's state dir. Call before Run.
func (w *Watcher) Add(target, stateDir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.targets[target] = filepath.Clean(stateDir)
}

// dirs lists the directories of a state dir that hold watched files.
func dirs(stateDir string) []string {
	out := []string{stateDir, filepath.Join(stateDir, "state"), filepath.Join(stateDir, "credentials"), filepath.Join(stateDir, "agents")}
	if ents, err := os.ReadDir(filepath.Join(stateDir, "agents")); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				out = append(out, filepath.Join(stateDir, "agents", e.Name()), filepath.Join(stateDir, "agents", e.Name(), "agent"))
			}
		}
	}
	return out
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.stopTimers()
	if !w.opts.ForcePoll {
		fw, err := fsnotify.NewWatcher()
		if err == nil {
			err = w.runNotify(ctx, fw)
			fw.Close()
			if err == nil || ctx.Err() != nil {
				return nil
			}
		}
		w.opts.OnMode("poll: " + err.Error())
	} else {
		w.opts.OnMode("poll: forced")
	}
	return w.runPoll(ctx)
}

// errLimit means the kernel refused more watches.
var errLimit = errors.New("inotify watch limit reached (fs.inotify.max_user_watches)")

func (w *Watcher) runNotify(ctx context.Context, fw *fsnotify.Watcher) error {
	watched := map[string]string{} // dir → target
	rescan := func() error {
		w.mu.Lock()
		defer w.mu.Unlock()
		for target, sd := range w.targets {
			for _, d := range dirs(sd) {
				if _, ok := watched[d]; ok {
					continue
				}
				if err := fw.Add(d); err != nil {
					if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
						return errLimit
					}
					continue // not there yet; the rescan will retry
				}
				watched[d] = target
			}
		}
		return nil
	}
	if err := rescan(); err != nil {
		return err
	}
	w.opts.OnMode("fsnotify")
	tick := time.NewTicker(w.opts.PollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := rescan(); err != nil {
				return err
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("fsnotify closed")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: re-read every target.
				w.mu.Lock()
				for t := range w.targets {
					w.kickLocked(t)
				}
				w.mu.Unlock()
			}
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("fsnotify closed")
			}
			dir, name := filepath.Dir(ev.Name), filepath.Base(ev.Name)
			target, ok := watched[dir]
			if !ok {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					_ = rescan() // a new agent directory
					continue
				}
			}
			if watchedNames[name] && !ev.Has(fsnotify.Chmod) {
				w.kick(target)
			}
		}
	}
}

type fileStamp struct {
	size int64
	mod  time.Time
}

func (w *Watcher) runPoll(ctx context.Context) error {
	last := map[string]map[string]fileStamp{}
	scan := func(first bool) {
		w.mu.Lock()
		targets := make(map[string]string, len(w.targets))
		for t, sd := range w.targets {
			targets[t] = sd
		}
		w.mu.Unlock()
		for t, sd := range targets {
			now := map[string]fileStamp{}
			for _, d := range dirs(sd) {
				ents, _ := os.ReadDir(d)
				for _, e := range ents {
					if !watchedNames[e.Name()] {
						continue
					}
					if fi, err := e.Info(); err == nil {
						now[filepath.Join(d, e.Name())] = fileStamp{fi.Size(), fi.ModTime()}
					}
				}
			}
			if !first && !sameStamps(last[t], now) {
				w.kick(t)
			}
			last[t] = now
		}
	}
	scan(true)
	tick := time.NewTicker(w.opts.PollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			scan(false)
		}
	}
}

func sameStamps(a, b map[string]fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (w *Watcher) kick(target string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kickLocked(target)
}

// kickLocked (re)starts the target's debounce timer. When it fires,
// OnChange runs; a change during a running OnChange schedules one more.
func (w *Watcher) kickLocked(target string) {
	if t := w.timers[target]; t != nil {
		t.Reset(w.opts.Debounce)
		return
	}
	w.timers[target] = time.AfterFunc(w.opts.Debounce, func() { w.fire(target) })
}

func (w *Watcher) fire(target string) {
	w.mu.Lock()
	if w.running[target] {
		w.pending[target] = true
		w.mu.Unlock()
		return
	}
	w.running[target] = true
	w.mu.Unlock()
	for {
		w.opts.OnChange(target)
		w.mu.Lock()
		if !w.pending[target] {
			w.running[target] = false
			w.mu.Unlock()
			return
		}
		w.pending[target] = false
		w.mu.Unlock()
	}
}

func (w *Watcher) stopTimers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.timers {
		t.Stop()
	}
}
