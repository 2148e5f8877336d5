package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

const appTok = "xapp-1-A0FAKE-SECRET-abcdef0123"

// openConn calls apps.connections.open with tok and returns the parsed answer.
func openConn(t *testing.T, s *Server, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"apps.connections.open", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func dial(t *testing.T, wsURL string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readJSON(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func TestConnectionsOpenAuth(t *testing.T) {
	s := NewSocketMode()
	defer s.Close()

	if got := openConn(t, s, "xoxb-bot-token-1234"); got["error"] != "not_allowed_token_type" {
		t.Errorf("bot token: %v", got)
	}
	s.RequireAppToken(appTok)
	if got := openConn(t, s, "xapp-wrong-token"); got["error"] != "invalid_auth" {
		t.Errorf("wrong token: %v", got)
	}
	got := openConn(t, s, appTok)
	u, _ := got["url"].(string)
	if got["ok"] != true || !strings.HasPrefix(u, "ws://127.0.0.1:") || !strings.Contains(u, "/socket?ticket=") {
		t.Fatalf("open = %v", got)
	}
	calls := s.Calls("apps.connections.open")
	if len(calls) != 3 || !calls[2].Auth || calls[2].Error != "" || calls[1].Error != "invalid_auth" {
		t.Errorf("calls = %+v", calls)
	}
	for _, c := range calls {
		if strings.Contains(c.Param("token"), "xapp") || strings.Contains(u, appTok) {
			t.Errorf("token recorded: %+v", c)
		}
	}
	s.FailNext("apps.connections.open", 1, 429, "2")
	if got := openConn(t, s, appTok); got["error"] != "ratelimited" {
		t.Errorf("FailNext: %v", got)
	}
}

func TestSocketHelloPushAck(t *testing.T) {
	s := NewSocketMode()
	defer s.Close()
	// Queued before anyone connects: delivered after hello.
	early := s.PushSlashCommand(SlashCommand{Text: "status", UserID: "U1", ChannelID: "D1"})

	u := openConn(t, s, appTok)["url"].(string)
	c := dial(t, u)
	if m := readJSON(t, c); m["type"] != "hello" {
		t.Fatalf("first message = %v", m)
	}
	m := readJSON(t, c)
	p, _ := m["payload"].(map[string]any)
	if m["type"] != "slash_commands" || m["envelope_id"] != early || m["accepts_response_payload"] != true ||
		p["command"] != "/openclaw" || p["text"] != "status" || p["user_id"] != "U1" || p["channel_id"] != "D1" ||
		!strings.HasPrefix(p["response_url"].(string), "http://127.0.0.1:") {
		t.Fatalf("envelope = %v", m)
	}
	if !s.WaitConnections(1, time.Second) || s.OpenConnections() != 1 {
		t.Fatalf("connections = %d open %d", s.Connections(), s.OpenConnections())
	}

	// The ticket is single use.
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("reused ticket: %v", err)
	}

	ba := s.PushBlockAction(BlockAction{ActionID: "pa_1", Value: "pa_1", UserID: "U2", Text: "Confirm"})
	m = readJSON(t, c)
	var ic slack.InteractionCallback
	raw, _ := json.Marshal(m["payload"])
	if err := json.Unmarshal(raw, &ic); err != nil {
		t.Fatal(err)
	}
	if m["type"] != "interactive" || m["envelope_id"] != ba || ic.Type != slack.InteractionTypeBlockActions ||
		ic.User.ID != "U2" || ic.Channel.ID != "C0CHAN" || len(ic.ActionCallback.BlockActions) != 1 ||
		ic.ActionCallback.BlockActions[0].Value != "pa_1" || ic.ActionCallback.BlockActions[0].BlockID != "openclaw_actions" ||
		ic.ResponseURL == "" {
		t.Fatalf("block action = %v / %+v", m, ic)
	}

	if _, ok := s.WaitAck(early, 50*time.Millisecond); ok {
		t.Fatal("ack reported before it was sent")
	}
	_ = c.WriteJSON(map[string]any{"envelope_id": early, "payload": map[string]any{"text": "working"}})
	_ = c.WriteJSON(map[string]any{"envelope_id": ba})
	a, ok := s.WaitAck(early, 2*time.Second)
	if !ok || !strings.Contains(string(a.Payload), "working") || a.At.IsZero() {
		t.Fatalf("ack = %+v %v", a, ok)
	}
	if a, ok := s.WaitAck(ba, 2*time.Second); !ok || a.Payload != nil {
		t.Fatalf("ack 2 = %+v %v", a, ok)
	}
	if got := s.Acks(); len(got) != 2 || got[0] != early || got[1] != ba {
		t.Errorf("Acks = %v", got)
	}
	if got := s.AckRecords(); len(got) != 2 {
		t.Errorf("AckRecords = %v", got)
	}

	// Close ends the connection.
	s.Close()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("connection still open after Close")
	} else if ne, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err); ok && ne.Timeout() {
		t.Fatalf("Close did not close the WebSocket: %v", err)
	}
}

func postJSON(t *testing.T, u, ct, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestResponseURL(t *testing.T) {
	s := NewSocketMode()
	defer s.Close()
	u := s.ResponseURL()
	if u == s.ResponseURL() || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("ResponseURL = %s", u)
	}
	code, body := postJSON(t, u, "application/json",
		`{"response_type":"ephemeral","text":"hi","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}],"replace_original":false}`)
	if code != 200 || body != "ok" {
		t.Fatalf("post = %d %q", code, body)
	}
	r := s.Responses()
	if len(r) != 1 || r[0].URL != u || r[0].ResponseType != "ephemeral" || r[0].Text != "hi" ||
		!strings.Contains(r[0].Blocks, `"*hi*"`) || r[0].ReplaceOriginal == nil || *r[0].ReplaceOriginal {
		t.Fatalf("responses = %+v", r)
	}
	calls := s.Calls(ResponseURLMethod)
	if len(calls) != 1 || calls[0].Param("text") != "hi" || calls[0].Auth || calls[0].Status != 200 {
		t.Fatalf("calls = %+v", calls)
	}

	if code, body := postJSON(t, u, "text/plain", "hello"); code != 400 || body != "invalid_payload" {
		t.Errorf("non-JSON = %d %q", code, body)
	}
	if code, body := postJSON(t, strings.TrimSuffix(u, "0")+"x", "application/json", `{"text":"x"}`); code != 404 || body != "expired_url" {
		t.Errorf("unknown url = %d %q", code, body)
	}
	s.FailNext(ResponseURLMethod, 1, 500, "")
	if code, _ := postJSON(t, u, "application/json", `{"text":"x"}`); code != 500 {
		t.Errorf("FailNext = %d", code)
	}
	s.FailWith(ResponseURLMethod, "invalid_blocks")
	if code, body := postJSON(t, u, "application/json", `{"text":"x"}`); code != 400 || body != "invalid_blocks" {
		t.Errorf("FailWith = %d %q", code, body)
	}
	s.FailWith(ResponseURLMethod, "")
	for i := 2; i <= 5; i++ {
		if code, _ := postJSON(t, u, "application/json", `{"text":"x"}`); code != 200 {
			t.Fatalf("use %d = %d", i, code)
		}
	}
	if code, body := postJSON(t, u, "application/json", `{"text":"x"}`); code != 404 || body != "used_url" {
		t.Errorf("6th use = %d %q", code, body)
	}
	if got := s.WaitResponses(5, time.Second); len(got) != 5 {
		t.Errorf("WaitResponses = %d", len(got))
	}
	// The ordinary API still works on the same server.
	if _, err := slack.New("xoxb-x", slack.OptionAPIURL(s.URL())).AuthTest(); err != nil {
		t.Errorf("auth.test: %v", err)
	}
}

// TestSlackGoClient runs slack-go's own Socket Mode client against the fake.
func TestSlackGoClient(t *testing.T) {
	s := NewSocketMode()
	defer s.Close()
	s.RequireAppToken(appTok)
	s.SetPingInterval(50 * time.Millisecond)
	api := slack.New("xoxb-bot", slack.OptionAppLevelToken(appTok), slack.OptionAPIURL(s.URL()))
	// A short ping deadline: the connection survives only if the fake pings.
	client := socketmode.New(api, socketmode.OptionPingInterval(300*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }()
	go func() {
		for {
			select {
			case evt := <-client.Events:
				if evt.Type == socketmode.EventTypeSlashCommand {
					cmd := evt.Data.(slack.SlashCommand)
					_ = client.Ack(*evt.Request, map[string]any{"text": "ok: " + cmd.Text})
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	time.Sleep(time.Second) // several ping deadlines
	id := s.PushSlashCommand(SlashCommand{Text: "help"})
	a, ok := s.WaitAck(id, 3*time.Second)
	if !ok || !bytes.Contains(a.Payload, []byte("ok: help")) {
		t.Fatalf("ack = %+v %v", a, ok)
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("connections = %d, want 1 (no ping-timeout reconnects)", n)
	}

	// A dropped connection is reopened, and queued envelopes follow.
	s.DropConnections()
	if !s.WaitConnections(2, 5*time.Second) {
		t.Fatal("no reconnect after DropConnections")
	}
	id = s.PushSlashCommand(SlashCommand{Text: "again"})
	if _, ok := s.WaitAck(id, 3*time.Second); !ok {
		t.Fatal("no ack after reconnect")
	}
	s.PushDisconnect("")
	if !s.WaitConnections(3, 5*time.Second) {
		t.Fatal("no reconnect after disconnect envelope")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunContext = %v", err)
	}
}

func TestSocketMethodsNeedNewSocketMode(t *testing.T) {
	s := New()
	defer s.Close()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "NewSocketMode") {
			t.Errorf("recover = %v", r)
		}
	}()
	s.ResponseURL()
}

// TestNewSocketModeMatchesNew guards against New growing a field that
// NewSocketMode does not initialise.
func TestNewSocketModeMatchesNew(t *testing.T) {
	a, b := New(), NewSocketMode()
	defer a.Close()
	defer b.Close()
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if !va.Field(i).IsZero() && vb.Field(i).IsZero() {
			t.Errorf("NewSocketMode leaves field %s zero; New sets it", name)
		}
	}
}
