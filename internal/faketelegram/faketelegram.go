// Package faketelegram is an in-process fake of the Telegram Bot API for
// tests. It listens on 127.0.0.1 only and answers the methods the bot uses:
// getMe, sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage,
// answerCallbackQuery, setMyCommands, getUpdates (long poll, with queued
// updates), setWebhook, deleteWebhook and getWebhookInfo.
//
// Requests go to "<URL>/bot<token>/<method>" exactly like the real API, with
// form-urlencoded, multipart, query-string or JSON parameters. A wrong token
// gets Telegram's 401 answer. Every request is recorded (method, parameters,
// HTTP status) but never the token, which only ever appears in the path.
//
// Messages sent with parse_mode HTML are parsed (ParseHTML) and rejected
// with Telegram's "can't parse entities" error when the markup is broken;
// texts longer than 4096 UTF-16 units after parsing are rejected with
// "message is too long"; inline keyboard callback_data over 64 bytes gets
// BUTTON_DATA_INVALID. Failures can be programmed per method (FailNext) or
// per chat (SetChatError) and produce the Bot API's error JSON, e.g.
// {"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}.
//
// Like internal/fakeanthropic it is a normal package (usable from any test)
// and does not import net/http/httptest.
package faketelegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Bot is the identity answered by getMe.
var Bot = User{ID: 4242424242, IsBot: true, FirstName: "OpenClaw", UserName: "openclaw_bot"}

// MaxMessageLen is Telegram's limit on a message text after entity parsing,
// in UTF-16 code units.
const MaxMessageLen = 4096

// DefaultPollCap caps how long a getUpdates long poll waits, whatever its
// timeout parameter says, so that tests stay fast.
const DefaultPollCap = time.Second

// User is a Telegram user (getMe result, update senders).
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	UserName  string `json:"username,omitempty"`
}

// Call is one recorded request.
type Call struct {
	Time time.Time
	// Method is the Bot API method as named in the path (e.g. "sendMessage").
	Method string
	// Params are the request parameters (form, query, multipart or JSON
	// fields; JSON values that are not strings are kept as JSON text).
	Params url.Values
	// Status is the HTTP status answered.
	Status int
	// Error is the description of an error answer ("" on success).
	Error string
}

// Message is a message the fake holds for a chat.
type Message struct {
	ChatID    int64
	MessageID int
	// Text is the text as sent (HTML source when ParseMode is HTML).
	Text string
	// Plain is the text after entity parsing (what a user reads).
	Plain                 string
	ParseMode             string
	DisableWebPagePreview bool
	// ReplyMarkup is the reply_markup JSON ("" when none).
	ReplyMarkup string
	Date        time.Time
	// Edits counts successful editMessageText/editMessageReplyMarkup calls.
	Edits int
	// Deleted is set by deleteMessage.
	Deleted bool
}

// Webhook is the state set by setWebhook.
type Webhook struct {
	URL         string
	SecretToken string
}

// BotCommand is one entry of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type failure struct {
	status     int
	desc       string
	retryAfter int
}

type queued struct {
	id  int
	raw json.RawMessage
}

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	token string
	ln    net.Listener
	srv   *http.Server
	url   string

	mu          sync.Mutex
	calls       []Call
	chats       map[int64][]*Message
	nextMsgID   map[int64]int
	updates     []queued
	nextUpdate  int
	callbackIDs map[string]bool
	nextCB      int
	wake        chan struct{} // closed and replaced on every change a poller may wait for
	pollGen     int
	fails       map[string][]failure // lower-case method or "*"
	chatErrs    map[int64]failure
	webhook     Webhook
	commands    []BotCommand
	pollCap     time.Duration
	delay       time.Duration

	closed    chan struct{}
	closeOnce sync.Once
	serveDone chan struct{}
}

// New starts a fake Bot API accepting token. It panics if it cannot listen
// (like httptest.NewServer).
func New(token string) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("faketelegram: listen: " + err.Error())
	}
	s := &Server{
		token:       token,
		ln:          ln,
		url:         "http://" + ln.Addr().String(),
		chats:       map[int64][]*Message{},
		nextMsgID:   map[int64]int{},
		nextUpdate:  100,
		callbackIDs: map[string]bool{},
		wake:        make(chan struct{}),
		fails:       map[string][]failure{},
		chatErrs:    map[int64]failure{},
		pollCap:     DefaultPollCap,
		closed:      make(chan struct{}),
		serveDone:   make(chan struct{}),
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()
	return s
}

// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing slash and
// no "/bot" part): use it as telegram.api_url. The library endpoint format
// is URL()+"/bot%s/%s".
func (s *Server) URL() string { return s.url }

// Endpoint is the tgbotapi endpoint format string for this server.
func (s *Server) Endpoint() string { return s.url + "/bot%s/%s" }

// Close stops the server, ends pending long polls and closes all
// connections. Safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		_ = s.srv.Close()
		<-s.serveDone
	})
}

// SetPollCap sets the longest a getUpdates long poll waits (default
// DefaultPollCap); the request's timeout parameter is honoured up to it.
func (s *Server) SetPollCap(d time.Duration) {
	s.mu.Lock()
	s.pollCap = d
	s.mu.Unlock()
}

// SetDelay adds a delay before every answer (0 = none).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// FailNext makes the next n calls of method (case-insensitive; "*" for any
// method except getMe) fail with HTTP status and the Bot API error JSON for
// it. retryAfter > 0 adds parameters.retry_after (and, for 429, the
// description "Too Many Requests: retry after N").
func (s *Server) FailNext(method string, n, status, retryAfter int) {
	desc := defaultDescription(status)
	if status == http.StatusTooManyRequests && retryAfter > 0 {
		desc = fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	}
	s.failNext(method, n, failure{status: status, desc: desc, retryAfter: retryAfter})
}

// FailNextError is FailNext with an explicit description, e.g.
// FailNextError("sendMessage", 1, 403, "Forbidden: bot was blocked by the user").
func (s *Server) FailNextError(method string, n, status int, description string) {
	s.failNext(method, n, failure{status: status, desc: description})
}

func (s *Server) failNext(method string, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	for range n {
		s.fails[key] = append(s.fails[key], f)
	}
}

// SetChatError makes every sendMessage/edit to chatID fail with status and
// description (e.g. 403 "Forbidden: bot was blocked by the user", 400 "Bad
// Request: chat not found"). status 0 clears it.
func (s *Server) SetChatError(chatID int64, status int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.chatErrs, chatID)
		return
	}
	s.chatErrs[chatID] = failure{status: status, desc: description}
}

func defaultDescription(status int) string {
	switch status {
	case 400:
		return "Bad Request: chat not found"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden: bot was blocked by the user"
	case 404:
		return "Not Found"
	case 409:
		return "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	case 429:
		return "Too Many Requests: retry after 1"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// QueueUpdate queues one update (a JSON object as Telegram sends it) for
// getUpdates and returns its update_id. Without an "update_id" field one is
// assigned. A callback_query id in it becomes answerable. It panics on
// invalid JSON.
func (s *Server) QueueUpdate(js string) int {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		panic("faketelegram: QueueUpdate: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := 0
	if raw, ok := m["update_id"]; ok {
		if err := json.Unmarshal(raw, &id); err != nil {
			panic("faketelegram: QueueUpdate: update_id: " + err.Error())
		}
	} else {
		id = s.nextUpdate
		b, _ := json.Marshal(id)
		m["update_id"] = b
	}
	if id >= s.nextUpdate {
		s.nextUpdate = id + 1
	}
	if raw, ok := m["callback_query"]; ok {
		var cq struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &cq) == nil && cq.ID != "" {
			s.callbackIDs[cq.ID] = true
		}
	}
	out, _ := json.Marshal(m)
	s.updates = append(s.updates, queued{id: id, raw: out})
	sort.SliceStable(s.updates, func(i, j int) bool { return s.updates[i].id < s.updates[j].id })
	s.wakeLocked()
	return id
}

// QueueMessage queues a text message from user fromID in chatID (private
// when chatID > 0, else a supergroup). A leading "/command" (with optional
// @botname) gets its bot_command entity, so tgbotapi's IsCommand works.
// It returns the update_id.
func (s *Server) QueueMessage(chatID, fromID int64, text string) int {
	msg := map[string]any{
		"message_id": s.allocMessageID(chatID),
		"date":       time.Now().Unix(),
		"chat":       chatJSON(chatID),
		"from":       map[string]any{"id": fromID, "is_bot": false, "first_name": "User" + strconv.FormatInt(fromID, 10)},
		"text":       text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		cmd, _, _ = strings.Cut(cmd, "\n")
		msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": utf16Len(cmd)}}
	}
	b, _ := json.Marshal(map[string]any{"message": msg})
	return s.QueueUpdate(string(b))
}

// QueueCallback queues a button press by fromID on message messageID in
// chatID carrying data. It returns the update_id and the callback query id
// (to check answerCallbackQuery calls).
func (s *Server) QueueCallback(chatID, fromID int64, messageID int, data string) (updateID int, callbackID string) {
	s.mu.Lock()
	s.nextCB++
	callbackID = "cbq" + strconv.Itoa(s.nextCB)
	msg := map[string]any{
		"message_id": messageID, "date": time.Now().Unix(), "chat": chatJSON(chatID),
		"from": Bot, "text": "",
	}
	// Like Telegram, the pressed message comes with its text and keyboard
	// when the bot sent it.
	if m := s.findLocked(chatID, messageID); m != nil {
		msg["text"] = m.Text
		if m.ReplyMarkup != "" {
			msg["reply_markup"] = json.RawMessage(m.ReplyMarkup)
		}
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"callback_query": map[string]any{
		"id":            callbackID,
		"from":          map[string]any{"id": fromID, "is_bot": false, "first_name": "User" + strconv.FormatInt(fromID, 10)},
		"chat_instance": "ci" + strconv.FormatInt(chatID, 10),
		"data":          data,
		"message":       msg,
	}})
	return s.QueueUpdate(string(b)), callbackID
}

func (s *Server) allocMessageID(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsgID[chatID]++
	return s.nextMsgID[chatID]
}

// Pending is the number of queued updates not yet confirmed by a getUpdates
// offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Calls returns a copy of every recorded call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = c
		out[i].Params = cloneValues(c.Params)
	}
	return out
}

// CallsFor returns the recorded calls of one method (case-insensitive).
func (s *Server) CallsFor(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of the messages held for chatID, in order
// (deleted ones included, flagged).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.chats[chatID]))
	for _, m := range s.chats[chatID] {
		out = append(out, *m)
	}
	return out
}

// Message returns one message of chatID.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findLocked(chatID, id); m != nil {
		return *m, true
	}
	return Message{}, false
}

// Webhook returns the webhook state (zero when none is set).
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// Commands returns the last list given to setMyCommands.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands...)
}

// Reset forgets calls, messages, queued updates, programmed failures, the
// webhook and the commands.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.chats = map[int64][]*Message{}
	s.nextMsgID = map[int64]int{}
	s.updates = nil
	s.callbackIDs = map[string]bool{}
	s.fails = map[string][]failure{}
	s.chatErrs = map[int64]failure{}
	s.webhook = Webhook{}
	s.commands = nil
	s.wakeLocked()
}

func (s *Server) wakeLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *Server) findLocked(chatID int64, id int) *Message {
	for _, m := range s.chats[chatID] {
		if m.MessageID == id {
			return m
		}
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func chatJSON(id int64) map[string]any {
	return map[string]any{"id": id, "type": chatType(id)}
}

func chatType(id int64) string {
	switch {
	case id > 0:
		return "private"
	case id < -1000000000000:
		return "supergroup"
	default:
		return "group"
	}
}

func utf16Len(s string) int { return UTF16Len(s) }

// apiError is an error answer.
type apiError struct {
	status     int
	desc       string
	retryAfter int
}

func badRequest(desc string) *apiError { return &apiError{status: 400, desc: "Bad Request: " + desc} }

var knownMethods = []string{
	"getMe", "sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage",
	"answerCallbackQuery", "setMyCommands", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
}

func canonicalMethod(m string) string {
	for _, k := range knownMethods {
		if strings.EqualFold(k, m) {
			return k
		}
	}
	return m
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	method = canonicalMethod(method)
	params := readParams(r)

	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		case <-s.closed:
		}
	}

	var result any
	var aerr *apiError
	switch {
	case !ok || !ok2 || token != s.token:
		aerr = &apiError{status: 401, desc: "Unauthorized"}
		if !ok || !ok2 {
			aerr = &apiError{status: 404, desc: "Not Found"}
		}
	default:
		if f, hit := s.takeFailure(method); hit {
			aerr = &apiError{status: f.status, desc: f.desc, retryAfter: f.retryAfter}
			break
		}
		result, aerr = s.handle(r.Context(), method, params)
	}
	if !ok || !ok2 {
		method = ""
	}

	status := http.StatusOK
	errDesc := ""
	var body map[string]any
	if aerr != nil {
		status, errDesc = aerr.status, aerr.desc
		body = map[string]any{"ok": false, "error_code": aerr.status, "description": aerr.desc}
		if aerr.retryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": aerr.retryAfter}
		}
	} else {
		body = map[string]any{"ok": true, "result": result}
	}
	if s.token != "" { // a programmed description may quote it; the path never is recorded
		errDesc = strings.ReplaceAll(errDesc, s.token, "[TOKEN]")
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Time: time.Now(), Method: method, Params: params, Status: status, Error: errDesc})
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) takeFailure(method string) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{strings.ToLower(method), "*"} {
		if key == "*" && method == "getMe" {
			continue
		}
		if q := s.fails[key]; len(q) > 0 {
			s.fails[key] = q[1:]
			return q[0], true
		}
	}
	return failure{}, false
}

// readParams merges query, form, multipart and JSON body parameters.
func readParams(r *http.Request) url.Values {
	out := url.Values{}
	for k, v := range r.URL.Query() {
		out[k] = append(out[k], v...)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(nil, r.Body, 10<<20)
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if json.NewDecoder(body).Decode(&m) == nil {
			for k, raw := range m {
				var str string
				if json.Unmarshal(raw, &str) == nil {
					out.Set(k, str)
				} else {
					out.Set(k, string(raw))
				}
			}
		}
	case "multipart/form-data":
		r.Body = body
		if r.ParseMultipartForm(10<<20) == nil && r.MultipartForm != nil {
			for k, v := range r.MultipartForm.Value {
				out[k] = append(out[k], v...)
			}
		}
	default:
		b, _ := io.ReadAll(body)
		if v, err := url.ParseQuery(string(b)); err == nil {
			for k, vs := range v {
				out[k] = append(out[k], vs...)
			}
		}
	}
	return out
}

func (s *Server) handle(ctx context.Context, method string, p url.Values) (any, *apiError) {
	switch method {
	case "getMe":
		return Bot, nil
	case "sendMessage":
		return s.sendMessage(p)
	case "editMessageText":
		return s.editMessage(p, true)
	case "editMessageReplyMarkup":
		return s.editMessage(p, false)
	case "deleteMessage":
		return s.deleteMessage(p)
	case "answerCallbackQuery":
		id := p.Get("callback_query_id")
		s.mu.Lock()
		known := s.callbackIDs[id]
		s.mu.Unlock()
		if !known {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		if utf8.RuneCountInString(p.Get("text")) > 200 {
			return nil, badRequest("MESSAGE_TOO_LONG")
		}
		return true, nil
	case "setMyCommands":
		return s.setMyCommands(p)
	case "getUpdates":
		return s.getUpdates(ctx, p)
	case "setWebhook":
		return s.setWebhook(p)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhook = Webhook{}
		if b, _ := strconv.ParseBool(p.Get("drop_pending_updates")); b {
			s.updates = nil
		}
		s.wakeLocked()
		s.mu.Unlock()
		return true, nil
	case "getWebhookInfo":
		s.mu.Lock()
		defer s.mu.Unlock()
		return map[string]any{"url": s.webhook.URL, "has_custom_certificate": false, "pending_update_count": len(s.updates)}, nil
	}
	return nil, &apiError{status: 404, desc: "Not Found"}
}

func parseChatID(p url.Values) (int64, *apiError) {
	raw := p.Get("chat_id")
	if raw == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// checkText validates text + parse_mode and returns the plain text.
func checkText(text, parseMode string) (string, *apiError) {
	if !utf8.ValidString(text) {
		return "", badRequest("text must be encoded in UTF-8")
	}
	plain := text
	switch strings.ToLower(parseMode) {
	case "":
	case "html":
		var err error
		if plain, err = ParseHTML(text); err != nil {
			return "", badRequest(err.Error())
		}
	case "markdown", "markdownv2":
		// not validated
	default:
		return "", badRequest("unsupported parse_mode")
	}
	if strings.TrimSpace(plain) == "" {
		return "", badRequest("message text is empty")
	}
	if UTF16Len(plain) > MaxMessageLen {
		return "", badRequest("message is too long")
	}
	return plain, nil
}

// checkMarkup validates reply_markup and returns it normalised ("" = none).
func checkMarkup(raw string) (string, *apiError) {
	if raw == "" || raw == "null" {
		return "", nil
	}
	var m struct {
		InlineKeyboard [][]struct {
			Text         string  `json:"text"`
			CallbackData *string `json:"callback_data"`
			URL          *string `json:"url"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return "", badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return "", badRequest("can't parse inline keyboard button: Text must be non-empty")
			}
			switch {
			case b.CallbackData != nil:
				if n := len(*b.CallbackData); n < 1 || n > 64 {
					return "", badRequest("BUTTON_DATA_INVALID")
				}
			case b.URL != nil:
			default:
				return "", badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
		}
	}
	return raw, nil
}

func (s *Server) chatErr(chatID int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.chatErrs[chatID]; ok {
		return &apiError{status: f.status, desc: f.desc, retryAfter: f.retryAfter}
	}
	return nil
}

func (s *Server) sendMessage(p url.Values) (any, *apiError) {
	chatID, aerr := parseChatID(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.chatErr(chatID); aerr != nil {
		return nil, aerr
	}
	plain, aerr := checkText(p.Get("text"), p.Get("parse_mode"))
	if aerr != nil {
		return nil, aerr
	}
	markup, aerr := checkMarkup(p.Get("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	noPreview, _ := strconv.ParseBool(p.Get("disable_web_page_preview"))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsgID[chatID]++
	m := &Message{
		ChatID: chatID, MessageID: s.nextMsgID[chatID], Text: p.Get("text"), Plain: plain,
		ParseMode: p.Get("parse_mode"), DisableWebPagePreview: noPreview, ReplyMarkup: markup, Date: time.Now(),
	}
	s.chats[chatID] = append(s.chats[chatID], m)
	return messageJSON(m, false), nil
}

func messageJSON(m *Message, edited bool) map[string]any {
	out := map[string]any{
		"message_id": m.MessageID,
		"date":       m.Date.Unix(),
		"chat":       chatJSON(m.ChatID),
		"from":       Bot,
		"text":       m.Plain,
	}
	if edited {
		out["edit_date"] = time.Now().Unix()
	}
	if m.ReplyMarkup != "" {
		out["reply_markup"] = json.RawMessage(m.ReplyMarkup)
	}
	return out
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) editMessage(p url.Values, withText bool) (any, *apiError) {
	if p.Get("inline_message_id") != "" {
		return true, nil
	}
	chatID, aerr := parseChatID(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.chatErr(chatID); aerr != nil {
		return nil, aerr
	}
	id, _ := strconv.Atoi(p.Get("message_id"))
	if id == 0 {
		return nil, badRequest("message identifier is not specified")
	}
	var plain string
	if withText {
		if plain, aerr = checkText(p.Get("text"), p.Get("parse_mode")); aerr != nil {
			return nil, aerr
		}
	}
	markup, aerr := checkMarkup(p.Get("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(chatID, id)
	if m == nil || m.Deleted {
		return nil, badRequest("message to edit not found")
	}
	if withText {
		if m.Text == p.Get("text") && strings.EqualFold(m.ParseMode, p.Get("parse_mode")) && m.ReplyMarkup == markup {
			return nil, badRequest(notModified)
		}
		m.Text, m.Plain, m.ParseMode = p.Get("text"), plain, p.Get("parse_mode")
		m.DisableWebPagePreview, _ = strconv.ParseBool(p.Get("disable_web_page_preview"))
	} else if m.ReplyMarkup == markup {
		return nil, badRequest(notModified)
	}
	m.ReplyMarkup = markup
	m.Edits++
	return messageJSON(m, true), nil
}

func (s *Server) deleteMessage(p url.Values) (any, *apiError) {
	chatID, aerr := parseChatID(p)
	if aerr != nil {
		return nil, aerr
	}
	id, _ := strconv.Atoi(p.Get("message_id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(chatID, id)
	if m == nil || m.Deleted {
		return nil, badRequest("message to delete not found")
	}
	m.Deleted = true
	return true, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(p url.Values) (any, *apiError) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(p.Get("commands")), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 256 {
			return nil, badRequest("command description must be 1-256 characters")
		}
	}
	s.mu.Lock()
	s.commands = cmds
	s.mu.Unlock()
	return true, nil
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(p url.Values) (any, *apiError) {
	u := p.Get("url")
	secret := p.Get("secret_token")
	if secret != "" && !secretTokenRE.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "https" || pu.Host == "" {
			return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = Webhook{URL: u, SecretToken: secret}
	if b, _ := strconv.ParseBool(p.Get("drop_pending_updates")); b {
		s.updates = nil
	}
	s.wakeLocked()
	return true, nil
}

func (s *Server) getUpdates(ctx context.Context, p url.Values) (any, *apiError) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p.Get("timeout"))

	s.mu.Lock()
	if s.webhook.URL != "" {
		s.mu.Unlock()
		return nil, &apiError{status: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	wait := min(time.Duration(timeout)*time.Second, s.pollCap)
	if offset > 0 { // confirm: drop everything before offset, like Telegram
		kept := s.updates[:0]
		for _, u := range s.updates {
			if u.id >= offset {
				kept = append(kept, u)
			}
		}
		s.updates = kept
	}
	s.pollGen++
	gen := s.pollGen
	s.wakeLocked() // ends an older concurrent poll with 409
	s.mu.Unlock()

	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, &apiError{status: 409, desc: defaultDescription(409)}
		}
		if s.webhook.URL != "" {
			s.mu.Unlock()
			return nil, &apiError{status: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
		}
		out := []json.RawMessage{}
		for _, u := range s.updates {
			if u.id >= offset && len(out) < limit {
				out = append(out, u.raw)
			}
		}
		wake := s.wake
		s.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-wake:
		case <-timer.C:
			return out, nil
		case <-ctx.Done():
			return out, nil
		case <-s.closed:
			return out, nil
		}
	}
}
