package auditlog

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// Reason classifies why reading failed: the reason label values of
// confluent_audit_log_errors_total.
type Reason string

// The reasons reading can fail for.
const (
	ReasonUnauthorized Reason = "unauthorized"
	ReasonNetwork      Reason = "network"
	ReasonTimeout      Reason = "timeout"
	ReasonTopicMissing Reason = "topic_missing"
	ReasonStalled      Reason = "stalled"
	ReasonOther        Reason = "other"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []Reason{ReasonUnauthorized, ReasonNetwork, ReasonTimeout, ReasonTopicMissing, ReasonStalled, ReasonOther}

// Errors of connecting.
var (
	// errNotKafka: a plaintext connection got no Kafka answer, what a TLS
	// listener does with one.
	errNotKafka = errors.New("no Kafka answer")
	// errPlaintextRefused: tls: false, and a broker that is not on
	// loopback.
	errPlaintextRefused = errors.New("plaintext refused")
)

// ReasonOf classifies an error of reading.
func ReasonOf(err error) Reason {
	var netErr net.Error
	switch {
	case errors.Is(err, errUnauthorized), errors.Is(err, kerr.SaslAuthenticationFailed),
		errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return ReasonUnauthorized
	case errors.Is(err, errTopicMissing), errors.Is(err, kerr.UnknownTopicOrPartition):
		return ReasonTopicMissing
	case errors.Is(err, errStalled):
		return ReasonStalled
	case errors.Is(err, errPlaintextRefused):
		return ReasonOther
	case errors.Is(err, errNotKafka):
		return ReasonNetwork
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.As(err, &netErr), errors.Is(err, io.EOF), strings.Contains(fmt.Sprint(err), "connection refused"):
		return ReasonNetwork
	}
	return ReasonOther
}

// dialTimeout bounds one connection's dial and TLS handshake.
const dialTimeout = 10 * time.Second

// reachable connects to the brokers (and shakes hands in TLS, or checks
// that a plaintext listener answers Kafka) before any Kafka request, so
// that a connection closed during authentication can be told from a
// broker that cannot be reached, or that speaks TLS to a plaintext client.
func (r *Reader) reachable(ctx context.Context) error {
	var errs []error
	for _, addr := range r.cfg.Bootstrap {
		err := r.reach(ctx, addr)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Reader) reach(ctx context.Context, addr string) error {
	d := &net.Dialer{Timeout: dialTimeout}
	if r.cfg.TLS {
		conn, err := (&tls.Dialer{NetDialer: d, Config: r.tlsConfig(addr)}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	conn, err := r.dialPlain(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	if err := apiVersions(conn); err != nil {
		return fmt.Errorf("%w from %s: %w; if the listener speaks TLS, set tls: true (--audit-log.tls)", errNotKafka, addr, err)
	}
	return nil
}

// apiVersions sends an ApiVersions request (v0, which every broker
// answers before authentication) and checks that the answer is Kafka's.
func apiVersions(conn net.Conn) error {
	const clientID = "confluent_keys_exporter"
	var req []byte
	req = binary.BigEndian.AppendUint32(req, uint32(2+2+4+2+len(clientID)))
	req = binary.BigEndian.AppendUint16(req, 18) // ApiVersions
	req = binary.BigEndian.AppendUint16(req, 0)  // version 0
	req = binary.BigEndian.AppendUint32(req, 1)  // correlation id
	req = binary.BigEndian.AppendUint16(req, uint16(len(clientID)))
	req = append(req, clientID...)
	if _, err := conn.Write(req); err != nil {
		return err
	}
	var head [8]byte // size, correlation id
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return fmt.Errorf("the connection closed: %w", err)
	}
	if head[0] == 0x15 || head[0] == 0x16 || !bytes.Equal(head[4:8], []byte{0, 0, 0, 1}) {
		return errors.New("the answer is not Kafka's")
	}
	return nil
}

// dialPlain dials a broker without TLS: only on loopback, whatever the
// cluster advertises (tls: false is for a broker on this machine).
func (r *Reader) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("%w: %s is not on loopback, and the audit log is read without TLS (tls: false); only a loopback broker is read so", errPlaintextRefused, addr)
	}
	return (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, network, addr)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (r *Reader) tlsConfig(addr string) *tls.Config {
	host, _, _ := net.SplitHostPort(addr)
	return &tls.Config{RootCAs: r.cfg.RootCAs, ServerName: host, MinVersion: tls.VersionTLS12}
}

// maxDecompressedBatch bounds what one batch may decompress to: an
// audit-log batch of a few MiB of JSON.
const maxDecompressedBatch = 32 << 20

// options configure the Kafka client: SASL PLAIN over TLS with the secret
// read for each connection, no consumer group, fetches and responses
// bounded to what an audit log needs, no silent reset of an offset out of
// range (the next session finds the gap).
func (r *Reader) options() []kgo.Opt {
	maxRead := r.timing.maxReadBytes
	opts := []kgo.Opt{
		kgo.SeedBrokers(r.cfg.Bootstrap...),
		kgo.SASL(plain.Plain(func(ctx context.Context) (plain.Auth, error) {
			secret, err := r.cfg.Secret.Secret(ctx)
			if err != nil {
				return plain.Auth{}, fmt.Errorf("reading the audit log's secret: %w", err)
			}
			return plain.Auth{User: r.cfg.APIKey, Pass: secret}, nil
		})),
		kgo.DialTimeout(dialTimeout),
		kgo.RetryTimeout(r.timing.checkEvery),
		kgo.MetadataMinAge(min(5*time.Second, r.timing.checkEvery)),
		kgo.FetchMaxBytes(min(1<<20, maxRead/2)),
		kgo.FetchMaxPartitionBytes(min(256<<10, maxRead/4)),
		kgo.MaxConcurrentFetches(1),
		kgo.BrokerMaxReadBytes(maxRead),
		kgo.MaxDecompressBatchBytes(maxDecompressedBatch),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.ClientID("confluent_keys_exporter"),
	}
	if r.cfg.TLS {
		return append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: r.cfg.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	return append(opts, kgo.Dialer(r.dialPlain))
}

// containsFold reports whether s contains sub, in any case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
