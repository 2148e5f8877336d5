// Command openclaw-bot keeps OpenClaw's Anthropic credentials healthy: it
// reads an install natively, explains every auth failure, and (in serve)
// alerts and answers chat commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // telegram.timezone on machines without zoneinfo
)

// Exit codes of status/diagnose (CONTRACT.md).
const (
	exitOK       = 0
	exitCritical = 1
	exitWarning  = 2
	exitError    = 3
)

const usage = `openclaw-bot keeps OpenClaw's Anthropic credentials healthy.

Usage:
  openclaw-bot status   [flags]   one line per credential and finding; exit 0 ok, 1 critical, 2 warnings, 3 error
  openclaw-bot diagnose [flags]   every finding with evidence and remedies (safe to paste: secrets are masked)
  openclaw-bot demo               a sandbox install with every kind of problem, a fake Anthropic, and a console
  openclaw-bot serve    [--config FILE]   scheduler, alerts and chat (see README)
  openclaw-bot config check [--config FILE]
  openclaw-bot healthcheck [--config FILE] [--ready]   exit 0 when a running serve answers /healthz (/readyz)
  openclaw-bot fleet status|forget NAME [--config FILE]   the instances sharing a PostgreSQL store
  openclaw-bot version  [--json]

Run 'openclaw-bot <command> --help' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command line; it is main without os.Exit, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "status":
		return cmdStatus(ctx, args[1:], stdout, stderr, false)
	case "diagnose":
		return cmdStatus(ctx, args[1:], stdout, stderr, true)
	case "demo":
		return cmdDemo(ctx, args[1:], stdin, stdout, stderr)
	case "serve":
		return cmdServe(ctx, args[1:], stdin, stdout, stderr)
	case "config":
		return cmdConfig(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, args[1:], stdout, stderr)
	case "fleet":
		return cmdFleet(ctx, args[1:], stdout, stderr)
	case "version":
		return cmdVersion(args[1:], stdout, stderr)
	case "--version", "-v":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "openclaw-bot: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
}

// parseFlags parses a subcommand's flags. When ok is false the command
// returns code: 0 after --help, 3 for a bad flag (fs has printed why).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitError, false
	}
	return 0, true
}
