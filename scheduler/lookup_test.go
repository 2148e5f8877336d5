package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// resendHarness is an outbox with one Slack alert whose first send may
// have gone out just before a crash (Attempts 1, not marked sent), the
// real Slack notifier and the Slack fake, on a clock the test moves.
type resendHarness struct {
	fake  *fakeslack.Server
	svc   *Service
	store *store.Store
	logs  *lockedBuffer
	now   time.Time
	id    int64
}

const (
	resendChannel = "C0ALERTS"
	resendRef     = "alert:prod:g1"
)

func newResendHarness(t *testing.T, deliveredBeforeCrash bool) *resendHarness {
	t.Helper()
	ctx := context.Background()
	h := &resendHarness{fake: fakeslack.New(), logs: &lockedBuffer{}, now: time.Now().Truncate(time.Millisecond)}
	t.Cleanup(h.fake.Close)
	h.fake.UseClock(func() time.Time { return h.now })
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	n := slack.NewNotifier(slack.NewClient("xoxb-test", h.fake.URL(), &http.Client{Transport: tr, Timeout: 5 * time.Second}),
		slack.Options{MinInterval: -1, Now: func() time.Time { return h.now }})
	h.svc = &Service{Store: st, Routes: []Route{{Notifier: n, Dest: resendChannel}},
		Log: zerolog.New(h.logs), Now: func() time.Time { return h.now }}

	msg := bot.Message{Kind: bot.KindAlert, Severity: bot.SevCritical, Ref: resendRef, Title: "prod: cooldown"}
	payload, _ := json.Marshal(msg)
	b := store.Batch{Outbox: []store.OutboxItem{{Channel: store.ChannelSlack, Dest: resendChannel, Ref: resendRef,
		Kind: store.KindPost, Payload: payload, CreatedAt: h.now}}}
	if err := st.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	h.id = b.Outbox[0].ID
	// The crash: the item was claimed (the attempt counted), the answer
	// never came back; the lease ends after a second.
	if got, err := st.ClaimOutbox(ctx, h.now, 1, time.Second); err != nil || len(got) != 1 {
		t.Fatal(len(got), err)
	}
	if deliveredBeforeCrash {
		h.fake.AddMessage(fakeslack.Message{Channel: resendChannel, Text: "prod: cooldown",
			Metadata: &fakeslack.Metadata{EventType: slack.MetadataEventType, EventPayload: map[string]any{"ref": resendRef}}})
	}
	h.now = h.now.Add(time.Second)
	return h
}

// round runs the outbox worker once at a time well past any backoff.
func (h *resendHarness) round(t *testing.T) {
	t.Helper()
	h.now = h.now.Add(10 * time.Minute)
	h.svc.DeliverDue(context.Background())
}

func (h *resendHarness) posts() int { return len(h.fake.Calls("chat.postMessage")) }

// After a crash, conversations.history failing does not make the outbox
// re-send blindly: each failure defers the item with backoff, and once a
// lookup succeeds the earlier delivery is found: still one message.
func TestResendWaitsForHistoryLookup(t *testing.T) {
	h := newResendHarness(t, true)
	h.fake.FailNext("conversations.history", MaxHistoryLookups-1, http.StatusServiceUnavailable, "")
	for i := 1; i < MaxHistoryLookups; i++ {
		h.svc.DeliverDue(context.Background())
		if n := h.posts(); n != 0 {
			t.Fatalf("after %d failed lookups: %d chat.postMessage calls, want 0 (a duplicate)", i, n)
		}
		it, err := h.store.OutboxItem(context.Background(), h.id)
		if err != nil {
			t.Fatal(err)
		}
		if !it.NextAttempt.After(h.now) || it.SentAt != (time.Time{}) || it.Dead {
			t.Fatalf("after %d failed lookups the item is not deferred: %+v", i, it)
		}
		// Not due again before its backoff.
		if n := h.svc.DeliverDue(context.Background()); n != 0 {
			t.Fatalf("deferred item delivered again at once (%d)", n)
		}
		h.now = h.now.Add(10 * time.Minute)
	}
	h.svc.DeliverDue(context.Background())
	if n, msgs := h.posts(), h.fake.Messages(resendChannel); n != 0 || len(msgs) != 1 {
		t.Fatalf("posts %d, messages %d: want the one delivered before the crash", n, len(msgs))
	}
	if got := len(h.fake.Calls("conversations.history")); got != MaxHistoryLookups {
		t.Errorf("history lookups = %d, want %d", got, MaxHistoryLookups)
	}
	if it, _ := h.store.OutboxItem(context.Background(), h.id); it == nil || it.SentAt.IsZero() {
		t.Errorf("item not marked sent: %+v", it)
	}
	if strings.Contains(h.logs.String(), "duplicate") {
		t.Errorf("logs speak of a duplicate: %s", h.logs.String())
	}

	// Not delivered before the crash: sent once, after the lookup succeeded.
	h2 := newResendHarness(t, false)
	h2.fake.FailNext("conversations.history", 2, http.StatusInternalServerError, "")
	for range 3 {
		h2.round(t)
	}
	if n := h2.posts(); n != 1 || len(h2.fake.Messages(resendChannel)) != 1 {
		t.Fatalf("posts %d: want exactly one send after the lookup found nothing", n)
	}
}

// After MaxHistoryLookups failed lookups the alert is sent anyway (an
// alert must not be lost), once, with a warning that says a duplicate is
// possible.
func TestResendAfterHistoryLookupBound(t *testing.T) {
	h := newResendHarness(t, false)
	h.fake.FailNext("conversations.history", 100, http.StatusBadGateway, "")
	for i := 1; i < MaxHistoryLookups; i++ {
		h.round(t)
		if n := h.posts(); n != 0 {
			t.Fatalf("sent after %d failed lookups, want only after %d", i, MaxHistoryLookups)
		}
	}
	h.round(t)
	h.round(t) // sent and marked: nothing more
	if n := h.posts(); n != 1 {
		t.Fatalf("posts = %d, want exactly 1 after %d failed lookups", n, MaxHistoryLookups)
	}
	if got := len(h.fake.Calls("conversations.history")); got != MaxHistoryLookups {
		t.Errorf("history lookups = %d, want %d", got, MaxHistoryLookups)
	}
	var warned int
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if msg, _ := rec["message"].(string); strings.Contains(msg, "a duplicate of an earlier delivery is possible") {
			warned++
			if rec["level"] != "warn" || rec["lookups_failed"] != float64(MaxHistoryLookups) || rec["ref"] != resendRef {
				t.Errorf("duplicate warning = %v", rec)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d duplicate warnings, want 1; logs:\n%s", warned, h.logs.String())
	}
}

// A lookup that cannot succeed by asking again (the token lacks the
// history scope) does not hold the alert back: it is sent at once, with
// the warning.
func TestResendAfterPermanentLookupFailure(t *testing.T) {
	h := newResendHarness(t, false)
	h.fake.FailWith("conversations.history", "missing_scope")
	h.round(t)
	if n := h.posts(); n != 1 {
		t.Fatalf("posts = %d, want 1", n)
	}
	if !strings.Contains(h.logs.String(), "a duplicate of an earlier delivery is possible") {
		t.Errorf("no duplicate warning: %s", h.logs.String())
	}
}
