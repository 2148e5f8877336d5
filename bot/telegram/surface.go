package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
)

// setWebhookRetry is the wait between setWebhook attempts while Telegram
// is unreachable.
const setWebhookRetry = 30 * time.Second

// Surface is Telegram as serve runs it, built from the telegram section:
// the alert notifier and, by telegram.mode, long polling or the webhook.
type Surface struct {
	cfg      config.Telegram
	api      *tgbotapi.BotAPI
	notifier *Notifier
	handler  bot.Handler
	inbound  InboundOptions
	webhook  *WebhookHandler // webhook mode
	up       atomic.Bool
	onState  func(bool)
}

// NewSurface builds the Telegram surface of c; h answers its commands.
// Nothing runs until Run.
func NewSurface(c config.Telegram, h bot.Handler, o bot.SurfaceOptions) (*Surface, error) {
	api, err := NewAPI(c.Token, c.APIURL, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	log := zerolog.Nop()
	if o.Logger != nil {
		log = *o.Logger
	}
	s := &Surface{cfg: c, api: api, handler: h, onState: o.OnState,
		notifier: NewNotifier(api, log, Options{Location: c.Location(), Scrubber: o.Scrubber})}
	s.inbound = InboundOptions{Logger: o.Logger, Scrubber: o.Scrubber, Location: c.Location(), WebhookSecret: c.WebhookSecret, OnState: s.setUp}
	if c.Mode == config.TelegramWebhook {
		s.webhook = NewWebhookHandler(api, h, s.inbound)
	}
	return s, nil
}

// Notifier sends alerts to telegram.alert_chat.
func (s *Surface) Notifier() (bot.Notifier, config.AlertRoute) { return s.notifier, s.cfg.Alerts() }

// Routes is WebhookPath in webhook mode (none when polling).
func (s *Surface) Routes() map[string]http.Handler {
	if s.webhook == nil {
		return nil
	}
	return map[string]http.Handler{WebhookPath: s.webhook}
}

// Run polls until ctx ends; in webhook mode it registers the webhook
// (retrying while Telegram is unreachable) and returns.
func (s *Surface) Run(ctx context.Context) error {
	if s.webhook == nil {
		return RunPolling(ctx, s.api, s.handler, s.inbound)
	}
	for {
		var cmds []bot.CommandInfo
		if c, ok := s.handler.(Commander); ok {
			cmds = c.Commands()
		}
		err := SetWebhook(ctx, s.api, s.cfg.WebhookURL, s.cfg.WebhookSecret, cmds)
		if err == nil {
			s.setUp(true)
			return nil
		}
		var re *bot.RetryError
		if !errors.As(err, &re) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(setWebhookRetry):
		}
	}
}

// Ready: polling works, or the webhook is registered.
func (s *Surface) Ready() bool { return s.up.Load() }

// Close finishes the webhook updates in flight (polling drains when Run's
// ctx ends).
func (s *Surface) Close() {
	if s.webhook == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.webhook.Shutdown(ctx)
}

func (s *Surface) setUp(up bool) {
	s.up.Store(up)
	if s.onState != nil {
		s.onState(up)
	}
}
