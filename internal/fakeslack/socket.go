package fakeslack

// Socket Mode and response_url for the fake.
//
// A server made by NewSocketMode answers everything New's does, plus:
//
//	POST /api/apps.connections.open  app-level token → {"ok":true,"url":"ws://127.0.0.1:PORT/socket?ticket=…"}
//	GET  /socket?ticket=…            the Socket Mode WebSocket: sends hello, then pushed envelopes; reads acks
//	POST /response/…                 a response_url (see ResponseURL): records the JSON reply, answers "ok"
//
// Envelopes pushed while no client is connected are queued and sent after
// the next hello. The fake sends a WebSocket ping every PingInterval (as
// Slack does), so clients with a ping deadline stay connected.
//
// Posts to a response_url are also recorded as Calls with Method
// ResponseURLMethod, and FailNext / FailWith apply to them under that name
// (FailWith answers HTTP 400 with the error code as text, as Slack does).
// apps.connections.open is recorded like any API call; its token is never
// stored. Reset clears those calls but not acks, responses or queued
// envelopes.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// AppID is the fake app's id (api_app_id in payloads).
const AppID = "A0FAKE"

// ResponseURLMethod is the Call.Method of a post to a response_url, and the
// name FailNext / FailWith use for them.
const ResponseURLMethod = "response_url"

// DefaultPingInterval is how often the fake pings a Socket Mode client.
const DefaultPingInterval = 2 * time.Second

// Slack allows a response_url five uses.
const responseURLUses = 5

// Ack is one envelope acknowledgement a Socket Mode client sent.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's "payload" (nil when none), e.g. a slash
	// command's immediate ephemeral answer.
	Payload json.RawMessage
	At      time.Time
}

// Response is one reply posted to a response_url.
type Response struct {
	URL  string // the response_url it was posted to
	Body string // the raw JSON body
	// Decoded fields.
	ResponseType    string // "ephemeral", "in_channel" or ""
	Text            string
	Blocks          string // the "blocks" JSON array as sent ("" when none)
	ReplaceOriginal *bool  // nil when absent
	DeleteOriginal  bool
	At              time.Time
}

// Envelope is a raw Socket Mode envelope for Push.
type Envelope struct {
	Type       string // "slash_commands", "interactive", "events_api", "disconnect", …
	EnvelopeID string // "" = generated
	Payload    any
	// AcceptsResponsePayload is sent as accepts_response_payload.
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
}

// SlashCommand is a slash command invocation for PushSlashCommand (and,
// with Form, for HTTP mode tests). Empty fields get defaults.
type SlashCommand struct {
	Command     string // default "/openclaw"
	Text        string
	UserID      string // default "U0USER"
	UserName    string // default "user"
	ChannelID   string // default "C0CHAN"
	ChannelName string
	TeamID      string // default TeamID
	TriggerID   string // default generated
	// ResponseURL defaults (in Push*) to a fresh ResponseURL();
	// NoResponseURL sends none.
	ResponseURL   string
	NoResponseURL bool
	EnvelopeID    string // "" = generated
	RetryAttempt  int
}

// BlockAction is a button press for PushBlockAction (and, with Payload,
// for HTTP mode tests). Empty fields get defaults.
type BlockAction struct {
	UserID    string // default "U0USER"
	UserName  string // default "user"
	ChannelID string // default "C0CHAN"
	ActionID  string
	Value     string
	BlockID   string // default "openclaw_actions" (what bot/slack renders)
	Text      string // button text, default "Button"
	MessageTS string // default "1700000000.000100"
	TeamID    string // default TeamID
	TriggerID string // default generated
	// ResponseURL defaults (in Push*) to a fresh ResponseURL();
	// NoResponseURL sends none.
	ResponseURL   string
	NoResponseURL bool
	EnvelopeID    string // "" = generated
	RetryAttempt  int
}

func (c SlashCommand) withDefaults() SlashCommand {
	if c.Command == "" {
		c.Command = "/openclaw"
	}
	if c.UserID == "" {
		c.UserID = "U0USER"
	}
	if c.UserName == "" {
		c.UserName = "user"
	}
	if c.ChannelID == "" {
		c.ChannelID = "C0CHAN"
	}
	if c.ChannelName == "" {
		c.ChannelName = "channel"
		if strings.HasPrefix(c.ChannelID, "D") {
			c.ChannelName = "directmessage"
		}
	}
	if c.TeamID == "" {
		c.TeamID = TeamID
	}
	if c.TriggerID == "" {
		c.TriggerID = "trig-" + randomHex(6)
	}
	if c.NoResponseURL {
		c.ResponseURL = ""
	}
	return c
}

// Form is the command as Slack posts it in HTTP mode
// (application/x-www-form-urlencoded).
func (c SlashCommand) Form() url.Values {
	c = c.withDefaults()
	v := url.Values{}
	v.Set("team_id", c.TeamID)
	v.Set("team_domain", "fake")
	v.Set("channel_id", c.ChannelID)
	v.Set("channel_name", c.ChannelName)
	v.Set("user_id", c.UserID)
	v.Set("user_name", c.UserName)
	v.Set("command", c.Command)
	v.Set("text", c.Text)
	v.Set("api_app_id", AppID)
	v.Set("is_enterprise_install", "false")
	v.Set("response_url", c.ResponseURL)
	v.Set("trigger_id", c.TriggerID)
	return v
}

func (c SlashCommand) payload() map[string]any {
	out := map[string]any{}
	for k, vs := range c.Form() {
		out[k] = vs[0]
	}
	return out
}

func (a BlockAction) withDefaults() BlockAction {
	if a.UserID == "" {
		a.UserID = "U0USER"
	}
	if a.UserName == "" {
		a.UserName = "user"
	}
	if a.ChannelID == "" {
		a.ChannelID = "C0CHAN"
	}
	if a.BlockID == "" {
		a.BlockID = "openclaw_actions"
	}
	if a.Text == "" {
		a.Text = "Button"
	}
	if a.MessageTS == "" {
		a.MessageTS = "1700000000.000100"
	}
	if a.TeamID == "" {
		a.TeamID = TeamID
	}
	if a.TriggerID == "" {
		a.TriggerID = "trig-" + randomHex(6)
	}
	if a.NoResponseURL {
		a.ResponseURL = ""
	}
	return a
}

// Payload is the block_actions payload as Slack sends it (the JSON of the
// "payload" form field in HTTP mode, the envelope payload in Socket Mode).
func (a BlockAction) Payload() map[string]any {
	a = a.withDefaults()
	chName := "channel"
	if strings.HasPrefix(a.ChannelID, "D") {
		chName = "directmessage"
	}
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": a.UserID, "username": a.UserName, "name": a.UserName, "team_id": a.TeamID},
		"api_app_id": AppID,
		"container": map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID,
			"is_ephemeral": false},
		"trigger_id": a.TriggerID,
		"team":       map[string]any{"id": a.TeamID, "domain": "fake"},
		"channel":    map[string]any{"id": a.ChannelID, "name": chName},
		"message": map[string]any{"type": "message", "ts": a.MessageTS, "bot_id": BotID, "user": UserID,
			"text": "message with buttons"},
		"state": map[string]any{"values": map[string]any{}},
		"actions": []any{map[string]any{
			"action_id": a.ActionID,
			"block_id":  a.BlockID,
			"text":      map[string]any{"type": "plain_text", "text": a.Text, "emoji": true},
			"value":     a.Value,
			"type":      "button",
			"action_ts": a.MessageTS,
		}},
	}
	if a.ResponseURL != "" {
		p["response_url"] = a.ResponseURL
	}
	return p
}

// NewSocketMode starts a fake like New that also speaks Socket Mode and
// serves response_urls (see the package comment of socket.go). The methods
// in this file panic on a server made by New.
func NewSocketMode() *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("fakeslack: listen: " + err.Error())
	}
	base := "http://" + ln.Addr().String()
	s := &Server{
		ln:         ln,
		url:        base + "/api/",
		messages:   map[string][]*Message{},
		ephemerals: map[string][]*Message{},
		failNext:   map[string][]*failure{},
		failWith:   map[string]string{},
	}
	st := &socketState{
		base:      base,
		tickets:   map[string]bool{},
		conns:     map[*wsConn]bool{},
		respUses:  map[string]int{},
		changed:   make(chan struct{}),
		pingEvery: DefaultPingInterval,
	}
	s.srv = &http.Server{Handler: &socketMux{s: s, st: st}, ReadHeaderTimeout: 10 * time.Second}
	// Shutdown does not close hijacked (WebSocket) connections; do it here.
	s.srv.RegisterOnShutdown(st.closeAll)
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

// socketMux routes the socket-mode paths and hands the rest to serve.
type socketMux struct {
	s  *Server
	st *socketState
}

func (m *socketMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/api/apps.connections.open":
		m.s.connectionsOpen(w, r, m.st)
	case r.URL.Path == "/socket":
		m.st.serveWS(w, r)
	case strings.HasPrefix(r.URL.Path, "/response/"):
		m.s.serveResponse(w, r, m.st)
	default:
		m.s.serve(w, r)
	}
}

// socketState is the Socket Mode side of a Server.
type socketState struct {
	base string // http://127.0.0.1:PORT

	mu         sync.Mutex
	appTokenFP string
	tickets    map[string]bool // issued, not yet used
	conns      map[*wsConn]bool
	active     *wsConn // newest connection that got hello
	queue      [][]byte
	opened     int // WebSocket connections accepted so far
	acks       []Ack
	responses  []Response
	respUses   map[string]int // response_url path → uses
	seq        int
	pingEvery  time.Duration
	closed     bool
	changed    chan struct{} // closed and replaced on every change
}

type wsConn struct {
	c    *websocket.Conn
	wmu  sync.Mutex // one writer at a time (pings use WriteControl, which is safe)
	done chan struct{}
}

func (st *socketState) notifyLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// sock returns the socket state, or panics for a server made by New.
func (s *Server) sock() *socketState {
	if m, ok := s.srv.Handler.(*socketMux); ok {
		return m.st
	}
	panic("fakeslack: Socket Mode and response_url need a server made by NewSocketMode")
}

// RequireAppToken makes apps.connections.open refuse (invalid_auth) any
// token but tok. Only a fingerprint is kept. Without it any token is
// accepted except a bot or user token (xox…), which gets
// not_allowed_token_type as on real Slack.
func (s *Server) RequireAppToken(tok string) {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.appTokenFP = fingerprint(tok)
}

// SetPingInterval changes how often connections opened later are pinged;
// 0 turns pings off.
func (s *Server) SetPingInterval(d time.Duration) {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pingEvery = d
}

// ResponseURL issues a fresh response_url on the fake. Each accepts five
// posts, like Slack's.
func (s *Server) ResponseURL() string {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	p := fmt.Sprintf("/response/%s/%d/%s", TeamID, st.seq, randomHex(8))
	st.respUses[p] = 0
	return st.base + p
}

// Responses returns the replies posted to any response_url, oldest first.
func (s *Server) Responses() []Response {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	return cloneResponses(st.responses)
}

// WaitResponses waits until at least n replies were posted to response_urls
// and returns them all; on timeout it returns what arrived.
func (s *Server) WaitResponses(n int, timeout time.Duration) []Response {
	st := s.sock()
	var out []Response
	st.waitFor(timeout, func() bool {
		out = cloneResponses(st.responses)
		return len(out) >= n
	})
	return out
}

// Push sends an envelope to the connected Socket Mode client (or queues it
// until one connects) and returns its envelope id.
func (s *Server) Push(e Envelope) string {
	st := s.sock()
	st.mu.Lock()
	if e.EnvelopeID == "" {
		st.seq++
		e.EnvelopeID = fmt.Sprintf("env-%d-%s", st.seq, randomHex(4))
	}
	st.mu.Unlock()
	msg := map[string]any{
		"envelope_id":              e.EnvelopeID,
		"type":                     e.Type,
		"payload":                  e.Payload,
		"accepts_response_payload": e.AcceptsResponsePayload,
	}
	if e.RetryAttempt > 0 {
		msg["retry_attempt"] = e.RetryAttempt
		msg["retry_reason"] = e.RetryReason
	}
	b, err := json.Marshal(msg)
	if err != nil {
		panic("fakeslack: Push: " + err.Error())
	}
	st.send(b)
	return e.EnvelopeID
}

// PushSlashCommand pushes a slash_commands envelope and returns its id.
func (s *Server) PushSlashCommand(c SlashCommand) string {
	if c.ResponseURL == "" && !c.NoResponseURL {
		c.ResponseURL = s.ResponseURL()
	}
	return s.Push(Envelope{Type: "slash_commands", EnvelopeID: c.EnvelopeID, Payload: c.payload(),
		AcceptsResponsePayload: true, RetryAttempt: c.RetryAttempt, RetryReason: retryReason(c.RetryAttempt)})
}

// PushBlockAction pushes an interactive (block_actions) envelope and
// returns its id.
func (s *Server) PushBlockAction(a BlockAction) string {
	if a.ResponseURL == "" && !a.NoResponseURL {
		a.ResponseURL = s.ResponseURL()
	}
	return s.Push(Envelope{Type: "interactive", EnvelopeID: a.EnvelopeID, Payload: a.Payload(),
		RetryAttempt: a.RetryAttempt, RetryReason: retryReason(a.RetryAttempt)})
}

// PushDisconnect asks the client to reconnect, as Slack does before it
// rotates a connection.
func (s *Server) PushDisconnect(reason string) {
	if reason == "" {
		reason = "refresh_requested"
	}
	b, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "fakeslack"}})
	s.sock().send(b)
}

func retryReason(n int) string {
	if n > 0 {
		return "timeout"
	}
	return ""
}

// Acks returns the acked envelope ids in the order the acks arrived.
func (s *Server) Acks() []string {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]string, len(st.acks))
	for i, a := range st.acks {
		out[i] = a.EnvelopeID
	}
	return out
}

// AckRecords returns the acks with their payloads and arrival times.
func (s *Server) AckRecords() []Ack {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	return cloneAcks(st.acks)
}

// WaitAck waits until envelopeID is acked and returns the (first) ack;
// ok is false on timeout.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (Ack, bool) {
	st := s.sock()
	var found Ack
	ok := st.waitFor(timeout, func() bool {
		for _, a := range st.acks {
			if a.EnvelopeID == envelopeID {
				found = cloneAcks([]Ack{a})[0]
				return true
			}
		}
		return false
	})
	return found, ok
}

// Connections returns how many WebSocket connections were accepted so far.
func (s *Server) Connections() int {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.opened
}

// WaitConnections waits until at least n connections were accepted (and
// got hello).
func (s *Server) WaitConnections(n int, timeout time.Duration) bool {
	st := s.sock()
	return st.waitFor(timeout, func() bool { return st.opened >= n })
}

// OpenConnections returns how many WebSocket connections are open now.
func (s *Server) OpenConnections() int {
	st := s.sock()
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.conns)
}

// DropConnections closes every open WebSocket connection abruptly (no
// close frame), like a network failure.
func (s *Server) DropConnections() {
	st := s.sock()
	st.mu.Lock()
	conns := make([]*wsConn, 0, len(st.conns))
	for c := range st.conns {
		conns = append(conns, c)
	}
	st.mu.Unlock()
	for _, c := range conns {
		_ = c.c.UnderlyingConn().Close()
	}
}

// waitFor calls cond (with st.mu held) until it is true or timeout passes.
func (st *socketState) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		st.mu.Lock()
		if cond() {
			st.mu.Unlock()
			return true
		}
		ch := st.changed
		st.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			st.mu.Lock()
			defer st.mu.Unlock()
			return cond()
		}
	}
}

// send writes b to the active connection, or queues it.
func (st *socketState) send(b []byte) {
	st.mu.Lock()
	c := st.active
	if c == nil {
		st.queue = append(st.queue, b)
		st.mu.Unlock()
		return
	}
	st.mu.Unlock()
	if err := c.write(b); err != nil {
		st.mu.Lock()
		st.queue = append(st.queue, b)
		st.mu.Unlock()
	}
}

func (c *wsConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *wsConn) writeLocked(b []byte) error {
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.c.WriteMessage(websocket.TextMessage, b)
}

// connectionsOpen answers apps.connections.open.
func (s *Server) connectionsOpen(w http.ResponseWriter, r *http.Request, st *socketState) {
	const method = "apps.connections.open"
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.ParseForm()
	tok := r.Form.Get("token")
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		tok = strings.TrimPrefix(a, "Bearer ")
	}
	call := Call{Method: method, Params: cloneValues(r.Form), Auth: tok != "", At: time.Now()}
	call.Params.Del("token")

	st.mu.Lock()
	requiredFP, closed := st.appTokenFP, st.closed
	st.mu.Unlock()

	s.mu.Lock()
	var (
		status = http.StatusOK
		body   map[string]any
		hdr    = map[string]string{}
	)
	switch f := s.takeFailure(method); {
	case f != nil:
		status, body = f.status, map[string]any{"ok": false, "error": "ratelimited"}
		if f.retryAfter != "" {
			hdr["Retry-After"] = f.retryAfter
		}
	case s.failWith[method] != "":
		body = slackErr(s.failWith[method])
	case s.failWith[Any] != "":
		body = slackErr(s.failWith[Any])
	case tok == "":
		body = slackErr("not_authed")
	case requiredFP != "" && fingerprint(tok) != requiredFP:
		body = slackErr("invalid_auth")
	case requiredFP == "" && strings.HasPrefix(tok, "xox"):
		body = slackErr("not_allowed_token_type")
	case closed:
		body = slackErr("internal_error")
	default:
		ticket := randomHex(16)
		st.mu.Lock()
		st.tickets[ticket] = true
		st.mu.Unlock()
		body = map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(st.base, "http") + "/socket?ticket=" + ticket}
	}
	call.Status = status
	if e, ok := body["error"].(string); ok {
		call.Error = e
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	if status != http.StatusOK && status != http.StatusTooManyRequests {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var upgrader = websocket.Upgrader{
	// Slack's client sends Origin: https://api.slack.com.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveWS is one Socket Mode connection.
func (st *socketState) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	st.mu.Lock()
	ok := st.tickets[ticket] && !st.closed
	delete(st.tickets, ticket) // single use
	st.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered
	}
	conn := &wsConn{c: c, done: make(chan struct{})}

	conn.wmu.Lock()
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		conn.wmu.Unlock()
		_ = c.Close()
		return
	}
	st.conns[conn] = true
	st.active = conn
	queued := st.queue
	st.queue = nil
	pingEvery := st.pingEvery
	st.mu.Unlock()

	hello, _ := json.Marshal(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": AppID},
		"debug_info":      map[string]any{"host": "fakeslack", "approximate_connection_time": 18060}})
	err = conn.writeLocked(hello)
	sent := 0
	for err == nil && sent < len(queued) {
		if err = conn.writeLocked(queued[sent]); err == nil {
			sent++
		}
	}
	if sent < len(queued) {
		st.mu.Lock()
		st.queue = append(append([][]byte{}, queued[sent:]...), st.queue...)
		st.mu.Unlock()
	}
	conn.wmu.Unlock()

	st.mu.Lock()
	st.opened++
	st.notifyLocked()
	st.mu.Unlock()

	var pinger sync.WaitGroup
	if pingEvery > 0 {
		pinger.Go(func() {
			t := time.NewTicker(pingEvery)
			defer t.Stop()
			for {
				select {
				case <-conn.done:
					return
				case <-t.C:
					if c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)) != nil {
						return
					}
				}
			}
		})
	}

	defer func() {
		close(conn.done)
		pinger.Wait()
		_ = c.Close()
		st.mu.Lock()
		delete(st.conns, conn)
		if st.active == conn {
			st.active = nil
			for other := range st.conns {
				st.active = other
				break
			}
		}
		st.notifyLocked()
		st.mu.Unlock()
	}()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &a) != nil || a.EnvelopeID == "" {
			continue
		}
		if string(a.Payload) == "null" {
			a.Payload = nil
		}
		st.mu.Lock()
		st.acks = append(st.acks, Ack{EnvelopeID: a.EnvelopeID, Payload: a.Payload, At: time.Now()})
		st.notifyLocked()
		st.mu.Unlock()
	}
}

// closeAll runs on Server.Close: it closes every WebSocket connection.
func (st *socketState) closeAll() {
	st.mu.Lock()
	st.closed = true
	conns := make([]*wsConn, 0, len(st.conns))
	for c := range st.conns {
		conns = append(conns, c)
	}
	st.mu.Unlock()
	for _, c := range conns {
		_ = c.c.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closing"), time.Now().Add(100*time.Millisecond))
		_ = c.c.UnderlyingConn().Close()
	}
}

// serveResponse is a response_url.
func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request, st *socketState) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	call := Call{Method: ResponseURLMethod, Params: url.Values{}, At: time.Now()}
	var decoded map[string]any
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	jsonErr := json.Unmarshal(body, &decoded)
	if decoded != nil {
		call.JSON = decoded
		delete(call.JSON, "token")
	}
	call.Auth = r.Header.Get("Authorization") != ""

	status, answer := http.StatusOK, "ok"
	hdr := map[string]string{}

	s.mu.Lock()
	st.mu.Lock()
	uses, known := st.respUses[r.URL.Path]
	switch f := s.takeFailure(ResponseURLMethod); {
	case r.Method != http.MethodPost:
		status, answer = http.StatusMethodNotAllowed, "method_not_allowed"
	case f != nil:
		status, answer = f.status, "failure"
		if f.status == http.StatusTooManyRequests {
			answer = "ratelimited"
		}
		if f.retryAfter != "" {
			hdr["Retry-After"] = f.retryAfter
		}
	case s.failWith[ResponseURLMethod] != "":
		status, answer = http.StatusBadRequest, s.failWith[ResponseURLMethod]
	case !known:
		status, answer = http.StatusNotFound, "expired_url"
	case uses >= responseURLUses:
		status, answer = http.StatusNotFound, "used_url"
	case ct != "application/json" || jsonErr != nil || decoded == nil:
		status, answer = http.StatusBadRequest, "invalid_payload"
	default:
		st.respUses[r.URL.Path] = uses + 1
		resp := Response{URL: st.base + r.URL.Path, Body: string(body), At: call.At}
		resp.ResponseType, _ = decoded["response_type"].(string)
		resp.Text, _ = decoded["text"].(string)
		if b, ok := decoded["blocks"]; ok && b != nil {
			raw, _ := json.Marshal(b)
			resp.Blocks = string(raw)
		}
		if v, ok := decoded["replace_original"]; ok {
			b := truthyAny(v)
			resp.ReplaceOriginal = &b
		}
		if v, ok := decoded["delete_original"]; ok {
			resp.DeleteOriginal = truthyAny(v)
		}
		st.responses = append(st.responses, resp)
		st.notifyLocked()
	}
	call.Status = status
	if status != http.StatusOK {
		call.Error = answer
	}
	s.calls = append(s.calls, call)
	st.mu.Unlock()
	s.mu.Unlock()

	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func truthyAny(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

func cloneAcks(in []Ack) []Ack {
	out := make([]Ack, len(in))
	for i, a := range in {
		out[i] = a
		if a.Payload != nil {
			out[i].Payload = append(json.RawMessage(nil), a.Payload...)
		}
	}
	return out
}

func cloneResponses(in []Response) []Response {
	out := make([]Response, len(in))
	for i, r := range in {
		out[i] = r
		if r.ReplaceOriginal != nil {
			b := *r.ReplaceOriginal
			out[i].ReplaceOriginal = &b
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
