package router

import (
	"sync"
	"time"
)

// RateLimit is the per-user token bucket for commands and button presses.
type RateLimit struct {
	// PerMinute is the sustained rate; 0 means 10, < 0 turns the limit off.
	PerMinute float64
	// Burst is how many may come at once; 0 means 5.
	Burst int
}

// Defaults of RateLimit.
const (
	DefaultPerMinute = 10
	DefaultBurst     = 5
)

// maxBuckets bounds the limiter's memory; full buckets are dropped first.
const maxBuckets = 4096

type limiter struct {
	mu      sync.Mutex
	off     bool
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rl RateLimit) *limiter {
	l := &limiter{buckets: map[string]*bucket{}}
	if rl.PerMinute < 0 {
		l.off = true
		return l
	}
	per, burst := rl.PerMinute, rl.Burst
	if per == 0 {
		per = DefaultPerMinute
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	l.rate, l.burst = per/60, float64(burst)
	return l
}

// allow takes a token for key at now.
func (l *limiter) allow(key string, now time.Time) bool {
	if l.off {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune drops buckets that have refilled (they are as good as new), and
// when that is not enough, everything: forgetting a limit is harmless.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}
