// Package fakeanthropic is an in-process fake of the Anthropic HTTP API for
// tests. It listens on 127.0.0.1 only, answers the endpoints OpenClaw and the
// bot use (GET /v1/models, POST /v1/messages with and without SSE streaming,
// OpenAI-style POST /chat/completions and /v1/chat/completions), and can be
// switched per request path between success and the error responses the real
// API returns (401, 403, 429, 529, 500, 400 "credit balance too low",
// "OAuth authentication is currently not supported", or "keyed": only a
// configured set of credentials is accepted).
//
// It is a Go port of the python fake used to capture the OpenClaw fixtures
// (/work/shared/openclaw/tools/fake_anthropic.py); the SSE stream is byte-for-
// byte the same. Every request is recorded with its credentials replaced by a
// fingerprint: the raw secret is never stored.
//
// The package is a normal (non-test) package so integration tests in other
// packages can use it; it deliberately does not import net/http/httptest,
// which would register a global command-line flag in any binary linking it.
package fakeanthropic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/netutil"
)

// Mode selects how the server answers a request.
type Mode string

const (
	// ModeOK answers successfully (JSON, or SSE when the body has "stream": true).
	ModeOK Mode = "ok"
	// Mode401 answers 401 authentication_error "invalid x-api-key".
	Mode401 Mode = "401"
	// Mode401Revoked answers 401 authentication_error "API key revoked":
	// OpenClaw 2026.4+ classifies it auth_permanent and disables the
	// profile for 10 minutes (instead of a 30 s auth cooldown), long enough
	// to watch what a gateway does with it.
	Mode401Revoked Mode = "401revoked"
	// Mode403 answers 403 permission_error.
	Mode403 Mode = "403"
	// Mode429 answers 429 rate_limit_error with a retry-after header.
	Mode429 Mode = "429"
	// Mode429Daily answers 429 rate_limit_error for a daily usage limit
	// (MsgDailyLimit, retry-after a day): OpenClaw classifies it as a
	// periodic usage limit and records a rate_limit window at once instead
	// of retrying for minutes as it does for a per-minute limit.
	Mode429Daily Mode = "429daily"
	// Mode529 answers 529 overloaded_error.
	Mode529 Mode = "529"
	// Mode500 answers 500 api_error.
	Mode500 Mode = "500"
	// Mode400Credit answers 400 invalid_request_error "Your credit balance is too low ...".
	Mode400Credit Mode = "400credit"
	// ModeOAuthUnsupported answers 401 authentication_error
	// "OAuth authentication is currently not supported.".
	ModeOAuthUnsupported Mode = "oauth-unsupported"
	// ModeKeyed answers like ModeOK for credentials in the configured key set
	// (Options.Keys / SetKeys / AddKey) and like Mode401 for anything else.
	ModeKeyed Mode = "keyed"
)

// Modes lists every supported mode.
var Modes = []Mode{ModeOK, Mode401, Mode401Revoked, Mode403, Mode429, Mode429Daily, Mode529, Mode500, Mode400Credit, ModeOAuthUnsupported, ModeKeyed}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	for _, k := range Modes {
		if m == k {
			return true
		}
	}
	return false
}

// Exact error texts of the real API, exported so tests can compare.
const (
	MsgInvalidAPIKey    = "invalid x-api-key"
	MsgAPIKeyRevoked    = "API key revoked"
	MsgPermission       = "Your API key does not have permission to use the specified resource."
	MsgRateLimit        = "Number of request tokens has exceeded your per-minute rate limit"
	MsgDailyLimit       = "Your organization's daily usage limit reached for this model. Please try again tomorrow."
	MsgOverloaded       = "Overloaded"
	MsgInternal         = "Internal server error"
	MsgCreditTooLow     = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
	MsgOAuthUnsupported = "OAuth authentication is currently not supported."
	MsgNotFound         = "Not found"
)

// Paths served.
const (
	PathModels              = "/v1/models"
	PathMessages            = "/v1/messages"
	PathChatCompletions     = "/chat/completions"
	PathV1ChatCompletions   = "/v1/chat/completions"
	defaultRetryAfter       = "30"
	defaultMaxBodyRecorded  = 4096
	defaultMaxBodyAccepted  = 8 << 20
	fingerprintHexLen       = 12
	fingerprintPrefixMarker = "…sha256:"
)

// Model is one entry of the GET /v1/models list.
type Model struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// DefaultModels is the model list served unless Options.Models is set.
var DefaultModels = []Model{
	{Type: "model", ID: "claude-opus-5", DisplayName: "Claude Opus 5", CreatedAt: "2026-08-05T00:00:00Z"},
	{Type: "model", ID: "claude-sonnet-5", DisplayName: "Claude Sonnet 5", CreatedAt: "2026-08-05T00:00:00Z"},
	{Type: "model", ID: "claude-haiku-4-5", DisplayName: "Claude Haiku 4.5", CreatedAt: "2025-10-01T00:00:00Z"},
}

// Options configure a Server. The zero value is a server that answers "ok"
// on every path.
type Options struct {
	// Mode is the default mode for every path (default ModeOK).
	Mode Mode
	// PathModes overrides the mode per request path (e.g. "/v1/messages").
	PathModes map[string]Mode
	// Keys are the credentials accepted in ModeKeyed (x-api-key or Bearer).
	Keys []string
	// RetryAfter is the retry-after header value in Mode429 (default "30").
	RetryAfter string
	// Models is the list served by GET /v1/models (default DefaultModels).
	Models []Model
	// Delay is added before every response (0 = none).
	Delay time.Duration
	// Addr is the listen address (default "127.0.0.1:0"). Only loopback
	// addresses are accepted.
	Addr string
	// MaxBodyRecorded caps the request body kept in a Request (default 4096 bytes).
	MaxBodyRecorded int
}

// Request is one recorded request. Credentials never appear in it: the
// x-api-key header and the Authorization header carry Fingerprint(secret)
// instead of the secret.
type Request struct {
	Time     time.Time
	Method   string
	Path     string
	RawQuery string
	// Header holds the request headers (canonical keys) with credentials
	// replaced by their fingerprint ("Bearer <fingerprint>" for Authorization).
	Header http.Header
	// Credential is the fingerprint of the credential used ("" if none).
	Credential string
	// CredentialSource is "x-api-key", "authorization" or "".
	CredentialSource string
	// Body is the request body, truncated to Options.MaxBodyRecorded bytes.
	Body string
	// BodyTruncated reports that Body was cut.
	BodyTruncated bool
	// Model is the "model" field of a JSON body, if any.
	Model string
	// Stream is the "stream" field of a JSON body.
	Stream bool
	// Mode is the mode the request was answered with (ModeKeyed resolved to ok/401).
	Mode Mode
	// Status is the HTTP status code that was sent.
	Status int
}

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	ln  net.Listener
	srv *http.Server
	url string

	mu         sync.Mutex
	mode       Mode
	pathModes  map[string]Mode
	keys       map[string]struct{}
	retryAfter string
	models     []Model
	delay      time.Duration
	maxBody    int
	requests   []Request
	counts     map[string]int
	notify     chan struct{} // closed and replaced on every recorded request
	closeOnce  sync.Once
	serveDone  chan struct{}
	idSeq      int
}

// New starts a fake server. It panics if it cannot listen (like
// httptest.NewServer); use Start for an error instead.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic("fakeanthropic: " + err.Error())
	}
	return s
}

// Start starts a fake server and returns an error if it cannot listen or
// the options are invalid.
func Start(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bad listen address %q: %w", addr, err)
	}
	if !netutil.IsLoopback(host) {
		return nil, fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	mode := opts.Mode
	if mode == "" {
		mode = ModeOK
	}
	if !mode.Valid() {
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	s := &Server{
		mode:       mode,
		pathModes:  map[string]Mode{},
		keys:       map[string]struct{}{},
		retryAfter: opts.RetryAfter,
		models:     append([]Model(nil), opts.Models...),
		delay:      opts.Delay,
		maxBody:    opts.MaxBodyRecorded,
		counts:     map[string]int{},
		notify:     make(chan struct{}),
		serveDone:  make(chan struct{}),
	}
	if s.retryAfter == "" {
		s.retryAfter = defaultRetryAfter
	}
	if len(s.models) == 0 {
		s.models = append([]Model(nil), DefaultModels...)
	}
	if s.maxBody <= 0 {
		s.maxBody = defaultMaxBodyRecorded
	}
	for p, m := range opts.PathModes {
		if !m.Valid() {
			return nil, fmt.Errorf("unknown mode %q for path %s", m, p)
		}
		s.pathModes[p] = m
	}
	for _, k := range opts.Keys {
		s.keys[k] = struct{}{}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing slash).
// Use it as models.providers.anthropic.baseUrl.
func (s *Server) URL() string { return s.url }

// Addr is the listen address "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes all connections, including idle
// keep-alive connections held by clients. It is safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		_ = s.srv.Close()
		<-s.serveDone
	})
}

// SetMode sets the default mode (used for paths without their own mode).
func (s *Server) SetMode(m Mode) {
	mustValid(m)
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

// SetPathMode sets the mode for one request path ("/v1/messages"). An empty
// mode removes the override.
func (s *Server) SetPathMode(path string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == "" {
		delete(s.pathModes, path)
		return
	}
	mustValid(m)
	s.pathModes[path] = m
}

// ModeFor returns the mode a request to path would get.
func (s *Server) ModeFor(path string) Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modeForLocked(path)
}

func (s *Server) modeForLocked(path string) Mode {
	if m, ok := s.pathModes[path]; ok {
		return m
	}
	return s.mode
}

// SetKeys replaces the set of credentials accepted in ModeKeyed.
func (s *Server) SetKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]struct{}{}
	for _, k := range keys {
		s.keys[k] = struct{}{}
	}
}

// AddKey adds a credential accepted in ModeKeyed.
func (s *Server) AddKey(key string) {
	s.mu.Lock()
	s.keys[key] = struct{}{}
	s.mu.Unlock()
}

// SetDelay sets a delay added before every response.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// SetRetryAfter sets the retry-after header value sent in Mode429.
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	s.retryAfter = v
	s.mu.Unlock()
}

// Requests returns a copy of all recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// RequestsFor returns copies of the recorded requests to one path.
func (s *Server) RequestsFor(path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests were received on path ("" = all paths).
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		return len(s.requests)
	}
	return s.counts[path]
}

// Counts returns a copy of the per-path request counters.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Reset forgets all recorded requests and counters (modes and keys stay).
func (s *Server) Reset() {
	s.mu.Lock()
	s.requests = nil
	s.counts = map[string]int{}
	s.mu.Unlock()
}

// WaitForRequests blocks until at least n requests were received on path
// ("" = any path) or ctx is done. It returns the count seen.
func (s *Server) WaitForRequests(ctx context.Context, path string, n int) (int, error) {
	for {
		s.mu.Lock()
		got := len(s.requests)
		if path != "" {
			got = s.counts[path]
		}
		ch := s.notify
		s.mu.Unlock()
		if got >= n {
			return got, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// Fingerprint is what the server records instead of a credential: the
// well-known non-secret prefix of Anthropic/OpenClaw credentials (such as
// "sk-ant-api03-"), if any, then "…sha256:" and the first 12 hex digits of
// SHA-256 over the whole credential. Empty input gives "".
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return knownPrefix(secret) + fingerprintPrefixMarker + hex.EncodeToString(sum[:])[:fingerprintHexLen]
}

// knownPrefix returns the public type prefix of a credential, never any of
// its secret part.
func knownPrefix(secret string) string {
	for _, p := range []string{"sk-ant-api03-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-ant-admin01-", "openclaw-oauth-refresh-fence:", "sk-proj-", "sk-"} {
		if strings.HasPrefix(secret, p) && len(secret) > len(p)+8 {
			return p
		}
	}
	return ""
}

func mustValid(m Mode) {
	if !m.Valid() {
		panic(fmt.Sprintf("fakeanthropic: unknown mode %q", m))
	}
}

// credential extracts the credential from x-api-key or Authorization: Bearer.
func credential(h http.Header) (secret, source string) {
	if v := h.Get("X-Api-Key"); v != "" {
		return v, "x-api-key"
	}
	if v := h.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:]), "authorization"
		}
		return v, "authorization"
	}
	return "", ""
}

// redactedHeader clones h and replaces every credential-bearing header.
func redactedHeader(h http.Header) http.Header {
	out := h.Clone()
	for k, vs := range out {
		switch strings.ToLower(k) {
		case "x-api-key", "proxy-authorization", "cookie":
			for i, v := range vs {
				vs[i] = Fingerprint(v)
			}
		case "authorization":
			for i, v := range vs {
				if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
					vs[i] = v[:7] + Fingerprint(strings.TrimSpace(v[7:]))
				} else {
					vs[i] = Fingerprint(v)
				}
			}
		}
	}
	return out
}

type reply struct {
	status int
	header map[string]string
	body   []byte
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, defaultMaxBodyAccepted))
	_ = r.Body.Close()

	secret, source := credential(r.Header)
	var fields struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if len(body) > 0 {
		_ = json.Unmarshal(body, &fields)
	}

	s.mu.Lock()
	mode := s.modeForLocked(r.URL.Path)
	if mode == ModeKeyed {
		if _, ok := s.keys[secret]; ok && secret != "" {
			mode = ModeOK
		} else {
			mode = Mode401
		}
	}
	retryAfter, models, delay := s.retryAfter, s.models, s.delay
	s.idSeq++
	seq := s.idSeq
	s.mu.Unlock()

	rep := s.respond(r, mode, fields.Model, fields.Stream, retryAfter, models, seq)

	rec := Request{
		Time:             time.Now(),
		Method:           r.Method,
		Path:             r.URL.Path,
		RawQuery:         r.URL.RawQuery,
		Header:           redactedHeader(r.Header),
		Credential:       Fingerprint(secret),
		CredentialSource: source,
		Model:            fields.Model,
		Stream:           fields.Stream,
		Mode:             mode,
		Status:           rep.status,
	}
	rec.Body, rec.BodyTruncated = truncateBody(body, s.maxBodyLimit(), secret)
	s.record(rec)

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (s *Server) maxBodyLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxBody
}

// truncateBody keeps at most max bytes; the credential, should a client echo
// it in the body, is replaced by its fingerprint.
func truncateBody(body []byte, max int, secret string) (string, bool) {
	if secret != "" && bytes.Contains(body, []byte(secret)) {
		body = bytes.ReplaceAll(body, []byte(secret), []byte(Fingerprint(secret)))
	}
	if len(body) > max {
		return string(body[:max]), true
	}
	return string(body), false
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
	s.counts[rec.Path]++
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *Server) respond(r *http.Request, mode Mode, model string, stream bool, retryAfter string, models []Model, seq int) reply {
	reqID := fmt.Sprintf("req_fake%06d", seq)
	openAI := r.URL.Path == PathChatCompletions || r.URL.Path == PathV1ChatCompletions
	if e := errorFor(mode, retryAfter); e != nil {
		if openAI {
			return jsonReply(e.status, reqID, e.header, map[string]openAIErrorDetail{
				"error": {Message: e.message, Type: e.errType},
			})
		}
		return jsonReply(e.status, reqID, e.header, anthropicError(e.errType, e.message))
	}
	path := r.URL.Path
	switch {
	case path == PathModels:
		if r.Method != http.MethodGet {
			return methodNotAllowed(reqID)
		}
		return jsonReply(http.StatusOK, reqID, nil, modelList(models))
	case strings.HasPrefix(path, PathModels+"/"):
		if r.Method != http.MethodGet {
			return methodNotAllowed(reqID)
		}
		id := strings.TrimPrefix(path, PathModels+"/")
		for _, m := range models {
			if m.ID == id {
				return jsonReply(http.StatusOK, reqID, nil, m)
			}
		}
		return jsonReply(http.StatusNotFound, reqID, nil, anthropicError("not_found_error", "model: "+id))
	case path == PathMessages:
		if r.Method != http.MethodPost {
			return methodNotAllowed(reqID)
		}
		if model == "" {
			model = "claude-opus-5"
		}
		if stream {
			return reply{status: http.StatusOK, header: map[string]string{"Content-Type": "text/event-stream", "Request-Id": reqID}, body: MessagesSSE(model)}
		}
		return jsonReply(http.StatusOK, reqID, nil, message{
			ID: "msg_fake", Type: "message", Role: "assistant", Model: model,
			Content:    []textBlock{{Type: "text", Text: "OK"}},
			StopReason: "end_turn", Usage: usage{InputTokens: 5, OutputTokens: 1},
		})
	case openAI:
		if r.Method != http.MethodPost {
			return methodNotAllowed(reqID)
		}
		if model == "" {
			model = "claude-haiku-4-5"
		}
		if stream {
			return reply{status: http.StatusOK, header: map[string]string{"Content-Type": "text/event-stream", "Request-Id": reqID}, body: chatCompletionSSE(model)}
		}
		return jsonReply(http.StatusOK, reqID, nil, map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1795600000, "model": model,
			"choices": []any{map[string]any{
				"index": 0, "message": map[string]any{"role": "assistant", "content": "OK"}, "finish_reason": "stop",
			}},
			"usage": map[string]any{"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
		})
	}
	return jsonReply(http.StatusNotFound, reqID, nil, anthropicError("not_found_error", MsgNotFound))
}

type apiErr struct {
	status  int
	errType string
	message string
	header  map[string]string
}

func errorFor(mode Mode, retryAfter string) *apiErr {
	switch mode {
	case Mode401:
		return &apiErr{status: 401, errType: "authentication_error", message: MsgInvalidAPIKey}
	case Mode401Revoked:
		return &apiErr{status: 401, errType: "authentication_error", message: MsgAPIKeyRevoked}
	case Mode403:
		return &apiErr{status: 403, errType: "permission_error", message: MsgPermission}
	case Mode429:
		return &apiErr{status: 429, errType: "rate_limit_error", message: MsgRateLimit, header: map[string]string{"Retry-After": retryAfter}}
	case Mode429Daily:
		return &apiErr{status: 429, errType: "rate_limit_error", message: MsgDailyLimit, header: map[string]string{"Retry-After": "86400"}}
	case Mode529:
		return &apiErr{status: 529, errType: "overloaded_error", message: MsgOverloaded}
	case Mode500:
		return &apiErr{status: 500, errType: "api_error", message: MsgInternal}
	case Mode400Credit:
		return &apiErr{status: 400, errType: "invalid_request_error", message: MsgCreditTooLow}
	case ModeOAuthUnsupported:
		return &apiErr{status: 401, errType: "authentication_error", message: MsgOAuthUnsupported}
	}
	return nil
}

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type errorEnvelope struct {
	Type  string      `json:"type"`
	Error errorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func anthropicError(typ, msg string) errorEnvelope {
	return errorEnvelope{Type: "error", Error: errorDetail{Type: typ, Message: msg}}
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type message struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []textBlock `json:"content"`
	StopReason   string      `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        usage       `json:"usage"`
}

type modelPage struct {
	Data    []Model `json:"data"`
	HasMore bool    `json:"has_more"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
}

// marshal encodes like the real API: no HTML escaping ("&" stays "&").
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func methodNotAllowed(reqID string) reply {
	return jsonReply(http.StatusMethodNotAllowed, reqID, nil, anthropicError("invalid_request_error", "Method not allowed"))
}

func jsonReply(status int, reqID string, extra map[string]string, payload any) reply {
	b, err := marshal(payload)
	if err != nil {
		b = []byte(`{"type":"error","error":{"type":"api_error","message":"fake marshal failure"}}`)
		status = 500
	}
	h := map[string]string{"Content-Type": "application/json", "Request-Id": reqID}
	for k, v := range extra {
		h[k] = v
	}
	return reply{status: status, header: h, body: b}
}

func modelList(models []Model) modelPage {
	p := modelPage{Data: models}
	if len(models) > 0 {
		first, last := models[0].ID, models[len(models)-1].ID
		p.FirstID, p.LastID = &first, &last
	}
	return p
}

// ErrorBody returns the exact JSON error body the server sends in mode m on
// an Anthropic path, or nil for ModeOK / ModeKeyed.
func ErrorBody(m Mode) []byte {
	e := errorFor(m, defaultRetryAfter)
	if e == nil {
		return nil
	}
	b, _ := marshal(anthropicError(e.errType, e.message))
	return b
}

// StatusFor returns the HTTP status sent in mode m (200 for ok/keyed-accepted).
func StatusFor(m Mode) int {
	if e := errorFor(m, defaultRetryAfter); e != nil {
		return e.status
	}
	return http.StatusOK
}

// sseEvent mirrors python's json.dumps default separators (", " and ": ")
// so the stream is byte-identical to fake_anthropic.py.
type sseEvent struct {
	name string
	data string
}

// MessagesSSE is the body of a successful streaming /v1/messages reply:
// message_start, content_block_start, content_block_delta "OK",
// content_block_stop, message_delta, message_stop. With model
// "claude-opus-5" it is byte-identical to the python fake's stream.
func MessagesSSE(model string) []byte {
	m, _ := json.Marshal(model)
	events := []sseEvent{
		{"message_start", `{"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant", "model": ` + string(m) + `, "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}`},
		{"content_block_start", `{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}`},
		{"content_block_delta", `{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "OK"}}`},
		{"content_block_stop", `{"type": "content_block_stop", "index": 0}`},
		{"message_delta", `{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 1}}`},
		{"message_stop", `{"type": "message_stop"}`},
	}
	var b bytes.Buffer
	for _, e := range events {
		fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", e.name, e.data)
	}
	return b.Bytes()
}

func chatCompletionSSE(model string) []byte {
	chunk := func(delta map[string]any, finish any) string {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1795600000, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		return string(b)
	}
	var b bytes.Buffer
	for _, c := range []string{
		chunk(map[string]any{"role": "assistant", "content": ""}, nil),
		chunk(map[string]any{"content": "OK"}, nil),
		chunk(map[string]any{}, "stop"),
	} {
		fmt.Fprintf(&b, "data: %s\n\n", c)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// String summarises the recorded traffic, e.g. "POST /v1/messages x2 (401)".
// It contains no credentials.
func (s *Server) String() string {
	reqs := s.Requests()
	type k struct {
		m, p   string
		status int
	}
	n := map[k]int{}
	for _, r := range reqs {
		n[k{r.Method, r.Path, r.Status}]++
	}
	keys := make([]k, 0, len(n))
	for key := range n {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].p != keys[j].p {
			return keys[i].p < keys[j].p
		}
		if keys[i].m != keys[j].m {
			return keys[i].m < keys[j].m
		}
		return keys[i].status < keys[j].status
	})
	parts := make([]string, 0, len(keys))
	for _, key := range keys {
		parts = append(parts, fmt.Sprintf("%s %s x%d (%d)", key.m, key.p, n[key], key.status))
	}
	if len(parts) == 0 {
		return "fakeanthropic " + s.url + ": no requests"
	}
	return "fakeanthropic " + s.url + ": " + strings.Join(parts, ", ")
}
