package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// cmdDemo builds sandbox installs in a fresh temp dir (never ~/.openclaw or
// OPENCLAW_STATE_DIR), starts a fake Anthropic on 127.0.0.1, shows what the
// bot finds, then reads commands from stdin until EOF.
func cmdDemo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "keep the sandbox directory after exit (its path is printed)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: openclaw-bot demo [--keep]\n\nBuilds sandbox OpenClaw installs with every kind of credential problem in a new temp dir,\nstarts a fake Anthropic API on 127.0.0.1, diagnoses them, then takes commands on stdin (exits on EOF).\nNo OpenClaw, no accounts and no network needed.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	root, err := os.MkdirTemp("", "openclaw-bot-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "demo: create sandbox: %v\n", err)
		return exitError
	}
	if !*keep {
		defer os.RemoveAll(root)
	}
	keys := sandbox.NewDemoKeys()
	fake, err := fakeanthropic.Start(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: []string{keys.Good, keys.Env}})
	if err != nil {
		fmt.Fprintf(stderr, "demo: start fake Anthropic: %v\n", err)
		return exitError
	}
	defer fake.Close()
	installs, err := sandbox.Demo(root, keys, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitError
	}
	d := &demo{
		out:     stdout,
		insp:    &diagnostics.Inspector{Checker: diagnostics.NewChecker(diagnostics.CheckerOptions{})},
		reports: map[string]diagnostics.Report{},
	}
	for _, in := range installs {
		d.targets = append(d.targets, diagnostics.Target{
			Name: in.Name,
			// The sandbox's own home: the demo never reads the real one.
			Locate:      openclaw.LocateOptions{StateDir: in.StateDir, Home: root, Getenv: func(string) string { return "" }},
			Env:         openclaw.EnvSources{NoProc: true},
			BaseURLFlag: fake.URL(),
		})
		d.what = append(d.what, in.What)
	}
	fmt.Fprintf(stdout, "openclaw-bot demo: %d sandbox installs in %s, fake Anthropic at %s\n\n", len(installs), root, fake.URL())
	if err := d.refresh(ctx); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitError
	}
	d.overview()
	fmt.Fprint(stdout, "\nType a command (help for the list); Ctrl-D to quit.\n")
	d.repl(ctx, stdin)
	if *keep {
		fmt.Fprintf(stdout, "sandbox kept in %s\n", root)
	}
	return exitOK
}

type demo struct {
	out     io.Writer
	insp    *diagnostics.Inspector
	targets []diagnostics.Target
	what    []string
	reports map[string]diagnostics.Report
}

func (d *demo) refresh(ctx context.Context) error {
	for _, t := range d.targets {
		r, _, err := d.insp.Inspect(ctx, t, "")
		if err != nil {
			return err
		}
		d.reports[t.Name] = r
	}
	return nil
}

func (d *demo) overview() {
	tw := tabwriter.NewWriter(d.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tVERDICT\tFINDINGS\tWHAT THE SANDBOX HOLDS")
	for i, t := range d.targets {
		r := d.reports[t.Name]
		var codes []string
		for _, f := range r.Findings {
			codes = append(codes, f.Code)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, r.Verdict, strings.Join(codes, " "), d.what[i])
	}
	tw.Flush()
}

const demoHelp = `Commands:
  targets              the sandbox installs and their verdicts
  status [target]      credentials and findings (all targets without a name)
  diagnose <target>    every finding with evidence and remedies
  check [target]       run the zero-token key check again
  help                 this text
  quit                 leave (Ctrl-D works too)
`

func (d *demo) repl(ctx context.Context, stdin io.Reader) {
	sc := bufio.NewScanner(stdin)
	fmt.Fprint(d.out, "openclaw> ")
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		words := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "/openclaw"))
		if len(words) > 0 && !d.exec(ctx, words) {
			return
		}
		fmt.Fprint(d.out, "openclaw> ")
	}
	fmt.Fprintln(d.out)
}

// exec runs one demo command; false means quit.
func (d *demo) exec(ctx context.Context, words []string) bool {
	arg := ""
	if len(words) > 1 {
		arg = words[1]
	}
	pick := func() []diagnostics.Report {
		var out []diagnostics.Report
		for _, t := range d.targets {
			if arg == "" || arg == t.Name {
				out = append(out, d.reports[t.Name])
			}
		}
		if len(out) == 0 {
			fmt.Fprintf(d.out, "no target %q; try: targets\n", arg)
		}
		return out
	}
	switch words[0] {
	case "quit", "exit":
		return false
	case "help", "?":
		fmt.Fprint(d.out, demoHelp)
	case "targets":
		d.overview()
	case "status":
		for _, r := range pick() {
			r.WriteStatus(d.out)
			fmt.Fprintln(d.out)
		}
	case "diagnose":
		if arg == "" {
			fmt.Fprintln(d.out, "usage: diagnose <target>   (targets lists them)")
			break
		}
		for _, r := range pick() {
			r.WriteDiagnosis(d.out)
		}
	case "check":
		if err := d.refresh(ctx); err != nil {
			fmt.Fprintf(d.out, "check failed: %v\n", err)
			break
		}
		for _, r := range pick() {
			for _, p := range r.Profiles {
				if p.Check != "" {
					fmt.Fprintf(d.out, "%s %s: %s\n", r.Target, p.ID, p.Check)
				}
			}
		}
	default:
		fmt.Fprintf(d.out, "unknown command %q\n%s", words[0], demoHelp)
	}
	return true
}
