package main

import (
	"path/filepath"

	"github.com/openclaw-bot/openclaw-bot/actions"
	"sync"

	"context"
	"errors"
	"flag"
	"fmt"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	goslack "github.com/slack-go/slack"
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
func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	if err := serve(ctx, cfg, log, stdin, stdout); err != nil {
		log.Error().Err(err).Msg("serve stopped")
		return exitCritical
	}
	return exitOK
}

// serve runs until ctx ends. stdin, when not nil, is the console chat used
// when no chat platform is configured.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, stdin io.Reader, stdout io.Writer) error {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer st.Close()

	scrub := redact.NewScrubber(cfg.SecretValues()...)
	p, err := connect(cfg, stdout, log, scrub)
	if err != nil {
		return err
	}
	routes := p.routes
	svc := &scheduler.Service{
		Store:         st,
		Engine:        scheduler.NewEngine(scheduler.EngineOptions{Reminder: cfg.Alerts.ReminderEvery}),
		Routes:        routes,
		Log:           log,
		SnapshotEvery: cfg.Scheduler.SnapshotEvery,
		KeyCheckEvery: cfg.Anthropic.KeyCheckEvery,
		HealthzEvery:  cfg.Scheduler.HealthzEvery,
	}
	for i, m := range cfg.Alerts.Maintenance {
		starts, ends, _ := m.Window() // validated with the config
		svc.Maintenance = append(svc.Maintenance, scheduler.Silence{ID: fmt.Sprintf("maintenance-%d", i+1), Target: m.Target, Starts: starts, Ends: ends})
	}
	if cfg.Scheduler.OpenClawLogDir != "" {
		svc.Logs = &scheduler.LogFollower{Dir: cfg.Scheduler.OpenClawLogDir}
	}
	if cfg.Anthropic.KeyCheckEvery > 0 {
		svc.Checker = diagnostics.NewChecker(diagnostics.CheckerOptions{CheckTokens: cfg.Anthropic.CheckTokens})
	}
	var actTargets []actions.Target
	for _, t := range cfg.Targets {
		loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: t.StateDir, ConfigPath: t.OpenClawConfig, Profile: t.OpenClawProfile, AgentDir: t.AgentDir})
		if err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		actTargets = append(actTargets, actionTarget(t, loc, cfg, scrub, log))
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

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range actTargets {
		actTargets[i].Target = svc.Targets[i].Target
	}
	acts := actions.New(actions.Options{Targets: actTargets, Checker: svc.Checker, Log: log,
		BackupDir: filepath.Join(filepath.Dir(st.Path()), "openclaw-bot-backups"),
		// Re-evaluate at once: the incident resolves and its alert is edited in place.
		AfterChange: func(ctx context.Context, target string) {
			if err := svc.Evaluate(ctx, target); err != nil {
				log.Warn().Str("target", target).Err(err).Msg("re-evaluation after an action")
			}
		}})
	mux := http.NewServeMux()
	stopChat, err := startChat(ctx, cfg, p, svc, acts, st, log, scrub, mux, stdin, stdout)
	if err != nil {
		return err
	}
	defer func() { cancel(); stopChat() }()
	srv, err := startHTTP(cfg.HTTP.Listen, mux, st, log)
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

// platforms are the connected chat platforms and the alert routes.
type platforms struct {
	routes   []scheduler.Route
	slack    *goslack.Client
	telegram *tgbotapi.BotAPI
}

// connect builds the clients of the configured chat platforms and the alert
// routes; with no platform, alerts go to the console.
func connect(cfg *config.Config, stdout io.Writer, log zerolog.Logger, scrub *redact.Scrubber) (platforms, error) {
	var p platforms
	if cfg.Slack.Enabled() {
		p.slack = slackbot.NewClient(cfg.Slack.BotToken, cfg.Slack.APIURL, nil)
		p.routes = append(p.routes, scheduler.Route{Notifier: slackbot.NewNotifier(p.slack, slackbot.Options{Logger: &log, Scrubber: scrub}), Dest: cfg.Slack.AlertChannel,
			Targets: cfg.Slack.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Slack.AlertMinSeverity)})
	}
	if cfg.Telegram.Enabled() {
		api, err := telegram.NewAPI(cfg.Telegram.Token, cfg.Telegram.APIURL, nil)
		if err != nil {
			return p, fmt.Errorf("telegram: %w", err)
		}
		p.telegram = api
		p.routes = append(p.routes, scheduler.Route{Notifier: telegram.NewNotifier(api, telegram.Options{Location: cfg.Telegram.Location(), Scrubber: scrub}), Dest: cfg.Telegram.AlertChat,
			Targets: cfg.Telegram.AlertTargets, MinSeverity: diagnostics.Severity(cfg.Telegram.AlertMinSeverity)})
	}
	if len(p.routes) == 0 {
		p.routes = append(p.routes, scheduler.Route{Notifier: console.NewNotifier(stdout, time.Local), Dest: "stdout", MinSeverity: diagnostics.Warning})
	}
	return p, nil
}

// actionTarget builds what the confirmed actions need for one target: the
// guarded CLI (refusing a CLI whose version differs from the install's) and
// the configured restart method.
func actionTarget(t config.Target, loc openclaw.Location, cfg *config.Config, scrub *redact.Scrubber, log zerolog.Logger) actions.Target {
	var at actions.Target
	if t.OpenClawBin != "" {
		at.CLI = &openclaw.CLI{Bin: t.OpenClawBin, Loc: loc, GatewayToken: t.GatewayToken, Scrubber: scrub}
		if c, err := openclaw.ReadConfig(loc.ConfigPath); err == nil && c != nil {
			at.CLI.ExpectVersion = c.Version
		}
	}
	if t.Restart.Method != "" || t.GatewayURL != "" {
		rs := &openclaw.Restarter{Method: t.Restart.Method, Unit: t.Restart.Unit, ComposeFile: t.ComposeFile, ComposeService: t.ComposeService,
			Command: t.Restart.Command, CLI: at.CLI, StateDir: loc.StateDir, Scrubber: scrub}
		if t.GatewayURL != "" {
			rs.HealthURL, rs.ReadyURL, _ = openclaw.GatewayHTTPURLs(t.GatewayURL)
		}
		if err := rs.Validate(); err != nil {
			log.Warn().Str("target", t.Name).Err(err).Msg("restart not available")
		} else {
			at.Restarter = rs
		}
	}
	return at
}

// diagnoser adapts the service to the router.
type diagnoser struct{ *scheduler.Service }

func (d diagnoser) Targets() []string { return d.TargetNames() }

// startChat starts the command surfaces: Slack (Socket Mode or HTTP),
// Telegram (polling or webhook), or the console when neither is configured.
// The returned func stops them and waits.
func startChat(ctx context.Context, cfg *config.Config, p platforms, svc *scheduler.Service, acts router.Actions, st *store.Store, log zerolog.Logger,
	scrub *redact.Scrubber, mux *http.ServeMux, stdin io.Reader, stdout io.Writer) (func(), error) {
	rt := router.New(router.Options{
		Store: st, Diagnoser: diagnoser{svc}, Actions: acts, Access: cfg.Access,
		AlertChannel: cfg.Slack.AlertChannel, AlertChat: cfg.Telegram.AlertChat, Log: &log, Scrubber: scrub,
	})
	var wg sync.WaitGroup
	var closers []func()
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				log.Error().Err(err).Str("surface", name).Msg("chat surface stopped")
			}
		}()
	}
	if p.slack != nil {
		switch cfg.Slack.Mode {
		case config.SlackHTTP:
			h := slackbot.NewHTTPHandler(rt, slackbot.HTTPOptions{SigningSecret: cfg.Slack.SigningSecret, API: p.slack, Logger: &log, Scrubber: scrub})
			mux.Handle(slackbot.CommandsPath, h)
			mux.Handle(slackbot.InteractionsPath, h)
			closers = append(closers, func() { _ = h.Close() })
		default:
			goRun("slack", func() error {
				return slackbot.RunSocket(ctx, p.slack, cfg.Slack.AppToken, rt, slackbot.SocketOptions{Logger: &log, Scrubber: scrub})
			})
		}
	}
	if p.telegram != nil {
		opts := telegram.InboundOptions{Logger: &log, Scrubber: scrub, Location: cfg.Telegram.Location(), WebhookSecret: cfg.Telegram.WebhookSecret}
		switch cfg.Telegram.Mode {
		case config.TelegramWebhook:
			wh := telegram.NewWebhookHandler(p.telegram, rt, opts)
			mux.Handle(telegram.WebhookPath, wh)
			closers = append(closers, func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = wh.Shutdown(sctx)
			})
			goRun("telegram-webhook", func() error {
				for { // retry setWebhook while Telegram is unreachable
					err := telegram.SetWebhook(ctx, p.telegram, cfg.Telegram.WebhookURL, cfg.Telegram.WebhookSecret)
					var re *bot.RetryError
					if err == nil || !errors.As(err, &re) {
						return err
					}
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(30 * time.Second):
					}
				}
			})
		default:
			goRun("telegram", func() error { return telegram.RunPolling(ctx, p.telegram, rt, opts) })
		}
	}
	if p.slack == nil && p.telegram == nil && stdin != nil {
		// The embedded default: chat on the console. EOF ends the chat,
		// not the service.
		goRun("console", func() error {
			return (&console.Session{Handler: rt, Out: stdout}).Run(ctx, stdin)
		})
	}
	return func() {
		for _, c := range closers {
			c()
		}
		wg.Wait()
	}, nil
}

// startHTTP serves /healthz and /readyz on http.listen ("" = off).
func startHTTP(addr string, mux *http.ServeMux, st *store.Store, log zerolog.Logger) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
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
	log.Info().Str("addr", ln.Addr().String()).Msg("http listening")
	return srv, nil
}
