package fleet

import (
	"context"
	"time"

	"github.com/openclaw-bot/openclaw-bot/store"
)

// Lock keys of the fleet's singletons (PostgreSQL advisory locks).
const (
	// LockTelegramPolling: exactly one instance long-polls Telegram (two
	// pollers on one token fight: 409 Conflict).
	LockTelegramPolling int64 = 0x6f63626f74677070 // "ocbotgpp"
)

// leaseCheck is how often a held lock's connection is checked and a free
// one tried: a dead holder's lock is free as soon as PostgreSQL sees its
// connection close, and is taken within this.
const leaseCheck = time.Second

// Exclusive runs fn only while this instance holds the advisory lock key,
// on a connection of its own: it waits for the lock (trying every second),
// runs fn, and cancels fn's context as soon as the lock's connection fails
// (fn must return then); then it waits for the lock again. It returns when
// ctx ends (nil) or fn returns an error on its own (a permanent failure:
// the lock is given up). onState reports holding (true) or waiting.
func (f *Fleet) Exclusive(ctx context.Context, key int64, what string, onState func(held bool), fn func(ctx context.Context) error) error {
	user := onState
	onState = func(held bool) {
		f.mu.Lock()
		f.roles[what] = held
		f.mu.Unlock()
		if user != nil {
			user(held)
		}
	}
	log := f.o.Log.With().Str("role", what).Logger()
	waiting := false
	for ctx.Err() == nil {
		l, err := f.o.Store.TryLock(ctx, key)
		if err != nil && ctx.Err() == nil && !waiting {
			log.Warn().Err(err).Msg("fleet: cannot take the lock (the store is unreachable?); trying every second")
		}
		if l == nil {
			if !waiting {
				log.Info().Msg("fleet: another instance has this role; standing by")
				waiting = true
			}
			onState(false)
			select {
			case <-ctx.Done():
			case <-time.After(leaseCheck):
			}
			continue
		}
		waiting = false
		log.Info().Msg("fleet: this instance has the role now")
		onState(true)
		err = f.hold(ctx, l, fn)
		l.Release()
		onState(false)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ctx.Err() == nil {
			log.Warn().Msg("fleet: the lock's connection failed: the role is given up; trying to take it again")
		}
	}
	return nil
}

// hold runs fn until ctx ends, fn returns, or the lock is lost.
func (f *Fleet) hold(ctx context.Context, l *store.AdvisoryLock, fn func(ctx context.Context) error) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(fctx) }()
	t := time.NewTicker(leaseCheck)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
			cctx, ccancel := context.WithTimeout(ctx, leaseCheck)
			err := l.Held(cctx)
			ccancel()
			if err != nil && ctx.Err() == nil {
				cancel()
				<-done
				return nil
			}
		case <-ctx.Done():
			cancel()
			<-done
			return nil
		}
	}
}
