package main

import (
	"context"
	"io"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// resolveTargets turns flags (and the bot config, when given) into the
// targets to inspect: flag > the --target's config entry > OPENCLAW_* env >
// ~/.openclaw.
func resolveTargets(f statusFlags) ([]diagnostics.Target, *diagnostics.Checker, error) {
	t := diagnostics.Target{Name: "local", BaseURLFlag: f.baseURL}
	t.Locate = openclaw.LocateOptions{StateDir: f.stateDir, ConfigPath: f.openclawConfig, Profile: f.openclawProfile}
	return []diagnostics.Target{t}, diagnostics.NewChecker(diagnostics.CheckerOptions{}), nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int  { return 3 }
func cmdConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int { return 3 }
