package sim

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Server.
type Config struct {
	Org       OrgConfig
	APIKey    string
	APISecret string
	// RateLimit is the number of requests allowed per RateWindow, over all
	// endpoints; 0 means 10000.
	RateLimit  int
	RateWindow time.Duration // 0 means one minute
}

// Faults switches on misbehaviour. The zero value is a well-behaved API.
type Faults struct {
	Endpoint string  `json:"endpoint,omitempty"` // only this list endpoint (byok_keys, iam_api_keys, ...; see endpoints); "" all
	Parent   string  `json:"parent,omitempty"`   // only the list under this item (a certificate authority's or provider's pools); "" all
	Page     int     `json:"page,omitempty"`     // only this page (1-based) for Status and Body; 0 every page
	Rate     float64 `json:"rate,omitempty"`     // chance a matching request gets Status/Body; 0 means always
	Count    int     `json:"count,omitempty"`    // Status/Body for this many requests, then off; 0 no limit

	Status     int    `json:"status,omitempty"`      // answer with this status and the API's error body
	Detail     string `json:"detail,omitempty"`      // the error's detail (or message) for Status
	RetryAfter int    `json:"retry_after,omitempty"` // Retry-After seconds with Status 429; 0 omits it
	// ErrorShape is the shape of the error body for Status, as Confluent's
	// services answer: errors-detail (the default, the documented Failure),
	// errors-title, error-object, message, text, gzip (errors-detail
	// gzip-compressed, without Content-Encoding), empty (no body: the
	// headers say it all).
	ErrorShape string `json:"error_shape,omitempty"`
	// Echo sends the request's credentials back, as a hostile upstream or a
	// proxy might: raw, json (JSON-escaped, with \/), unicode (wholly as
	// \uXXXX escapes), mixed (every other character so), base64 (the
	// Authorization header's value), unicode-base64 (that value as \uXXXX
	// escapes), percent, header (in X-Request-Id).
	// In the error body for Status, else in the first item's display name.
	Echo string `json:"echo,omitempty"`
	// Body breaks a 200 body's envelope: truncated, html, wrong-types,
	// no-data (no data field), error-envelope (an error instead of a list),
	// huge (100 MiB), deep (nested arrays), reset (connection dropped
	// mid-body), array-flood (one certificate authority of 30,000
	// certificates a page). Or it sends what a real server may and the exporter must
	// read: null-data (the page's data is null, its next link kept),
	// null-last-page (every list ends with one more page of
	// {"data":null,"metadata":{}}, as Confluent's CLI test server does), or
	// odd-items (items of every odd shape seen or allowed: no id, nulls,
	// wrong types, unreadable times, on a page whose envelope is fine).
	Body string `json:"body,omitempty"`
	// Next breaks metadata.next: repeat-token, cycle, endless (a fresh
	// token for ever), no-token, or a URL
	// whose host is used instead of the server's own ("http://evil:1"). Or
	// long-token: tokens of over 255 characters, which the server reads.
	Next string `json:"next,omitempty"`
	// Overlap repeats the last item of the previous page at the top of each
	// page, as a list that shifts while it is read does.
	Overlap bool `json:"overlap,omitempty"`
	// Redirect answers a list request with a redirect: "301" or "307" once
	// to the same URL on this server (which then answers it), "loop" a 307
	// to this server every time, or a URL ("http://evil:1") whose scheme
	// and host the 307 sends the request to instead.
	Redirect string `json:"redirect,omitempty"`

	LatencyMS int  `json:"latency_ms,omitempty"` // added to every list request
	Hang      bool `json:"hang,omitempty"`       // accept and never answer
	// Hold keeps list requests waiting until the faults are next set (then
	// they are answered under the new ones): a test decides when a refresh
	// may finish, instead of racing a latency.
	Hold               bool `json:"hold,omitempty"`
	NoRateLimitHeaders bool `json:"no_rate_limit_headers,omitempty"`
}

// Request is what the server saw of one list request.
type Request struct {
	Time       time.Time
	Endpoint   string
	Query      string
	Authorized bool
	Status     int
	// RetryAt is, for a 429, when the rate-limit window ends: a request
	// before then ignores what the 429 said.
	RetryAt time.Time
	// NullData is a page whose data was sent as null.
	NullData bool
}

// Server is the simulated API. It is an http.Handler.
type Server struct {
	cfg Config

	mu          sync.Mutex
	bytesServed int64
	inFlight    int
	maxInFlight int
	byok        []BYOKKey
	apiKeys     []APIKey
	sas         []ServiceAccount
	users       []User
	envs        []Environment
	clusters    []KafkaCluster
	cas         []CertificateAuthority
	providers   []IdentityProvider
	quotaLimits map[string]int              // applied limits set by SetQuotaLimit
	firstExpiry time.Time                   // the earliest end of an API key's expiry day
	quotaCache  []AppliedQuota              // quotas(), kept until a list changes
	items       map[itemKey]json.RawMessage // encoded items, kept until a list changes
	auditBroker *AuditLogBroker             // the organisation's audit log, while it runs
	quotaUntil  time.Time                   // or until the next key expires (zero: none will)
	faults      Faults
	rng         *rand.Rand
	winStart    time.Time
	winUsed     int
	served      int
	requests    []Request
	started     time.Time     // the simulated clock is Org.Now plus the time since
	held        int           // list requests waiting under Faults.Hold
	release     chan struct{} // closed when the faults change
}

// New makes a server over the organisation cfg.Org describes.
func New(cfg Config) *Server {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 10000
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = time.Minute
	}
	byok := NewBYOKKeys(cfg.Org)
	cas, providers := newIdentities(cfg.Org)
	s := &Server{
		cas:         cas,
		providers:   providers,
		cfg:         cfg,
		byok:        byok,
		apiKeys:     NewAPIKeys(cfg.Org),
		sas:         NewServiceAccounts(cfg.Org),
		users:       NewUsers(cfg.Org),
		envs:        NewEnvironments(cfg.Org),
		clusters:    NewKafkaClusters(cfg.Org, byok),
		quotaLimits: map[string]int{},
		started:     time.Now(),
		rng:         rand.New(rand.NewPCG(cfg.Org.Seed, 0xfa17)),
		release:     make(chan struct{}),
	}
	s.setFirstExpiry()
	return s
}

// Now is the simulated time: the organisation's Now plus the time the
// server has run. An API key whose expiry day has ended by then is expired.
func (s *Server) Now() time.Time { return s.cfg.Org.now().Add(time.Since(s.started)) }

// SetFaults replaces the fault switches, and lets requests held under the
// old ones go on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	close(s.release)
	s.release = make(chan struct{})
}

// Held is the number of list requests waiting under Faults.Hold.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// SetCredentials changes the key and secret the server accepts (a rotation).
func (s *Server) SetCredentials(key, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.APIKey, s.cfg.APISecret = key, secret
}

// Requests returns the list requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// BytesServed is the size of all list response bodies sent so far.
func (s *Server) BytesServed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytesServed
}

// MaxInFlight is the largest number of list requests the server was
// answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// BYOKKeys returns a copy of the BYOK keys.
func (s *Server) BYOKKeys() []BYOKKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.byok)
}

// APIKeys returns a copy of the API keys.
func (s *Server) APIKeys() []APIKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.apiKeys)
}

// SetValidation changes a BYOK key's validation phase and message, as
// Confluent does when it loses or regains access to the KMS key.
func (s *Server) SetValidation(id, phase, message string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.byok {
		if s.byok[i].ID == id {
			since := ts(now)
			s.byok[i].Validation.Phase = phase
			s.byok[i].Validation.Message = message
			s.byok[i].Validation.Since = &since
			s.changed()
			return true
		}
	}
	return false
}

// DeleteAPIKey removes an API key, as deleting its owner does.
func (s *Server) DeleteAPIKey(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.apiKeys)
	s.apiKeys = slices.DeleteFunc(s.apiKeys, func(k APIKey) bool { return k.ID == id })
	s.setFirstExpiry()
	s.changed()
	return len(s.apiKeys) < n
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, isList := route(r.URL.Path)
	switch {
	case isList && r.Method == http.MethodGet:
		s.serveList(w, r, ep)
	case strings.HasPrefix(r.URL.Path, "/_sim/"):
		s.serveAdmin(w, r)
	default:
		writeError(w, http.StatusNotFound, "", "Not Found", "")
	}
}

// page is a decoded page_token: where a page starts and how long pages are.
type page struct{ offset, size int }

func encodeToken(p page) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "v1:%d:%d", p.offset, p.size))
}

func decodeToken(t string) (page, bool) {
	t, _, _ = strings.Cut(t, ".") // what Next "long-token" pads with
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return page{}, false
	}
	var p page
	if _, err := fmt.Sscanf(string(b), "v1:%d:%d", &p.offset, &p.size); err != nil || p.offset < 0 || p.size < 1 || p.size > 200 {
		return page{}, false
	}
	return p, true
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, ep endpoint) {
	endpoint := ep.name
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	f := s.faults
	s.served++
	served := s.served
	reqID := fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
	s.mu.Unlock()

	w.Header().Set("X-Request-Id", reqID)
	matches := (f.Endpoint == "" || f.Endpoint == endpoint) && (f.Parent == "" || f.Parent == ep.parent)
	if matches && f.LatencyMS > 0 {
		select {
		case <-time.After(time.Duration(f.LatencyMS) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	if matches && f.Hang {
		<-r.Context().Done()
		return
	}
	if matches && f.Hold {
		s.mu.Lock()
		s.held++
		release := s.release
		s.mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.held--
		f = s.faults
		s.mu.Unlock()
		if r.Context().Err() != nil {
			return
		}
		matches = (f.Endpoint == "" || f.Endpoint == endpoint) && (f.Parent == "" || f.Parent == ep.parent)
	}

	if matches && f.Redirect != "" && (f.Redirect == "loop" || r.URL.Query().Get("redirected") == "") {
		s.redirect(w, r, endpoint, f.Redirect)
		return
	}

	key, secret, hasAuth := r.BasicAuth()
	s.mu.Lock()
	authorized := hasAuth && key == s.cfg.APIKey && secret == s.cfg.APISecret
	rec := Request{Time: time.Now(), Endpoint: endpoint, Query: r.URL.RawQuery, Authorized: authorized}
	rep := s.answer(w, r, ep, f, matches, authorized, served)
	rec.Status, rec.RetryAt, rec.NullData = rep.status, rep.retryAt, rep.nullData
	s.requests = append(s.requests, rec)
	s.bytesServed += int64(len(rep.body))
	s.mu.Unlock()

	if rep.broken != "" {
		writeBrokenBody(w, rep.broken, rep.body, ep.name)
		return
	}
	if rep.gzip {
		w.Header().Set("Content-Type", "application/json") // and no Content-Encoding: the quirk
		w.WriteHeader(rep.status)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(rep.body)
		_ = zw.Close()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// redirect answers with a redirect (Faults.Redirect), noted in Requests.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, endpoint, mode string) {
	status, target := http.StatusTemporaryRedirect, *r.URL
	q := target.Query()
	q.Set("redirected", strconv.Itoa(len(q.Get("redirected"))+1)) // grows on each hop of a loop
	target.RawQuery = q.Encode()
	switch mode {
	case "301":
		status = http.StatusMovedPermanently
	case "307", "loop":
	default:
		if u, err := url.Parse(mode); err == nil {
			target.Scheme, target.Host = u.Scheme, u.Host
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Time: time.Now(), Endpoint: endpoint, Query: r.URL.RawQuery, Status: status})
	s.mu.Unlock()
	http.Redirect(w, r, target.String(), status)
}

// reply is a response made under s.mu, written after it is released.
type reply struct {
	status  int
	body    []byte
	broken  string    // a Faults.Body mode to break body with
	gzip    bool      // send body gzip-compressed without saying so
	retryAt time.Time // for a 429: when the client may ask again
	// nullData: the page's data is null
	nullData bool
}

// answer sets the headers and makes the response, with s.mu held.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ep endpoint, f Faults, matches, authorized bool, served int) reply {
	if !authorized {
		w.Header().Set("WWW-Authenticate", `Basic error="invalid_key", error_description="The API Key is invalid"`)
		return errorReply(w, 401, "user_unauthenticated", "Authentication Required", "Valid authentication credentials must be provided")
	}

	// Rate limit: a fixed window, the simplest token bucket (it refills whole at the window's end).
	now := time.Now()
	if now.Sub(s.winStart) >= s.cfg.RateWindow {
		s.winStart, s.winUsed = now, 0
	}
	reset := int((s.cfg.RateWindow - now.Sub(s.winStart) + time.Second - 1) / time.Second)
	remaining := s.cfg.RateLimit - s.winUsed
	omitHeaders := f.NoRateLimitHeaders && matches || s.cfg.Org.Quirks && served%7 == 0
	headers := !omitHeaders
	setRate := func(remaining int) {
		if headers {
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.RateLimit))
			w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			w.Header().Set("X-RateLimit-Reset", strconv.Itoa(reset))
		}
	}
	if remaining <= 0 {
		setRate(0)
		w.Header().Set("Retry-After", strconv.Itoa(reset))
		rep := errorReply(w, 429, "too_many_requests", "Too Many Requests", "Rate limit exceeded")
		rep.retryAt = s.winStart.Add(s.cfg.RateWindow)
		return rep
	}
	s.winUsed++
	setRate(remaining - 1)

	q := r.URL.Query()
	pg := page{size: 10}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ep.maxPageSize {
			return errorReply(w, 400, "invalid_page_size", "Invalid Page Size", fmt.Sprintf("page_size must be an integer from 1 to %d", ep.maxPageSize))
		}
		pg.size = n
	}
	if t := q.Get("page_token"); t != "" {
		p, ok := decodeToken(t)
		if !ok {
			return errorReply(w, 400, "invalid_page_token", "Invalid Page Token", "The page token is not valid")
		}
		pg = p
	}

	if _, ok := s.poolsOf(ep.name, ep.parent); ep.parent != "" && !ok {
		return errorReply(w, 404, "not_found", "Not Found", "no "+strings.TrimPrefix(ep.name, "iam_")+" parent "+ep.parent)
	}
	if ep.required != "" && q.Get(ep.required) == "" {
		return errorReply(w, 400, "missing_parameter", "Missing Required Parameter", ep.required+" is required")
	}

	faulty := matches && (f.Page == 0 || f.Page == pg.offset/pg.size+1) && (f.Rate == 0 || s.rng.Float64() < f.Rate)
	if faulty && (f.Status != 0 || f.Body != "") {
		if f.Count > 0 {
			s.faults.Count--
			if s.faults.Count == 0 {
				s.faults = Faults{}
			}
		}
		if f.Status != 0 {
			return s.writeFault(w, r, f)
		}
	}

	items, total := s.pageItems(r, ep, q, pg, f.Overlap && matches)
	cliLastPage := faulty && f.Body == "null-last-page"
	if cliLastPage && pg.offset >= total {
		return reply{status: 200, body: []byte(`{"data":null,"metadata":{}}`), nullData: true}
	}
	next := ""
	if pg.offset+pg.size < total || matches && (f.Next == "cycle" || f.Next == "endless") {
		next = s.nextLink(r, q, page{offset: pg.offset + pg.size, size: pg.size}, f, matches)
	} else if cliLastPage {
		next = s.nextLink(r, q, page{offset: total, size: pg.size}, f, matches)
	}
	// Go services write an empty list as null whenever the slice is nil:
	// with Quirks, every other empty page says "data": null.
	nullIfEmpty := s.cfg.Org.Quirks && served%2 == 0
	rep := reply{status: 200, body: listBody(ep, r.URL.Path, items, next, total, r, nullIfEmpty), nullData: len(items) == 0 && nullIfEmpty}
	if faulty && f.Body != "" && !cliLastPage {
		rep.broken = f.Body
	}
	if matches && f.Echo != "" {
		rep.body = echoInList(w, r, f.Echo, rep.body)
	}
	return rep
}

func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f Faults) reply {
	if f.Echo != "" {
		mode := f.Echo
		f.Detail, f.Echo = echo(w, r, mode, or(f.Detail, "Bad request")), ""
		rep := s.writeFault(w, r, f)
		rep.body = escapeSlashes(r, mode, rep.body)
		return rep
	}
	if f.ErrorShape != "" && f.ErrorShape != "errors-detail" {
		return shapedError(w, f)
	}
	switch f.Status {
	case 401:
		w.Header().Set("WWW-Authenticate", `Basic error="invalid_key"`)
		return errorReply(w, 401, "user_unauthenticated", "Authentication Required", or(f.Detail, "Valid authentication credentials must be provided"))
	case 403:
		return errorReply(w, 403, "user_unauthorized", "User Access Unauthorized", or(f.Detail, "The user is not allowed to access the resource without the OrganizationAdmin role."))
	case 429:
		rep := errorReply(w, 429, "too_many_requests", "Too Many Requests", "Rate limit exceeded")
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			rep.retryAt = time.Now().Add(time.Duration(f.RetryAfter) * time.Second)
		}
		return rep
	default:
		return errorReply(w, f.Status, "internal_error", http.StatusText(f.Status), or(f.Detail, "Oops, something went wrong!"))
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pageItems filters the list as the query asks and returns one page of it,
// and the length of the filtered list. Only the page's items are copied.
func (s *Server) pageItems(r *http.Request, ep endpoint, q url.Values, pg page, overlap bool) ([]json.RawMessage, int) {
	endpoint := ep.name + ep.parent
	l := s.listing(ep, q)
	var selected []int // indices of the filtered list, or nil for all
	total := l.n
	if l.match != nil {
		for i := range l.n {
			if l.match(i) {
				selected = append(selected, i)
			}
		}
		total = len(selected)
	}
	start := min(pg.offset, total)
	if overlap && start > 0 {
		start--
	}
	end := min(pg.offset+pg.size, total)
	base := baseURL(r)
	items := make([]json.RawMessage, 0, end-start)
	for j := start; j < end; j++ {
		i := j
		if selected != nil {
			i = selected[j]
		}
		items = append(items, s.encoded(endpoint, i, base, l.item))
	}
	return items, total
}

// encoded is item i of endpoint's list as JSON, kept until the lists change
// (s.changed): a refresh asks for every item again, and the simulator should
// not cost a benchmark more than the exporter it serves.
func (s *Server) encoded(endpoint string, i int, base string, item func(int, string) any) json.RawMessage {
	k := itemKey{endpoint, base, i}
	if b, ok := s.items[k]; ok {
		return b
	}
	b, err := json.Marshal(item(i, base))
	if err != nil {
		panic(err) // the simulator's own types always marshal
	}
	if s.items == nil {
		s.items = map[itemKey]json.RawMessage{}
	}
	s.items[k] = b
	return b
}

// itemKey names one item of one list as served at one base URL.
type itemKey struct {
	endpoint, base string
	i              int
}

// changed forgets what was computed from the lists, under s.mu.
func (s *Server) changed() {
	s.items, s.quotaCache = nil, nil
}

func byokMatches(k BYOKKey, get func(string) string) bool {
	keyID := k.Key.KeyARN + k.Key.KeyID
	for _, c := range []struct {
		param, value string
		partial      bool
	}{
		{"display_name", k.DisplayName, true},
		{"provider", k.Provider, false},
		{"state", k.State, false},
		{"validation_phase", k.Validation.Phase, false},
		{"validation_region", k.Validation.Region, false},
		{"key", keyID, true},
	} {
		want := get(c.param)
		if want == "" {
			continue
		}
		if c.partial && !strings.Contains(c.value, want) || !c.partial && c.value != want {
			return false
		}
	}
	return true
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// nextLink is metadata.next: an absolute link to the next page, carrying the
// filters and an opaque page_token.
func (s *Server) nextLink(r *http.Request, q map[string][]string, next page, f Faults, matches bool) string {
	base := baseURL(r)
	token := encodeToken(next)
	if matches {
		switch {
		case f.Next == "repeat-token":
			token = encodeToken(page{offset: next.size, size: next.size}) // always "page 2"
		case f.Next == "cycle":
			// Pages 1, 2, 3, 2, 3, ...: the tokens of pages 2 and 3 alternate.
			if next.offset/next.size > 2 {
				next.offset = next.size
			}
			token = encodeToken(next)
		case f.Next == "no-token":
			token = ""
		case f.Next == "long-token":
			token += "." + strings.Repeat("x", 300)
		case strings.Contains(f.Next, "://"):
			base = strings.TrimSuffix(f.Next, "/")
		}
	}
	vals := make(map[string][]string, len(q))
	for k, v := range q {
		if k != "page_token" {
			vals[k] = v
		}
	}
	if token != "" {
		vals["page_token"] = []string{token}
	}
	return base + r.URL.Path + "?" + encodeQuery(vals)
}

func encodeQuery(v map[string][]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(val))
		}
	}
	return b.String()
}

// listBody is one page of a list. An empty page's data is [], or null
// when nullIfEmpty.
func listBody(ep endpoint, path string, items []json.RawMessage, next string, total int, r *http.Request, nullIfEmpty bool) []byte {
	meta := map[string]any{
		"first":      baseURL(r) + path,
		"total_size": total,
	}
	if next != "" {
		meta["next"] = next
	}
	head, err := json.Marshal(map[string]any{"api_version": ep.apiVersion, "kind": ep.listKind, "metadata": meta})
	if err != nil {
		panic(err) // the simulator's own types always marshal
	}
	// The items are JSON already: write them into the envelope as they are.
	size := len(head) + 16
	for _, it := range items {
		size += len(it) + 1
	}
	b := append(make([]byte, 0, size), head[:len(head)-1]...)
	b = append(b, `,"data":`...)
	switch {
	case len(items) == 0 && nullIfEmpty:
		b = append(b, "null"...)
	default:
		b = append(b, '[')
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, it...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// writeBrokenBody answers 200 with a body that is not what the API describes.
func writeBrokenBody(w http.ResponseWriter, mode string, good []byte, endpoint string) {
	w.Header().Set("Content-Type", "application/json")
	switch mode {
	case "truncated":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(good[:len(good)/2])
	case "html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
	case "wrong-types":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"api_version":"byok/v1","kind":"KeyList","metadata":{"next":5},"data":{"id":"cck-1"}}`))
	case "odd-items":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(withOddItems(good, endpoint))
	case "error-envelope":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"errors":[{"status":"200","code":"list_unavailable","title":"Service Unavailable","detail":"The list cannot be served right now"}]}`))
	case "null-data":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(withData(good, "null"))
	case "no-data":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(withData(good, ""))
	case "deep":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(bytes.Repeat([]byte("["), 1<<20))
	case "huge":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"api_version":"byok/v1","kind":"KeyList","metadata":{},"data":[`))
		chunk := bytes.Repeat([]byte(`{"id":"cck-00000","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}},`), 1<<10)
		for written := 0; written < 100<<20; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		_, _ = w.Write([]byte(`{"id":"x","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}]}`))
	case "array-flood":
		// Every page one certificate authority of 30,000 certificates
		// (2.4 MB, under the exporter's body cap), its next link kept.
		var env struct {
			Metadata json.RawMessage `json:"metadata"`
		}
		_ = json.Unmarshal(good, &env)
		w.WriteHeader(http.StatusOK)
		var b bytes.Buffer
		b.WriteString(`{"api_version":"iam/v2","kind":"CertificateAuthorityList","metadata":`)
		b.WriteString(or(string(env.Metadata), "{}"))
		b.WriteString(`,"data":[{"id":"op-flood","display_name":"flood","state":"ENABLED"`)
		for _, field := range []string{"serial_numbers", "fingerprints", "expiration_dates"} {
			b.WriteString(`,"` + field + `":[`)
			for i := range 30000 {
				if i > 0 {
					b.WriteByte(',')
				}
				if field == "expiration_dates" {
					b.WriteString(`"2030-01-01T00:00:00Z"`)
				} else {
					fmt.Fprintf(&b, `"%s%016X"`, field[:1], i)
				}
			}
			b.WriteByte(']')
		}
		b.WriteString(`}]}`)
		_, _ = w.Write(b.Bytes())
	case "reset":
		w.Header().Set("Content-Length", strconv.Itoa(len(good)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(good[:len(good)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // net/http drops the connection without a log line
	default:
		writeError(w, 500, "sim_bad_fault", "Unknown body fault", mode)
	}
}

// writeError writes the API's error envelope at once.
func writeError(w http.ResponseWriter, status int, code, title, detail string) {
	rep := errorReply(w, status, code, title, detail)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(rep.body)
}

// errorReply makes the API's error envelope (components/schemas/Failure).
func errorReply(w http.ResponseWriter, status int, code, title, detail string) reply {
	e := map[string]string{"status": strconv.Itoa(status), "title": title}
	if code != "" {
		e["code"] = code
	}
	if detail != "" {
		e["detail"] = detail
	}
	if id := w.Header().Get("X-Request-Id"); id != "" {
		e["id"] = id
	}
	b, _ := json.Marshal(map[string]any{"errors": []any{e}})
	return reply{status: status, body: b}
}
