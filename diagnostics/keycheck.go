package diagnostics

// Zero-token key check: GET {base}/v1/models?limit=1 with the stored
// credential. Listing models costs no tokens and writes nothing, neither to
// Anthropic nor to OpenClaw, yet the API authenticates the request, so the
// answer tells whether the credential is accepted.

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/openclaw-bot/openclaw-bot/internal/netutil"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Status is the outcome of a zero-token key check.
type Status string

const (
	// StatusAccepted: 200, the credential works.
	StatusAccepted Status = "accepted"
	// StatusRejected: 401 authentication_error about the credential itself.
	StatusRejected Status = "rejected"
	// StatusForbidden: 403 permission_error for an API key (authenticated,
	// but may not list models).
	StatusForbidden Status = "forbidden"
	// StatusRateLimited: 429; the credential was not judged.
	StatusRateLimited Status = "rate_limited"
	// StatusOverloaded: 529.
	StatusOverloaded Status = "overloaded"
	// StatusServerError: any other 5xx.
	StatusServerError Status = "server_error"
	// StatusNetwork: no HTTP answer (connection refused, DNS, TLS, timeout).
	StatusNetwork Status = "network"
	// StatusUnverified: an answer that does not say whether the credential
	// is good (other 4xx, a redirect, an ambiguous 401/403 for a token).
	StatusUnverified Status = "unverified"
	// StatusSkipped: the credential was not sent (Reason says why).
	StatusSkipped Status = "skipped"
)

// DefaultBaseURL is Anthropic's public API.
const DefaultBaseURL = "https://api.anthropic.com"

// Request constants of the check.
const (
	AnthropicVersion = "2023-06-01"
	OAuthBeta        = "oauth-2025-04-20"
	ModelsPath       = "/v1/models?limit=1"

	// MaxBodyRead is how much of a response body is read.
	MaxBodyRead = 64 << 10
	// MaxRetryAfter caps a server's retry-after, so that a broken proxy
	// cannot silence the checker for days.
	MaxRetryAfter = time.Hour

	defaultCheckTimeout    = 10 * time.Second
	defaultConcurrency     = 4
	defaultCacheTTL        = 10 * time.Minute
	defaultInconclusiveTTL = time.Minute
	maxMessageLen          = 512
	maxErrorTypeLen        = 64
)

// KeyCheck is the result of checking one credential against one base URL.
// It never contains the secret: Message and Reason are scrubbed.
type KeyCheck struct {
	// Fingerprint is redact.Fingerprint of the stored secret ("" if none).
	Fingerprint string `json:"fingerprint"`
	Status      Status `json:"status"`
	// HTTPStatus is the answer's status code, 0 when nothing was sent or
	// no answer came.
	HTTPStatus int `json:"http_status,omitempty"`
	// ErrorType and Message are error.type and error.message of an
	// Anthropic error body (Message is scrubbed and truncated; for a
	// network error it is the scrubbed error text).
	ErrorType string `json:"error_type,omitempty"`
	Message   string `json:"message,omitempty"`
	// RetryAfter is the server's retry-after on a 429 or, when the request
	// was held back by an earlier 429, the time left.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	CheckedAt  time.Time     `json:"checked_at"`
	Latency    time.Duration `json:"latency,omitempty"`
	BaseURL    string        `json:"base_url"`
	// Reason explains the status in a sentence.
	Reason string `json:"reason,omitempty"`
}

// Conclusive reports whether the result judges the credential (accepted,
// rejected or forbidden). Everything else says nothing about it.
func (k KeyCheck) Conclusive() bool {
	switch k.Status {
	case StatusAccepted, StatusRejected, StatusForbidden:
		return true
	}
	return false
}

// ResolveBaseURL picks the base URL to check against: the first non-empty
// of the command-line flag, the target's setting, the install's
// models.providers.anthropic.baseUrl and the bot config's
// anthropic.base_url, else DefaultBaseURL. A trailing "/" is trimmed.
// Plain http:// is refused unless the host is loopback (127.0.0.0/8, ::1,
// localhost), as are other schemes, URLs with credentials, a query or a
// fragment, and unparsable URLs. An invalid value is an error: it never
// falls through to the next source.
func ResolveBaseURL(flag, target, install, config string) (string, error) {
	sources := []struct{ name, value string }{
		{"the command-line flag", flag},
		{"the target", target},
		{"the install's models.providers.anthropic.baseUrl", install},
		{"the bot config's anthropic.base_url", config},
	}
	for _, s := range sources {
		if strings.TrimSpace(s.value) == "" {
			continue
		}
		u, err := kcNormalizeBaseURL(s.value)
		if err != nil {
			return "", fmt.Errorf("base URL from %s: %w", s.name, err)
		}
		return u, nil
	}
	return DefaultBaseURL, nil
}

// kcNormalizeBaseURL validates a base URL and returns it without trailing
// slashes ("" means DefaultBaseURL). Errors never quote user info.
func kcNormalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		detail := "unparsable"
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			detail = ue.Err.Error()
		}
		return "", fmt.Errorf("not a valid URL (%s)", redact.String(detail))
	}
	if u.User != nil {
		u.User = nil
		return "", fmt.Errorf("%s: a base URL must not contain credentials (user info); refusing to use it", kcDisplayURL(u))
	}
	if u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an absolute URL; expected https://host[:port][/path]", redact.String(raw))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%s: a base URL must not have a query or a fragment", kcDisplayURL(u))
	}
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("%s has no host", kcDisplayURL(u))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !netutil.IsLoopback(host) {
			return "", fmt.Errorf("refusing plain http:// base URL %s: the credential would cross the network in clear text; use https:// (http:// is only allowed to a loopback host: 127.0.0.0/8, ::1 or localhost)", kcDisplayURL(u))
		}
	default:
		return "", fmt.Errorf("unsupported scheme %q in base URL %s: only https:// (or http:// to a loopback host) is allowed", u.Scheme, kcDisplayURL(u))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// kcDisplayURL renders a URL for an error message: no user info, no query,
// credential-shaped strings scrubbed.
func kcDisplayURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return redact.String(v.String())
}

// CheckerOptions configure a Checker. The zero value is usable.
type CheckerOptions struct {
	// HTTPClient sends the checks. Default: a client with a 10 s timeout.
	// Redirects are never followed, whatever the client says: a redirect
	// would carry the credential to another place.
	HTTPClient *http.Client
	// Concurrency bounds the requests in flight (default 4).
	Concurrency int
	// CacheTTL is how long a conclusive result is reused per (base URL,
	// credential fingerprint) (default 10 min; negative disables caching).
	CacheTTL time.Duration
	// InconclusiveTTL is how long any other result is reused (default 1
	// min, never longer than CacheTTL).
	InconclusiveTTL time.Duration
	// CheckTokens enables checking setup tokens and OAuth access tokens;
	// off, they are skipped.
	CheckTokens bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// UserAgent is sent as User-Agent (default "openclaw-bot").
	UserAgent string
}

// Checker runs zero-token key checks. Safe for concurrent use.
type Checker struct {
	client          *http.Client
	sem             chan struct{}
	cacheTTL        time.Duration
	inconclusiveTTL time.Duration
	checkTokens     bool
	now             func() time.Time
	userAgent       string

	mu       sync.Mutex
	cache    map[kcKey]kcEntry
	verdicts map[kcKey]KeyCheck   // last conclusive result, kept past its TTL
	blocked  map[string]time.Time // base URL → no request before
	inflight map[kcKey]*kcCall
}

type kcKey struct{ base, fp string }

type kcEntry struct {
	res     KeyCheck
	expires time.Time
}

type kcCall struct {
	done   chan struct{}
	res    KeyCheck
	shared bool // res may be handed to callers waiting on the same key
}

// NewChecker returns a Checker.
func NewChecker(opts CheckerOptions) *Checker {
	var client http.Client
	if opts.HTTPClient != nil {
		client = *opts.HTTPClient
	} else {
		client.Timeout = defaultCheckTimeout
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Checker{
		client:          &client,
		cacheTTL:        opts.CacheTTL,
		inconclusiveTTL: opts.InconclusiveTTL,
		checkTokens:     opts.CheckTokens,
		now:             opts.Now,
		userAgent:       opts.UserAgent,
		cache:           map[kcKey]kcEntry{},
		verdicts:        map[kcKey]KeyCheck{},
		blocked:         map[string]time.Time{},
		inflight:        map[kcKey]*kcCall{},
	}
	n := opts.Concurrency
	if n <= 0 {
		n = defaultConcurrency
	}
	c.sem = make(chan struct{}, n)
	switch {
	case c.cacheTTL == 0:
		c.cacheTTL = defaultCacheTTL
	case c.cacheTTL < 0:
		c.cacheTTL = 0
	}
	if c.inconclusiveTTL <= 0 {
		c.inconclusiveTTL = defaultInconclusiveTTL
	}
	c.inconclusiveTTL = min(c.inconclusiveTTL, c.cacheTTL)
	if c.now == nil {
		c.now = time.Now
	}
	if c.userAgent == "" {
		c.userAgent = "openclaw-bot"
	}
	return c
}

// Check verifies one credential against baseURL ("" = DefaultBaseURL)
// without spending tokens. It never returns an error: problems are a
// Status with a Reason. Results are cached per (base URL, fingerprint);
// concurrent checks of the same credential share one request.
func (c *Checker) Check(ctx context.Context, baseURL string, cred openclaw.Credential) KeyCheck {
	secret := cred.Secret.Reveal()
	res := KeyCheck{Fingerprint: cred.Secret.Fingerprint(), CheckedAt: c.now()}
	base, err := kcNormalizeBaseURL(baseURL)
	if err != nil {
		res.Status, res.Reason = StatusSkipped, "not sent: base URL "+err.Error()
		return kcSeal(res, cred)
	}
	res.BaseURL = base
	bearer, skip := c.preflight(cred, res.CheckedAt)
	if skip != "" {
		res.Status, res.Reason = StatusSkipped, skip
		return kcSeal(res, cred)
	}
	key := kcKey{base, res.Fingerprint}
	for {
		now := c.now()
		c.mu.Lock()
		if e, ok := c.cache[key]; ok && now.Before(e.expires) {
			c.mu.Unlock()
			return e.res
		}
		if until, ok := c.blocked[base]; ok {
			if now.Before(until) {
				c.mu.Unlock()
				res.CheckedAt = now
				res.Status, res.RetryAfter = StatusRateLimited, until.Sub(now)
				res.Reason = fmt.Sprintf("not sent: %s answered 429 and asked not to be called before %s; the credential was not judged",
					base, until.UTC().Format(time.RFC3339))
				return kcSeal(res, cred)
			}
			delete(c.blocked, base)
		}
		if call, ok := c.inflight[key]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
				if call.shared {
					return call.res
				}
				continue // the other caller gave up; try ourselves
			case <-ctx.Done():
				res.CheckedAt = c.now()
				res.Status, res.Reason = StatusSkipped, "not sent: "+ctx.Err().Error()
				return kcSeal(res, cred)
			}
		}
		call := &kcCall{done: make(chan struct{})}
		c.inflight[key] = call
		c.mu.Unlock()

		res.CheckedAt = now
		r, cacheable := c.send(ctx, res, secret, bearer, cred)

		c.mu.Lock()
		delete(c.inflight, key)
		if cacheable {
			r = c.store(key, r)
			call.res, call.shared = r, true
		}
		c.mu.Unlock()
		close(call.done)
		return r
	}
}

// store records a result (c.mu held) and returns it, annotated when an
// inconclusive answer leaves an earlier verdict standing.
func (c *Checker) store(key kcKey, r KeyCheck) KeyCheck {
	now := c.now()
	if r.Conclusive() {
		c.verdicts[key] = r
	} else if prev, ok := c.verdicts[key]; ok {
		r.Reason += fmt.Sprintf("; the previous verdict (%s at %s) stands", prev.Status, prev.CheckedAt.UTC().Format(time.RFC3339))
	}
	if r.Status == StatusRateLimited && r.RetryAfter > 0 {
		if until := now.Add(r.RetryAfter); until.After(c.blocked[key.base]) {
			c.blocked[key.base] = until
		}
	}
	ttl := c.cacheTTL
	if !r.Conclusive() {
		ttl = c.inconclusiveTTL
	}
	if ttl > 0 {
		if len(c.cache) >= 1024 {
			for k, e := range c.cache {
				if !now.Before(e.expires) {
					delete(c.cache, k)
				}
			}
		}
		c.cache[key] = kcEntry{res: r, expires: now.Add(ttl)}
	}
	return r
}

// preflight decides whether a credential may be sent, and how. It returns
// a non-empty skip reason when it must not be.
func (c *Checker) preflight(cred openclaw.Credential, now time.Time) (bearer bool, skip string) {
	s := openclaw.NormalizeSecret(cred.Secret.Reveal()) // what OpenClaw would send
	switch {
	case s == "" || strings.TrimSpace(s) == "":
		return false, "not sent: the credential has no secret"
	case cred.Provider != "" && !strings.EqualFold(cred.Provider, "anthropic"):
		return false, fmt.Sprintf("not sent: provider %q is not anthropic", redact.String(cred.Provider))
	case cred.Fence != "" || strings.HasPrefix(s, "openclaw-oauth-refresh-fence:"):
		return false, "not sent: OpenClaw replaced the OAuth tokens by a refresh fence (" + cmp.Or(cred.Fence, "pending") + ")"
	}
	switch cred.Type {
	case openclaw.TypeToken, openclaw.TypeOAuth:
		bearer = true
	case openclaw.TypeAPIKey, "":
		// OpenClaw (pi-ai) sends anything shaped like an OAuth token as a
		// bearer token, whatever the profile says; so do we.
		bearer = strings.HasPrefix(strings.TrimSpace(s), "sk-ant-oat")
	default:
		return false, fmt.Sprintf("not sent: unsupported credential type %q", redact.String(cred.Type))
	}
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return bearer, "not sent: the token expired at " + cred.Expires.UTC().Format(time.RFC3339)
	}
	if bearer && !c.checkTokens {
		return bearer, "not sent: setup tokens and OAuth logins are only checked when token checks are enabled (Anthropic's answers to OAuth on the public API are ambiguous)"
	}
	if strings.IndexFunc(strings.TrimSpace(s), func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }) >= 0 {
		return bearer, "not sent: the secret contains whitespace, control or non-ASCII characters"
	}
	return bearer, ""
}

// send performs the request. cacheable is false when the caller's context
// ended, which says nothing about the credential or the server.
func (c *Checker) send(ctx context.Context, res KeyCheck, secret string, bearer bool, cred openclaw.Credential) (out KeyCheck, cacheable bool) {
	if err := ctx.Err(); err != nil {
		res.Status, res.Reason = StatusSkipped, "not sent: "+err.Error()
		return kcSeal(res, cred), false
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		res.Status, res.Reason = StatusSkipped, "not sent: "+ctx.Err().Error()
		return kcSeal(res, cred), false
	}
	defer func() { <-c.sem }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.BaseURL+ModelsPath, nil)
	if err != nil {
		res.Status, res.Reason = StatusSkipped, "not sent: cannot build the request: "+err.Error()
		return kcSeal(res, cred), false
	}
	secret = openclaw.NormalizeSecret(secret) // what OpenClaw would send
	req.Header.Set("anthropic-version", AnthropicVersion)
	req.Header.Set("accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if bearer {
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("anthropic-beta", OAuthBeta)
	} else {
		req.Header.Set("x-api-key", secret)
	}

	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		res.Status, res.Reason = StatusNetwork, kcNetReason(err)
		res.Message = err.Error()
		return kcSeal(res, cred), ctx.Err() == nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBodyRead))
	resp.Body.Close()
	res.Latency = time.Since(start)
	res.HTTPStatus = resp.StatusCode
	kcClassify(&res, resp, body, bearer, c.now())
	return kcSeal(res, cred), true
}

// kcClassify fills Status, ErrorType, Message, RetryAfter and Reason from
// an HTTP answer.
func kcClassify(res *KeyCheck, resp *http.Response, body []byte, bearer bool, now time.Time) {
	what := "API key"
	if bearer {
		what = "token"
	}
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Type == "error" || e.Type == "") && e.Error.Type != "" {
		res.ErrorType, res.Message = e.Error.Type, e.Error.Message
	} else if resp.StatusCode != http.StatusOK && len(body) > 0 {
		res.Message = string(body)
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		res.Status, res.Reason = StatusAccepted, "Anthropic accepted the "+what+" (GET /v1/models)"
		res.ErrorType, res.Message = "", ""
	case code == http.StatusTooManyRequests:
		res.Status = StatusRateLimited
		res.RetryAfter = kcParseRetryAfter(resp.Header.Get("Retry-After"), now)
		res.Reason = "rate limited (429): the " + what + " was not judged"
		if res.RetryAfter > 0 {
			res.Reason += fmt.Sprintf("; no request to this base URL for %s", res.RetryAfter)
		}
	case code == 529:
		res.Status, res.Reason = StatusOverloaded, "Anthropic is overloaded (529): the "+what+" was not judged"
	case code >= 500:
		res.Status, res.Reason = StatusServerError, fmt.Sprintf("server error (HTTP %d): the %s was not judged", code, what)
	case code == http.StatusUnauthorized && res.ErrorType == "authentication_error":
		switch {
		case !bearer:
			res.Status, res.Reason = StatusRejected, "Anthropic rejected the API key (401 authentication_error)"
		case kcTokenRejected(res.Message):
			res.Status, res.Reason = StatusRejected, "Anthropic rejected the token (401 authentication_error about the token itself)"
		default:
			res.Status, res.Reason = StatusUnverified, "Anthropic answered 401 without saying the token itself is invalid (its handling of OAuth on the public API changed in 2026): the token could not be verified"
		}
	case code == http.StatusForbidden && res.ErrorType == "permission_error" && !bearer:
		res.Status, res.Reason = StatusForbidden, "the API key authenticated but may not list models (403 permission_error)"
	case code >= 300 && code < 400:
		res.Status = StatusUnverified
		res.Reason = fmt.Sprintf("redirect (HTTP %d) refused: the credential is never sent anywhere else; is the base URL right?", code)
		if loc := resp.Header.Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				res.Reason += " (to " + kcDisplayURL(u) + ")"
			}
		}
	default:
		res.Status = StatusUnverified
		res.Reason = fmt.Sprintf("HTTP %d", code)
		if res.ErrorType != "" {
			res.Reason += " " + res.ErrorType
		} else if code == http.StatusUnauthorized || code == http.StatusForbidden {
			res.Reason += " without an Anthropic error body (a proxy in between?)"
		}
		res.Reason += ": the " + what + " could not be verified"
	}
}

// kcTokenRejected reports whether a 401 message is about the token itself,
// rather than about OAuth on this endpoint.
func kcTokenRejected(msg string) bool {
	m := strings.ToLower(msg)
	if strings.Contains(m, "not supported") || strings.Contains(m, "not allowed") {
		return false
	}
	for _, p := range []string{"invalid x-api-key", "invalid bearer token", "token has been revoked", "token has expired", "token is expired", "token was revoked", "token revoked", "token expired"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// kcParseRetryAfter reads delay-seconds or an HTTP-date, capped at
// MaxRetryAfter; 0 when absent, unparsable or past.
func kcParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}

// kcNetReason explains a transport error.
func kcNetReason(err error) string {
	var (
		dnsErr *net.DNSError
		uaErr  x509.UnknownAuthorityError
		hnErr  x509.HostnameError
		ciErr  x509.CertificateInvalidError
		netErr net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled before Anthropic answered"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout: no answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens at the base URL"
	case errors.As(err, &dnsErr):
		return "DNS lookup of the base URL's host failed"
	case errors.As(err, &uaErr), errors.As(err, &hnErr), errors.As(err, &ciErr):
		return "TLS certificate of the base URL is not trusted"
	default:
		return "network error: no HTTP answer"
	}
}

// kcSeal scrubs every free-text field of a result: known credential
// shapes, the credential's own values, control characters; and bounds
// their length. Every result leaves the checker through it.
func kcSeal(r KeyCheck, cred openclaw.Credential) KeyCheck {
	secrets := []string{cred.Secret.Reveal(), cred.Refresh.Reveal()}
	sc := redact.NewScrubber(secrets...)
	clean := func(s string, limit int) string {
		if s == "" {
			return ""
		}
		s = sc.String(s)
		for _, v := range secrets {
			for _, w := range []string{v, strings.TrimSpace(v)} {
				if len(w) >= 4 {
					s = strings.ReplaceAll(s, w, redact.Placeholder)
				}
			}
		}
		s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
		return text.Truncate(s, limit+1)
	}
	r.Message = clean(r.Message, maxMessageLen)
	r.Reason = clean(r.Reason, 4*maxMessageLen)
	r.ErrorType = clean(r.ErrorType, maxErrorTypeLen)
	r.BaseURL = clean(r.BaseURL, 4*maxMessageLen)
	return r
}

// CheckMany checks credentials concurrently (at most Concurrency requests
// in flight) and returns the results by fingerprint. Credentials with the
// same secret are sent once; when they differ in type, one that will be
// sent is preferred over one that would be skipped. Credentials without a
// secret share the key "".
func (c *Checker) CheckMany(ctx context.Context, baseURL string, creds []openclaw.Credential) map[string]KeyCheck {
	now := c.now()
	var order []string
	pick := map[string]openclaw.Credential{}
	for _, cr := range creds {
		fp := cr.Secret.Fingerprint()
		prev, seen := pick[fp]
		if !seen {
			order = append(order, fp)
			pick[fp] = cr
			continue
		}
		if _, skipPrev := c.preflight(prev, now); skipPrev != "" {
			if _, skip := c.preflight(cr, now); skip == "" {
				pick[fp] = cr
			}
		}
	}
	out := make(map[string]KeyCheck, len(order))
	if len(order) == 0 {
		return out
	}
	jobs := make(chan string)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range min(cap(c.sem), len(order)) {
		wg.Go(func() {
			for fp := range jobs {
				r := c.Check(ctx, baseURL, pick[fp])
				mu.Lock()
				out[fp] = r
				mu.Unlock()
			}
		})
	}
	for _, fp := range order {
		jobs <- fp
	}
	close(jobs)
	wg.Wait()
	return out
}

// Forget drops everything remembered about a credential (cached results
// and verdicts, for every base URL), so the next check sends it again.
func (c *Checker) Forget(fingerprint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.cache {
		if k.fp == fingerprint {
			delete(c.cache, k)
		}
	}
	for k := range c.verdicts {
		if k.fp == fingerprint {
			delete(c.verdicts, k)
		}
	}
}

// LastVerdict returns the last conclusive result for a credential at a
// base URL, however old: an inconclusive answer (429, 5xx, network…)
// never replaces it.
func (c *Checker) LastVerdict(baseURL, fingerprint string) (KeyCheck, bool) {
	base, err := kcNormalizeBaseURL(baseURL)
	if err != nil {
		return KeyCheck{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.verdicts[kcKey{base, fingerprint}]
	return r, ok
}
