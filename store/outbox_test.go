package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

func sent(channel, id string) bot.Sent { return bot.Sent{Channel: channel, ID: id} }

func ids(items []OutboxItem) (out []int64) {
	for _, o := range items {
		out = append(out, o.ID)
	}
	return out
}

func TestOutboxLifecycle(t *testing.T) { eachDriver(t, testOutboxLifecycle) }

func testOutboxLifecycle(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()

	msg := bot.Message{Kind: bot.KindAlert, Severity: bot.SevCritical, Target: "local", Title: "cooldown", Ref: "alert:local:g1"}
	payload, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	// Created out of insertion order, one scheduled for later.
	b := Batch{Outbox: []OutboxItem{
		{Channel: ChannelSlack, Dest: "C1", Ref: msg.Ref, Kind: KindPost, Payload: payload, CreatedAt: t0.Add(2 * time.Second)},
		{Channel: ChannelTelegram, Dest: "-100", Ref: msg.Ref, Payload: payload, CreatedAt: t0},
		{Channel: ChannelConsole, Ref: "reply:1", Payload: payload, CreatedAt: t0.Add(time.Second), NextAttempt: t0.Add(time.Minute)},
		{Channel: ChannelSlack, Dest: "C1", Ref: "alert:local:g2", Payload: payload, CreatedAt: t0.Add(3 * time.Second)},
	}}
	must(t, s.Apply(ctx, b))
	slack, tg, console, slack2 := b.Outbox[0].ID, b.Outbox[1].ID, b.Outbox[2].ID, b.Outbox[3].ID

	due := func(now time.Time, limit int) []int64 {
		t.Helper()
		items, err := s.DueOutbox(ctx, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		return ids(items)
	}
	depth := func() int {
		t.Helper()
		n, err := s.OutboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, tc := range []struct {
		name  string
		now   time.Time
		limit int
		want  []int64
	}{
		{"before anything", t0.Add(-time.Second), 0, nil},
		{"oldest first", t0.Add(5 * time.Second), 0, []int64{tg, slack, slack2}},
		{"limit", t0.Add(5 * time.Second), 2, []int64{tg, slack}},
		{"scheduled one becomes due", t0.Add(time.Minute), 0, []int64{tg, console, slack, slack2}},
	} {
		if got := due(tc.now, tc.limit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.want)
		}
	}
	if depth() != 4 {
		t.Errorf("depth %d", depth())
	}

	// The payload round-trips into a bot.Message.
	items, _ := s.DueOutbox(ctx, t0, 1)
	var back bot.Message
	if err := json.Unmarshal(items[0].Payload, &back); err != nil || back.Ref != msg.Ref || back.Title != msg.Title {
		t.Errorf("payload: %+v, %v", back, err)
	}
	if items[0].Kind != KindPost || items[0].Attempts != 0 || !items[0].CreatedAt.Equal(ms0(t0)) || items[0].CreatedAt.Location() != time.UTC {
		t.Errorf("defaults: %+v", items[0])
	}

	// Attempt before sending, then success.
	must(t, s.MarkAttempt(ctx, slack, t0.Add(10*time.Second)))
	o, _ := s.OutboxItem(ctx, slack)
	if o.Attempts != 1 || !o.LastAttempt.Equal(ms0(t0.Add(10*time.Second))) || !o.SentAt.IsZero() {
		t.Errorf("after attempt: %+v", o)
	}
	if sm, err := s.SentMessage(ctx, ChannelSlack, "C1", msg.Ref); err != nil || sm != nil {
		t.Errorf("SentMessage before delivery: %+v, %v", sm, err)
	}
	must(t, s.MarkSent(ctx, slack, sent("C1", "1700000000.000100"), t0.Add(11*time.Second)))
	must(t, s.MarkSent(ctx, slack, sent("C1", "other"), t0.Add(12*time.Second))) // no-op
	o, _ = s.OutboxItem(ctx, slack)
	if o.SentAt.IsZero() || o.External != sent("C1", "1700000000.000100") {
		t.Errorf("after sent: %+v", o)
	}
	if got := due(t0.Add(time.Hour), 0); !reflect.DeepEqual(got, []int64{tg, console, slack2}) {
		t.Errorf("sent item still due: %v", got)
	}
	sm, err := s.SentMessage(ctx, ChannelSlack, "C1", msg.Ref)
	if err != nil || sm == nil || *sm != sent("C1", "1700000000.000100") {
		t.Errorf("SentMessage = %+v, %v", sm, err)
	}
	for _, miss := range [][3]string{
		{ChannelTelegram, "C1", msg.Ref}, {ChannelSlack, "C2", msg.Ref}, {ChannelSlack, "C1", "alert:local:g2"}, {ChannelSlack, "C1", ""},
	} {
		if sm, err := s.SentMessage(ctx, miss[0], miss[1], miss[2]); err != nil || sm != nil {
			t.Errorf("SentMessage%v = %+v, %v", miss, sm, err)
		}
	}

	// An edit of the same ref, delivered later, is what SentMessage returns.
	edit := Batch{Outbox: []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: msg.Ref, Kind: KindEdit, Payload: payload, CreatedAt: t0.Add(time.Hour)}}}
	must(t, s.Apply(ctx, edit))
	must(t, s.MarkAttempt(ctx, edit.Outbox[0].ID, t0.Add(time.Hour)))
	must(t, s.MarkSent(ctx, edit.Outbox[0].ID, sent("C1", "1700000000.000100-edited"), t0.Add(time.Hour)))
	if sm, _ := s.SentMessage(ctx, ChannelSlack, "C1", msg.Ref); sm == nil || sm.ID != "1700000000.000100-edited" {
		t.Errorf("SentMessage after edit = %+v", sm)
	}

	// Temporary failure: retried later, keeps its place.
	must(t, s.MarkAttempt(ctx, tg, t0.Add(10*time.Second)))
	must(t, s.MarkFailed(ctx, tg, "temporary: 502", t0.Add(30*time.Second), false))
	if got := due(t0.Add(20*time.Second), 0); !reflect.DeepEqual(got, []int64{slack2}) {
		t.Errorf("backing off item due: %v", got)
	}
	if got := due(t0.Add(2*time.Minute), 0); !reflect.DeepEqual(got, []int64{tg, console, slack2}) {
		t.Errorf("retry not due again: %v", got)
	}
	o, _ = s.OutboxItem(ctx, tg)
	if o.Attempts != 1 || o.LastError != "temporary: 502" || o.Dead {
		t.Errorf("after failure: %+v", o)
	}
	// Permanent failure: dead, never due, not counted; a zero next keeps
	// the old schedule.
	must(t, s.MarkAttempt(ctx, tg, t0.Add(40*time.Second)))
	must(t, s.MarkFailed(ctx, tg, "chat not found", time.Time{}, true))
	o, _ = s.OutboxItem(ctx, tg)
	if !o.Dead || o.Attempts != 2 || o.LastError != "chat not found" || !o.NextAttempt.Equal(ms0(t0.Add(30*time.Second))) {
		t.Errorf("after dead: %+v", o)
	}
	if got := due(t0.Add(24*time.Hour), 0); !reflect.DeepEqual(got, []int64{console, slack2}) {
		t.Errorf("dead item due: %v", got)
	}
	if depth() != 2 {
		t.Errorf("depth %d, want 2", depth())
	}

	// Crash between attempt and result: attempts > 0, not sent, still due.
	must(t, s.MarkAttempt(ctx, slack2, t0.Add(time.Minute)))
	items, _ = s.DueOutbox(ctx, t0.Add(time.Hour), 0)
	if len(items) != 2 || items[1].ID != slack2 || items[1].Attempts != 1 || !items[1].SentAt.IsZero() {
		t.Errorf("crashed attempt not visible: %+v", items)
	}

	// Unknown ids.
	for name, err := range map[string]error{
		"attempt": s.MarkAttempt(ctx, 9999, t0),
		"sent":    s.MarkSent(ctx, 9999, sent("C", "1"), t0),
		"failed":  s.MarkFailed(ctx, 9999, "x", t0, false),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a missing item: %v", name, err)
		}
	}
	if _, err := s.OutboxItem(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}

	// The notification log: newest first, one row per delivery.
	log, err := s.NotificationLog(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Notification{
		{ID: log[0].ID, OutboxID: edit.Outbox[0].ID, Channel: ChannelSlack, Dest: "C1", Ref: msg.Ref, Kind: KindEdit,
			External: sent("C1", "1700000000.000100-edited"), At: ms0(t0.Add(time.Hour))},
		{ID: log[1].ID, OutboxID: slack, Channel: ChannelSlack, Dest: "C1", Ref: msg.Ref, Kind: KindPost,
			External: sent("C1", "1700000000.000100"), At: ms0(t0.Add(11 * time.Second))},
	}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("log\n got %+v\nwant %+v", log, want)
	}
	if l1, _ := s.NotificationLog(ctx, 1); len(l1) != 1 {
		t.Errorf("limit 1: %d rows", len(l1))
	}
}
