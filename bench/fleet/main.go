// Command fleet measures openclaw-bot on a fleet of fake OpenClaw installs
// (issue #6): evaluation rounds over 500 targets in a process of its own,
// and the resident memory of `openclaw-bot serve`.
//
//	fleet setup [-n 500] DIR             write DIR/installs/tNNN (4 Anthropic profiles, one cooling
//	                                     down), DIR/config.yaml and DIR/serve.yaml
//	fleet run [-rounds 10] [-workers 0] DIR
//	                                     evaluate every target of DIR/config.yaml N times (workers 0:
//	                                     one goroutine per target, like serve's cron); JSON
//	fleet measure [-rounds 10] [-workers 0] [-bot BIN] DIR
//	                                     `fleet run` as a child process plus its peak RSS (rusage);
//	                                     with -bot, also `BIN status --json` over the same config
//	fleet serve -bot BIN [-config FILE] [-wait 12s]
//	                                     start `BIN serve`, wait, read VmRSS/VmHWM, SIGTERM it; without
//	                                     -config a one-target install and config in a temp dir
//
// Every mode prints one JSON object with flat, unique keys (bench/run.sh
// reads them with grep). Nothing here leaves DIR or the temp dir it made.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

const usage = `usage:
  fleet setup [-n 500] DIR
  fleet run [-rounds 10] [-workers 0] DIR
  fleet measure [-rounds 10] [-workers 0] [-bot BIN] DIR
  fleet serve -bot BIN [-config FILE] [-wait 12s]
`

// profileIDs are the Anthropic profiles of every install; the first one is
// cooling down.
var profileIDs = []string{"anthropic:a", "anthropic:b", "anthropic:c", "anthropic:d"}

func main() {
	if err := dispatch(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("no mode\n" + usage)
	}
	fs := flag.NewFlagSet("fleet "+args[0], flag.ContinueOnError)
	n := fs.Int("n", 500, "setup: number of installs")
	rounds := fs.Int("rounds", 10, "run/measure: evaluation rounds")
	workers := fs.Int("workers", 0, "run/measure: 0 = one goroutine per target at every round, like serve's cron tick; N = a pool of N (1 = one after another)")
	bot := fs.String("bot", "", "measure/serve: an openclaw-bot binary")
	cfg := fs.String("config", "", "serve: the bot config (default: a one-target config in a temp dir)")
	wait := fs.Duration("wait", 12*time.Second, "serve: how long serve runs before its memory is read")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	dir := func() (string, error) {
		if len(pos) != 1 {
			return "", fmt.Errorf("%s needs exactly one DIR\n%s", args[0], usage)
		}
		return filepath.Abs(pos[0])
	}
	var out any
	switch args[0] {
	case "setup":
		d, err := dir()
		if err != nil {
			return err
		}
		if err := setup(d, *n); err != nil {
			return err
		}
		out = map[string]any{"dir": d, "installs": *n, "profiles_per_install": len(profileIDs),
			"config": filepath.Join(d, "config.yaml"), "serve_config": filepath.Join(d, "serve.yaml")}
	case "run":
		d, err := dir()
		if err != nil {
			return err
		}
		res, err := run(ctx, filepath.Join(d, "config.yaml"), *rounds, *workers)
		if err != nil {
			return err
		}
		out = res
	case "measure":
		d, err := dir()
		if err != nil {
			return err
		}
		res, err := measure(ctx, d, *rounds, *workers, *bot)
		if err != nil {
			return err
		}
		out = res
	case "serve":
		if *bot == "" {
			return errors.New("serve needs -bot BIN")
		}
		res, err := serveRSS(ctx, *bot, *cfg, *wait)
		if err != nil {
			return err
		}
		out = res
	default:
		return fmt.Errorf("unknown mode %q\n%s", args[0], usage)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// parseInterspersed parses flags before and after the positional arguments
// (`run DIR -rounds 3` as well as `run -rounds 3 DIR`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// ---- setup ----

// setup writes n installs under dir/installs and the bot configs.
func setup(dir string, n int) error {
	if n < 1 {
		return fmt.Errorf("setup: -n %d: need at least one install", n)
	}
	var targets strings.Builder
	for i := range n {
		name := fmt.Sprintf("t%03d", i)
		path := filepath.Join(dir, "installs", name)
		if err := writeInstall(path, name); err != nil {
			return fmt.Errorf("setup %s: %w", name, err)
		}
		fmt.Fprintf(&targets, "  - name: %s\n    state_dir: %s\n", name, quote(path))
	}
	if err := writeConfig(filepath.Join(dir, "config.yaml"), filepath.Join(dir, "bot.db"), "30s", `""`, targets.String()); err != nil {
		return err
	}
	// serve.yaml: the real serve on the same installs, its own store, the
	// shortest snapshot period the config allows (more rounds per second).
	return writeConfig(filepath.Join(dir, "serve.yaml"), filepath.Join(dir, "serve.db"), "5s", `""`, targets.String())
}

// writeInstall writes one OpenClaw 2026.9.6 install: openclaw.json with
// four Anthropic api_key profiles and state/openclaw.sqlite holding their
// keys and a rate-limit cooldown on the first.
func writeInstall(path, seed string) error {
	d, err := sandbox.New(path)
	if err != nil {
		return err
	}
	if err := d.Config("2026.9.6", nil, profileIDs...); err != nil {
		return err
	}
	profiles := map[string]any{}
	for _, id := range profileIDs {
		profiles[id] = map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey(seed + id)}
	}
	return d.SharedStore(map[string]any{"version": 1, "profiles": profiles}, map[string]any{"version": 1, "usageStats": map[string]any{
		profileIDs[0]: map[string]any{"cooldownUntil": time.Now().Add(24 * time.Hour).UnixMilli(), "cooldownReason": "rate_limit", "errorCount": 1}}})
}

// writeConfig writes a bot config: no Slack or Telegram (alerts on the
// console), no log follower, warnings only in the log.
func writeConfig(path, storePath, snapshotEvery, listen, targets string) error {
	y := fmt.Sprintf(`# written by bench/fleet setup
store:
  path: %s
http:
  listen: %s
scheduler:
  snapshot_every: %s
  openclaw_log_dir: ""
log:
  level: warn
  format: json
targets:
%s`, quote(storePath), listen, snapshotEvery, targets)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// quote writes s as a YAML double-quoted string.
func quote(s string) string { return strconv.Quote(s) }

// ---- run ----

// RunResult is what `fleet run` prints.
type RunResult struct {
	Targets     int       `json:"targets"`
	Profiles    int       `json:"profiles_seen"`
	Rounds      int       `json:"rounds"`
	Workers     int       `json:"workers"` // 0: one goroutine per target, like serve's cron
	RoundP50    float64   `json:"round_p50_s"`
	RoundP99    float64   `json:"round_p99_s"`
	RoundMax    float64   `json:"round_max_s"`
	RoundsS     []float64 `json:"rounds_s"`
	Evaluations int       `json:"evaluations"`
	Incidents   int       `json:"incidents_open"`
	Delivered   int       `json:"alerts_delivered"`
	HeapInuseMB float64   `json:"heap_inuse_mb"`
	GoSysMB     float64   `json:"go_sys_mb"`
	// Peaks of the Go runtime's memory classes, sampled every 5 ms.
	PeakStacksMB  float64 `json:"peak_go_stacks_mb"`
	PeakObjectsMB float64 `json:"peak_go_heap_objects_mb"`
	PeakGoTotalMB float64 `json:"peak_go_total_mb"`
	PeakGoroutine int     `json:"peak_goroutines"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
}

// run builds the scheduler.Service the way `openclaw-bot serve` does
// (cmd/openclaw-bot/serve.go: same config, store, engine, console route,
// targets located the same way, key checker when key checks are on) and
// drives N evaluation rounds over every target itself instead of through
// the cron, while the state watcher and the delivery loop run beside it as
// in serve. Chat and HTTP are not started.
func run(ctx context.Context, cfgPath string, rounds, workers int) (*RunResult, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("run: -rounds %d: need at least one round", rounds)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("bot config %s: %w", cfgPath, err)
	}
	// A fresh store every run, like the first start of serve: the engine
	// of this Service has not loaded any earlier run's incidents. Only a
	// store that `fleet setup` placed beside the config is removed.
	if rel, err := filepath.Rel(filepath.Dir(cfgPath), cfg.Store.Path); err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("run: store %s is not inside %s; refusing to reset it", cfg.Store.Path, filepath.Dir(cfgPath))
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(cfg.Store.Path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("run: remove the old store: %w", err)
		}
	}
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	alerts := &countingNotifier{Notifier: console.NewNotifier(io.Discard, time.UTC)}
	svc := &scheduler.Service{
		Store:         st,
		Engine:        scheduler.NewEngine(scheduler.EngineOptions{Reminder: cfg.Alerts.ReminderEvery}),
		Routes:        []scheduler.Route{{Notifier: alerts, Dest: "stdout", MinSeverity: diagnostics.Warning}},
		Log:           zerolog.New(os.Stderr).Level(zerolog.WarnLevel),
		SnapshotEvery: cfg.Scheduler.SnapshotEvery,
		KeyCheckEvery: cfg.Anthropic.KeyCheckEvery,
		HealthzEvery:  cfg.Scheduler.HealthzEvery,
	}
	if cfg.Scheduler.OpenClawLogDir != "" {
		svc.Logs = &scheduler.LogFollower{Dir: cfg.Scheduler.OpenClawLogDir}
	}
	if cfg.Anthropic.KeyCheckEvery > 0 {
		svc.Checker = diagnostics.NewChecker(diagnostics.CheckerOptions{CheckTokens: cfg.Anthropic.CheckTokens})
	}
	for _, t := range cfg.Targets {
		st, _, err := scheduler.TargetFrom(t, cfg.Anthropic.BaseURL)
		if err != nil {
			return nil, err
		}
		svc.Targets = append(svc.Targets, st)
	}

	ctx, cancel := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() { cancel(); bg.Wait() }()
	// Beside the rounds, as in Service.Run: the state watcher (nothing
	// changes the installs here, so it only watches) and the outbox worker.
	w := scheduler.NewWatcher(scheduler.WatchOptions{OnChange: func(target string) { _ = svc.Evaluate(ctx, target) }})
	for _, t := range svc.Targets {
		w.Add(t.Name, t.Locate.StateDir)
	}
	bg.Add(2)
	go func() { defer bg.Done(); _ = w.Run(ctx) }()
	go func() {
		defer bg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			svc.DeliverDue(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	workers = max(workers, 0)
	sampler := startSampler()
	res := &RunResult{Targets: len(svc.Targets), Rounds: rounds, Workers: workers, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for range rounds {
		d, err := round(ctx, svc, workers)
		if err != nil {
			return nil, err
		}
		res.RoundsS = append(res.RoundsS, d.Seconds())
		res.Evaluations += len(svc.Targets)
	}
	sorted := slices.Clone(res.RoundsS)
	slices.Sort(sorted)
	res.RoundP50, res.RoundP99, res.RoundMax = percentile(sorted, 50), percentile(sorted, 99), sorted[len(sorted)-1]

	open, err := st.OpenIncidents(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	res.Incidents = len(open)
	rep, err := svc.Report(ctx, svc.Targets[0].Name, false)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", svc.Targets[0].Name, err)
	}
	res.Profiles = len(rep.Profiles)
	svc.DeliverDue(ctx)
	res.Delivered = int(alerts.n.Load())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapInuseMB, res.GoSysMB = mb(ms.HeapInuse), mb(ms.Sys)
	peaks := sampler.stop()
	res.PeakStacksMB, res.PeakObjectsMB, res.PeakGoTotalMB, res.PeakGoroutine = mb(peaks[0]), mb(peaks[1]), mb(peaks[2]), int(peaks[3])
	return res, nil
}

// round evaluates every target once and returns the wall time from the
// first start to the last end. workers 0 starts one goroutine per target
// at once, as serve's cron does at every snapshot tick (one entry per
// target); workers N > 0 is a pool of N goroutines (1: one target after
// another, like the first round of Service.Run).
func round(ctx context.Context, svc *scheduler.Service, workers int) (time.Duration, error) {
	start := time.Now()
	errs := make([]error, len(svc.Targets))
	var wg sync.WaitGroup
	if workers <= 0 {
		for i, t := range svc.Targets {
			wg.Go(func() { errs[i] = svc.Evaluate(ctx, t.Name) })
		}
	} else {
		next := make(chan int)
		for range min(workers, len(svc.Targets)) {
			wg.Go(func() {
				for i := range next {
					errs[i] = svc.Evaluate(ctx, svc.Targets[i].Name)
				}
			})
		}
		for i := range svc.Targets {
			next <- i
		}
		close(next)
	}
	wg.Wait()
	d := time.Since(start)
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			if failed++; first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		return d, fmt.Errorf("%d of %d evaluations failed, the first: %w", failed, len(errs), first)
	}
	return d, nil
}

// sampler records the peaks of a few runtime/metrics while a run lasts.
type sampler struct {
	done  chan struct{}
	peaks chan [4]uint64
}

var sampledMetrics = []string{"/memory/classes/heap/stacks:bytes", "/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes", "/sched/goroutines:goroutines"}

func startSampler() *sampler {
	s := &sampler{done: make(chan struct{}), peaks: make(chan [4]uint64, 1)}
	go func() {
		samples := make([]metrics.Sample, len(sampledMetrics))
		for i, name := range sampledMetrics {
			samples[i].Name = name
		}
		var peak [4]uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			for i, sm := range samples {
				if sm.Value.Kind() == metrics.KindUint64 {
					peak[i] = max(peak[i], sm.Value.Uint64())
				}
			}
			select {
			case <-s.done:
				s.peaks <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() [4]uint64 {
	close(s.done)
	return <-s.peaks
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// countingNotifier counts the alerts handed to the console notifier.
type countingNotifier struct {
	bot.Notifier
	n atomic.Int64
}

func (c *countingNotifier) Send(ctx context.Context, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	s, err := c.Notifier.Send(ctx, dest, msg, prev)
	if err == nil {
		c.n.Add(1)
	}
	return s, err
}

// ---- measure ----

// MeasureResult is what `fleet measure` prints: the child's RunResult plus
// the child's peak RSS and, with -bot, the status command's.
type MeasureResult struct {
	*RunResult
	PeakRSSMB        float64 `json:"peak_rss_mb"`
	StatusWallS      float64 `json:"status_wall_s,omitempty"`
	StatusPeakRSSMB  float64 `json:"status_peak_rss_mb,omitempty"`
	StatusExitCode   int     `json:"status_exit_code,omitempty"`
	StatusTargets    int     `json:"status_targets,omitempty"`
	StatusOutputSize int     `json:"status_output_bytes,omitempty"`
}

// measure runs `fleet run` as a child process (this same executable) so
// that building the fixtures is not counted, and reads its peak RSS.
func measure(ctx context.Context, dir string, rounds, workers int, bot string) (*MeasureResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("measure: find this executable: %w", err)
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, self, "run", "-rounds", strconv.Itoa(rounds), "-workers", strconv.Itoa(workers), dir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("measure: fleet run: %w\n%s", err, errb.String())
	}
	res := &MeasureResult{RunResult: &RunResult{}, PeakRSSMB: maxRSSMB(cmd.ProcessState)}
	if err := json.Unmarshal(out.Bytes(), res.RunResult); err != nil {
		return nil, fmt.Errorf("measure: read fleet run output: %w", err)
	}
	if bot == "" {
		return res, nil
	}
	// `openclaw-bot status --json` over the same 500 targets, one process.
	var sout bytes.Buffer
	sc := exec.CommandContext(ctx, bot, "status", "--json", "--config", filepath.Join(dir, "config.yaml"))
	sc.Stdout, sc.Stderr = &sout, &errb
	start := time.Now()
	err = sc.Run()
	res.StatusWallS = time.Since(start).Seconds()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("measure: %s status: %w", bot, err)
	}
	// Exit 1 is expected: every install has a cooldown.
	res.StatusExitCode = sc.ProcessState.ExitCode()
	res.StatusPeakRSSMB = maxRSSMB(sc.ProcessState)
	res.StatusOutputSize = sout.Len()
	var mr struct {
		Targets []json.RawMessage `json:"targets"`
	}
	if err := json.Unmarshal(sout.Bytes(), &mr); err != nil {
		return nil, fmt.Errorf("measure: status --json output: %w\n%s", err, errb.String())
	}
	res.StatusTargets = len(mr.Targets)
	return res, nil
}

// maxRSSMB is the peak resident set of a finished child (ru_maxrss is KiB
// on Linux).
func maxRSSMB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}

// ---- serve ----

// ServeResult is what `fleet serve` prints.
type ServeResult struct {
	Config     string  `json:"config"`
	Targets    int     `json:"serve_targets"`
	WaitS      float64 `json:"wait_s"`
	RSSMB      float64 `json:"rss_mb"`
	HWMMB      float64 `json:"hwm_mb"`
	MaxRSSMB   float64 `json:"maxrss_mb"`
	ExitCode   int     `json:"exit_code"`
	ExitAfterS float64 `json:"exit_after_s"`
	// KeyChecks: requests serve's zero-token key checks sent to the
	// loopback fake Anthropic meanwhile.
	KeyChecks int `json:"key_check_requests"`
}

// serveRSS starts `bot serve --config cfgPath` with stdin from /dev/null,
// lets it run for wait, reads VmRSS and VmHWM from /proc, then stops it
// with SIGTERM and expects exit 0 within 10 s.
func serveRSS(ctx context.Context, bot, cfgPath string, wait time.Duration) (*ServeResult, error) {
	tmp, err := os.MkdirTemp("", "fleet-serve-")
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer os.RemoveAll(tmp)
	if cfgPath == "" {
		// One install, console alerts, /healthz on a free loopback port.
		inst := filepath.Join(tmp, "installs", "local")
		if err := writeInstall(inst, "local"); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		cfgPath = filepath.Join(tmp, "config.yaml")
		if err := writeConfig(cfgPath, filepath.Join(tmp, "bot.db"), "5s", "127.0.0.1:0",
			fmt.Sprintf("  - name: local\n    state_dir: %s\n", quote(inst))); err != nil {
			return nil, err
		}
	}
	// serve's zero-token key checks go to a loopback fake Anthropic, never
	// to api.anthropic.com: a copy of the config gets anthropic.base_url.
	anth := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeOK})
	defer anth.Close()
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if bytes.Contains(raw, []byte("\nanthropic:")) {
		return nil, fmt.Errorf("serve: %s already has an anthropic: section; leave it out (fleet points it at a loopback fake)", cfgPath)
	}
	cfgPath = filepath.Join(tmp, "serve-loopback.yaml")
	if err := os.WriteFile(cfgPath, append(raw, []byte("anthropic:\n  base_url: "+anth.URL()+"\n")...), 0o600); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("serve: bot config %s: %w", cfgPath, err)
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer stdin.Close()
	logf, err := os.Create(filepath.Join(tmp, "serve.log"))
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bot, "serve", "--config", cfgPath)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, io.Discard, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("serve: start %s: %w", bot, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tail := func() string {
		b, _ := os.ReadFile(logf.Name())
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		return string(b)
	}
	select {
	case err := <-exited:
		return nil, fmt.Errorf("serve: exited early (%v):\n%s", err, tail())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return nil, ctx.Err()
	case <-time.After(wait):
	}
	res := &ServeResult{Config: cfgPath, Targets: len(cfg.Targets), WaitS: wait.Seconds()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("serve: read memory: %w", err)
	}
	res.RSSMB, res.HWMMB = procKB(status, "VmRSS:")/1024, procKB(status, "VmHWM:")/1024
	res.KeyChecks = anth.Count("")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("serve: SIGTERM: %w", err)
	}
	start := time.Now()
	select {
	case err := <-exited:
		res.ExitAfterS = time.Since(start).Seconds()
		res.ExitCode = cmd.ProcessState.ExitCode()
		res.MaxRSSMB = maxRSSMB(cmd.ProcessState)
		if err != nil {
			return res, fmt.Errorf("serve: after SIGTERM: %w\n%s", err, tail())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("serve: still running 10 s after SIGTERM:\n%s", tail())
	}
	return res, nil
}

// procKB reads a "Key:   123 kB" line of /proc/<pid>/status.
func procKB(status []byte, key string) float64 {
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}
