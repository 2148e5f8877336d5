package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

type statusFlags struct {
	json, probe                               bool
	baseURL, target, config                   string
	stateDir, openclawConfig, openclawProfile string
}

func (f *statusFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.json, "json", false, "print the report as JSON (the contract's shape)")
	fs.BoolVar(&f.probe, "probe", false, "also run the zero-token key check (GET /v1/models; spends nothing, writes nothing)")
	fs.StringVar(&f.baseURL, "anthropic-base-url", "", "Anthropic API base URL for --probe (http:// only for loopback)")
	fs.StringVar(&f.target, "target", "", "inspect only this target of the bot config")
	fs.StringVar(&f.config, "config", "", "the bot's YAML config (default: none; the local install)")
	fs.StringVar(&f.stateDir, "state-dir", "", "OpenClaw state dir, like OPENCLAW_STATE_DIR")
	fs.StringVar(&f.openclawConfig, "openclaw-config", "", "OpenClaw config file, like OPENCLAW_CONFIG_PATH")
	fs.StringVar(&f.openclawProfile, "openclaw-profile", "", "OpenClaw profile `name`, like openclaw --profile NAME (state in ~/.openclaw-NAME)")
}

// multiReport is the --json shape with several targets and no --target.
type multiReport struct {
	Verdict string               `json:"verdict"`
	Targets []diagnostics.Report `json:"targets"`
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer, diagnose bool) int {
	name := "status"
	if diagnose {
		name = "diagnose"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f statusFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: openclaw-bot %s [flags]\n\n", name)
		if diagnose {
			fmt.Fprintln(stderr, "Every finding with evidence and remedies for this install. Secrets are masked: safe to paste.")
		} else {
			fmt.Fprintln(stderr, "The health of every Anthropic credential of an OpenClaw install, read natively.")
		}
		fmt.Fprintln(stderr, "Without --probe nothing is sent over the network and the openclaw CLI is never run.")
		fmt.Fprintln(stderr, "Exit codes: 0 ok, 1 critical finding, 2 warnings only, 3 could not evaluate.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openclaw-bot %s: unexpected argument %q (see --help)\n", name, fs.Arg(0))
		return exitError
	}
	targets, checker, err := resolveTargets(f)
	if err != nil {
		fmt.Fprintf(stderr, "openclaw-bot %s: %v\n", name, err)
		return exitError
	}
	insp := &diagnostics.Inspector{}
	if f.probe {
		insp.Checker = checker
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var reports []diagnostics.Report
	for _, t := range targets {
		r, _, err := insp.Inspect(ctx, t, "")
		if err != nil {
			fmt.Fprintf(stderr, "openclaw-bot %s: %v\n", name, err)
			return exitError
		}
		reports = append(reports, r)
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var v any = reports[0]
		if len(reports) > 1 {
			v = multiReport{Verdict: worstVerdict(reports), Targets: reports}
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "openclaw-bot %s: write: %v\n", name, err)
			return exitError
		}
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			if diagnose {
				r.WriteDiagnosis(stdout)
			} else {
				r.WriteStatus(stdout)
			}
		}
	}
	code := exitOK
	for _, r := range reports {
		switch r.ExitCode() {
		case exitCritical:
			code = exitCritical
		case exitWarning:
			if code == exitOK {
				code = exitWarning
			}
		}
	}
	return code
}

func worstVerdict(rs []diagnostics.Report) string {
	v := "ok"
	for _, r := range rs {
		switch r.Verdict {
		case "down":
			return "down"
		case "degraded":
			v = "degraded"
		}
	}
	return v
}
