package diagnostics

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkCheckCached measures a check answered from the cache: the
// common case when the bot re-evaluates an install every few minutes.
func BenchmarkCheckCached(b *testing.B) {
	f := &kcFakeAPI{}
	c := NewChecker(CheckerOptions{HTTPClient: &http.Client{Transport: f}})
	ctx := context.Background()
	cred := kcAPICred(kcAPISecret)
	if r := c.Check(ctx, kcFakeBase, cred); r.Status != StatusAccepted {
		b.Fatalf("priming: %+v", r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Check(ctx, kcFakeBase, cred); r.Status != StatusAccepted {
			b.Fatalf("got %+v", r)
		}
	}
	if n := f.count(); n != 1 {
		b.Fatalf("%d requests, want 1", n)
	}
}

// BenchmarkCheckCachedParallel is the same from many goroutines.
func BenchmarkCheckCachedParallel(b *testing.B) {
	f := &kcFakeAPI{}
	c := NewChecker(CheckerOptions{HTTPClient: &http.Client{Transport: f}})
	cred := kcAPICred(kcAPISecret)
	c.Check(context.Background(), kcFakeBase, cred)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Check(context.Background(), kcFakeBase, cred)
		}
	})
}
