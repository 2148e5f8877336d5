package diagnostics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Test secrets. They look like the real thing so that both the pattern
// scrubber and the exact-value scrubber are exercised; kcProxySecret matches
// no known pattern, so only the exact-value scrubbing protects it.
var (
	kcAPISecret   = "sk-ant-api03-" + strings.Repeat("Ab3dE6gH", 11) + "-QQ1AA"
	kcAPISecret2  = "sk-ant-api03-" + strings.Repeat("Zy9xW8vU", 11) + "-RR2AA"
	kcTokSecret   = "sk-ant-oat01-" + strings.Repeat("Tk7mN2pQ", 10) + "-SS3AA"
	kcOAuthSecret = "sk-ant-oat01-" + strings.Repeat("Oa4uT5hX", 10) + "-TT4AA"
	kcRefSecret   = "sk-ant-ort01-" + strings.Repeat("Rf1rE2sH", 10) + "-UU5AA"
	kcProxySecret = "corp-gateway-key-0f3c9a17b2d84e65"
	kcSecrets     = []string{kcAPISecret, kcAPISecret2, kcTokSecret, kcOAuthSecret, kcRefSecret, kcProxySecret}
)

var kcNow = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

func kcAPICred(s string) openclaw.Credential {
	return openclaw.Credential{ID: "anthropic:default", Provider: "anthropic", Type: openclaw.TypeAPIKey, Secret: redact.Secret(s), Source: "store"}
}

func kcTokenCred(s string) openclaw.Credential {
	return openclaw.Credential{ID: "anthropic:token", Provider: "anthropic", Type: openclaw.TypeToken, Secret: redact.Secret(s), Source: "store"}
}

func kcOAuthCred(s string, expires time.Time) openclaw.Credential {
	return openclaw.Credential{ID: "anthropic:claude-cli", Provider: "anthropic", Type: openclaw.TypeOAuth,
		Secret: redact.Secret(s), Refresh: redact.Secret(kcRefSecret), Expires: expires, Source: "store"}
}

// kcAssertNoLeak fails when any secret appears in any rendering of v.
func kcAssertNoLeak(t *testing.T, v any) {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	for _, form := range []string{fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprint(v), string(js)} {
		for _, s := range kcSecrets {
			if strings.Contains(form, s) {
				t.Fatalf("secret %s leaked into %s", redact.Mask(s), form)
			}
		}
	}
}

// kcRecorder is an httptest handler that records requests and answers with
// a configurable reply.
type kcRecorder struct {
	mu      sync.Mutex
	reqs    []*http.Request
	n       atomic.Int64
	reply   func(w http.ResponseWriter, r *http.Request)
	inFlite atomic.Int64
	maxIn   atomic.Int64
	delay   time.Duration
}

func (rec *kcRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.n.Add(1)
	in := rec.inFlite.Add(1)
	defer rec.inFlite.Add(-1)
	for {
		m := rec.maxIn.Load()
		if in <= m || rec.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r.Clone(context.Background()))
	rec.mu.Unlock()
	if rec.delay > 0 {
		time.Sleep(rec.delay)
	}
	if rec.reply != nil {
		rec.reply(w, r)
		return
	}
	kcWriteJSON(w, 200, `{"data":[{"type":"model","id":"claude-opus-5"}],"has_more":true}`)
}

func (rec *kcRecorder) last() *http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		return nil
	}
	return rec.reqs[len(rec.reqs)-1]
}

func kcWriteJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func kcAnthropicErr(typ, msg string) string {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}, "request_id": "req_011"})
	return string(b)
}

func kcServer(t *testing.T, rec *kcRecorder) string {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv.URL
}

func kcReply(code int, body string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		kcWriteJSON(w, code, body)
	}
}

func TestKeyCheckResolveBaseURL(t *testing.T) {
	const secretPass = "sk-ant-api03-PASSWORDpasswordPASSWORD"
	tests := []struct {
		name                          string
		flag, target, install, config string
		want                          string
		wantErr                       string
	}{
		{name: "flag wins", flag: "https://flag.example/", target: "https://target.example", install: "https://install.example", config: "https://config.example", want: "https://flag.example"},
		{name: "target next", target: "https://target.example/", install: "https://install.example", config: "https://config.example", want: "https://target.example"},
		{name: "install next", install: "https://install.example/anthropic/", config: "https://config.example", want: "https://install.example/anthropic"},
		{name: "config next", config: "https://config.example:8443", want: "https://config.example:8443"},
		{name: "default", want: DefaultBaseURL},
		{name: "blank values fall through", flag: "  ", target: "\t", want: DefaultBaseURL},
		{name: "only slashes trimmed", flag: "https://proxy.example/v1//", want: "https://proxy.example/v1"},
		{name: "uppercase scheme", flag: "HTTPS://api.example.com", want: "https://api.example.com"},
		{name: "http 127.0.0.1", flag: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{name: "http 127/8", install: "http://127.9.8.7:1", want: "http://127.9.8.7:1"},
		{name: "http ::1", config: "http://[::1]:9000", want: "http://[::1]:9000"},
		{name: "http localhost", target: "http://localhost:3000/anthropic", want: "http://localhost:3000/anthropic"},
		{name: "http LOCALHOST", target: "http://LOCALHOST", want: "http://LOCALHOST"},
		{name: "http remote refused", flag: "http://api.anthropic.com", wantErr: "clear text"},
		{name: "http private refused", install: "http://10.0.0.1:8080", wantErr: "clear text"},
		{name: "http 128.0.0.1 refused", config: "http://128.0.0.1", wantErr: "clear text"},
		{name: "http localhost lookalike refused", target: "http://localhost.evil.example", wantErr: "clear text"},
		{name: "ftp refused", flag: "ftp://files.example", wantErr: "unsupported scheme"},
		{name: "ws refused", flag: "ws://127.0.0.1", wantErr: "unsupported scheme"},
		{name: "no scheme", flag: "api.anthropic.com", wantErr: "not an absolute URL"},
		{name: "unparsable", flag: "https://[::1", wantErr: "not a valid URL"},
		{name: "bad port", flag: "https://host:port", wantErr: "not a valid URL"},
		{name: "no host", flag: "https://:443", wantErr: "no host"},
		{name: "user info refused", flag: "https://user:" + secretPass + "@proxy.example", wantErr: "user info"},
		{name: "query refused", flag: "https://proxy.example?key=1", wantErr: "query"},
		{name: "fragment refused", flag: "https://proxy.example#x", wantErr: "fragment"},
		{name: "invalid flag does not fall through", flag: "ftp://x", target: "https://target.example", wantErr: "command-line flag"},
		{name: "error names the install source", install: "http://10.1.1.1", wantErr: "models.providers.anthropic.baseUrl"},
		{name: "error names the config source", config: "gopher://x", wantErr: "anthropic.base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveBaseURL(tt.flag, tt.target, tt.install, tt.config)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %q, want error containing %q", got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secretPass) || strings.Contains(err.Error(), "PASSWORD") {
					t.Fatalf("error leaks the password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyCheckStatuses(t *testing.T) {
	retryDate := kcNow.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		cred       openclaw.Credential
		reply      func(http.ResponseWriter, *http.Request)
		want       Status
		wantHTTP   int
		wantType   string
		wantRetry  time.Duration
		wantReason string
	}{
		{name: "200 api key", cred: kcAPICred(kcAPISecret), want: StatusAccepted, wantHTTP: 200},
		{name: "200 setup token", cred: kcTokenCred(kcTokSecret), want: StatusAccepted, wantHTTP: 200},
		{name: "200 oauth", cred: kcOAuthCred(kcOAuthSecret, kcNow.Add(time.Hour)), want: StatusAccepted, wantHTTP: 200},
		{name: "401 api key", cred: kcAPICred(kcAPISecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "invalid x-api-key")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 api key any auth message", cred: kcAPICred(kcAPISecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "OAuth authentication is currently not supported.")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 api key non-anthropic body", cred: kcAPICred(kcAPISecret), reply: kcReply(401, `<html>login</html>`),
			want: StatusUnverified, wantHTTP: 401, wantReason: "proxy"},
		{name: "401 oauth unsupported for token", cred: kcTokenCred(kcTokSecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "OAuth authentication is currently not supported.")),
			want: StatusUnverified, wantHTTP: 401, wantType: "authentication_error", wantReason: "could not be verified"},
		{name: "401 oauth unsupported for oauth", cred: kcOAuthCred(kcOAuthSecret, time.Time{}), reply: kcReply(401, kcAnthropicErr("authentication_error", "OAuth authentication is currently not supported.")),
			want: StatusUnverified, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 invalid bearer for token", cred: kcTokenCred(kcTokSecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "Invalid bearer token")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 revoked oauth", cred: kcOAuthCred(kcOAuthSecret, time.Time{}), reply: kcReply(401, kcAnthropicErr("authentication_error", "OAuth token has been revoked. Please obtain a new token.")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 expired oauth", cred: kcOAuthCred(kcOAuthSecret, time.Time{}), reply: kcReply(401, kcAnthropicErr("authentication_error", "OAuth token has expired. Please obtain a new token or refresh your existing token.")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 x-api-key message for token", cred: kcTokenCred(kcTokSecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "invalid x-api-key")),
			want: StatusRejected, wantHTTP: 401, wantType: "authentication_error"},
		{name: "401 vague for token", cred: kcTokenCred(kcTokSecret), reply: kcReply(401, kcAnthropicErr("authentication_error", "authentication failed")),
			want: StatusUnverified, wantHTTP: 401, wantType: "authentication_error"},
		{name: "403 api key", cred: kcAPICred(kcAPISecret), reply: kcReply(403, kcAnthropicErr("permission_error", "Your API key does not have permission to use the specified resource.")),
			want: StatusForbidden, wantHTTP: 403, wantType: "permission_error"},
		{name: "403 token", cred: kcTokenCred(kcTokSecret), reply: kcReply(403, kcAnthropicErr("permission_error", "OAuth token does not meet scope requirement")),
			want: StatusUnverified, wantHTTP: 403, wantType: "permission_error"},
		{name: "403 api key from a WAF", cred: kcAPICred(kcAPISecret), reply: kcReply(403, `Forbidden`),
			want: StatusUnverified, wantHTTP: 403},
		{name: "400 credit", cred: kcAPICred(kcAPISecret), reply: kcReply(400, kcAnthropicErr("invalid_request_error", "Your credit balance is too low to access the Anthropic API.")),
			want: StatusUnverified, wantHTTP: 400, wantType: "invalid_request_error", wantReason: "invalid_request_error"},
		{name: "400 token", cred: kcTokenCred(kcTokSecret), reply: kcReply(400, kcAnthropicErr("invalid_request_error", "This credential is only authorized for use with Claude Code")),
			want: StatusUnverified, wantHTTP: 400, wantType: "invalid_request_error"},
		{name: "404", cred: kcAPICred(kcAPISecret), reply: kcReply(404, kcAnthropicErr("not_found_error", "Not found")),
			want: StatusUnverified, wantHTTP: 404, wantType: "not_found_error"},
		{name: "429 retry-after seconds", cred: kcAPICred(kcAPISecret), reply: kcReply(429, kcAnthropicErr("rate_limit_error", "Number of requests has exceeded your rate limit"), "Retry-After", "30"),
			want: StatusRateLimited, wantHTTP: 429, wantType: "rate_limit_error", wantRetry: 30 * time.Second},
		{name: "429 retry-after HTTP-date", cred: kcAPICred(kcAPISecret), reply: kcReply(429, kcAnthropicErr("rate_limit_error", "slow down"), "Retry-After", retryDate),
			want: StatusRateLimited, wantHTTP: 429, wantType: "rate_limit_error", wantRetry: 90 * time.Second},
		{name: "429 retry-after capped", cred: kcAPICred(kcAPISecret), reply: kcReply(429, kcAnthropicErr("rate_limit_error", "slow down"), "Retry-After", "999999"),
			want: StatusRateLimited, wantHTTP: 429, wantType: "rate_limit_error", wantRetry: MaxRetryAfter},
		{name: "429 without retry-after", cred: kcTokenCred(kcTokSecret), reply: kcReply(429, kcAnthropicErr("rate_limit_error", "slow down")),
			want: StatusRateLimited, wantHTTP: 429, wantType: "rate_limit_error"},
		{name: "429 garbage retry-after", cred: kcAPICred(kcAPISecret), reply: kcReply(429, `{}`, "Retry-After", "soon"),
			want: StatusRateLimited, wantHTTP: 429},
		{name: "529", cred: kcAPICred(kcAPISecret), reply: kcReply(529, kcAnthropicErr("overloaded_error", "Overloaded")),
			want: StatusOverloaded, wantHTTP: 529, wantType: "overloaded_error"},
		{name: "500", cred: kcAPICred(kcAPISecret), reply: kcReply(500, kcAnthropicErr("api_error", "Internal server error")),
			want: StatusServerError, wantHTTP: 500, wantType: "api_error"},
		{name: "503 html", cred: kcTokenCred(kcTokSecret), reply: kcReply(503, "<html>bad gateway</html>"),
			want: StatusServerError, wantHTTP: 503},
		{name: "302 redirect", cred: kcAPICred(kcAPISecret), reply: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/v1/models", http.StatusFound)
		}, want: StatusUnverified, wantHTTP: 302, wantReason: "redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &kcRecorder{reply: tt.reply}
			base := kcServer(t, rec)
			c := NewChecker(CheckerOptions{CheckTokens: true, Now: func() time.Time { return kcNow }})
			got := c.Check(t.Context(), base+"/", tt.cred)
			kcAssertNoLeak(t, got)
			if got.Status != tt.want || got.HTTPStatus != tt.wantHTTP || got.ErrorType != tt.wantType || got.RetryAfter != tt.wantRetry {
				t.Fatalf("got %+v\nwant status=%s http=%d type=%q retry=%s", got, tt.want, tt.wantHTTP, tt.wantType, tt.wantRetry)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Fatalf("reason %q does not contain %q", got.Reason, tt.wantReason)
			}
			if got.Fingerprint != tt.cred.Secret.Fingerprint() || got.BaseURL != base || !got.CheckedAt.Equal(kcNow) {
				t.Fatalf("bad bookkeeping: %+v", got)
			}
			if n := rec.n.Load(); n != 1 {
				t.Fatalf("server saw %d requests, want 1", n)
			}
			if got.Conclusive() != (tt.want == StatusAccepted || tt.want == StatusRejected || tt.want == StatusForbidden) {
				t.Fatalf("Conclusive() = %v for %s", got.Conclusive(), got.Status)
			}
		})
	}
}

func TestKeyCheckHeaders(t *testing.T) {
	tests := []struct {
		name   string
		cred   openclaw.Credential
		bearer string // "" = api key
	}{
		{name: "api key", cred: kcAPICred(kcAPISecret)},
		{name: "api key from env without type", cred: openclaw.Credential{ID: "env:ANTHROPIC_API_KEY", Secret: redact.Secret(kcAPISecret)}},
		{name: "proxy key", cred: kcAPICred(kcProxySecret)},
		{name: "setup token", cred: kcTokenCred(kcTokSecret), bearer: kcTokSecret},
		{name: "oauth access token", cred: kcOAuthCred(kcOAuthSecret, kcNow.Add(time.Minute)), bearer: kcOAuthSecret},
		{name: "token stored as api_key is sent as bearer", cred: kcAPICred(kcTokSecret), bearer: kcTokSecret},
		{name: "surrounding whitespace trimmed", cred: kcAPICred(" " + kcAPISecret + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &kcRecorder{}
			base := kcServer(t, rec)
			c := NewChecker(CheckerOptions{CheckTokens: true, Now: func() time.Time { return kcNow }})
			got := c.Check(t.Context(), base, tt.cred)
			kcAssertNoLeak(t, got)
			if got.Status != StatusAccepted {
				t.Fatalf("got %+v", got)
			}
			r := rec.last()
			if r == nil {
				t.Fatal("no request")
			}
			if r.Method != http.MethodGet || r.URL.Path != "/v1/models" || r.URL.RawQuery != "limit=1" {
				t.Fatalf("request %s %s", r.Method, r.URL)
			}
			h := r.Header
			if v := h.Get("anthropic-version"); v != "2023-06-01" {
				t.Fatalf("anthropic-version %q", v)
			}
			if v := h.Get("User-Agent"); v != "openclaw-bot" {
				t.Fatalf("User-Agent %q", v)
			}
			if tt.bearer != "" {
				if h.Get("Authorization") != "Bearer "+tt.bearer || h.Get("anthropic-beta") != "oauth-2025-04-20" || h.Get("x-api-key") != "" {
					t.Fatalf("bearer headers wrong: auth=%t beta=%q x-api-key set=%t",
						h.Get("Authorization") == "Bearer "+tt.bearer, h.Get("anthropic-beta"), h.Get("x-api-key") != "")
				}
			} else {
				want := strings.TrimSpace(tt.cred.Secret.Reveal())
				if h.Get("x-api-key") != want || h.Get("Authorization") != "" || h.Get("anthropic-beta") != "" {
					t.Fatalf("api key headers wrong: x-api-key ok=%t auth set=%t beta=%q",
						h.Get("x-api-key") == want, h.Get("Authorization") != "", h.Get("anthropic-beta"))
				}
			}
		})
	}
}

func TestKeyCheckUserAgent(t *testing.T) {
	rec := &kcRecorder{}
	base := kcServer(t, rec)
	NewChecker(CheckerOptions{UserAgent: "openclaw-bot/1.2"}).Check(t.Context(), base, kcAPICred(kcAPISecret))
	if ua := rec.last().Header.Get("User-Agent"); ua != "openclaw-bot/1.2" {
		t.Fatalf("User-Agent %q", ua)
	}
}

func TestKeyCheckSkipped(t *testing.T) {
	past := kcNow.Add(-time.Minute)
	tests := []struct {
		name   string
		tokens bool
		base   string // "" = the test server
		cred   openclaw.Credential
		want   string
	}{
		{name: "setup token without CheckTokens", cred: kcTokenCred(kcTokSecret), want: "token checks are enabled"},
		{name: "oauth without CheckTokens", cred: kcOAuthCred(kcOAuthSecret, kcNow.Add(time.Hour)), want: "token checks are enabled"},
		{name: "token-shaped api_key without CheckTokens", cred: kcAPICred(kcTokSecret), want: "token checks are enabled"},
		{name: "expired oauth", tokens: true, cred: kcOAuthCred(kcOAuthSecret, past), want: "expired"},
		{name: "expired exactly now", tokens: true, cred: kcOAuthCred(kcOAuthSecret, kcNow), want: "expired"},
		{name: "expired setup token", tokens: true, cred: func() openclaw.Credential { c := kcTokenCred(kcTokSecret); c.Expires = past; return c }(), want: "expired"},
		{name: "expired without CheckTokens", cred: kcOAuthCred(kcOAuthSecret, past), want: "expired"},
		{name: "empty api key", tokens: true, cred: kcAPICred(""), want: "no secret"},
		{name: "blank api key", tokens: true, cred: kcAPICred("   "), want: "no secret"},
		{name: "empty token", tokens: true, cred: kcTokenCred(""), want: "no secret"},
		{name: "empty oauth access", tokens: true, cred: kcOAuthCred("", kcNow.Add(time.Hour)), want: "no secret"},
		{name: "other provider", tokens: true, cred: func() openclaw.Credential { c := kcAPICred(kcProxySecret); c.Provider = "openai"; return c }(), want: "not anthropic"},
		{name: "refresh fence", tokens: true, cred: func() openclaw.Credential {
			c := kcOAuthCred("openclaw-oauth-refresh-fence:v1:abc:failed:123", time.Time{})
			c.Fence = "failed"
			return c
		}(), want: "refresh fence"},
		{name: "unknown type", tokens: true, cred: func() openclaw.Credential { c := kcAPICred(kcAPISecret); c.Type = "aws-sdk"; return c }(), want: "unsupported credential type"},
		// OpenClaw strips line breaks before use (normalizeSecretInput), so a
		// newline is not a problem; a space inside the key survives and is.
		{name: "space inside", tokens: true, cred: kcAPICred(kcAPISecret[:20] + " " + kcAPISecret[20:]), want: "whitespace"},
		{name: "plain http to a remote host", tokens: true, base: "http://api.anthropic.com", cred: kcAPICred(kcAPISecret), want: "clear text"},
		{name: "bad scheme", tokens: true, base: "file:///etc/passwd", cred: kcAPICred(kcAPISecret), want: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &kcRecorder{}
			base := kcServer(t, rec)
			if tt.base != "" {
				base = tt.base
			}
			opts := CheckerOptions{CheckTokens: tt.tokens, Now: func() time.Time { return kcNow }}
			if tt.base != "" { // not our server: make sure nothing goes out
				opts.HTTPClient = &http.Client{Transport: kcRoundTripFunc(func(r *http.Request) (*http.Response, error) {
					t.Errorf("request sent to %s", r.URL)
					return nil, errors.New("must not be sent")
				})}
			}
			c := NewChecker(opts)
			for range 2 {
				got := c.Check(t.Context(), base, tt.cred)
				kcAssertNoLeak(t, got)
				if got.Status != StatusSkipped || !strings.Contains(got.Reason, tt.want) || got.HTTPStatus != 0 {
					t.Fatalf("got %+v, want skipped with %q", got, tt.want)
				}
				if got.Fingerprint != tt.cred.Secret.Fingerprint() {
					t.Fatalf("fingerprint %q", got.Fingerprint)
				}
			}
			m := c.CheckMany(t.Context(), base, []openclaw.Credential{tt.cred, tt.cred})
			kcAssertNoLeak(t, m)
			if len(m) != 1 || m[tt.cred.Secret.Fingerprint()].Status != StatusSkipped {
				t.Fatalf("CheckMany: %+v", m)
			}
			if n := rec.n.Load(); n != 0 {
				t.Fatalf("server saw %d requests, want 0", n)
			}
		})
	}
}

func TestKeyCheckNetworkErrors(t *testing.T) {
	t.Run("hung server, context deadline", func(t *testing.T) {
		release := make(chan struct{})
		rec := &kcRecorder{reply: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}}
		base := kcServer(t, rec)
		t.Cleanup(func() { close(release) }) // runs before srv.Close
		c := NewChecker(CheckerOptions{})
		for i := range 2 {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			start := time.Now()
			got := c.Check(ctx, base, kcAPICred(kcAPISecret))
			cancel()
			kcAssertNoLeak(t, got)
			if got.Status != StatusNetwork || !strings.Contains(got.Reason, "timeout") || got.HTTPStatus != 0 {
				t.Fatalf("got %+v", got)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("took %s", el)
			}
			// The caller's deadline says nothing about the server: not cached.
			if n := rec.n.Load(); n != int64(i+1) {
				t.Fatalf("server saw %d requests, want %d", n, i+1)
			}
		}
	})
	t.Run("hung server, client timeout", func(t *testing.T) {
		release := make(chan struct{})
		rec := &kcRecorder{reply: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}}
		base := kcServer(t, rec)
		t.Cleanup(func() { close(release) })
		c := NewChecker(CheckerOptions{HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
		got := c.Check(t.Context(), base, kcAPICred(kcAPISecret))
		kcAssertNoLeak(t, got)
		if got.Status != StatusNetwork || !strings.Contains(got.Reason, "timeout") {
			t.Fatalf("got %+v", got)
		}
		// A server timeout is an inconclusive result: briefly cached.
		again := c.Check(t.Context(), base, kcAPICred(kcAPISecret))
		if again != got || rec.n.Load() != 1 {
			t.Fatalf("not cached: %+v, %d requests", again, rec.n.Load())
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := NewChecker(CheckerOptions{})
		got := c.Check(t.Context(), "http://"+addr, kcAPICred(kcAPISecret))
		kcAssertNoLeak(t, got)
		if got.Status != StatusNetwork || !strings.Contains(got.Reason, "connection refused") || got.Message == "" {
			t.Fatalf("got %+v", got)
		}
		if got.Conclusive() {
			t.Fatal("network error is conclusive")
		}
	})
	t.Run("already cancelled context", func(t *testing.T) {
		rec := &kcRecorder{}
		base := kcServer(t, rec)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got := NewChecker(CheckerOptions{}).Check(ctx, base, kcAPICred(kcAPISecret))
		if got.Status == StatusAccepted || got.Conclusive() {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestKeyCheckRedirectNeverFollowed(t *testing.T) {
	target := &kcRecorder{}
	targetURL := kcServer(t, target)
	for _, client := range []*http.Client{nil, {CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}} {
		src := &kcRecorder{reply: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, targetURL+"/v1/models?limit=1", http.StatusTemporaryRedirect)
		}}
		base := kcServer(t, src)
		got := NewChecker(CheckerOptions{HTTPClient: client}).Check(t.Context(), base, kcAPICred(kcAPISecret))
		kcAssertNoLeak(t, got)
		if got.Status != StatusUnverified || got.HTTPStatus != 307 || !strings.Contains(got.Reason, "redirect") {
			t.Fatalf("got %+v", got)
		}
		if n := target.n.Load(); n != 0 {
			t.Fatalf("redirect followed: target saw %d requests", n)
		}
	}
}

// TestKeyCheckNeverLeaks has servers echo the credential everywhere they can.
func TestKeyCheckNeverLeaks(t *testing.T) {
	echo := func(code int, asJSON bool) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			got := r.Header.Get("x-api-key") + r.Header.Get("Authorization")
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Location", "https://elsewhere.example/?key="+got+"#"+got)
			if asJSON {
				kcWriteJSON(w, code, kcAnthropicErr("authentication_error "+got, "invalid x-api-key: "+got+" (you sent "+got+")"))
				return
			}
			kcWriteJSON(w, code, "<html>your credential "+got+" is wrong</html>")
		}
	}
	creds := []openclaw.Credential{kcAPICred(kcAPISecret), kcAPICred(kcProxySecret), kcTokenCred(kcTokSecret), kcOAuthCred(kcOAuthSecret, time.Time{}),
		kcAPICred(" " + kcProxySecret + " ")}
	for _, code := range []int{200, 302, 400, 401, 403, 404, 429, 500, 529} {
		for _, asJSON := range []bool{true, false} {
			rec := &kcRecorder{reply: echo(code, asJSON)}
			base := kcServer(t, rec)
			for _, cred := range creds {
				t.Run(fmt.Sprintf("%d/json=%t/%s", code, asJSON, cred.Type), func(t *testing.T) {
					c := NewChecker(CheckerOptions{CheckTokens: true})
					got := c.Check(t.Context(), base, cred)
					kcAssertNoLeak(t, got)
					if got.HTTPStatus != code {
						t.Fatalf("got %+v", got)
					}
					if v, ok := c.LastVerdict(base, got.Fingerprint); ok {
						kcAssertNoLeak(t, v)
					}
				})
			}
			m := NewChecker(CheckerOptions{CheckTokens: true}).CheckMany(t.Context(), base, creds)
			kcAssertNoLeak(t, m)
			if len(m) != len(creds) { // " x " and "x" are different secrets
				t.Fatalf("CheckMany: %d results", len(m))
			}
		}
	}
}

func TestKeyCheckCacheHit(t *testing.T) {
	rec := &kcRecorder{}
	base := kcServer(t, rec)
	c := NewChecker(CheckerOptions{})
	first := c.Check(t.Context(), base, kcAPICred(kcAPISecret))
	second := c.Check(t.Context(), base+"/", kcAPICred(kcAPISecret))
	if first.Status != StatusAccepted || second != first {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if n := rec.n.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	// Another credential, another base URL: not the same cache entry.
	c.Check(t.Context(), base, kcAPICred(kcAPISecret2))
	if n := rec.n.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
	other := kcServer(t, rec)
	c.Check(t.Context(), other, kcAPICred(kcAPISecret))
	if n := rec.n.Load(); n != 3 {
		t.Fatalf("server saw %d requests, want 3", n)
	}
	// Forget sends it again, on every base URL.
	c.Forget(kcAPICred(kcAPISecret).Secret.Fingerprint())
	if _, ok := c.LastVerdict(base, first.Fingerprint); ok {
		t.Fatal("verdict survived Forget")
	}
	c.Check(t.Context(), base, kcAPICred(kcAPISecret))
	c.Check(t.Context(), other, kcAPICred(kcAPISecret))
	c.Check(t.Context(), base, kcAPICred(kcAPISecret2))
	if n := rec.n.Load(); n != 5 {
		t.Fatalf("server saw %d requests, want 5", n)
	}
}

func TestKeyCheckCacheDisabled(t *testing.T) {
	rec := &kcRecorder{}
	base := kcServer(t, rec)
	c := NewChecker(CheckerOptions{CacheTTL: -1})
	c.Check(t.Context(), base, kcAPICred(kcAPISecret))
	c.Check(t.Context(), base, kcAPICred(kcAPISecret))
	if n := rec.n.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}

func TestKeyCheckManyDedupe(t *testing.T) {
	rec := &kcRecorder{}
	base := kcServer(t, rec)
	c := NewChecker(CheckerOptions{})
	k1a, k1b := kcAPICred(kcAPISecret), kcAPICred(kcAPISecret)
	k1b.ID = "anthropic:backup"
	env := openclaw.Credential{ID: "env:ANTHROPIC_API_KEY", Provider: "anthropic", Type: openclaw.TypeAPIKey, Secret: redact.Secret(kcAPISecret), Source: "env:ANTHROPIC_API_KEY"}
	// The same secret stored as a token (skipped: CheckTokens is off) and as
	// an api key: the one that can be sent is preferred.
	tokFirst := kcTokenCred(kcAPISecret2)
	k2 := kcAPICred(kcAPISecret2)
	creds := []openclaw.Credential{k1a, k1b, tokFirst, env, k2, kcAPICred(""), kcTokenCred(""), kcTokenCred(kcTokSecret), k1a}
	got := c.CheckMany(t.Context(), base, creds)
	kcAssertNoLeak(t, got)
	if n := rec.n.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
	want := map[string]Status{
		k1a.Secret.Fingerprint(): StatusAccepted,
		k2.Secret.Fingerprint():  StatusAccepted,
		"":                       StatusSkipped,
		kcTokenCred(kcTokSecret).Secret.Fingerprint(): StatusSkipped,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results: %+v", len(got), got)
	}
	for fp, st := range want {
		if got[fp].Status != st || got[fp].Fingerprint != fp {
			t.Fatalf("%s: got %+v, want %s", fp, got[fp], st)
		}
	}
	if m := c.CheckMany(t.Context(), base, nil); m == nil || len(m) != 0 {
		t.Fatalf("empty CheckMany: %#v", m)
	}
}

func TestKeyCheckConcurrencyBound(t *testing.T) {
	var creds []openclaw.Credential
	for i := range 12 {
		creds = append(creds, kcAPICred(fmt.Sprintf("sk-ant-api03-concurrency-%02d-%s", i, strings.Repeat("x", 40))))
	}
	t.Run("CheckMany", func(t *testing.T) {
		rec := &kcRecorder{delay: 30 * time.Millisecond}
		base := kcServer(t, rec)
		c := NewChecker(CheckerOptions{Concurrency: 3})
		got := c.CheckMany(t.Context(), base, creds)
		if len(got) != 12 || rec.n.Load() != 12 {
			t.Fatalf("%d results, %d requests", len(got), rec.n.Load())
		}
		if m := rec.maxIn.Load(); m > 3 || m < 1 {
			t.Fatalf("max in flight %d, want 1..3", m)
		}
	})
	t.Run("Check from many goroutines", func(t *testing.T) {
		rec := &kcRecorder{delay: 30 * time.Millisecond}
		base := kcServer(t, rec)
		c := NewChecker(CheckerOptions{Concurrency: 2})
		var wg sync.WaitGroup
		for _, cr := range creds {
			wg.Go(func() { c.Check(t.Context(), base, cr) })
		}
		wg.Go(func() { c.CheckMany(t.Context(), base, creds[:6]) })
		wg.Wait()
		if rec.n.Load() != 12 {
			t.Fatalf("%d requests, want 12", rec.n.Load())
		}
		if m := rec.maxIn.Load(); m > 2 {
			t.Fatalf("max in flight %d, want ≤ 2", m)
		}
	})
	t.Run("default is 4", func(t *testing.T) {
		rec := &kcRecorder{delay: 30 * time.Millisecond}
		base := kcServer(t, rec)
		NewChecker(CheckerOptions{}).CheckMany(t.Context(), base, creds)
		if m := rec.maxIn.Load(); m > 4 {
			t.Fatalf("max in flight %d, want ≤ 4", m)
		}
	})
}

func TestKeyCheckBodyReadLimit(t *testing.T) {
	var read atomic.Int64
	rt := kcRoundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := &kcCountingReader{r: strings.NewReader(`{"type":"error","error":{"type":"invalid_request_error","message":"` + strings.Repeat("x", 1<<20) + `"}}`), n: &read}
		return &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(body), Request: r}, nil
	})
	got := NewChecker(CheckerOptions{HTTPClient: &http.Client{Transport: rt}}).Check(t.Context(), "https://api.example", kcAPICred(kcAPISecret))
	if n := read.Load(); n > MaxBodyRead {
		t.Fatalf("read %d bytes, limit %d", n, MaxBodyRead)
	}
	if got.Status != StatusUnverified || len(got.Message) > maxMessageLen+len("…") {
		t.Fatalf("got status %s, message of %d bytes", got.Status, len(got.Message))
	}
}

func TestKeyCheckJSON(t *testing.T) {
	k := KeyCheck{Fingerprint: "sha256:abc", Status: StatusRateLimited, HTTPStatus: 429, ErrorType: "rate_limit_error",
		Message: "m", RetryAfter: time.Second, CheckedAt: kcNow, Latency: time.Millisecond, BaseURL: DefaultBaseURL, Reason: "r"}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"fingerprint", "status", "http_status", "error_type", "message", "retry_after", "checked_at", "latency", "base_url", "reason"} {
		if _, ok := m[key]; !ok {
			t.Errorf("missing %q in %s", key, b)
		}
	}
	if len(m) != 10 {
		t.Errorf("unexpected keys in %s", b)
	}
}

func TestKeyCheckConclusive(t *testing.T) {
	for st, want := range map[Status]bool{
		StatusAccepted: true, StatusRejected: true, StatusForbidden: true,
		StatusRateLimited: false, StatusOverloaded: false, StatusServerError: false,
		StatusNetwork: false, StatusUnverified: false, StatusSkipped: false,
	} {
		if got := (KeyCheck{Status: st}).Conclusive(); got != want {
			t.Errorf("%s: Conclusive() = %v", st, got)
		}
	}
}

// ---- time-dependent behaviour, in a synctest bubble with a fake transport ----

type kcRoundTripFunc func(*http.Request) (*http.Response, error)

func (f kcRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type kcCountingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *kcCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// kcFakeAPI is a scriptable transport: answer decides the reply; requests
// are counted per host.
type kcFakeAPI struct {
	mu     sync.Mutex
	answer func(r *http.Request) (int, string, http.Header)
	hosts  map[string]int
	total  int
	delay  time.Duration
}

func (f *kcFakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	if f.hosts == nil {
		f.hosts = map[string]int{}
	}
	f.hosts[r.URL.Host]++
	f.total++
	answer, delay := f.answer, f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	code, body, hdr := 200, `{"data":[]}`, http.Header{}
	if answer != nil {
		code, body, hdr = answer(r)
		if hdr == nil {
			hdr = http.Header{}
		}
	}
	return &http.Response{StatusCode: code, Header: hdr, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func (f *kcFakeAPI) set(answer func(r *http.Request) (int, string, http.Header)) {
	f.mu.Lock()
	f.answer = answer
	f.mu.Unlock()
}

func (f *kcFakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

func kcFixed(code int, body string, hdr ...string) func(*http.Request) (int, string, http.Header) {
	return func(*http.Request) (int, string, http.Header) {
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Set(hdr[i], hdr[i+1])
		}
		return code, body, h
	}
}

func kcFakeChecker(f *kcFakeAPI, opts CheckerOptions) *Checker {
	opts.HTTPClient = &http.Client{Transport: f, Timeout: 10 * time.Second}
	return NewChecker(opts)
}

const kcFakeBase = "https://api.fake.example"

func TestKeyCheckCacheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{}
		c := kcFakeChecker(f, CheckerOptions{})
		ctx := t.Context()
		first := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
		time.Sleep(9*time.Minute + 59*time.Second)
		if got := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret)); got != first || f.count() != 1 {
			t.Fatalf("not cached within TTL: %+v, %d requests", got, f.count())
		}
		time.Sleep(time.Second)
		got := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
		if f.count() != 2 || !got.CheckedAt.After(first.CheckedAt) {
			t.Fatalf("not refreshed after TTL: %+v, %d requests", got, f.count())
		}
	})
}

func TestKeyCheckInconclusiveTTL(t *testing.T) {
	for _, tt := range []struct {
		name string
		ans  func(*http.Request) (int, string, http.Header)
		opts CheckerOptions
		ttl  time.Duration
	}{
		{name: "500", ans: kcFixed(500, kcAnthropicErr("api_error", "boom")), ttl: time.Minute},
		{name: "529", ans: kcFixed(529, kcAnthropicErr("overloaded_error", "Overloaded")), ttl: time.Minute},
		{name: "400", ans: kcFixed(400, kcAnthropicErr("invalid_request_error", "credit")), ttl: time.Minute},
		{name: "custom", ans: kcFixed(500, ""), opts: CheckerOptions{InconclusiveTTL: 5 * time.Second}, ttl: 5 * time.Second},
		{name: "capped by CacheTTL", ans: kcFixed(500, ""), opts: CheckerOptions{CacheTTL: 20 * time.Second}, ttl: 20 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &kcFakeAPI{answer: tt.ans}
				c := kcFakeChecker(f, tt.opts)
				c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret))
				time.Sleep(tt.ttl - time.Second)
				c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret))
				if f.count() != 1 {
					t.Fatalf("%d requests within the short TTL", f.count())
				}
				time.Sleep(time.Second)
				c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret))
				if f.count() != 2 {
					t.Fatalf("%d requests after the short TTL", f.count())
				}
			})
		})
	}
}

func TestKeyCheckRetryAfterHoldsRequests(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value func() string
	}{
		{name: "seconds", value: func() string { return "120" }},
		{name: "HTTP-date", value: func() string { return time.Now().Add(120 * time.Second).UTC().Format(http.TimeFormat) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &kcFakeAPI{answer: kcFixed(429, kcAnthropicErr("rate_limit_error", "slow down"), "Retry-After", tt.value())}
				c := kcFakeChecker(f, CheckerOptions{})
				ctx := t.Context()
				got := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
				kcAssertNoLeak(t, got)
				if got.Status != StatusRateLimited || got.RetryAfter != 120*time.Second || got.HTTPStatus != 429 {
					t.Fatalf("got %+v", got)
				}
				f.set(nil) // the server would now answer 200

				// Another credential, same base URL: held back.
				held := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret2))
				kcAssertNoLeak(t, held)
				if f.count() != 1 || held.Status != StatusRateLimited || held.RetryAfter != 120*time.Second || held.HTTPStatus != 0 {
					t.Fatalf("sent during retry-after: %+v, %d requests", held, f.count())
				}
				if held.Fingerprint != kcAPICred(kcAPISecret2).Secret.Fingerprint() {
					t.Fatalf("held result has fingerprint %q", held.Fingerprint)
				}
				// CheckMany too.
				m := c.CheckMany(ctx, kcFakeBase, []openclaw.Credential{kcAPICred(kcAPISecret), kcAPICred(kcAPISecret2)})
				if f.count() != 1 || m[held.Fingerprint].Status != StatusRateLimited || m[got.Fingerprint].Status != StatusRateLimited {
					t.Fatalf("CheckMany sent during retry-after: %+v", m)
				}
				// Another base URL is not affected.
				if r := c.Check(ctx, "https://other.fake.example", kcAPICred(kcAPISecret)); r.Status != StatusAccepted || f.count() != 2 {
					t.Fatalf("other base: %+v", r)
				}

				// The first credential's cached 429 expires after a minute,
				// but the base URL is still held.
				time.Sleep(61 * time.Second)
				again := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
				if f.count() != 2 || again.Status != StatusRateLimited || again.RetryAfter != 59*time.Second {
					t.Fatalf("after 61s: %+v, %d requests", again, f.count())
				}
				time.Sleep(59 * time.Second)
				done := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
				if f.count() != 3 || done.Status != StatusAccepted {
					t.Fatalf("after retry-after: %+v, %d requests", done, f.count())
				}
			})
		})
	}
}

func TestKeyCheckRateLimitKeepsVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{}
		c := kcFakeChecker(f, CheckerOptions{})
		ctx := t.Context()
		ok := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
		if ok.Status != StatusAccepted {
			t.Fatalf("got %+v", ok)
		}
		time.Sleep(11 * time.Minute)
		f.set(kcFixed(429, kcAnthropicErr("rate_limit_error", "slow down"), "Retry-After", "10"))
		rl := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
		if rl.Status != StatusRateLimited || !strings.Contains(rl.Reason, "previous verdict (accepted") {
			t.Fatalf("got %+v", rl)
		}
		if v, found := c.LastVerdict(kcFakeBase+"/", ok.Fingerprint); !found || v != ok {
			t.Fatalf("verdict lost: %+v %v", v, found)
		}
		time.Sleep(time.Minute)
		f.set(kcFixed(401, kcAnthropicErr("authentication_error", "invalid x-api-key")))
		rej := c.Check(ctx, kcFakeBase, kcAPICred(kcAPISecret))
		if v, _ := c.LastVerdict(kcFakeBase, ok.Fingerprint); rej.Status != StatusRejected || v != rej {
			t.Fatalf("new verdict not recorded: %+v / %+v", rej, v)
		}
	})
}

func TestKeyCheckConcurrentShareOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{delay: time.Second}
		c := kcFakeChecker(f, CheckerOptions{})
		results := make([]KeyCheck, 10)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i] = c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret)) })
		}
		wg.Wait()
		if f.count() != 1 {
			t.Fatalf("%d requests, want 1", f.count())
		}
		for _, r := range results {
			if r != results[0] || r.Status != StatusAccepted {
				t.Fatalf("results differ: %+v vs %+v", r, results[0])
			}
		}
	})
}

func TestKeyCheckCancelledLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{delay: 10 * time.Second}
		c := kcFakeChecker(f, CheckerOptions{})
		short, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		var leader, waiter KeyCheck
		var wg sync.WaitGroup
		wg.Go(func() { leader = c.Check(short, kcFakeBase, kcAPICred(kcAPISecret)) })
		synctest.Wait() // the leader's request is in flight
		wg.Go(func() { waiter = c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret)) })
		wg.Wait()
		if leader.Status != StatusNetwork || waiter.Status != StatusAccepted || f.count() != 2 {
			t.Fatalf("leader %+v waiter %+v, %d requests", leader, waiter, f.count())
		}
	})
}

func TestKeyCheckManyNoGoroutineLeak(t *testing.T) {
	// synctest.Test fails if any goroutine started in the bubble is still
	// around (blocked) when the function returns.
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{delay: time.Hour}
		c := kcFakeChecker(f, CheckerOptions{Concurrency: 2})
		var creds []openclaw.Credential
		for i := range 9 {
			creds = append(creds, kcAPICred(fmt.Sprintf("sk-ant-api03-leak-%02d-%s", i, strings.Repeat("y", 40))))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		m := c.CheckMany(ctx, kcFakeBase, creds)
		if time.Since(start) > 3*time.Second+time.Millisecond {
			t.Fatalf("CheckMany outlived its context: %s", time.Since(start))
		}
		if len(m) != 9 {
			t.Fatalf("%d results", len(m))
		}
		for _, r := range m {
			if r.Conclusive() {
				t.Fatalf("got %+v", r)
			}
		}
	})
}

func TestKeyCheckClientTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &kcFakeAPI{delay: time.Minute}
		c := kcFakeChecker(f, CheckerOptions{})
		start := time.Now()
		got := c.Check(t.Context(), kcFakeBase, kcAPICred(kcAPISecret))
		if got.Status != StatusNetwork || !strings.Contains(got.Reason, "timeout") || time.Since(start) != 10*time.Second {
			t.Fatalf("got %+v after %s", got, time.Since(start))
		}
		if got.Latency != 10*time.Second {
			t.Fatalf("latency %s", got.Latency)
		}
	})
}
