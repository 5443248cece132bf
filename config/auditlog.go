package config

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// AuditLogSecretEnv holds the audit-log key's secret when no secret file is
// given.
const AuditLogSecretEnv = "CONFLUENT_AUDIT_LOG_API_SECRET"

// DefaultAuditLogLookback is how far back the audit log is read at the
// first start: its topic's 7-day retention.
const DefaultAuditLogLookback = 168 * time.Hour

// AuditLog says where an organisation's audit log is and how to read it.
// With no Bootstrap servers there is none.
type AuditLog struct {
	Bootstrap  []string // host:port
	APIKey     string
	Secret     secret.Source
	SecretFrom string // where the secret comes from, for the start-up log line
	Topic      string
	Lookback   time.Duration
	TLS        bool
	CAFile     string         // a CA bundle trusted besides the system's, or ""
	RootCAs    *x509.CertPool // the system's and CAFile's; nil for the system's alone
	caPEM      []byte         // CAFile's content when it was read: a new content is a change
}

// Enabled reports whether there is an audit log to read.
func (a AuditLog) Enabled() bool { return len(a.Bootstrap) > 0 }

// Equal reports whether a and b read the same audit log the same way,
// the CA file's content included: a reader whose settings did not change
// keeps running through a reload.
func (a AuditLog) Equal(b AuditLog) bool {
	if !a.Enabled() && !b.Enabled() {
		return true
	}
	return slices.Equal(a.Bootstrap, b.Bootstrap) && a.APIKey == b.APIKey && a.Secret == b.Secret &&
		a.Topic == b.Topic && a.Lookback == b.Lookback && a.TLS == b.TLS && a.CAFile == b.CAFile && bytes.Equal(a.caPEM, b.caPEM)
}

// auditLogFlags are the flags of the flags-only organisation's audit log.
type auditLogFlags struct {
	bootstrap, apiKey, secretFile, topic, caFile *string
	lookback                                     *time.Duration
	tls                                          *bool
}

func addAuditLogFlags(app *kingpin.Application) auditLogFlags {
	return auditLogFlags{
		bootstrap: app.Flag("audit-log.bootstrap-servers", "Bootstrap servers (host:port, comma-separated) of the organisation's audit-log cluster, to tell each API key's last authentication. Empty: no audit log.").
			Envar("CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS").String(),
		apiKey: app.Flag("audit-log.api-key", "API key of the audit-log cluster (owned by the organisation's audit-log service account).").
			Envar("CONFLUENT_AUDIT_LOG_API_KEY").String(),
		secretFile: app.Flag("audit-log.api-secret-file", "File holding the audit-log key's secret, re-read at every connection. Without it the secret is read from $"+AuditLogSecretEnv+".").
			Envar("CONFLUENT_AUDIT_LOG_API_SECRET_FILE").String(),
		topic: app.Flag("audit-log.topic", "The audit log's topic.").
			Envar("CONFLUENT_AUDIT_LOG_TOPIC").Default(auditlog.DefaultTopic).String(),
		lookback: durationFlag(app, "audit-log.lookback", "How far back to read the audit log at start (the topic keeps 7 days).",
			DefaultAuditLogLookback.String(), "CONFLUENT_AUDIT_LOG_LOOKBACK"),
		caFile: app.Flag("audit-log.ca-file", "PEM file of certificate authorities to trust for the audit-log cluster besides the system's.").
			Envar("CONFLUENT_AUDIT_LOG_CA_FILE").String(),
		tls: app.Flag("audit-log.tls", "Connect to the audit-log cluster with TLS (SASL_SSL). --no-audit-log.tls only for brokers on loopback.").
			Envar("CONFLUENT_AUDIT_LOG_TLS").Default("true").Bool(),
	}
}

// auditLog is what the flags and environment say.
func (f auditLogFlags) auditLog(getenv func(string) string) AuditLog {
	a := AuditLog{
		Bootstrap: splitList(*f.bootstrap), APIKey: *f.apiKey, Topic: *f.topic, Lookback: *f.lookback,
		TLS: *f.tls, CAFile: *f.caFile,
	}
	if *f.secretFile != "" {
		a.Secret, a.SecretFrom = secret.File(*f.secretFile), "file "+*f.secretFile
	} else if s := strings.TrimSpace(getenv(AuditLogSecretEnv)); s != "" {
		a.Secret, a.SecretFrom = secret.Static(s), "$"+AuditLogSecretEnv
	}
	return a
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// auditLogSettings name the audit log's settings as the user wrote them.
type auditLogSettings struct {
	bootstrap, apiKey, secret, secretFile, topic, lookback, caFile, tls string
}

var auditLogFlagSettings = auditLogSettings{
	bootstrap:  "--audit-log.bootstrap-servers (or $CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS)",
	apiKey:     "--audit-log.api-key or CONFLUENT_AUDIT_LOG_API_KEY",
	secret:     "--audit-log.api-secret-file or " + AuditLogSecretEnv,
	secretFile: "--audit-log.api-secret-file",
	topic:      "--audit-log.topic",
	lookback:   "--audit-log.lookback",
	caFile:     "--audit-log.ca-file",
	tls:        "--no-audit-log.tls",
}

var auditLogFileSettings = auditLogSettings{
	bootstrap:  "audit_log.bootstrap_servers",
	apiKey:     "audit_log.api_key",
	secret:     "audit_log.api_secret_file",
	secretFile: "audit_log.api_secret_file",
	topic:      "audit_log.topic",
	lookback:   "audit_log.lookback",
	caFile:     "audit_log.ca_file",
	tls:        "audit_log.tls: false",
}

// validate checks the audit log's settings, normalises its bootstrap
// servers and reads its CA file. apiKeys says whether the API keys are
// listed: only listed keys become label values.
func (a *AuditLog) validate(n auditLogSettings, apiKeys bool) error {
	if !a.Enabled() {
		if a.APIKey != "" {
			return fmt.Errorf("%s is set but %s is not: where is the audit log?", n.apiKey, n.bootstrap)
		}
		return nil
	}
	for i, b := range a.Bootstrap {
		addr, err := bootstrapServer(b)
		if err != nil {
			return fmt.Errorf("%s: server %d of %d: %w", n.bootstrap, i+1, len(a.Bootstrap), err)
		}
		a.Bootstrap[i] = addr
		if host, _, _ := net.SplitHostPort(addr); !a.TLS && !isLoopback(host) {
			return fmt.Errorf("%s: plain Kafka (no TLS) is allowed only for loopback brokers, and %s is not", n.tls, addr)
		}
	}
	if a.APIKey == "" {
		return errors.New("the audit log has no API key: set " + n.apiKey)
	}
	if a.Secret == nil {
		return errors.New("the audit log has no API secret: set " + n.secret)
	}
	if _, err := readSecret(a.Secret); err != nil {
		return secretError(a.Secret, n.secretFile, AuditLogSecretEnv, err)
	}
	if a.Topic == "" {
		return errors.New(n.topic + " is empty")
	}
	if a.Lookback <= 0 {
		return fmt.Errorf("%s=%s must be positive", n.lookback, a.Lookback)
	}
	if !apiKeys {
		return errors.New("the audit log needs the API keys collector: only listed keys become label values")
	}
	a.RootCAs, a.caPEM = nil, nil
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return fmt.Errorf("%s: %w", n.caFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s=%s holds no PEM certificate", n.caFile, a.CAFile)
		}
		a.RootCAs, a.caPEM = pool, pem
	}
	return nil
}

// bootstrapServer reads host:port, with the SASL_SSL:// that Confluent's
// Console writes before it. Its errors do not quote s (a value typed, a
// secret maybe, in the wrong place); the caller says which server it is.
func bootstrapServer(s string) (string, error) {
	addr := strings.TrimPrefix(s, "SASL_SSL://")
	if strings.Contains(addr, "://") {
		return "", errors.New("want host:port (SASL_SSL:// is the only scheme understood)")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) && ae.Err == "missing port in address" {
			return "", errors.New("no port: write host:9092 (Confluent's clusters take Kafka clients on 9092)")
		}
		return "", errors.New("not host:port (e.g. pkc-12345.us-east-1.aws.confluent.cloud:9092)")
	}
	if host == "" {
		return "", errors.New("no host: write host:9092")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", errors.New("the port must be 1-65535 (Confluent's clusters take Kafka clients on 9092)")
	}
	return addr, nil
}

// fileAuditLog is an organisation's audit_log block. Omitted topic,
// lookback, ca_file and tls are as the flags say; the servers, the key and
// its secret are the organisation's own.
type fileAuditLog struct {
	BootstrapServers []string       `yaml:"bootstrap_servers"`
	APIKey           string         `yaml:"api_key"`
	APISecretFile    string         `yaml:"api_secret_file"`
	Topic            *string        `yaml:"topic"`
	Lookback         *time.Duration `yaml:"lookback"`
	CAFile           *string        `yaml:"ca_file"`
	TLS              *bool          `yaml:"tls"`
}

// auditLog is the block completed with the flags' defaults.
func (fa *fileAuditLog) auditLog(defaults AuditLog) (AuditLog, error) {
	if fa == nil {
		return AuditLog{}, nil
	}
	if len(fa.BootstrapServers) == 0 {
		return AuditLog{}, errors.New("audit_log has no bootstrap_servers")
	}
	if fa.APISecretFile == "" {
		return AuditLog{}, errors.New("audit_log has no api_secret_file: the secret is read from a file, never written in this one")
	}
	a := AuditLog{
		Bootstrap: slices.Clone(fa.BootstrapServers), APIKey: fa.APIKey,
		Secret: secret.File(fa.APISecretFile), SecretFrom: "file " + fa.APISecretFile,
		Topic: defaults.Topic, Lookback: defaults.Lookback, CAFile: defaults.CAFile, TLS: defaults.TLS,
	}
	if fa.Topic != nil {
		a.Topic = *fa.Topic
	}
	if fa.Lookback != nil {
		a.Lookback = *fa.Lookback
	}
	if fa.CAFile != nil {
		a.CAFile = *fa.CAFile
	}
	if fa.TLS != nil {
		a.TLS = *fa.TLS
	}
	return a, nil
}
