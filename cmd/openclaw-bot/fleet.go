package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/app"
)

// cmdFleet: `fleet status` and `fleet forget NAME` on the shared store.
func cmdFleet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config (its store must be postgres)")
	asJSON := fs.Bool("json", false, "fleet status as JSON")
	fs.Usage = func() { fmt.Fprint(stderr, app.FleetUsage); fs.PrintDefaults() }
	sub, rest, name := "", args, ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, rest = args[0], args[1:]
	}
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if code, ok := parseFlags(fs, rest); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err == nil {
		err = app.Fleet(ctx, cfg, sub, name, *asJSON, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "openclaw-bot fleet:", err)
		return exitError
	}
	return exitOK
}
