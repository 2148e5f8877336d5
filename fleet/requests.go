package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// pollEvery is the fallback when a notification is missed (the listening
// connection was being re-established): queued requests and replies are
// also looked for this often.
const pollEvery = time.Second

// Forward implements router.Fleet: it queues the typed command req or the
// press p for the owner of target, wakes it (NOTIFY) and waits for its
// reply (LISTEN, polling as a fallback) at most Options.Wait. A request
// the owner has not taken by then expires: it will not run later.
func (f *Fleet) Forward(ctx context.Context, target string, req *bot.Request, p *bot.Press) (bot.Reply, error) {
	owner, ok := f.Remote(target)
	if !ok {
		return bot.Reply{}, fmt.Errorf("no other instance owns %s", target)
	}
	kind, payload := store.RequestCommand, any(req)
	if p != nil {
		kind, payload = store.RequestPress, p
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return bot.Reply{}, err
	}
	now, err := f.o.Store.Now(ctx)
	if err != nil {
		return bot.Reply{}, err
	}
	wake := make(chan struct{}, 1)
	id, err := f.o.Store.AddRequest(ctx, store.Request{Instance: owner.Instance, Target: target, Kind: kind, Payload: body,
		Asker: f.o.Name, Created: now, Expires: now.Add(f.o.Wait)})
	if err != nil {
		return bot.Reply{}, err
	}
	f.mu.Lock()
	f.waiters[id] = wake
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiters, id)
		f.mu.Unlock()
	}()
	deadline := time.NewTimer(f.o.Wait)
	defer deadline.Stop()
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		r, err := f.o.Store.RequestByID(ctx, id)
		if err != nil {
			return bot.Reply{}, err
		}
		if !r.Done.IsZero() {
			var rep bot.Reply
			if err := json.Unmarshal(r.Reply, &rep); err != nil {
				return bot.Reply{}, fmt.Errorf("the reply of instance %s does not parse: %w", owner.Instance, err)
			}
			return rep, nil
		}
		select {
		case <-wake:
		case <-poll.C:
		case <-deadline.C:
			if r.Claimed.IsZero() {
				return bot.Reply{}, fmt.Errorf("instance %s did not take the command within %s (it will not run it later)", owner.Instance, f.o.Wait)
			}
			return bot.Reply{}, fmt.Errorf("instance %s took the command but did not answer within %s; it may still finish: see audit", owner.Instance, f.o.Wait)
		case <-ctx.Done():
			return bot.Reply{}, ctx.Err()
		}
	}
}

// listenLoop receives the request and reply notifications, listening
// again (after a second) when the connection fails.
func (f *Fleet) listenLoop(ctx context.Context) {
	for ctx.Err() == nil {
		err := f.o.Store.Listen(ctx, []string{store.ChannelRequests, store.ChannelReplies, store.ChannelMembers}, f.listening, func(channel, payload string) {
			switch channel {
			case store.ChannelMembers:
				if err := f.refresh(ctx); err != nil && ctx.Err() == nil {
					f.o.Log.Warn().Err(err).Msg("fleet: reading the instances")
				}
			case store.ChannelRequests:
				if payload == f.o.Name {
					f.kickWork()
				}
			case store.ChannelReplies:
				id, err := strconv.ParseInt(payload, 10, 64)
				if err != nil {
					return
				}
				f.mu.Lock()
				w := f.waiters[id]
				f.mu.Unlock()
				if w != nil {
					select {
					case w <- struct{}{}:
					default:
					}
				}
			}
		})
		if err != nil && ctx.Err() == nil {
			f.failing("listen", err, "fleet: listening for requests failed; trying every second (requests are also polled)")
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// listening: the notifications flow (again); what was missed meanwhile is
// read now.
func (f *Fleet) listening() {
	f.recovered("listen", "fleet: listening for requests again")
	f.kickWork()
	_ = f.refresh(context.Background())
}

func (f *Fleet) kickWork() {
	select {
	case f.work <- struct{}{}:
	default:
	}
}

// workLoop runs the requests queued for this instance: each in its own
// goroutine (a restart must not hold up a status), answered through its
// row.
func (f *Fleet) workLoop(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	running := make(chan struct{}, 16)
	for {
		select {
		case <-ctx.Done():
			for range cap(running) { // wait for those in flight
				running <- struct{}{}
			}
			return
		case <-f.work:
		case <-t.C:
		}
		now, err := f.o.Store.Now(ctx)
		if err != nil {
			if ctx.Err() == nil {
				f.failing("requests", err, "fleet: taking forwarded requests failed; trying every second")
			}
			continue
		}
		reqs, err := f.o.Store.ClaimRequests(ctx, f.o.Name, now, cap(running))
		if err != nil {
			if ctx.Err() == nil {
				f.failing("requests", err, "fleet: taking forwarded requests failed; trying every second")
			}
			continue
		}
		f.recovered("requests", "fleet: taking forwarded requests again")
		for _, r := range reqs {
			running <- struct{}{}
			go func() {
				defer func() { <-running }()
				f.run(ctx, r, now)
			}()
		}
	}
}

// run answers one request with the local handler. An expired one (its
// asker gave up) is answered as such and does not run.
func (f *Fleet) run(ctx context.Context, r store.Request, now time.Time) {
	f.mu.Lock()
	h := f.handler
	f.mu.Unlock()
	var rep bot.Reply
	switch {
	case !now.Before(r.Expires):
		rep = errorReply("Not done: the command reached instance "+f.o.Name+" after its asker gave up", "")
	case h == nil:
		rep = errorReply("Not done: instance "+f.o.Name+" is starting", "")
	default:
		hctx := bot.WithForwardedFrom(context.WithoutCancel(ctx), r.Asker)
		var err error
		rep, err = f.handle(hctx, h, r)
		if err != nil {
			rep = errorReply("Not done: instance "+f.o.Name+" could not read the forwarded command", err.Error())
		}
	}
	body, err := json.Marshal(rep)
	if err == nil {
		err = f.o.Store.AnswerRequest(context.WithoutCancel(ctx), r.ID, body, time.Now())
	}
	if err != nil {
		f.o.Log.Warn().Err(err).Int64("request", r.ID).Str("asker", r.Asker).Msg("fleet: answering a forwarded command")
	}
}

func (f *Fleet) handle(ctx context.Context, h bot.Handler, r store.Request) (bot.Reply, error) {
	switch r.Kind {
	case store.RequestCommand:
		var req bot.Request
		if err := json.Unmarshal(r.Payload, &req); err != nil {
			return bot.Reply{}, err
		}
		return h.Handle(ctx, req), nil
	case store.RequestPress:
		var p bot.Press
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return bot.Reply{}, err
		}
		return h.Press(ctx, p), nil
	}
	return bot.Reply{}, errors.New("unknown request kind " + strconv.Quote(r.Kind))
}

func errorReply(title, detail string) bot.Reply {
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Title: title}
	if detail != "" {
		m.Text = []bot.Span{bot.T(detail)}
	}
	return bot.Reply{Message: m, Ephemeral: true, Toast: "Not done"}
}
