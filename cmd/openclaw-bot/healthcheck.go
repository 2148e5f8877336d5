package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/openclaw-bot/openclaw-bot/app"
)

// cmdHealthcheck asks a running serve whether it is alive (/healthz) or
// ready (/readyz): exit 0 yes, 1 no. It is the probe of a container image
// without a shell or curl (Docker HEALTHCHECK, compose healthcheck).
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config: the probe goes to its http.listen (default 127.0.0.1:8080)")
	addr := fs.String("addr", "", "host:port of serve's http.listen (overrides --config)")
	ready := fs.Bool("ready", false, "ask /readyz (store open, every chat surface connected) instead of /healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: openclaw-bot healthcheck [--config FILE | --addr HOST:PORT] [--ready] [--timeout 3s]

Exit 0 when a running 'openclaw-bot serve' answers /healthz (alive) or, with --ready,
/readyz (store open and every chat surface connected); exit 1 otherwise, with the reason.
For Docker HEALTHCHECK and compose healthcheck: the image has no shell or curl.

Flags:`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	target := *addr
	if target == "" {
		cfg, err := loadConfig(*path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		target = cfg.HTTP.Listen
		if target == "" {
			fmt.Fprintln(stderr, "openclaw-bot healthcheck: http.listen is empty in the config, so serve has no /healthz to ask; set http.listen or pass --addr")
			return exitError
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	body, err := app.Probe(ctx, target, *ready)
	var pe *app.ProbeError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintln(stderr, "openclaw-bot healthcheck:", err)
		return exitCritical
	case err != nil:
		fmt.Fprintln(stderr, "openclaw-bot healthcheck:", err)
		return exitError
	}
	fmt.Fprint(stdout, body)
	return exitOK
}
