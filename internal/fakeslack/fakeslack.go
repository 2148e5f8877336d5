// Package fakeslack is an in-process fake of the Slack Web API for tests.
// It listens on 127.0.0.1 only; point github.com/slack-go/slack at it with
// slack.OptionAPIURL(srv.URL()).
//
// It implements auth.test, chat.postMessage, chat.update,
// conversations.history and chat.postEphemeral, stores posted messages
// (text, blocks, message metadata) per channel, and records every call:
// method, parameters (form or JSON) and whether a token was sent. The token
// itself is never stored: the "token" parameter is removed from recorded
// parameters and only a fingerprint is kept when RequireToken is used.
//
// Failures are programmable: FailNext answers the next n calls of a method
// with an HTTP status (500, 429 with Retry-After, …); FailWith answers every
// call of a method with {"ok":false,"error":…} until cleared.
//
// The package is a normal (non-test) package so tests in any package can use
// it; like internal/fakeanthropic it does not import net/http/httptest,
// which would register a global command-line flag in any binary linking it.
package fakeslack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Identity of the fake workspace, as answered by auth.test.
const (
	TeamID = "T0FAKE"
	UserID = "U0BOT"
	BotID  = "B0BOT"
)

// Any is the method name that makes FailNext / FailWith apply to every method.
const Any = "*"

// baseTS is the first message ts: "1700000000.000100".
const baseTS = 1700000000 * 1_000_000

// Call is one recorded request.
type Call struct {
	Method string // "chat.postMessage"
	// Params are the form (or query) parameters, without "token".
	Params url.Values
	// JSON is the decoded body of a JSON request (nil for form requests),
	// without a "token" key.
	JSON map[string]any
	// Auth reports whether a credential was sent (form "token" or an
	// Authorization header); the value itself is never recorded.
	Auth   bool
	At     time.Time // when the request arrived
	Status int       // HTTP status answered
	Error  string    // Slack error code answered, "" when ok
}

// Param returns a parameter from the form or, for JSON requests, the JSON
// body (non-strings re-encoded as JSON).
func (c Call) Param(name string) string {
	if v := c.Params.Get(name); v != "" {
		return v
	}
	if c.JSON != nil {
		switch v := c.JSON[name].(type) {
		case nil:
		case string:
			return v
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	return ""
}

// Metadata is Slack message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Message is a stored message.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	User     string // chat.postEphemeral: the user it was shown to
	Text     string
	// Blocks is the blocks JSON array as sent ("" when none).
	Blocks   string
	Metadata *Metadata
	Edits    int // number of chat.update calls applied
}

type failure struct {
	n          int
	status     int
	retryAfter string
}

// Server is the fake. Create it with New and Close it when done.
type Server struct {
	srv *http.Server
	ln  net.Listener
	url string

	mu         sync.Mutex
	calls      []Call
	messages   map[string][]*Message
	ephemerals map[string][]*Message
	seq        int64
	clock      func() time.Time
	lastTS     int64
	failNext   map[string][]*failure
	failWith   map[string]string
	tokenFP    string // sha256 of the required token, "" = accept any
}

// New starts a fake on 127.0.0.1 with a random port.
func New() *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("fakeslack: listen: " + err.Error())
	}
	s := &Server{
		ln:         ln,
		url:        "http://" + ln.Addr().String() + "/api/",
		messages:   map[string][]*Message{},
		ephemerals: map[string][]*Message{},
		failNext:   map[string][]*failure{},
		failWith:   map[string]string{},
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

// URL is the API base URL, ending in "/api/" as slack.OptionAPIURL needs.
func (s *Server) URL() string { return s.url }

// Close stops the server and closes open connections.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
}

// RequireToken makes every call without this token fail with not_authed /
// invalid_auth. Only a fingerprint of tok is kept.
func (s *Server) RequireToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenFP = fingerprint(tok)
}

// FailNext answers the next n calls of method (or Any) with HTTP status,
// and a Retry-After header when retryAfter is not empty. 429 carries
// {"ok":false,"error":"ratelimited"}, other statuses an HTML body like
// Slack's edge does. Several FailNext calls queue up in order.
func (s *Server) FailNext(method string, n int, status int, retryAfter string) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[method] = append(s.failNext[method], &failure{n: n, status: status, retryAfter: retryAfter})
}

// FailWith answers every following call of method (or Any) with HTTP 200
// {"ok":false,"error":slackError}; an empty slackError clears it.
func (s *Server) FailWith(method, slackError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slackError == "" {
		delete(s.failWith, method)
		return
	}
	s.failWith[method] = slackError
}

// Calls returns the recorded calls of method, or all calls for "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, cloneCall(c))
		}
	}
	return out
}

// Messages returns the messages stored in channel, oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMessages(s.messages[channel])
}

// Ephemerals returns the chat.postEphemeral messages sent in channel.
func (s *Server) Ephemerals(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMessages(s.ephemerals[channel])
}

// Reset forgets calls, messages and programmed failures.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.messages = map[string][]*Message{}
	s.ephemerals = map[string][]*Message{}
	s.failNext = map[string][]*failure{}
	s.failWith = map[string]string{}
}

// AddMessage stores a message as if someone had posted it (for history
// tests) and returns its ts.
func (s *Server) AddMessage(m Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.TS == "" {
		m.TS = s.nextTS()
	}
	s.messages[m.Channel] = append(s.messages[m.Channel], &m)
	return m.TS
}

func (s *Server) nextTS() string {
	s.seq++
	v := baseTS + s.seq*100
	if s.clock != nil { // real Slack: ts is the posting time, strictly increasing
		v = max(s.clock().UnixMicro(), s.lastTS+1)
		s.lastTS = v
	}
	return fmt.Sprintf("%d.%06d", v/1_000_000, v%1_000_000)
}

// UseClock makes message timestamps follow clock (like real Slack) instead
// of the deterministic 1700000000.000100, .000200, … sequence. Needed when a
// client filters history by time (conversations.history oldest=).
func (s *Server) UseClock(clock func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = clock
}

type request struct {
	method string
	params url.Values
	json   map[string]any
	token  string
}

func (r *request) get(name string) string {
	if v := r.params.Get(name); v != "" {
		return v
	}
	if r.json != nil {
		switch v := r.json[name].(type) {
		case nil:
		case string:
			return v
		case bool:
			return strconv.FormatBool(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || method == "" {
		http.NotFound(w, r)
		return
	}
	req := &request{method: method}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			_ = json.Unmarshal(body, &req.json)
		}
		_ = r.ParseForm() // query string
		req.params = r.Form
	} else {
		_ = r.ParseForm()
		req.params = r.Form
	}
	if tok := req.params.Get("token"); tok != "" {
		req.token = tok
	}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		req.token = strings.TrimPrefix(a, "Bearer ")
	}
	if req.json != nil {
		if tok, ok := req.json["token"].(string); ok && req.token == "" {
			req.token = tok
		}
	}

	call := Call{Method: method, Params: cloneValues(req.params), JSON: req.json, Auth: req.token != "", At: time.Now()}
	call.Params.Del("token")
	if call.JSON != nil {
		delete(call.JSON, "token")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	status, body, hdr := s.dispatch(req)
	call.Status = status
	if status == http.StatusOK {
		if e, ok := body["error"].(string); ok {
			call.Error = e
		}
	} else if status == http.StatusTooManyRequests {
		call.Error = "ratelimited"
	}
	s.calls = append(s.calls, call)

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

// dispatch runs with s.mu held.
func (s *Server) dispatch(r *request) (int, map[string]any, map[string]string) {
	if f := s.takeFailure(r.method); f != nil {
		hdr := map[string]string{}
		if f.retryAfter != "" {
			hdr["Retry-After"] = f.retryAfter
		}
		return f.status, map[string]any{"ok": false, "error": "ratelimited"}, hdr
	}
	if e := s.failWith[r.method]; e != "" {
		return http.StatusOK, slackErr(e), nil
	}
	if e := s.failWith[Any]; e != "" {
		return http.StatusOK, slackErr(e), nil
	}
	if r.token == "" {
		return http.StatusOK, slackErr("not_authed"), nil
	}
	if s.tokenFP != "" && fingerprint(r.token) != s.tokenFP {
		return http.StatusOK, slackErr("invalid_auth"), nil
	}

	switch r.method {
	case "auth.test":
		return http.StatusOK, map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "Fake Workspace",
			"user": "openclaw-bot", "team_id": TeamID, "user_id": UserID, "bot_id": BotID}, nil
	case "chat.postMessage":
		return s.postMessage(r)
	case "chat.update":
		return s.update(r)
	case "conversations.history":
		return s.history(r)
	case "chat.postEphemeral":
		return s.postEphemeral(r)
	}
	return http.StatusOK, slackErr("unknown_method"), nil
}

func (s *Server) takeFailure(method string) *failure {
	for _, key := range []string{method, Any} {
		q := s.failNext[key]
		if len(q) == 0 {
			continue
		}
		f := *q[0]
		q[0].n--
		if q[0].n <= 0 {
			s.failNext[key] = q[1:]
		}
		return &f
	}
	return nil
}

func (s *Server) postMessage(r *request) (int, map[string]any, map[string]string) {
	ch := r.get("channel")
	if ch == "" {
		return http.StatusOK, slackErr("channel_not_found"), nil
	}
	text, blocks := r.get("text"), r.get("blocks")
	if text == "" && (blocks == "" || blocks == "[]") {
		return http.StatusOK, slackErr("no_text"), nil
	}
	md, err := parseMetadata(r.get("metadata"))
	if err != nil {
		return http.StatusOK, slackErr("invalid_metadata_format"), nil
	}
	m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: r.get("thread_ts"), Text: text, Blocks: blocks, Metadata: md}
	s.messages[ch] = append(s.messages[ch], m)
	return http.StatusOK, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": wireMessage(m, true)}, nil
}

func (s *Server) update(r *request) (int, map[string]any, map[string]string) {
	ch, ts := r.get("channel"), r.get("ts")
	if ch == "" {
		return http.StatusOK, slackErr("channel_not_found"), nil
	}
	var m *Message
	for _, x := range s.messages[ch] {
		if x.TS == ts {
			m = x
		}
	}
	if m == nil {
		return http.StatusOK, slackErr("message_not_found"), nil
	}
	if v := r.get("text"); v != "" {
		m.Text = v
	}
	if v := r.get("blocks"); v != "" {
		m.Blocks = v
	}
	if v := r.get("metadata"); v != "" {
		md, err := parseMetadata(v)
		if err != nil {
			return http.StatusOK, slackErr("invalid_metadata_format"), nil
		}
		m.Metadata = md
	}
	m.Edits++
	return http.StatusOK, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text, "message": wireMessage(m, true)}, nil
}

func (s *Server) postEphemeral(r *request) (int, map[string]any, map[string]string) {
	ch, user := r.get("channel"), r.get("user")
	if ch == "" {
		return http.StatusOK, slackErr("channel_not_found"), nil
	}
	if user == "" {
		return http.StatusOK, slackErr("user_not_found"), nil
	}
	m := &Message{Channel: ch, TS: s.nextTS(), User: user, Text: r.get("text"), Blocks: r.get("blocks")}
	s.ephemerals[ch] = append(s.ephemerals[ch], m)
	return http.StatusOK, map[string]any{"ok": true, "message_ts": m.TS}, nil
}

func (s *Server) history(r *request) (int, map[string]any, map[string]string) {
	ch := r.get("channel")
	if ch == "" {
		return http.StatusOK, slackErr("channel_not_found"), nil
	}
	withMeta := truthy(r.get("include_all_metadata"))
	inclusive := truthy(r.get("inclusive"))
	oldest, latest := parseTS(r.get("oldest")), parseTS(r.get("latest"))
	limit, _ := strconv.Atoi(r.get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start, _ := strconv.Atoi(r.get("cursor"))

	var sel []*Message
	for _, m := range s.messages[ch] {
		t := parseTS(m.TS)
		if oldest >= 0 && (t < oldest || (t == oldest && !inclusive)) {
			continue
		}
		if latest >= 0 && (t > latest || (t == latest && !inclusive)) {
			continue
		}
		sel = append(sel, m)
	}
	sort.SliceStable(sel, func(i, j int) bool { return parseTS(sel[i].TS) > parseTS(sel[j].TS) }) // newest first
	if start > len(sel) {
		start = len(sel)
	}
	end := min(start+limit, len(sel))
	msgs := make([]map[string]any, 0, end-start)
	for _, m := range sel[start:end] {
		msgs = append(msgs, wireMessage(m, withMeta))
	}
	next := ""
	if end < len(sel) {
		next = strconv.Itoa(end)
	}
	return http.StatusOK, map[string]any{"ok": true, "messages": msgs, "has_more": next != "",
		"pin_count": 0, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

func wireMessage(m *Message, withMeta bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "bot_id": BotID, "user": UserID, "team": TeamID}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != "" {
		var raw json.RawMessage
		if json.Unmarshal([]byte(m.Blocks), &raw) == nil {
			out["blocks"] = raw
		}
	}
	if m.Edits > 0 {
		out["edited"] = map[string]any{"user": UserID, "ts": m.TS}
	}
	if withMeta && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

func parseMetadata(s string) (*Metadata, error) {
	if s == "" {
		return nil, nil
	}
	var md Metadata
	if err := json.Unmarshal([]byte(s), &md); err != nil {
		return nil, err
	}
	if md.EventType == "" {
		return nil, fmt.Errorf("metadata without event_type")
	}
	return &md, nil
}

// parseTS parses a Slack ts into microseconds; -1 when empty or invalid.
func parseTS(s string) int64 {
	if s == "" {
		return -1
	}
	sec, frac, _ := strings.Cut(s, ".")
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return -1
	}
	frac = (frac + "000000")[:6]
	b, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return -1
	}
	return a*1_000_000 + b
}

func truthy(s string) bool { return s == "1" || s == "true" }

func slackErr(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func cloneCall(c Call) Call {
	c.Params = cloneValues(c.Params)
	if c.JSON != nil {
		j := make(map[string]any, len(c.JSON))
		for k, v := range c.JSON {
			j[k] = v
		}
		c.JSON = j
	}
	return c
}

func copyMessages(ms []*Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		c := *m
		if m.Metadata != nil {
			md := *m.Metadata
			c.Metadata = &md
		}
		out = append(out, c)
	}
	return out
}
