package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// RunPolling receives updates by long polling (telegram.mode: polling)
// until ctx ends, then returns nil. It first calls deleteWebhook (polling
// and a webhook exclude each other) and setMyCommands (failure is only
// logged), then loops on getUpdates with each request bound to ctx, so that
// cancelling interrupts a pending long poll at once.
//
// Commands for this bot (see ParseCommand; in a private chat any command)
// become a bot.Request given to h.Handle, and the reply is sent as a reply
// to the command message (an ephemeral reply to a group command goes to the
// user's private chat). A button press is always answered with
// answerCallbackQuery (with Reply.Toast when the handler answers within
// AnswerWithin), then given to h.Press; the outcome of a Confirm/Cancel
// preview edits the preview, anything else is sent as a new message. At most
// MaxConcurrent updates are handled at once.
//
// Errors back off (jittered, MinBackoff to MaxBackoff; a 429 waits its
// retry_after) and are logged scrubbed of the token. RunPolling returns an
// error only for a permanent failure: the token rejected (401) or api_url not
// a Bot API server (404). On return, no goroutine it started is left: in-
// flight handlers get ShutdownGrace to finish, then their context ends.
func RunPolling(ctx context.Context, api *tgbotapi.BotAPI, h bot.Handler, opts InboundOptions) error {
	if api == nil || h == nil {
		return errors.New("telegram: RunPolling needs a Bot API client and a handler")
	}
	in := newInbound(api, h, opts)
	onState := opts.OnState
	if onState == nil {
		onState = func(bool) {}
	}
	defer onState(false)
	in.onState = onState
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	defer in.drain(cancelWork) // runs before cancelWork

	if err := in.retry(ctx, "deleteWebhook", func(c context.Context) error {
		_, err := withContext(api, c).Request(tgbotapi.DeleteWebhookConfig{})
		return err
	}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := setMenu(ctx, api, in.menu); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		in.log.Warn().Str("err", err.Error()).Msg("telegram: cannot set the command menu (commands still work)")
	}
	in.onState(true) // the Bot API answered with this token
	in.log.Info().Str("bot", in.opts.BotUsername).Msg("telegram: polling for commands")
	return in.poll(ctx, workCtx)
}

// drain waits for in-flight handlers: up to ShutdownGrace with their
// context alive, then cancelled.
func (in *inbound) drain(cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		in.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(in.opts.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		in.log.Warn().Msg("telegram: cancelling handlers still running at shutdown")
		cancel()
		<-done
	}
}

// pollSeconds is the getUpdates timeout: PollTimeout in whole seconds, at
// least 1, and 5 s under the HTTP client's own timeout.
func (in *inbound) pollSeconds() int {
	d := in.opts.PollTimeout
	if c, ok := in.api.Client.(*http.Client); ok && c.Timeout > 0 {
		d = min(d, c.Timeout-5*time.Second)
	}
	return max(int(d/time.Second), 1)
}

// queueLen bounds the updates fetched but not yet started.
const queueLen = 64

type queuedJob struct {
	j  *job
	id int
}

func (in *inbound) poll(ctx, workCtx context.Context) error {
	cfg := tgbotapi.UpdateConfig{Timeout: in.pollSeconds(), AllowedUpdates: AllowedUpdates}
	confirmed := 0
	bo := backoff{min: in.opts.MinBackoff, max: in.opts.MaxBackoff}

	// The loop keeps fetching while workers are busy (up to queueLen
	// waiting updates), so that button presses are answered at once.
	jobs := make(chan queuedJob, queueLen)
	unstarted := make(chan int, 1) // first update id not started at exit (-1: none)
	go in.dispatch(ctx, workCtx, jobs, unstarted)
	defer func() {
		if first := <-unstarted; first >= 0 {
			cfg.Offset = min(cfg.Offset, first)
		}
		in.confirm(ctx, cfg, confirmed)
	}()

	for {
		var raws []json.RawMessage
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Timeout)*time.Second+15*time.Second)
			defer cancel()
			resp, err := withContext(in.api, cctx).Request(cfg)
			if err != nil {
				return err
			}
			return json.Unmarshal(resp.Result, &raws)
		}()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			in.onState(false)
			err = classifyErr(ctx, in.scrub, "getUpdates", "", err)
			if perr := in.pollFailed(ctx, err, &bo); perr != nil {
				return perr
			}
			continue
		}
		bo.reset()
		in.onState(true)
		confirmed = cfg.Offset
		for _, raw := range raws {
			id, u, derr := decodeUpdate(raw)
			if id < cfg.Offset {
				continue // already handled
			}
			if derr != nil {
				in.log.Warn().Int("update_id", id).Str("err", in.scrub(derr.Error())).Msg("telegram: skipping an update that cannot be decoded")
				cfg.Offset = id + 1
				continue
			}
			if j := in.jobFor(u); j != nil {
				if len(in.sem) == cap(in.sem) || len(jobs) > 0 {
					in.answerNow(ctx, j) // it will wait: stop the client's spinner now
				}
				select {
				case jobs <- queuedJob{j: j, id: id}:
				case <-ctx.Done():
					return nil // not confirmed: redelivered after a restart
				}
			}
			cfg.Offset = id + 1
		}
	}
}

// dispatch starts queued jobs as worker slots free up. When ctx ends it
// reports the first update it did not start (-1: none) and returns.
func (in *inbound) dispatch(ctx, workCtx context.Context, jobs <-chan queuedJob, unstarted chan<- int) {
	for {
		select {
		case q := <-jobs:
			select {
			case in.sem <- struct{}{}:
				in.start(workCtx, q.j)
			case <-ctx.Done():
				unstarted <- q.id
				return
			}
		case <-ctx.Done():
			select {
			case q := <-jobs:
				unstarted <- q.id
			default:
				unstarted <- -1
			}
			return
		}
	}
}

// pollFailed logs a getUpdates error and waits before the next try. It
// returns an error when polling cannot succeed without a config change.
func (in *inbound) pollFailed(ctx context.Context, err error, bo *backoff) error {
	var ae *APIError
	wait := bo.next()
	msg := "telegram: getUpdates failed, retrying"
	if errors.As(err, &ae) {
		switch {
		case ae.Code == http.StatusUnauthorized || ae.Code == http.StatusNotFound:
			return err
		case ae.Code == http.StatusConflict && strings.Contains(strings.ToLower(ae.Description), "webhook"):
			msg = "telegram: a webhook is set (telegram.mode: webhook elsewhere?); deleting it and polling again"
			if derr := in.retry(ctx, "deleteWebhook", func(c context.Context) error {
				_, err := withContext(in.api, c).Request(tgbotapi.DeleteWebhookConfig{})
				return err
			}); derr != nil && ctx.Err() == nil {
				return derr
			}
		case ae.Code == http.StatusConflict:
			msg = "telegram: another program is polling with this bot token (a second openclaw-bot?); retrying"
		}
	}
	var re *bot.RetryError
	if errors.As(err, &re) && re.After > 0 {
		wait = re.After // 429 retry_after: exactly what Telegram asks
	}
	in.log.Warn().Str("err", err.Error()).Dur("wait", wait).Msg(msg)
	_ = sleepCtx(ctx, wait)
	return nil
}

// retry runs one API call until it succeeds, ctx ends (ctx.Err()) or it
// fails permanently (401, 404); other failures back off.
func (in *inbound) retry(ctx context.Context, method string, call func(context.Context) error) error {
	bo := backoff{min: in.opts.MinBackoff, max: in.opts.MaxBackoff}
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err := call(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = classifyErr(ctx, in.scrub, method, "", err)
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == http.StatusUnauthorized || ae.Code == http.StatusNotFound) {
			return err
		}
		wait := bo.next()
		var re *bot.RetryError
		if errors.As(err, &re) && re.After > 0 {
			wait = re.After
		}
		in.log.Warn().Str("err", err.Error()).Dur("wait", wait).Msg("telegram: " + method + " failed, retrying")
		if sleepCtx(ctx, wait) != nil {
			return ctx.Err()
		}
	}
}

// confirm tells Telegram that the updates before cfg.Offset were handled
// (getUpdates confirms only on the next call), so a restart does not
// deliver them again. Best effort, at most 2 s.
func (in *inbound) confirm(ctx context.Context, cfg tgbotapi.UpdateConfig, confirmed int) {
	if cfg.Offset <= confirmed {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	cfg.Timeout, cfg.Limit = 0, 1
	if _, err := withContext(in.api, cctx).Request(cfg); err != nil {
		in.log.Debug().Str("err", classifyErr(cctx, in.scrub, "getUpdates", "", err).Error()).Msg("telegram: could not confirm the last updates")
	}
}

// decodeUpdate decodes one update; when it cannot, it still returns its
// update_id when that can be read, so the update is skipped, not retried.
func decodeUpdate(raw json.RawMessage) (int, *tgbotapi.Update, error) {
	var u tgbotapi.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		var id struct {
			UpdateID int `json:"update_id"`
		}
		_ = json.Unmarshal(raw, &id)
		return id.UpdateID, nil, err
	}
	return u.UpdateID, &u, nil
}

// backoff is a jittered exponential backoff.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.cur = 0 }
