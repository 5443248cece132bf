// Package config is what the exporter is told: its flags and environment,
// and the organisations of --config.file, each checked by one function
// (Organization.validate) whatever it came from, into a Config. main and
// the supervisor only read the result.
package config

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// SecretEnv holds the secret when no secret file is given. The secret is
// never a flag: flags show up in process listings.
const SecretEnv = "CONFLUENT_CLOUD_API_SECRET"

// Flags are the exporter's own command-line flags (the web flags come from
// exporter-toolkit), as parsed.
type Flags struct {
	configFile    *string
	checkOnly     *bool
	lifecycle     *bool
	onProbe       *bool
	telemetryPath *string
	maxRequests   *int
	pprof         *bool
	storagePath   *string
	url           *string
	apiKey        *string
	secretFile    *string
	timeout       *time.Duration
	pageSize      *int
	maxItems      *int
	interval      *time.Duration
	collectors    map[string]*bool // by collector name
	apiKeysPerKey *bool
	quotaScopes   *string
	scopesSet     bool
	auditLog      auditLogFlags
}

// AddFlags defines the exporter's flags on app.
func AddFlags(app *kingpin.Application) *Flags {
	f := &Flags{
		checkOnly: app.Flag("config.check", "Load and validate the configuration (the flags, --config.file and --web.config.file), print \"configuration OK\" or the error, and exit 0 or 1 without starting anything.").
			Default("false").Bool(),
		configFile:    app.Flag("config.file", "YAML file listing the organisations to read (examples/organizations.yml). Without it, the flags and environment describe one organisation named \""+DefaultOrganization+"\"; with it they give each organisation's defaults.").String(),
		lifecycle:     app.Flag("web.enable-lifecycle", "Reload the configuration on POST /-/reload (SIGHUP always does).").Default("false").Bool(),
		onProbe:       app.Flag("refresh.on-probe", "Refresh an organisation only while /probe?organization=NAME is scraped: from the first probe until no probe came for three refresh intervals.").Default("false").Bool(),
		telemetryPath: app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String(),
		maxRequests:   intFlag(app, "web.max-requests", "Maximum number of scrapes (/metrics and /probe together) encoded at once; more get 503. 0 means no limit.", "10"),
		pprof:         app.Flag("web.enable-pprof", "Serve Go's profiles under /debug/pprof/ (and link them from the landing page).").Default("false").Bool(),
		storagePath: app.Flag("storage.path", "Directory where what each organisation's audit log told is kept across restarts (one file per organisation with an audit log; relative to the working directory). Empty: kept in memory only.").
			Default("data/").String(),
		url: app.Flag("confluent.url", "Base URL of the Confluent Cloud API. Plain http:// only for a loopback host.").
			Envar("CONFLUENT_CLOUD_URL").Default("https://api.confluent.cloud").String(),
		apiKey: app.Flag("confluent.api-key", "Cloud API key (required).").Envar("CONFLUENT_CLOUD_API_KEY").String(),
		secretFile: app.Flag("confluent.api-secret-file", "File holding the Cloud API secret, re-read on every request. Without it the secret is read from $"+SecretEnv+".").
			Envar("CONFLUENT_CLOUD_API_SECRET_FILE").String(),
		timeout:       durationFlag(app, "confluent.timeout", "Timeout of one HTTP request to the API.", "30s", ""),
		pageSize:      intFlag(app, "confluent.page-size", "Items per page requested from the API (1-100).", "100"),
		maxItems:      intFlag(app, "confluent.max-items", "Most items one list may have: a longer one fails the refresh (reason pagination) before memory follows an endless list.", strconv.Itoa(defaultMaxItems)),
		interval:      durationFlag(app, "refresh.interval", "Time between the starts of two refreshes (at least 1s).", "5m", "CONFLUENT_REFRESH_INTERVAL"),
		apiKeysPerKey: app.Flag("collector.api-keys.per-key", "Export per-key series for API keys (turn off for very large organisations).").Default("true").Bool(),
		collectors:    map[string]*bool{},
	}
	for _, c := range collector.Collectors() {
		f.collectors[c.Name] = app.Flag(c.Flag(), c.Help).Default(strconv.FormatBool(c.Default)).Bool()
	}
	f.quotaScopes = app.Flag("collector.quotas.scopes", "Quota scopes to read, comma-separated: "+strings.Join(quotaScopeNames, ", ")+
		". Default: organization,service_account,kafka_cluster, and user_account with --collector.users (user_account needs it).").
		IsSetByUser(&f.scopesSet).Default(strings.Join(defaultQuotaScopes, ",")).String()
	f.auditLog = addAuditLogFlags(app)
	return f
}

// quotaScopeNames are the quota scopes that can be read, as flags and the
// file name them (the API's enum in lower case); defaultQuotaScopes those
// read unless asked otherwise (user_account too with the users collector:
// those quotas name people).
var (
	quotaScopeNames    = []string{"organization", "environment", "network", "kafka_cluster", "service_account", "user_account"}
	defaultQuotaScopes = []string{"organization", "service_account", "kafka_cluster"}
)

// parseQuotaScopes reads a list of scope names (any case, '-' for '_') into
// the API's values, each once.
func parseQuotaScopes(what string, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(n)), "-", "_")
		if n == "" {
			continue
		}
		if !slices.Contains(quotaScopeNames, n) {
			return nil, fmt.Errorf("%s: unknown quota scope %q (one of %s)", what, n, strings.Join(quotaScopeNames, ", "))
		}
		if scope := strings.ToUpper(n); !slices.Contains(out, scope) {
			out = append(out, scope)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no quota scope (turn the quotas collector off instead)", what)
	}
	return out, nil
}

// durationFlag is a duration flag whose parse error names the flag (and its
// variable) and says what a duration looks like; kingpin's own says only
// `time: missing unit in duration "5"`.
func durationFlag(app *kingpin.Application, name, help, def, envar string) *time.Duration {
	v := &namedValue[time.Duration]{flag: flagName(name, envar), kind: "a duration with a unit (30s, 5m, 1h)", parse: time.ParseDuration}
	f := app.Flag(name, help).Default(def)
	if envar != "" {
		f = f.Envar(envar)
	}
	f.SetValue(v)
	return &v.v
}

// intFlag is an integer flag whose parse error names the flag.
func intFlag(app *kingpin.Application, name, help, def string) *int {
	v := &namedValue[int]{flag: "--" + name, kind: "a whole number", parse: strconv.Atoi}
	app.Flag(name, help).Default(def).SetValue(v)
	return &v.v
}

func flagName(name, envar string) string {
	if envar == "" {
		return "--" + name
	}
	return "--" + name + " (or $" + envar + ")"
}

// namedValue is a kingpin.Value of T that names its flag when it cannot parse.
type namedValue[T any] struct {
	v     T
	flag  string
	kind  string
	parse func(string) (T, error)
}

func (n *namedValue[T]) Set(s string) error {
	v, err := n.parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%s is not %s (the value given is not shown)", n.flag, n.kind)
	}
	n.v = v
	return nil
}

func (n *namedValue[T]) String() string { return fmt.Sprint(n.v) }

// What the API takes, as apiclient says (a test holds them equal): config
// checks the flags before any client exists.
const (
	maxPageSize     = 100    // apiclient.MaxPageSize
	defaultMaxItems = 250000 // apiclient.DefaultMaxItems
)

// DefaultOrganization names the one organisation the flags describe when
// there is no --config.file.
const DefaultOrganization = "default"

// reservedPaths are the exporter's own endpoints, which the metrics cannot
// take; nor anything under /debug/pprof/, Go's profiles.
var reservedPaths = []string{"/probe", "/-/healthy", "/-/ready", "/-/reload"}

// validPath is what --web.telemetry-path may be: a path Go's router takes
// as it is.
var validPath = regexp.MustCompile(`^/[A-Za-z0-9/_.-]*$`)

// Config is the checked configuration.
type Config struct {
	CheckOnly      bool // --config.check: validate, report, exit
	TelemetryPath  string
	MaxRequests    int
	Pprof          bool
	Lifecycle      bool // POST /-/reload
	RefreshOnProbe bool
	// StoragePath is where audit-log usage is kept across restarts; ""
	// keeps it in memory.
	StoragePath string

	// File is --config.file: the organisations to read, or "".
	File string
	// Organization is what the flags and environment say: the one
	// organisation read when there is no File, and the defaults of every
	// organisation File lists.
	Organization
}

// Organization is one organisation the exporter reads.
type Organization struct {
	Name       string // the organization label's value
	URL        string // as given; validate parses it into BaseURL
	BaseURL    *url.URL
	APIKey     string
	Secret     secret.Source
	SecretFrom string // where the secret comes from, for the start-up log line
	Timeout    time.Duration
	PageSize   int
	MaxItems   int
	Interval   time.Duration
	Collectors
	AuditLog AuditLog
}

// settings names each setting of an Organization as the user wrote it, in
// the flags or in the file: errors say which to fix.
type settings struct {
	apiKey, secret, secretFile, url, timeout, pageSize, maxItems, interval, collectors, scopes string
	auditLog                                                                                   auditLogSettings
}

// flagSettings name the settings the flags and environment give.
var flagSettings = settings{
	apiKey:     "--confluent.api-key or CONFLUENT_CLOUD_API_KEY",
	secret:     "--confluent.api-secret-file or " + SecretEnv,
	secretFile: "--confluent.api-secret-file",
	url:        "--confluent.url",
	timeout:    "--confluent.timeout",
	pageSize:   "--confluent.page-size",
	maxItems:   "--confluent.max-items",
	interval:   "--refresh.interval",
	collectors: "the --collector.* flags",
	scopes:     "--collector.quotas.scopes",
	auditLog:   auditLogFlagSettings,
}

// validate checks every setting of o, wherever it came from (n says how
// each is written there), and parses its URL: the one check of an
// organisation, for the flags and for each organisation of the file.
func (o *Organization) validate(n settings) error {
	if !validName.MatchString(o.Name) {
		return errors.New("the name must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if o.APIKey == "" {
		return errors.New("no API key: set " + n.apiKey)
	}
	if o.Secret == nil {
		return errors.New("no API secret: set " + n.secret)
	}
	if _, err := readSecret(o.Secret); err != nil {
		return secretError(o.Secret, n.secretFile, SecretEnv, err)
	}
	u, err := checkURL(n.url, o.URL)
	if err != nil {
		return err
	}
	o.BaseURL = u
	if o.Timeout <= 0 {
		return fmt.Errorf("%s=%s must be positive", n.timeout, o.Timeout)
	}
	if o.PageSize < 1 || o.PageSize > maxPageSize {
		return fmt.Errorf("%s=%d is outside 1..%d", n.pageSize, o.PageSize, maxPageSize)
	}
	if o.MaxItems < 1 {
		return fmt.Errorf("%s=%d must be positive", n.maxItems, o.MaxItems)
	}
	if o.Interval < time.Second {
		return fmt.Errorf("%s=%s is under the minimum of 1s", n.interval, o.Interval)
	}
	if len(o.Names()) == 0 {
		return errors.New("every collector is disabled (" + n.collectors + "): nothing to export")
	}
	if err := o.checkScopes(); err != nil {
		return err
	}
	return o.AuditLog.validate(n.auditLog, o.On["api_keys"])
}

// secretError says which secret is wrong: the setting naming its file, or
// the environment variable holding it. Never SecretFrom: a file's path may
// be the secret itself, pasted where the path belongs.
func secretError(s secret.Source, file, env string, err error) error {
	if _, isFile := s.(secret.File); isFile {
		return fmt.Errorf("unreadable %s: %w", file, err)
	}
	return fmt.Errorf("$%s: the secret %w", env, err)
}

// secretTimeout bounds reading a secret while checking the configuration:
// a file on a stale network mount must not hang the start or a reload.
const secretTimeout = 10 * time.Second

// readSecret reads s once, as a check that it can be.
func readSecret(s secret.Source) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
	defer cancel()
	return s.Secret(ctx)
}

// Collectors says which collectors run for an organisation, and their
// options.
type Collectors struct {
	On            map[string]bool // by collector name (collector.Collectors)
	APIKeysPerKey bool            // the API keys' per-key series
	// QuotaScopes are the quota scopes asked for (ORGANIZATION,
	// ...); nil for the default (Scopes).
	QuotaScopes []string
}

// Names are the collectors on, by name.
func (c Collectors) Names() []string {
	var out []string
	for name, on := range c.On {
		if on {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Scopes returns the quota scopes to read: those asked for, or the
// default, with user_account when the users collector is on.
func (c Collectors) Scopes() []string {
	if c.QuotaScopes != nil {
		return c.QuotaScopes
	}
	names := defaultQuotaScopes
	if c.On["users"] {
		names = append(slices.Clone(names), "user_account")
	}
	scopes, _ := parseQuotaScopes("", names)
	return scopes
}

// checkScopes refuses user_account without the users collector: user
// quotas name people, whom the exporter only names when asked to.
func (c Collectors) checkScopes() error {
	if c.On["quotas"] && !c.On["users"] && slices.Contains(c.QuotaScopes, "USER_ACCOUNT") {
		return errors.New("quota scope user_account needs the users collector (--collector.users or collectors.users): its quotas name people")
	}
	return nil
}

// Equal reports whether o and p read the same organisation the same way.
func (o Organization) Equal(p Organization) bool {
	return o.Name == p.Name && o.BaseURL.String() == p.BaseURL.String() && o.APIKey == p.APIKey &&
		o.Secret == p.Secret && o.Timeout == p.Timeout && o.PageSize == p.PageSize && o.MaxItems == p.MaxItems && o.Interval == p.Interval &&
		o.equal(p.Collectors) && o.AuditLog.Equal(p.AuditLog)
}

func (c Collectors) equal(d Collectors) bool {
	return maps.Equal(c.On, d.On) && c.APIKeysPerKey == d.APIKeysPerKey && slices.Equal(c.QuotaScopes, d.QuotaScopes)
}

// Organizations returns the organisations to read: the one of the flags, or
// those File lists, read and checked now (a reload calls it again).
func (c *Config) Organizations() ([]Organization, error) {
	if c.File == "" {
		return []Organization{c.Organization}, nil
	}
	return LoadFile(c.File, c.Organization)
}

// Check validates the flags and finds the secret. getenv is os.Getenv.
func (f *Flags) Check(getenv func(string) string) (*Config, error) {
	if *f.maxRequests < 0 {
		return nil, fmt.Errorf("--web.max-requests=%d must not be negative", *f.maxRequests)
	}
	if p := *f.telemetryPath; !validPath.MatchString(p) {
		return nil, errors.New("--web.telemetry-path must start with / and hold only letters, digits and /_.- (the value given is not shown)")
	}
	if p := *f.telemetryPath; slices.Contains(reservedPaths, p) || p == "/debug/pprof" || strings.HasPrefix(p, "/debug/pprof/") {
		return nil, fmt.Errorf("--web.telemetry-path=%q is taken by the exporter's own endpoint of that name", p)
	}
	collectors := Collectors{On: map[string]bool{}, APIKeysPerKey: *f.apiKeysPerKey}
	for name, on := range f.collectors {
		collectors.On[name] = *on
	}
	if f.scopesSet {
		scopes, err := parseQuotaScopes("--collector.quotas.scopes", strings.Split(*f.quotaScopes, ","))
		if err != nil {
			return nil, err
		}
		collectors.QuotaScopes = scopes
	}
	cfg := &Config{
		CheckOnly:     *f.checkOnly,
		TelemetryPath: *f.telemetryPath, MaxRequests: *f.maxRequests, Pprof: *f.pprof,
		Lifecycle: *f.lifecycle, RefreshOnProbe: *f.onProbe, File: *f.configFile, StoragePath: *f.storagePath,
		Organization: Organization{
			Name: DefaultOrganization, URL: *f.url, APIKey: *f.apiKey, Timeout: *f.timeout, PageSize: *f.pageSize, MaxItems: *f.maxItems,
			Interval: *f.interval, Collectors: collectors, AuditLog: f.auditLog.auditLog(getenv),
		},
	}
	if cfg.File != "" {
		// The file names each organisation's key and secret; the flags'
		// and environment's are not used. Each organisation is validated as
		// it is loaded.
		if _, err := cfg.Organizations(); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	if *f.secretFile != "" {
		cfg.Secret, cfg.SecretFrom = secret.File(*f.secretFile), "file "+*f.secretFile
	} else if s := strings.TrimSpace(getenv(SecretEnv)); s != "" {
		cfg.Secret, cfg.SecretFrom = secret.Static(s), "$"+SecretEnv
	}
	if err := cfg.validate(flagSettings); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkURL accepts https URLs, and http ones only for a loopback host, so
// credentials never travel unencrypted. Its errors never quote the URL
// whole: its userinfo or query may hold a credential.
func checkURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return nil, fmt.Errorf("%s is not a URL: %w", what, err)
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.User != nil {
		return nil, fmt.Errorf("%s must not carry credentials (user:password@); give the API key and its secret apart", what)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s=%q... must not have a query or fragment", what, shown)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%s=%q must be an http(s) URL", what, shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s=%q has no host", what, shown)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s=%q: plain http is allowed only for a loopback host; use https", what, shown)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
