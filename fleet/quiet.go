package fleet

import "time"

// failing logs the first failure of what (a heartbeat, the listener, a
// report) at warn and the rest at debug, until recovered says it works
// again (info, with how long it failed): an outage of PostgreSQL is one
// line per kind, not one per beat.
func (f *Fleet) failing(what string, err error, msg string) {
	f.mu.Lock()
	_, already := f.failures[what]
	if !already {
		f.failures[what] = time.Now()
	}
	f.mu.Unlock()
	ev := f.o.Log.Warn()
	if already {
		ev = f.o.Log.Debug()
	}
	ev.Err(err).Str("what", what).Msg(msg)
}

// recovered ends what's failure, if any.
func (f *Fleet) recovered(what, msg string) {
	f.mu.Lock()
	since, was := f.failures[what]
	delete(f.failures, what)
	f.mu.Unlock()
	if was {
		f.o.Log.Info().Str("what", what).Dur("failed_for", time.Since(since).Round(time.Millisecond)).Msg(msg)
	}
}
