package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const token = "xoxb-fake-SECRET-0123456789"

func client(s *Server, tok string) *slack.Client {
	return slack.New(tok, slack.OptionAPIURL(s.URL()), slack.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func TestURLAndAuthTest(t *testing.T) {
	s := New()
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/api/") {
		t.Fatalf("URL = %s", s.URL())
	}
	resp, err := client(s, token).AuthTestContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resp.UserID != UserID || resp.TeamID != TeamID || resp.BotID != BotID {
		t.Errorf("auth.test = %+v", resp)
	}
	c := s.Calls("auth.test")
	if len(c) != 1 || !c[0].Auth || c[0].Status != 200 || c[0].At.IsZero() {
		t.Errorf("calls = %+v", c)
	}
}

func TestPostUpdateHistory(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	md := slack.SlackMetadata{EventType: "openclaw_bot_message", EventPayload: map[string]any{"ref": "r1"}}
	blocks := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hi*", false, false), nil, nil)
	ch, ts1, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false), slack.MsgOptionBlocks(blocks), slack.MsgOptionMetadata(md))
	if err != nil || ch != "C1" || ts1 != "1700000000.000100" {
		t.Fatalf("post = %q %q %v", ch, ts1, err)
	}
	_, ts2, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("second", false))
	if err != nil || ts2 != "1700000000.000200" {
		t.Fatalf("post 2 = %q %v", ts2, err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts1, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "9.9", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update of unknown ts: %v", err)
	}

	msgs := s.Messages("C1")
	if len(msgs) != 2 || msgs[0].Text != "edited" || msgs[0].Edits != 1 || msgs[0].Metadata == nil ||
		msgs[0].Metadata.EventPayload["ref"] != "r1" || !strings.Contains(msgs[0].Blocks, `"*hi*"`) {
		t.Fatalf("messages = %+v", msgs)
	}

	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Timestamp != ts2 || h.Messages[1].Metadata.EventType != "openclaw_bot_message" ||
		h.Messages[1].Metadata.EventPayload["ref"] != "r1" || len(h.Messages[1].Blocks.BlockSet) != 1 {
		t.Fatalf("history = %+v", h.Messages)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil || h.Messages[1].Metadata.EventType != "" {
		t.Errorf("metadata without include_all_metadata: %+v %v", h.Messages, err)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: ts1})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != ts2 {
		t.Errorf("oldest (exclusive): %+v %v", h.Messages, err)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: ts1, Inclusive: true})
	if err != nil || len(h.Messages) != 2 {
		t.Errorf("oldest (inclusive): %+v %v", h.Messages, err)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 1})
	if err != nil || len(h.Messages) != 1 || !h.HasMore || h.ResponseMetaData.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", h, err)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 1, Cursor: h.ResponseMetaData.NextCursor})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != ts1 || h.HasMore {
		t.Fatalf("page 2: %+v %v", h, err)
	}
	if len(s.Messages("C2")) != 0 {
		t.Error("C2 not empty")
	}

	post := s.Calls("chat.postMessage")[0]
	if post.Param("channel") != "C1" || post.Param("text") != "hi" || !strings.Contains(post.Param("metadata"), `"ref":"r1"`) {
		t.Errorf("recorded post = %+v", post.Params)
	}
	if n := len(s.Calls("")); n != 10 {
		t.Errorf("%d calls recorded, want 10", n)
	}
}

func TestEphemeral(t *testing.T) {
	s := New()
	defer s.Close()
	ts, err := client(s, token).PostEphemeralContext(context.Background(), "C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil || ts == "" {
		t.Fatal(ts, err)
	}
	e := s.Ephemerals("C1")
	if len(e) != 1 || e[0].User != "U1" || e[0].Text != "only you" || len(s.Messages("C1")) != 0 {
		t.Errorf("ephemerals = %+v", e)
	}
}

func TestFailNext(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	s.FailNext("chat.postMessage", 2, 429, "3")
	s.FailNext("chat.postMessage", 1, 500, "")
	for i := range 2 {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
			t.Fatalf("call %d: %#v", i, err)
		}
	}
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 500 {
		t.Fatalf("third call: %#v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatalf("fourth call: %v", err)
	}
	// Other methods were not affected; Any affects all.
	s.FailNext(Any, 1, 503, "")
	if _, err := api.AuthTestContext(ctx); err == nil {
		t.Error("Any did not apply")
	}
	calls := s.Calls("chat.postMessage")
	want := []int{429, 429, 500, 200}
	for i, c := range calls {
		if c.Status != want[i] {
			t.Errorf("call %d status %d, want %d", i, c.Status, want[i])
		}
	}
	if len(s.Messages("C1")) != 1 {
		t.Errorf("failed calls stored messages: %+v", s.Messages("C1"))
	}
}

func TestFailWith(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	s.FailWith("chat.postMessage", "channel_not_found")
	for range 2 {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "channel_not_found" {
			t.Fatalf("err = %#v", err)
		}
	}
	if c := s.Calls("chat.postMessage"); c[1].Error != "channel_not_found" || c[1].Status != 200 {
		t.Errorf("recorded %+v", c[1])
	}
	s.FailWith("chat.postMessage", "")
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatal(err)
	}
}

func TestTokenNeverRecorded(t *testing.T) {
	s := New()
	defer s.Close()
	s.RequireToken(token)
	ctx := context.Background()
	if _, err := client(s, token).AuthTestContext(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client(s, "xoxb-wrong-000000000").AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := client(s, "").AuthTestContext(ctx); err == nil || err.Error() != "not_authed" {
		t.Errorf("no token: %v", err)
	}
	// JSON body with a bearer token.
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"chat.postMessage",
		bytes.NewReader([]byte(`{"channel":"C9","text":"json","blocks":[{"type":"divider"}],"metadata":{"event_type":"e","event_payload":{"ref":"j"}}}`)))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out["ok"] != true {
		t.Fatalf("JSON post: %v", out)
	}
	m := s.Messages("C9")
	if len(m) != 1 || m[0].Blocks != `[{"type":"divider"}]` || m[0].Metadata.EventPayload["ref"] != "j" {
		t.Errorf("JSON message = %+v", m)
	}

	calls := s.Calls("")
	if len(calls) != 4 || !calls[0].Auth || !calls[1].Auth || calls[2].Auth || !calls[3].Auth {
		t.Errorf("auth flags: %+v", calls)
	}
	dump := fmt.Sprintf("%#v", calls)
	for _, secret := range []string{token, "xoxb-wrong-000000000"} {
		if strings.Contains(dump, secret) {
			t.Errorf("token recorded: %s", dump)
		}
	}
}

func TestUnknownMethodAndReset(t *testing.T) {
	s := New()
	defer s.Close()
	resp, err := http.PostForm(s.URL()+"users.info", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out["error"] != "unknown_method" {
		t.Errorf("out = %v", out)
	}
	s.AddMessage(Message{Channel: "C1", Text: "x"})
	s.FailWith(Any, "fatal_error")
	s.Reset()
	if len(s.Calls("")) != 0 || len(s.Messages("C1")) != 0 {
		t.Error("Reset kept state")
	}
	if _, err := client(s, token).AuthTestContext(context.Background()); err != nil {
		t.Errorf("Reset kept failures: %v", err)
	}
}
