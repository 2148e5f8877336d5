// Package demo is `openclaw-bot demo`: sandbox installs with every kind
// of credential problem in a new temp dir (never ~/.openclaw or
// OPENCLAW_STATE_DIR), a fake Anthropic on 127.0.0.1, what the bot finds,
// then the bot's console chat on them until EOF.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openclaw-bot/openclaw-bot/actions"
	"github.com/openclaw-bot/openclaw-bot/bot/console"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Options are the demo's terminal and whether to keep its sandbox.
type Options struct {
	In       io.Reader
	Out, Err io.Writer
	// Keep the sandbox directory after exit (its path is printed).
	Keep bool
}

// Run builds the sandbox, shows what the bot finds and runs the console
// chat until EOF. An error means the demo could not be set up.
func Run(ctx context.Context, o Options) error {
	root, err := os.MkdirTemp("", "openclaw-bot-demo-")
	if err != nil {
		return fmt.Errorf("create sandbox: %w", err)
	}
	if !o.Keep {
		defer os.RemoveAll(root)
	}
	keys := sandbox.NewDemoKeys()
	fake, err := fakeanthropic.Start(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: []string{keys.Good, keys.Env}})
	if err != nil {
		return fmt.Errorf("start fake Anthropic: %w", err)
	}
	defer fake.Close()
	installs, err := sandbox.Demo(root, keys, time.Now())
	if err != nil {
		return err
	}
	d := &demo{
		out:     o.Out,
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
	fmt.Fprintf(o.Out, "openclaw-bot demo: %d sandbox installs in %s, fake Anthropic at %s\n\n", len(installs), root, fake.URL())
	if err := d.refresh(ctx); err != nil {
		return err
	}
	d.overview()
	st, err := store.Open(ctx, filepath.Join(root, "openclaw-bot.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	var acts []actions.Target
	for _, t := range d.targets {
		acts = append(acts, actions.Target{Target: t}) // no OpenClaw CLI here: doctor and restart explain the manual steps
	}
	rt := router.New(router.Options{Store: st, Diagnoser: d, Actions: actions.New(actions.Options{
		Targets: acts, Checker: d.insp.Checker, BackupDir: filepath.Join(root, "backups")})})
	fmt.Fprint(o.Out, "\nThis is the bot's console chat, the same commands as /openclaw in Slack and Telegram:\n"+
		"try `status cooldown`, `diagnose billing`, `check cooldown`, `cooldown reset anthropic:default cooldown` then `confirm`, `help`. Ctrl-D quits.\n")
	if err := (&console.Session{Handler: rt, Out: o.Out}).Run(ctx, o.In); err != nil {
		fmt.Fprintf(o.Err, "demo: %v\n", err)
	}
	if o.Keep {
		fmt.Fprintf(o.Out, "sandbox kept in %s\n", root)
	}
	return nil
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

// Report answers the chat router (router.Diagnoser) for the sandbox installs.
func (d *demo) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	for _, t := range d.targets {
		if t.Name == target {
			insp := &diagnostics.Inspector{Checker: d.insp.Checker, CachedOnly: !probe}
			r, _, err := insp.Inspect(ctx, t, "")
			return r, err
		}
	}
	return diagnostics.Report{}, fmt.Errorf("no target %q", target)
}

// Targets lists the sandbox installs.
func (d *demo) Targets() []string {
	var out []string
	for _, t := range d.targets {
		out = append(out, t.Name)
	}
	return out
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
