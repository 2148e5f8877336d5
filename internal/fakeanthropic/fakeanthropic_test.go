package fakeanthropic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// pythonSSE is the exact stream fake_anthropic.py sends (generated with its
// event list and python's json.dumps).
const pythonSSE = "event: message_start\n" +
	"data: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_fake\", \"type\": \"message\", \"role\": \"assistant\", \"model\": \"claude-opus-5\", \"content\": [], \"stop_reason\": null, \"stop_sequence\": null, \"usage\": {\"input_tokens\": 5, \"output_tokens\": 1}}}\n" +
	"\n" +
	"event: content_block_start\n" +
	"data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n" +
	"\n" +
	"event: content_block_delta\n" +
	"data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"OK\"}}\n" +
	"\n" +
	"event: content_block_stop\n" +
	"data: {\"type\": \"content_block_stop\", \"index\": 0}\n" +
	"\n" +
	"event: message_delta\n" +
	"data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\": null}, \"usage\": {\"output_tokens\": 1}}\n" +
	"\n" +
	"event: message_stop\n" +
	"data: {\"type\": \"message_stop\"}\n" +
	"\n"

// Fake credentials: random-looking, never real.
const (
	goodKey = "sk-ant-api03-FAKEgoodAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwAA"
	badKey  = "sk-ant-api03-FAKEbadZyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfeAA"
	oatTok  = "sk-ant-oat01-FAKEtokenAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklAA"
)

// probeBody is the body OpenClaw's --probe sends (fixtures/probe/*.requests.jsonl).
const probeBody = `{"model":"claude-opus-5","messages":[{"role":"user","content":[{"type":"text","text":"Reply with OK. Do not use tools.","cache_control":{"type":"ephemeral"}}]}],"max_tokens":8,"stream":true}`

type resp struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, body string, hdr map[string]string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

func apiKey(k string) map[string]string {
	return map[string]string{"x-api-key": k, "anthropic-version": "2023-06-01"}
}

func TestErrorModes(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	cases := []struct {
		mode   Mode
		status int
		body   string
	}{
		{Mode401, 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
		{Mode401Revoked, 401, `{"type":"error","error":{"type":"authentication_error","message":"API key revoked"}}`},
		{Mode403, 403, `{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}`},
		{Mode429, 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`},
		{Mode529, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{Mode500, 500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`},
		{Mode400Credit, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}`},
		{ModeOAuthUnsupported, 401, `{"type":"error","error":{"type":"authentication_error","message":"OAuth authentication is currently not supported."}}`},
	}
	for _, c := range cases {
		t.Run(string(c.mode), func(t *testing.T) {
			s.SetMode(c.mode)
			for _, path := range []string{PathMessages, PathModels} {
				method, body := http.MethodPost, probeBody
				if path == PathModels {
					method, body = http.MethodGet, ""
				}
				r := do(t, method, s.URL()+path, body, apiKey(goodKey))
				if r.status != c.status {
					t.Errorf("%s %s: status %d, want %d", method, path, r.status, c.status)
				}
				if r.body != c.body {
					t.Errorf("%s %s: body\n got %s\nwant %s", method, path, r.body, c.body)
				}
				if got := r.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("content-type %q", got)
				}
				if r.header.Get("request-id") == "" {
					t.Error("no request-id header")
				}
				if ra := r.header.Get("retry-after"); (c.mode == Mode429) != (ra == "30") {
					t.Errorf("retry-after %q in mode %s", ra, c.mode)
				}
			}
			if string(ErrorBody(c.mode)) != c.body || StatusFor(c.mode) != c.status {
				t.Errorf("ErrorBody/StatusFor disagree with the wire for %s", c.mode)
			}
		})
	}
}

func TestMessagesStreamIsByteIdenticalToPythonFake(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	r := do(t, http.MethodPost, s.URL()+PathMessages, probeBody, apiKey(goodKey))
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d content-type %q", r.status, r.header.Get("Content-Type"))
	}
	if r.body != pythonSSE {
		t.Fatalf("SSE differs from python fake:\n got %q\nwant %q", r.body, pythonSSE)
	}
	// "stream" with spaces, as the python fake's string match also accepts.
	r = do(t, http.MethodPost, s.URL()+PathMessages, `{"model": "claude-opus-5", "stream": true}`, apiKey(goodKey))
	if r.body != pythonSSE {
		t.Fatalf("spaced stream flag not honoured: %q", r.body)
	}
}

func TestMessagesNonStream(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	r := do(t, http.MethodPost, s.URL()+PathMessages, `{"model":"claude-sonnet-5","max_tokens":8,"messages":[]}`, apiKey(goodKey))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var m struct {
		Type, Role, Model, StopReason string
		Content                       []struct{ Type, Text string }
	}
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || m.Role != "assistant" || m.Model != "claude-sonnet-5" || len(m.Content) != 1 || m.Content[0].Text != "OK" {
		t.Fatalf("unexpected message %s", r.body)
	}
}

func TestModelsList(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	r := do(t, http.MethodGet, s.URL()+PathModels, "", apiKey(goodKey))
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	var l struct {
		Data    []Model `json:"data"`
		HasMore *bool   `json:"has_more"`
		FirstID string  `json:"first_id"`
		LastID  string  `json:"last_id"`
	}
	if err := json.Unmarshal([]byte(r.body), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Data) != len(DefaultModels) || l.Data[0].ID != "claude-opus-5" || l.Data[0].Type != "model" ||
		l.HasMore == nil || *l.HasMore || l.FirstID != "claude-opus-5" || l.LastID != l.Data[len(l.Data)-1].ID {
		t.Fatalf("unexpected list %s", r.body)
	}
	if r := do(t, http.MethodGet, s.URL()+PathModels+"/claude-opus-5", "", apiKey(goodKey)); r.status != 200 || !strings.Contains(r.body, `"id":"claude-opus-5"`) {
		t.Fatalf("get model: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, s.URL()+PathModels+"/nope", "", apiKey(goodKey)); r.status != 404 {
		t.Fatalf("unknown model: %d", r.status)
	}
	if r := do(t, http.MethodGet, s.URL()+"/v2/else", "", nil); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}
	if r := do(t, http.MethodPost, s.URL()+PathModels, "{}", nil); r.status != 405 {
		t.Fatalf("POST models: %d", r.status)
	}
}

func TestChatCompletions(t *testing.T) {
	s := New(Options{Mode: ModeKeyed, Keys: []string{goodKey}})
	defer s.Close()
	for _, path := range []string{PathChatCompletions, PathV1ChatCompletions} {
		r := do(t, http.MethodPost, s.URL()+path, `{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"Authorization": "Bearer " + goodKey})
		if r.status != 200 || !strings.Contains(r.body, `"content":"OK"`) || !strings.Contains(r.body, `"object":"chat.completion"`) {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		r = do(t, http.MethodPost, s.URL()+path, `{"model":"claude-haiku-4-5","stream":true}`, map[string]string{"Authorization": "Bearer " + goodKey})
		if r.status != 200 || !strings.HasSuffix(r.body, "data: [DONE]\n\n") || !strings.Contains(r.body, `"content":"OK"`) {
			t.Fatalf("%s stream: %d %q", path, r.status, r.body)
		}
		r = do(t, http.MethodPost, s.URL()+path, `{}`, map[string]string{"Authorization": "Bearer " + badKey})
		if r.status != 401 || !strings.Contains(r.body, `"error":{`) || !strings.Contains(r.body, MsgInvalidAPIKey) {
			t.Fatalf("%s bad key: %d %s", path, r.status, r.body)
		}
	}
	reqs := s.RequestsFor(PathChatCompletions)
	if len(reqs) != 3 || reqs[0].CredentialSource != "authorization" || reqs[0].Credential != Fingerprint(goodKey) {
		t.Fatalf("recorded %+v", reqs)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+Fingerprint(goodKey) {
		t.Fatalf("authorization header recorded as %q", got)
	}
}

func TestKeyedMode(t *testing.T) {
	s := New(Options{Mode: ModeKeyed, Keys: []string{goodKey}})
	defer s.Close()
	check := func(hdr map[string]string, want int) {
		t.Helper()
		if r := do(t, http.MethodPost, s.URL()+PathMessages, probeBody, hdr); r.status != want {
			t.Errorf("status %d, want %d (%s)", r.status, want, r.body)
		}
	}
	check(apiKey(goodKey), 200)
	check(apiKey(badKey), 401)
	check(nil, 401)
	check(map[string]string{"Authorization": "Bearer " + goodKey}, 200)
	check(map[string]string{"Authorization": "bearer " + oatTok}, 401)
	s.AddKey(oatTok)
	check(map[string]string{"Authorization": "Bearer " + oatTok}, 200)
	s.SetKeys(badKey)
	check(apiKey(goodKey), 401)
	check(apiKey(badKey), 200)
	modes := []Mode{}
	for _, r := range s.Requests() {
		modes = append(modes, r.Mode)
	}
	want := "[ok 401 401 ok 401 ok 401 ok]"
	if fmt.Sprint(modes) != want {
		t.Fatalf("resolved modes %v, want %s", modes, want)
	}
}

func TestPerPathMode(t *testing.T) {
	s := New(Options{PathModes: map[string]Mode{PathModels: Mode401}})
	defer s.Close()
	if r := do(t, http.MethodGet, s.URL()+PathModels, "", apiKey(goodKey)); r.status != 401 {
		t.Fatalf("models %d", r.status)
	}
	if r := do(t, http.MethodPost, s.URL()+PathMessages, probeBody, apiKey(goodKey)); r.status != 200 {
		t.Fatalf("messages %d", r.status)
	}
	s.SetPathMode(PathMessages, Mode529)
	s.SetPathMode(PathModels, "")
	if s.ModeFor(PathMessages) != Mode529 || s.ModeFor(PathModels) != ModeOK {
		t.Fatalf("ModeFor: %s %s", s.ModeFor(PathMessages), s.ModeFor(PathModels))
	}
	if r := do(t, http.MethodPost, s.URL()+PathMessages, probeBody, apiKey(goodKey)); r.status != 529 {
		t.Fatalf("messages %d", r.status)
	}
	if r := do(t, http.MethodGet, s.URL()+PathModels, "", apiKey(goodKey)); r.status != 200 {
		t.Fatalf("models %d", r.status)
	}
	if c := s.Counts(); c[PathModels] != 2 || c[PathMessages] != 2 || s.Count("") != 4 {
		t.Fatalf("counts %v", c)
	}
	s.SetRetryAfter("7")
	s.SetMode(Mode429)
	if r := do(t, http.MethodGet, s.URL()+PathModels, "", nil); r.header.Get("Retry-After") != "7" {
		t.Fatalf("retry-after %q", r.header.Get("Retry-After"))
	}
}

func TestRecordingNeverStoresSecrets(t *testing.T) {
	s := New(Options{Mode: Mode401})
	defer s.Close()
	// A client that echoes its key in the body must not leak it either.
	do(t, http.MethodPost, s.URL()+PathMessages, `{"model":"claude-opus-5","stream":true,"echo":"`+goodKey+`"}`, map[string]string{
		"x-api-key":     goodKey,
		"Authorization": "Bearer " + oatTok,
		"Cookie":        "session=" + badKey,
	})
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	dump := fmt.Sprintf("%#v %s", reqs, s)
	for _, secret := range []string{goodKey, oatTok, badKey, goodKey[13:40], oatTok[13:40]} {
		if strings.Contains(dump, secret) {
			t.Fatalf("recorded requests contain a secret: %s", dump)
		}
	}
	r := reqs[0]
	if r.Credential != Fingerprint(goodKey) || r.CredentialSource != "x-api-key" || !strings.HasPrefix(r.Credential, "sk-ant-api03-…sha256:") {
		t.Fatalf("credential %q from %q", r.Credential, r.CredentialSource)
	}
	if r.Header.Get("X-Api-Key") != Fingerprint(goodKey) || r.Header.Get("Authorization") != "Bearer "+Fingerprint(oatTok) {
		t.Fatalf("headers %v", r.Header)
	}
	if r.Method != "POST" || r.Path != PathMessages || r.Model != "claude-opus-5" || !r.Stream || r.Status != 401 || r.Mode != Mode401 {
		t.Fatalf("request %+v", r)
	}
	// Requests returns copies.
	reqs[0].Header.Set("X-Api-Key", "mutated")
	if s.Requests()[0].Header.Get("X-Api-Key") == "mutated" {
		t.Fatal("Requests does not return a copy")
	}
	if Fingerprint("") != "" || Fingerprint("short") == "short" || Fingerprint(goodKey) == Fingerprint(badKey) {
		t.Fatal("Fingerprint misbehaves")
	}
	if strings.HasPrefix(Fingerprint("sk-ant-api03-x"), "sk-ant-api03-") {
		t.Fatal("prefix kept for a credential too short to hide its secret part")
	}
	s.Reset()
	if s.Count("") != 0 || len(s.Requests()) != 0 {
		t.Fatal("Reset did not clear")
	}
}

func TestConcurrentUseAndWait(t *testing.T) {
	s := New(Options{Mode: ModeKeyed, Keys: []string{goodKey}})
	defer s.Close()
	const n = 40
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waited := make(chan int, 1)
	go func() {
		got, _ := s.WaitForRequests(ctx, PathMessages, n)
		waited <- got
	}()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := goodKey
			if i%2 == 1 {
				key = badKey
			}
			if i%5 == 0 {
				s.SetPathMode(PathModels, Mode529)
				_ = s.Requests()
				_ = s.String()
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL()+PathMessages, strings.NewReader(probeBody))
			req.Header.Set("x-api-key", key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if want := map[bool]int{true: 200, false: 401}[i%2 == 0]; res.StatusCode != want {
				t.Errorf("request %d: %d, want %d", i, res.StatusCode, want)
			}
		}(i)
	}
	wg.Wait()
	if got := <-waited; got < n {
		t.Fatalf("WaitForRequests saw %d", got)
	}
	if s.Count(PathMessages) != n {
		t.Fatalf("count %d", s.Count(PathMessages))
	}
	if !strings.Contains(s.String(), "POST /v1/messages x20 (200)") {
		t.Fatalf("summary %s", s)
	}
}

func TestWaitTimesOut(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if got, err := s.WaitForRequests(ctx, "", 1); err == nil || got != 0 {
		t.Fatalf("got %d, %v", got, err)
	}
}

func TestDelayAndClose(t *testing.T) {
	s := New(Options{Delay: 150 * time.Millisecond})
	start := time.Now()
	do(t, http.MethodGet, s.URL()+PathModels, "", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("delay not applied: %v", d)
	}
	s.SetDelay(0)
	url := s.URL()
	s.Close()
	s.Close() // idempotent
	c := &http.Client{Timeout: 2 * time.Second}
	if res, err := c.Get(url + PathModels); err == nil {
		res.Body.Close()
		t.Fatal("server still answers after Close")
	}
}

func TestStartValidation(t *testing.T) {
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("non-loopback address accepted")
	}
	if _, err := Start(Options{Mode: "bogus"}); err == nil {
		t.Fatal("bogus mode accepted")
	}
	if _, err := Start(Options{PathModes: map[string]Mode{"/x": "nope"}}); err == nil {
		t.Fatal("bogus path mode accepted")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetMode(bogus) did not panic")
		}
	}()
	s := New(Options{})
	defer s.Close()
	s.SetMode("bogus")
}
