package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot/console"
	slackbot "github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/bot/telegram"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// cmdServe runs the scheduler, the alert pipeline and the HTTP endpoints
// until SIGINT/SIGTERM.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the bot's YAML config (default: watch the local install, alert on the console)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: openclaw-bot serve [--config FILE]\n\nWatches every target: native snapshots (and instantly on state changes), the zero-token\nkey check, gateway /healthz, OpenClaw's log; alerts to Slack, Telegram or the console.\nWith no config: the local install (~/.openclaw or OPENCLAW_STATE_DIR), alerts on the console,\nstore ./openclaw-bot.db.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	scrub := redact.NewScrubber(cfg.SecretValues()...)
	log, err := logging.New(stderr, cfg.Log.Level, cfg.Log.Format, scrub)
	if err != nil {
		fmt.Fprintln(stderr, "openclaw-bot serve:", err)
		return exitError
	}
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error().Err(err).Msg("serve stopped")
		return exitCritical
	}
	return exitOK
}

func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, stdout io.Writer) error {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer st.Close()

	routes, err := buildRoutes(ctx, cfg, stdout, log)
	if err != nil {
		return err
	}
	svc := &scheduler.Service{
		Store:         st,
		Engine:        scheduler.NewEngine(scheduler.EngineOptions{Reminder: cfg.Alerts.ReminderEvery}),
		Routes:        routes,
		Log:           log,
		SnapshotEvery: cfg.Scheduler.SnapshotEvery,
		KeyCheckEvery: cfg.Anthropic.KeyCheckEvery,
		HealthzEvery:  cfg.Scheduler.HealthzEvery,
	}
	if cfg.Scheduler.OpenClawLogDir != "" {
		svc.Logs = &scheduler.LogFollower{Dir: cfg.Scheduler.OpenClawLogDir}
	}
	if cfg.Anthropic.KeyCheckEvery > 0 {
		svc.Checker = diagnostics.NewChecker(diagnostics.CheckerOptions{CheckTokens: cfg.Anthropic.CheckTokens})
	}
	for _, t := range cfg.Targets {
		loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: t.StateDir, ConfigPath: t.OpenClawConfig, Profile: t.OpenClawProfile, AgentDir: t.AgentDir})
		if err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		svc.Targets = append(svc.Targets, scheduler.ServiceTarget{
			Target: diagnostics.Target{
				Name:           t.Name,
				Locate:         openclaw.LocateOptions{StateDir: loc.StateDir, ConfigPath: loc.ConfigPath, AgentDir: loc.AgentDir},
				Env:            openclaw.EnvSources{ComposeFile: t.ComposeFile, ComposeService: t.ComposeService},
				BaseURLTarget:  t.AnthropicBaseURL,
				BaseURLDefault: cfg.Anthropic.BaseURL,
			},
			HealthURL: scheduler.HealthURL(t.GatewayURL),
		})
		log.Info().Str("target", t.Name).Str("state_dir", loc.StateDir).Str("how", loc.How).Msg("watching")
	}

	srv, err := startHTTP(cfg.HTTP.Listen, st, log)
	if err != nil {
		return err
	}
	if srv != nil {
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	log.Info().Int("targets", len(svc.Targets)).Int("routes", len(routes)).Msg("openclaw-bot serving")
	return svc.Run(ctx)
}

// buildRoutes connects the configured chat platforms; with none, alerts go
// to the console.
func buildRoutes(_ context.Context, cfg *config.Config, stdout io.Writer, log zerolog.Logger) ([]scheduler.Route, error) {
	var routes []scheduler.Route
	scrub := redact.NewScrubber(cfg.SecretValues()...)
	if cfg.Slack.Enabled() {
		client := slackbot.NewClient(cfg.Slack.BotToken, cfg.Slack.APIURL, nil)
		routes = append(routes, scheduler.Route{Notifier: slackbot.NewNotifier(client, slackbot.Options{Logger: &log, Scrubber: scrub}), Dest: cfg.Slack.AlertChannel,
			Targets: cfg.Slack.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Slack.AlertMinSeverity)})
	}
	if cfg.Telegram.Enabled() {
		api, err := telegram.NewAPI(cfg.Telegram.Token, cfg.Telegram.APIURL, &http.Client{Timeout: 30 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("telegram: %w", err)
		}
		routes = append(routes, scheduler.Route{Notifier: telegram.NewNotifier(api, telegram.Options{Location: cfg.Telegram.Location(), Scrubber: scrub}), Dest: cfg.Telegram.AlertChat,
			Targets: cfg.Telegram.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Telegram.AlertMinSeverity)})
	}
	if len(routes) == 0 {
		routes = append(routes, scheduler.Route{Notifier: console.NewNotifier(stdout, time.Local), Dest: "stdout"})
	}
	return routes, nil
}

// startHTTP serves /healthz and /readyz on http.listen ("" = off).
func startHTTP(addr string, st *store.Store, log zerolog.Logger) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if _, err := st.OutboxDepth(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"ready":false,"failing":["store"]}`)
			return
		}
		fmt.Fprintln(w, `{"ready":true}`)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen %s: %w (set http.listen to another address, or \"\" to turn it off)", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("http server")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("http: /healthz /readyz")
	return srv, nil
}
