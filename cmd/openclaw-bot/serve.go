package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/openclaw-bot/openclaw-bot/app"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// cmdServe runs the app (package app: scheduler, alerts, chat, HTTP
// endpoints) until SIGINT/SIGTERM; SIGHUP or a change of the config file
// reloads the config.
func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config (default: watch the local install, alert on the console)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: openclaw-bot serve [--config FILE]

Watches every target: native snapshots (and instantly on state changes), the zero-token
key check, gateway /healthz, OpenClaw's log; alerts to Slack, Telegram or the console.
With no config: the local install (~/.openclaw or OPENCLAW_STATE_DIR), alerts on the console,
store ./openclaw-bot.db.

Signals: SIGHUP reloads the config (so does saving the file); an invalid config is refused
with the reason and the running one stays. SIGINT/SIGTERM stop gracefully: chat commands
in flight finish, the outbox is drained (at most 20 s).

Flags:`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	scrub := redact.NewScrubber(cfg.SecretValues()...)
	log, level, err := logging.NewLeveled(stderr, cfg.Log.Level, cfg.Log.Format, scrub)
	if err != nil {
		fmt.Fprintln(stderr, "openclaw-bot serve:", err)
		return exitError
	}
	hup := make(chan os.Signal, 1) // a SIGHUP while one is pending is the same reload
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a, err := app.New(ctx, cfg, app.Options{Log: log, ConfigPath: *path, Reload: hup, Scrub: scrub, LogLevel: level,
		Stdin: stdin, Stdout: stdout, BuildInfo: buildInfo()})
	if err == nil {
		err = a.Start(ctx)
	}
	if err != nil {
		log.Error().Err(err).Msg("serve could not start")
		return exitCritical
	}
	if err := a.Serve(ctx); err != nil {
		log.Error().Err(err).Msg("serve stopped")
		return exitCritical
	}
	return exitOK
}
