// Package apiclient reads complete lists from the Confluent Cloud API: BYOK
// keys and IAM API keys, and the names that go with their ids (service
// accounts, users, environments, Kafka clusters) and the organisation's
// quotas. One list loop does HTTP Basic auth, pagination, rate limits,
// retries and error shapes for all of them; each API group adds its types
// and a typed list call (byok and API keys here and in types.go, iam.go,
// org.go, cmk.go, quotas.go). It knows nothing of Prometheus.
package apiclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/backoff"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// Endpoint names, as used in metric labels and errors.
const (
	EndpointBYOKKeys        = "byok_keys"
	EndpointIAMAPIKeys      = "iam_api_keys"
	EndpointServiceAccounts = "iam_service_accounts"
	EndpointUsers           = "iam_users"
	EndpointEnvironments    = "org_environments"
	EndpointKafkaClusters   = "cmk_clusters"
	EndpointAppliedQuotas   = "service_quota_applied_quotas"
	EndpointOrganizations   = "org_organizations"

	EndpointCertificateAuthorities   = "iam_certificate_authorities"
	EndpointCertificateIdentityPools = "iam_certificate_identity_pools"
	EndpointIdentityProviders        = "iam_identity_providers"
	EndpointIdentityPools            = "iam_identity_pools"
)

const (
	// MaxBodySize is the largest response body read, decompressed: a page
	// of 100 items is about 100 KB; a larger body fails the list. One
	// organisation's upstream sending huge bodies must not take the memory
	// of the others.
	MaxBodySize = 4 << 20
	// DefaultMaxItems ends a list of more items than that (Config.MaxItems).
	DefaultMaxItems = 250000
	// MaxPages ends a list that has not reached its last page by then.
	MaxPages = 100000
	// MaxPageSize is the API's largest page.
	MaxPageSize = 100

	defaultMaxRetries = 3
	maxRateLimited    = 100 // consecutive 429s before giving up
	defaultRetryDelay = time.Second
	minRateLimitWait  = time.Second
)

// RateLimit is what the X-RateLimit-* headers of one response said.
type RateLimit struct {
	Limit     int       // X-RateLimit-Limit; -1 when absent
	Remaining int       // X-RateLimit-Remaining; -1 when absent
	Reset     time.Time // arrival + X-RateLimit-Reset; zero when absent
}

// Observer is told about every request sent. It must be safe for concurrent use.
type Observer interface {
	// ObserveRequest reports one request: its HTTP status code as text, or
	// "error" when no response arrived.
	ObserveRequest(endpoint, code string, duration time.Duration)
	// ObserveRateLimit reports the rate-limit headers of a response.
	ObserveRateLimit(endpoint string, rl RateLimit)
}

// Config configures a Client.
type Config struct {
	BaseURL  *url.URL // e.g. https://api.confluent.cloud
	APIKey   string
	Secret   secret.Source
	PageSize int           // 1..100; 0 means 100
	Timeout  time.Duration // one HTTP request, body included; 0 means 30s
	// MaxItems fails a list of more items than that (reason pagination)
	// before memory follows an endless one; 0 means DefaultMaxItems.
	MaxItems int

	// Optional.
	Observer       Observer
	UserAgent      string
	MaxRetries     int           // retries of 5xx and transport errors; 0 means 3, <0 means none
	RetryBaseDelay time.Duration // first backoff; 0 means 1s
}

// Client reads lists. It is safe for concurrent use.
type Client struct {
	cfg            Config
	http           *http.Client
	maxPages       int
	maxRateLimited int
	maxBody        int // MaxBodySize; smaller in tests of its edges

	// The rate limit is per organisation and user, not per endpoint: a 429
	// or an exhausted window on one list holds back every list.
	pace *pacer

	redactMu sync.Mutex
	redact   *redactor // of the last secret read; built again when it changes
}

// redactorFor returns the redactor of the credentials with secret, built
// once per secret (a secret file re-read on every request rarely changes).
func (c *Client) redactorFor(secret string) *redactor {
	c.redactMu.Lock()
	defer c.redactMu.Unlock()
	if c.redact == nil || c.redact.secret != secret {
		c.redact = newRedactor(c.cfg.APIKey, secret)
	}
	return c.redact
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == nil || cfg.BaseURL.Host == "" {
		return nil, errors.New("base URL must have a host")
	}
	if cfg.BaseURL.User != nil {
		return nil, errors.New("base URL must not carry credentials")
	}
	if cfg.APIKey == "" {
		return nil, errors.New("API key is empty")
	}
	if cfg.Secret == nil {
		return nil, errors.New("no secret source")
	}
	if cfg.PageSize < 0 || cfg.PageSize > MaxPageSize {
		return nil, fmt.Errorf("page size %d is outside 1..%d", cfg.PageSize, MaxPageSize)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = MaxPageSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = defaultMaxRetries
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = defaultRetryDelay
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "confluent_keys_exporter"
	}
	return &Client{
		cfg:            cfg,
		http:           &http.Client{CheckRedirect: checkRedirect},
		maxPages:       MaxPages,
		maxRateLimited: maxRateLimited,
		maxBody:        MaxBodySize,
		pace:           newPacer(),
	}, nil
}

// maxRedirects is how many redirects one request follows. Confluent asks
// its API's clients to follow 301 and 307.
const maxRedirects = 3

// checkRedirect follows a redirect to the same scheme and host, with the
// credentials (net/http copies the Authorization header to the same host),
// at most maxRedirects times. A redirect anywhere else could carry the
// credentials there: it is refused.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return &RedirectError{Host: req.URL.Scheme + "://" + req.URL.Host}
	}
	if len(via) > maxRedirects {
		return &RedirectError{Host: req.URL.Scheme + "://" + req.URL.Host, Count: len(via)}
	}
	return nil
}

// ListStats says what a complete list cost and what of it could not be exported.
type ListStats struct {
	Pages int // pages read
	// Skipped counts the items left out, by reason (SkipNoID, SkipLongID, SkipNoOwner).
	Skipped map[string]Tally
	// Invalid counts the values left out of exported items, by field (its
	// JSON path in the item, e.g. "metadata.created_at"): unreadable, or
	// missing where the API documents them as required.
	Invalid map[string]Tally
}

// Tally counts one kind of item or value left out, with one example.
type Tally struct {
	Count   int
	Example string // the id of one item it happened to, or its place in the list
}

// The reasons an item is skipped.
const (
	SkipNoID    = "no_id"    // an item without an id cannot be told apart
	SkipLongID  = "long_id"  // an id longer than MaxLabelValue is never cut into another
	SkipNoOwner = "no_owner" // an API key without an owner is Confluent-internal
)

func note(m *map[string]Tally, what, example string) {
	if *m == nil {
		*m = map[string]Tally{}
	}
	t := (*m)[what]
	if t.Count == 0 {
		t.Example = example
	}
	t.Count++
	(*m)[what] = t
}

// ListBYOKKeys reads every page of GET /byok/v1/keys and returns the
// complete list or an error.
func (c *Client) ListBYOKKeys(ctx context.Context) ([]BYOKKey, ListStats, error) {
	return list(ctx, c, EndpointBYOKKeys, "/byok/v1/keys", nil, readBYOKKey)
}

// ListAPIKeys reads every page of GET /iam/v2/api-keys. Keys without an
// owner are Confluent-internal: they are skipped and counted in
// ListStats.Skipped.
func (c *Client) ListAPIKeys(ctx context.Context) ([]APIKey, ListStats, error) {
	return list(ctx, c, EndpointIAMAPIKeys, "/iam/v2/api-keys", nil, readAPIKey)
}

// reader reads one list item into K. key tells items apart (the id, for
// most lists): "" for an item that cannot be told apart, which is skipped.
// skip is why an item with a key is not exported ("" if it is).
type reader[K any] func(item *fastjson.Value, f *fields) (k K, key, skip string)

// parsers are reused from list to list: a parser keeps its buffers.
var parsers fastjson.ParserPool

// list requests every page of path and returns the items read. Only a
// broken envelope fails it: an item without an id is skipped, an unreadable
// value left out, and both counted in ListStats. An item whose key was seen
// on an earlier page is dropped: a list that shifts while it is read can
// repeat an item.
func list[K any](ctx context.Context, c *Client, endpoint, path string, query url.Values, read reader[K]) ([]K, ListStats, error) {
	var (
		keys       []K
		stats      ListStats
		seenKeys   = map[string]struct{}{}
		seenTokens = map[[sha256.Size]byte]struct{}{} // hashes: tokens may be long
		token      string
		items      int // read so far, skipped and repeated ones included
	)
	p := parsers.Get()
	largest := 0 // the largest body p parsed
	defer func() {
		// A parser keeps the values of the largest page it parsed: one
		// that parsed a flood (a page of 90,000 strings takes 40 MB) is
		// left to the collector instead of kept for the next list.
		if largest <= pooledBodySize {
			parsers.Put(p)
		}
	}()
	for stats.Pages < c.maxPages {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page_size", strconv.Itoa(c.cfg.PageSize))
		if token != "" {
			q.Set("page_token", token)
		}
		body, requestID, redact, err := c.get(ctx, endpoint, path, q)
		if err != nil {
			return nil, stats, err
		}
		largest = max(largest, len(body))
		page, next, err := decodePage(p, body, redact)
		if err != nil {
			return nil, stats, &DecodeError{Endpoint: endpoint, RequestID: requestID, Err: err}
		}
		stats.Pages++
		if items += len(page); items > c.cfg.MaxItems {
			return nil, stats, c.tooMany(endpoint)
		}
		f := fields{redact: redact}
		for i, it := range page {
			f.reset()
			k, key, skip := read(it, &f)
			// The arrays that become series count with the items: an item
			// of a hundred thousand certificates is a hundred thousand
			// series.
			if items += f.elements; items > c.cfg.MaxItems {
				return nil, stats, c.tooMany(endpoint)
			}
			if key == "" {
				reason := SkipNoID
				if f.longID {
					reason = SkipLongID
				}
				note(&stats.Skipped, reason, fmt.Sprintf("page %d item %d", stats.Pages, i+1))
				continue
			}
			if _, dup := seenKeys[key]; dup {
				continue
			}
			seenKeys[key] = struct{}{}
			if skip != "" {
				note(&stats.Skipped, skip, key)
				continue
			}
			for _, field := range f.invalid {
				note(&stats.Invalid, field, key)
			}
			keys = append(keys, k)
		}
		if next == "" {
			return keys, stats, nil
		}
		token, err = pageToken(next)
		if err != nil {
			return nil, stats, &PaginationError{Endpoint: endpoint, Msg: err.Error()}
		}
		sum := sha256.Sum256([]byte(token))
		if _, dup := seenTokens[sum]; dup {
			return nil, stats, &PaginationError{Endpoint: endpoint, Msg: fmt.Sprintf("page token repeated after %d pages", stats.Pages)}
		}
		seenTokens[sum] = struct{}{}
	}
	return nil, stats, &PaginationError{Endpoint: endpoint, Msg: fmt.Sprintf("more than %d pages", c.maxPages)}
}

// tooMany is the error of a list longer than MaxItems.
func (c *Client) tooMany(endpoint string) error {
	return &PaginationError{Endpoint: endpoint, Msg: fmt.Sprintf("more than %d items and entries of their arrays (certificates, resources, principals; --confluent.max-items)", c.cfg.MaxItems)}
}

// pooledBodySize is the largest body whose parser is kept for the next
// list: a page of 100 ordinary items is a few hundred KB.
const pooledBodySize = 1 << 20

// maxTokenSize bounds a page token: it travels in a URL.
const maxTokenSize = 4096

// pageToken takes the page_token out of a metadata.next link. Only the token
// is used: the next request goes to the configured base URL, whatever host
// the link names, so credentials never travel elsewhere.
func pageToken(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next link is not a URL: %w", err)
	}
	tok := u.Query().Get("page_token")
	if tok == "" {
		return "", errors.New("next link has no page_token")
	}
	// 255 is the request parameter's documented maximum, not the
	// response's: a longer token is sent as it came (the CLI does too).
	if len(tok) > maxTokenSize {
		return "", fmt.Errorf("page_token is %d characters, more than the %d a token can sensibly be", len(tok), maxTokenSize)
	}
	return tok, nil
}

// get sends one GET, retrying as the rate limit and the error asks, and
// returns the body of the 2xx answer and the redactor of the credentials it
// was sent with.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values) (body []byte, requestID string, redact *redactor, err error) {
	u := *c.cfg.BaseURL
	u.Path = singleJoin(u.Path, path)
	u.RawQuery = q.Encode()
	target := u.String()

	for retries, limited := 0, 0; ; {
		if err := c.pace.acquire(ctx, endpoint); err != nil {
			return nil, "", nil, err
		}
		resp, err := c.do(ctx, endpoint, target)
		if err != nil {
			c.pace.cancel()
			var te *transportError
			if !errors.As(err, &te) {
				return nil, "", nil, err
			}
			if ctx.Err() != nil {
				return nil, "", nil, fmt.Errorf("%s: %w", endpoint, ctx.Err())
			}
			if retries >= c.cfg.MaxRetries {
				return nil, "", nil, err
			}
			retries++
			if werr := c.sleep(ctx, c.backoff(retries)); werr != nil {
				return nil, "", nil, err
			}
			continue
		}
		limitedNow := resp.status == http.StatusTooManyRequests
		switch {
		case limitedNow:
			c.pace.block(time.Now().Add(resp.retryWait(c.backoff(1))))
		case resp.rateLimit.Remaining == 0: // the window is used up: wait for its reset
			until := resp.rateLimit.Reset
			if until.IsZero() {
				until = resp.arrived.Add(minRateLimitWait)
			}
			c.pace.block(until)
		}
		c.pace.release(resp.rateLimit, limitedNow)
		if resp.status >= 200 && resp.status < 300 {
			return resp.body, resp.requestID, resp.redact, nil
		}
		if limitedNow {
			// Retried until the refresh deadline (acquire gives up when
			// the wait would run past it), and for a caller without a
			// deadline at most maxRateLimited times in a row.
			if limited++; limited > c.maxRateLimited {
				return nil, "", nil, resp.apiError(endpoint)
			}
			continue
		}
		if resp.status < 500 || resp.status == http.StatusNotImplemented {
			return nil, "", nil, resp.apiError(endpoint) // other 4xx (and 501): retrying cannot help
		}
		apiErr := resp.apiError(endpoint)
		if retries >= c.cfg.MaxRetries {
			return nil, "", nil, apiErr
		}
		retries++
		if werr := c.sleep(ctx, c.backoff(retries)); werr != nil {
			return nil, "", nil, apiErr
		}
	}
}

// response is what one round trip brought back.
type response struct {
	status     int
	body       []byte
	requestID  string
	arrived    time.Time
	rateLimit  RateLimit     // the X-RateLimit-* headers; -1 for those missing
	retryAfter time.Duration // Retry-After, or X-RateLimit-Reset; 0 when neither
	redact     *redactor     // of the credentials the request was sent with
}

// retryWait is how long a 429 asks to wait; fallback when it does not say.
func (r *response) retryWait(fallback time.Duration) time.Duration {
	d := r.retryAfter
	if d <= 0 {
		d = fallback
	}
	return max(d, minRateLimitWait)
}

func (r *response) apiError(endpoint string) *APIError {
	e := &APIError{Endpoint: endpoint, StatusCode: r.status, RequestID: r.requestID, InvalidKey: saysInvalidKey(r.body)}
	if f, ok := readFailure(r.body, r.redact); ok {
		e.Code, e.Title, e.Detail, e.Resolution = f.Code, f.Title, f.Detail, f.Resolution
	} else {
		e.Title = http.StatusText(r.status)
	}
	return e
}

// do sends one request and reads its body, within the per-request timeout.
func (c *Client) do(ctx context.Context, endpoint, target string) (*response, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	secret, err := c.cfg.Secret.Secret(reqCtx) // a file on a hung mount gives up with the request
	if err != nil {
		return nil, &CredentialError{Err: err}
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.cfg.APIKey, secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observeRequest(endpoint, "error", time.Since(start))
		var redirect *RedirectError
		if errors.As(err, &redirect) { // not the url.Error: its URL may carry a token
			redirect.Endpoint = endpoint
			return nil, redirect
		}
		return nil, &transportError{err: fmt.Errorf("%s: %w", endpoint, err)}
	}
	defer resp.Body.Close()
	body, over, err := readBody(resp.Body, c.maxBody)
	arrived := time.Now()
	if err != nil {
		c.observeRequest(endpoint, "error", arrived.Sub(start))
		return nil, &transportError{err: fmt.Errorf("%s: reading body: %w", endpoint, err)}
	}
	c.observeRequest(endpoint, strconv.Itoa(resp.StatusCode), arrived.Sub(start))
	if !over {
		body, over, err = gunzipped(body, c.maxBody)
		if err != nil {
			return nil, &DecodeError{Endpoint: endpoint, Err: err}
		}
	}
	if over && resp.StatusCode < 300 { // counted after decompression
		return nil, &DecodeError{
			Endpoint: endpoint, RequestID: bound(c.redactorFor(secret).string(resp.Header.Get("X-Request-Id"))),
			Err: fmt.Errorf("body larger than %d MiB", c.maxBody>>20),
		}
	}
	// A hostile or broken upstream could echo the credentials back, in any
	// encoding; they must not reach an error message, a log line or a label
	// value. The body is cleared of them here, and every text decoded from
	// it again (escapes can spell them).
	redact := c.redactorFor(secret)
	r := &response{
		status:    resp.StatusCode,
		body:      redact.bytes(body),
		requestID: bound(redact.string(resp.Header.Get("X-Request-Id"))),
		arrived:   arrived,
		redact:    redact,
	}
	rl := parseRateLimit(resp.Header, arrived)
	r.rateLimit = rl
	if rl != (RateLimit{Limit: -1, Remaining: -1}) && c.cfg.Observer != nil {
		c.cfg.Observer.ObserveRateLimit(endpoint, rl)
	}
	if d, ok := parseSeconds(resp.Header.Get("Retry-After"), arrived); ok {
		r.retryAfter = d
	} else if !rl.Reset.IsZero() {
		r.retryAfter = rl.Reset.Sub(arrived)
	}
	return r, nil
}

// bodyChunk is how much of a body is read at a time.
const bodyChunk = 64 << 10

// readBody reads r to its end in chunks joined once at the end, or until
// it is over limit bytes: then it returns the first chunk only (enough for
// an error's words) and over, and no buffer grown by doubling is left
// behind, only its chunks.
func readBody(r io.Reader, limit int) (body []byte, over bool, err error) {
	var chunks [][]byte
	total := 0
	for eof := false; !eof && total <= limit; {
		chunk := make([]byte, min(bodyChunk, limit+1-total))
		n := 0
		for n < len(chunk) && !eof {
			m, err := r.Read(chunk[n:])
			n += m
			switch {
			case errors.Is(err, io.EOF): // only EOF ends a body: an unexpected EOF is a reset
				eof = true
			case err != nil:
				return nil, false, err
			}
		}
		chunks = append(chunks, chunk[:n])
		total += n
	}
	if total > limit {
		return chunks[0], true, nil
	}
	if len(chunks) == 1 {
		return chunks[0], false, nil
	}
	return bytes.Join(chunks, nil), false, nil
}

func (c *Client) observeRequest(endpoint, code string, d time.Duration) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveRequest(endpoint, code, d)
	}
}

// parseRateLimit reads the X-RateLimit-* headers. X-RateLimit-Reset is
// relative: it is turned into an absolute time from the arrival time.
func parseRateLimit(h http.Header, arrived time.Time) RateLimit {
	rl := RateLimit{Limit: -1, Remaining: -1}
	if v, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil && v >= 0 {
		rl.Limit = v
	}
	if v, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil && v >= 0 {
		rl.Remaining = v
	}
	if d, ok := parseSeconds(h.Get("X-RateLimit-Reset"), arrived); ok {
		rl.Reset = arrived.Add(d)
	}
	return rl
}

// parseSeconds reads a delay in whole seconds, or (Retry-After) an HTTP date.
// Absurd values are capped at a day.
func parseSeconds(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), 24*time.Hour), true
	}
	return 0, false
}

// backoff is the wait before retry n (1-based): exponential, with jitter.
func (c *Client) backoff(n int) time.Duration {
	return backoff.Jitter(backoff.Doubling(c.cfg.RetryBaseDelay, 0, n))
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// singleJoin joins a base path and an API path with exactly one slash.
func singleJoin(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}
