package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// loadConfig reads the bot config, or the embedded default without a file.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("bot config %s:\n%w", path, err)
	}
	return cfg, nil
}

// resolveTargets turns flags and the bot config into the targets to
// inspect: flag > the --target's config entry > OPENCLAW_* env > ~/.openclaw.
func resolveTargets(f statusFlags) ([]diagnostics.Target, *diagnostics.Checker, error) {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return nil, nil, err
	}
	entries := cfg.Targets
	if f.target != "" {
		t, ok := cfg.Target(f.target)
		if !ok {
			return nil, nil, fmt.Errorf("no target %q in the bot config; targets: %s", f.target, targetNames(cfg))
		}
		entries = []config.Target{*t}
	}
	locFlags := f.stateDir != "" || f.openclawConfig != "" || f.openclawProfile != ""
	if locFlags && len(entries) > 1 {
		return nil, nil, fmt.Errorf("--state-dir/--openclaw-config/--openclaw-profile locate one install, but the config has %d targets (%s): add --target NAME", len(entries), targetNames(cfg))
	}
	var out []diagnostics.Target
	for _, e := range entries {
		t := diagnostics.Target{
			Name: e.Name,
			Locate: openclaw.LocateOptions{
				StateDir: first(f.stateDir, e.StateDir), ConfigPath: first(f.openclawConfig, e.OpenClawConfig),
				Profile: first(f.openclawProfile, e.OpenClawProfile), AgentDir: e.AgentDir,
			},
			Env:            openclaw.EnvSources{ComposeFile: e.ComposeFile, ComposeService: e.ComposeService},
			BaseURLFlag:    f.baseURL,
			BaseURLTarget:  e.AnthropicBaseURL,
			BaseURLDefault: cfg.Anthropic.BaseURL,
		}
		if f.stateDir == "" && e.StateDir != "" {
			t.Locate.StateDirFrom = e.Said("state_dir")
		}
		if f.stateDir != "" || f.openclawProfile != "" {
			// A location flag replaces the entry's whole location.
			t.Locate.ConfigPath = f.openclawConfig
		}
		out = append(out, t)
	}
	checker := diagnostics.NewChecker(diagnostics.CheckerOptions{CheckTokens: cfg.Anthropic.CheckTokens})
	return out, checker, nil
}

func targetNames(cfg *config.Config) string {
	var names []string
	for _, t := range cfg.Targets {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func first(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// cmdConfig implements `config check`.
func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: openclaw-bot config check [--config FILE]")
		return exitError
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config to check (default: the embedded default)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: openclaw-bot config check [--config FILE]\n\nValidates the bot config: unknown keys, types, secrets (${ENV} and *_file), values.\nExit 0 when valid, 1 when not (every problem is listed with its line).\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitCritical
	}
	src := cfg.File
	if src == "" {
		src = "embedded default (no --config)"
	}
	fmt.Fprintf(stdout, "config OK: %s\n  targets: %s\n  slack: %s\n  telegram: %s\n  store: %s\n",
		src, targetNames(cfg), onOff(cfg.Slack.Enabled(), cfg.Slack.Mode), onOff(cfg.Telegram.Enabled(), cfg.Telegram.Mode), cfg.Store.Describe())
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stdout, "warning: "+w)
	}
	return exitOK
}

func onOff(on bool, mode string) string {
	if !on {
		return "off"
	}
	return "on (" + mode + ")"
}
