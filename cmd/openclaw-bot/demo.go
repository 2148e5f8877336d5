package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/openclaw-bot/openclaw-bot/internal/demo"
)

// cmdDemo runs the demo (internal/demo): sandbox installs, a fake
// Anthropic and the console chat, until EOF.
func cmdDemo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "keep the sandbox directory after exit (its path is printed)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: openclaw-bot demo [--keep]\n\nBuilds sandbox OpenClaw installs with every kind of credential problem in a new temp dir,\nstarts a fake Anthropic API on 127.0.0.1, diagnoses them, then takes commands on stdin (exits on EOF).\nNo OpenClaw, no accounts and no network needed.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := demo.Run(ctx, demo.Options{In: stdin, Out: stdout, Err: stderr, Keep: *keep}); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitError
	}
	return exitOK
}
