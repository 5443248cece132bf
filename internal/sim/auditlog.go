package sim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// AuditLogTopic is the audit log's topic in every organisation.
const AuditLogTopic = "confluent-audit-log-events"

// AuditLogOptions say how to run an organisation's audit-log cluster.
type AuditLogOptions struct {
	// Secret is what the audit-log API key (Server.AuditLog().KeyID, or
	// APIKey) authenticates with, SASL PLAIN.
	Secret string
	APIKey string // "": the organisation's audit-log key
	// TLS serves SASL_SSL with a self-signed certificate for 127.0.0.1
	// (CAPEM); otherwise SASL_PLAINTEXT.
	TLS        bool
	Partitions int32 // 0: 6
	// History is how far back the events generated at the start go (0:
	// none; Confluent keeps 7 days). Every, when not 0, keeps producing
	// events while the cluster runs: a few every Every.
	History time.Duration
	Every   time.Duration
	// Others is how many records of other event types come with each
	// authentication (0: 9, as in a real audit log; -1: none).
	Others int
	// Now is the time events are dated from (nil: time.Now): the audit log
	// is read by time, so it follows the real clock even for an
	// organisation generated at another time.
	Now func() time.Time
	// Port to listen on, 127.0.0.1 (0: any free port).
	Port int
	// Brokers is how many brokers the cluster has (0: 1).
	Brokers int
}

// AuditLogBroker is an organisation's audit-log cluster: a real Kafka
// protocol broker (franz-go's kfake, in process) with the topic
// confluent-audit-log-events, readable with the audit-log key only, and
// no one able to produce but the simulator.
type AuditLogBroker struct {
	cluster   *kfake.Cluster
	client    *kgo.Client // the simulator's producer, a superuser
	clientTLS *tls.Config
	adminPass string
	opts      AuditLogOptions
	caPEM     []byte
	revoked   atomic.Bool
	s         *Server // the organisation whose keys authenticate; nil for a bare log

	mu  sync.Mutex
	rng *mrand.Rand

	stop chan struct{}
	done sync.WaitGroup
}

// StartAuditLog starts the audit-log cluster of the organisation s serves
// (nil: an empty log the caller produces to) and, with History, fills it
// with the organisation's authentications of the past: most keys
// authenticate daily, some not for weeks, a rotated key's predecessor
// still does, deleted keys and typed ones keep failing, Schema Registry
// keys too; nine records in ten are other events. The server's admin
// endpoints /_sim/audit-log/... reach it. Close stops it.
func StartAuditLog(s *Server, opts AuditLogOptions) (*AuditLogBroker, error) {
	if opts.Partitions == 0 {
		opts.Partitions = 6
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Others == 0 {
		opts.Others = 9
	}
	if opts.APIKey == "" && s != nil {
		opts.APIKey = s.AuditLog().KeyID
	}
	if opts.APIKey == "" || opts.Secret == "" {
		return nil, errors.New("sim: the audit log needs an API key and a secret")
	}
	adminPass := randomHex(16)
	kopts := []kfake.Opt{
		kfake.NumBrokers(max(opts.Brokers, 1)), kfake.ClusterID("lkc-a0d17"),
		kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "sim-producer", adminPass),
		kfake.User("PLAIN", opts.APIKey, opts.Secret,
			kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: AuditLogTopic, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: true},
			kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: AuditLogTopic, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationDescribe, Allow: true},
		),
	}
	if opts.Port != 0 {
		kopts = append(kopts, kfake.Ports(opts.Port))
	}
	var clientTLS *tls.Config
	b := &AuditLogBroker{opts: opts, s: s, adminPass: adminPass, stop: make(chan struct{}), rng: mrand.New(mrand.NewPCG(seedOf(s), 0xa0d17))}
	if opts.TLS {
		cert, caPEM, err := selfSigned()
		if err != nil {
			return nil, err
		}
		b.caPEM = caPEM
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		kopts = append(kopts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
		clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("sim: audit-log cluster: %w", err)
	}
	b.cluster = c
	if err := c.CreateTopic(AuditLogTopic, opts.Partitions, map[string]string{"retention.ms": "604800000"}); err != nil {
		c.Close()
		return nil, fmt.Errorf("sim: audit-log topic: %w", err)
	}
	// A revoked key is refused as a real broker refuses it, with
	// SASL_AUTHENTICATION_FAILED (kfake itself closes the connection on a
	// wrong password, which is what Confluent Cloud's proxy does).
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.SASLAuthenticateRequest)
		parts := strings.SplitN(string(r.SASLAuthBytes), "\x00", 3)
		if !b.revoked.Load() || len(parts) != 3 || parts[1] != opts.APIKey {
			return nil, nil, false
		}
		c.KeepControl()
		resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	copts := []kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.SASL(plain.Auth{User: "sim-producer", Pass: adminPass}.AsMechanism()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerBatchCompression(kgo.SnappyCompression()),
		kgo.ProducerLinger(0),
	}
	if clientTLS != nil {
		copts = append(copts, kgo.DialTLSConfig(clientTLS))
	}
	b.clientTLS = clientTLS
	if b.client, err = kgo.NewClient(copts...); err != nil {
		c.Close()
		return nil, err
	}
	if s != nil && opts.History > 0 {
		if err := b.produceHistory(); err != nil {
			b.Close()
			return nil, err
		}
	}
	if s != nil {
		s.mu.Lock()
		s.auditBroker = b
		s.mu.Unlock()
	}
	if s != nil && opts.Every > 0 {
		b.done.Add(1)
		go b.keepProducing()
	}
	return b, nil
}

// Addrs are the bootstrap servers, host:port.
func (b *AuditLogBroker) Addrs() []string { return b.cluster.ListenAddrs() }

// CAPEM is the certificate to trust for TLS (nil without TLS).
func (b *AuditLogBroker) CAPEM() []byte { return b.caPEM }

// Cluster is the broker itself, for tests that control it further.
func (b *AuditLogBroker) Cluster() *kfake.Cluster { return b.cluster }

// SetRevoked makes the broker refuse the audit-log key (as after its
// deletion), or accept it again.
func (b *AuditLogBroker) SetRevoked(revoked bool) { b.revoked.Store(revoked) }

// AddPartitions adds n partitions to the topic, as Confluent may.
func (b *AuditLogBroker) AddPartitions(ctx context.Context, n int) error {
	resp, err := kadm.NewClient(b.client).CreatePartitions(ctx, n, AuditLogTopic)
	if err != nil {
		return err
	}
	b.client.ForceMetadataRefresh() // produce to the new partitions from now on
	return resp.Error()
}

// RecreateTopic deletes the topic and makes it again, empty, with another
// topic id: what an operator's mistake, or a migration, does.
func (b *AuditLogBroker) RecreateTopic() error {
	if err := b.cluster.DeleteTopic(AuditLogTopic); err != nil {
		return err
	}
	if err := b.cluster.CreateTopic(AuditLogTopic, b.opts.Partitions, nil); err != nil {
		return err
	}
	b.client.PurgeTopicsFromClient(AuditLogTopic) // forget the old topic id
	return nil
}

// Close stops producing and the cluster.
func (b *AuditLogBroker) Close() {
	select {
	case <-b.stop:
		return
	default:
	}
	close(b.stop)
	b.done.Wait()
	b.client.Close()
	b.cluster.Close()
	if b.s != nil {
		b.s.mu.Lock()
		if b.s.auditBroker == b {
			b.s.auditBroker = nil
		}
		b.s.mu.Unlock()
	}
}

// Record is one record to put in the log: a value, and the time the
// broker stamps it with (zero: now).
type Record struct {
	Value []byte
	Time  time.Time
}

// Produce appends records to the log, round robin over the partitions.
func (b *AuditLogBroker) Produce(ctx context.Context, recs ...Record) error {
	krecs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		at := r.Time
		if at.IsZero() {
			at = b.opts.Now()
		}
		krecs[i] = &kgo.Record{Topic: AuditLogTopic, Value: r.Value, Timestamp: at}
	}
	return b.client.ProduceSync(ctx, krecs...).FirstErr()
}

// ProduceTo appends records to one partition of the log.
func (b *AuditLogBroker) ProduceTo(ctx context.Context, partition int32, recs ...Record) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(b.cluster.ListenAddrs()...),
		kgo.SASL(plain.Auth{User: "sim-producer", Pass: b.adminPass}.AsMechanism()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(4 << 20),
	}
	if b.clientTLS != nil {
		opts = append(opts, kgo.DialTLSConfig(b.clientTLS))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	krecs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		at := r.Time
		if at.IsZero() {
			at = b.opts.Now()
		}
		krecs[i] = &kgo.Record{Topic: AuditLogTopic, Partition: partition, Value: r.Value, Timestamp: at}
	}
	return cl.ProduceSync(ctx, krecs...).FirstErr()
}

// Event is the record value of an authentication, as Authenticate writes it.
func (b *AuditLogBroker) Event(a Authentication) []byte {
	if a.Time.IsZero() {
		a.Time = b.opts.Now()
	}
	return b.event(a)
}

// Authentication is one authentication event.
type Authentication struct {
	Identifier string // the API key the client sent; with Token, the identity (a pool id)
	Success    bool   // SUCCESS, or a failure (UNAUTHENTICATED, UNKNOWN_USER_DENIED)
	Unknown    bool   // a failure for a key that does not exist
	// Service is "kafka" (default), "schema-registry", "ksqldb" or "flink".
	Service string
	// Token signs in with an OAuth token, not an API key: OAUTHBEARER on
	// Kafka, idTokenCredentials elsewhere.
	Token       bool
	Resource    string    // lkc-..., lsrc-..., lksqlc-..., a Flink region ("": the service's default)
	Environment string    // env-... of the resource ("": env-000)
	Owner       string    // sa-... or u-... of a success
	Time        time.Time // zero: now
}

// Authenticate appends authentication events, as a client connecting does.
func (b *AuditLogBroker) Authenticate(ctx context.Context, auths ...Authentication) error {
	recs := make([]Record, len(auths))
	for i, a := range auths {
		if a.Time.IsZero() {
			a.Time = b.opts.Now()
		}
		recs[i] = Record{Value: b.event(a), Time: a.Time}
	}
	return b.Produce(ctx, recs...)
}

// The sign-in event types of the services other than Kafka, and the
// resource each names (../shared/upstream-api/audit-log.md §5).
var services = map[string]struct{ typ, method, crnKind, resourceType, resource string }{
	"schema-registry": {"io.confluent.sg.server/authentication", "schema-registry.Authentication", "schema-registry", "SCHEMA_REGISTRY", "lsrc-00000"},
	"ksqldb":          {"io.confluent.ksql.server/authentication", "ksql.Authenticate", "ksql", "KSQL_CLUSTER", "lksqlc-0000"},
	"flink":           {"io.confluent.flink.server/authentication", "flink.Authenticate", "flink-region", "FLINK_REGION", "aws.us-east-1"},
}

// event is the CloudEvent of an authentication, as Confluent writes it
// (../shared/upstream-api/audit-log.md §4, §5). Its time is written with
// as many digits as it has: whole seconds, milliseconds or nanoseconds.
func (b *AuditLogBroker) event(a Authentication) []byte {
	b.mu.Lock()
	id := uuid(b.rng)
	ip := fmt.Sprintf("198.51.100.%d", 1+b.rng.IntN(250))
	port := 30000 + b.rng.IntN(30000)
	conn := b.rng.Int64()
	b.mu.Unlock()
	at := a.Time.UTC().Format(time.RFC3339Nano)
	env := or(a.Environment, "env-000")
	if svc, ok := services[a.Service]; ok {
		res := or(a.Resource, svc.resource)
		crn := fmt.Sprintf("crn://confluent.cloud/organization=%s/environment=%s/%s=%s", orgID, env, svc.crnKind, res)
		result, principal := "FAILURE", any(nil)
		if a.Success {
			result = "SUCCESS"
			principal = map[string]any{"confluentServiceAccount": map[string]string{"resourceId": or(a.Owner, "sa-00000")}}
		}
		creds := map[string]any{"idSecretCredentials": map[string]string{"credentialId": a.Identifier}, "mechanism": "HTTP_BASIC"}
		if a.Token {
			creds = map[string]any{"idTokenCredentials": map[string]string{"type": "JWT", "issuer": "https://login.example.com", "subject": a.Identifier}, "mechanism": "HTTP_BEARER"}
			principal = map[string]any{"identityPool": map[string]string{"resourceId": a.Identifier}}
		}
		auth := map[string]any{"principal": principal, "credentials": creds}
		data := map[string]any{
			"serviceName": "crn://confluent.cloud/", "methodName": svc.method, "resourceName": crn,
			"authenticationInfo": auth,
			"requestMetadata":    map[string]any{"clientAddress": []map[string]any{{"ip": ip}}},
			"cloudResources": []map[string]any{{
				"scope": map[string]any{"resources": []map[string]string{
					{"type": "ORGANIZATION", "resourceId": orgID}, {"type": "ENVIRONMENT", "resourceId": env},
				}},
				"resource": map[string]string{"type": svc.resourceType, "resourceId": res},
			}},
		}
		if a.Service == "flink" {
			data["result"] = map[string]string{"status": result} // Flink's events say it here
		} else {
			auth["result"] = result
		}
		return mustJSON(cloudEvent{
			SpecVersion: "1.0", ID: id, Source: crn, Subject: crn, Type: svc.typ,
			DataContentType: "application/json", Time: at, Data: data,
		})
	}
	res := or(a.Resource, "lkc-00000")
	mechanism := "SASL_SSL/PLAIN"
	if a.Token {
		mechanism = "SASL_SSL/OAUTHBEARER"
	}
	auth := map[string]any{"principal": "None:UNKNOWN_USER", "metadata": map[string]string{"mechanism": mechanism, "identifier": a.Identifier}}
	result := map[string]string{"status": "UNAUTHENTICATED", "message": "Authentication failed"}
	meta := map[string]any{}
	switch {
	case a.Success:
		owner := or(a.Owner, "sa-00000")
		auth["principal"] = fmt.Sprintf("User:%d", 100000+fnv32(owner)%900000)
		auth["principalResourceId"] = owner
		result = map[string]string{"status": "SUCCESS", "message": ""}
		meta["connection_id"] = fmt.Sprint(conn)
	case a.Unknown:
		result["status"] = "UNKNOWN_USER_DENIED"
	}
	crn := "crn://confluent.cloud/kafka=" + res
	return mustJSON(cloudEvent{
		SpecVersion: "1.0", ID: id, Source: crn, Subject: crn, Type: "io.confluent.kafka.server/authentication",
		DataContentType: "application/json", Time: at,
		Data: map[string]any{
			"serviceName": crn, "methodName": "kafka.Authentication", "resourceName": crn,
			"authenticationInfo": auth, "requestMetadata": meta,
			"clientAddress": []map[string]any{{"ip": ip, "port": port}},
			"result":        result,
		},
	})
}

// Fill appends n records dated evenly from from to to: one authentication
// (by the keys in turn, one in twenty a failure) and then others records of
// other event types, over and over. Benchmarks fill a log so.
func (b *AuditLogBroker) Fill(ctx context.Context, n, others int, keys []string, from, to time.Time) error {
	step := to.Sub(from) / time.Duration(max(n, 1))
	batch := make([]Record, 0, 10000)
	for i := range n {
		at := from.Add(time.Duration(i) * step)
		var v []byte
		if j := i / (others + 1); i%(others+1) == 0 {
			v = b.event(Authentication{Identifier: keys[j%len(keys)], Success: j%20 != 0, Resource: "lkc-00000", Owner: "sa-00000", Time: at})
		} else {
			v = b.otherEvent(at, "lkc-00000", "sa-00000", "CLOUDKEY00000000")
		}
		batch = append(batch, Record{Value: v, Time: at})
		if len(batch) == cap(batch) || i == n-1 {
			if err := b.Produce(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// Sample returns an authentication event and one of each other kind of
// event the simulated log writes, for benchmarks of what reads them.
func (b *AuditLogBroker) Sample() (auth []byte, others [][]byte) {
	now := b.opts.Now()
	auth = b.event(Authentication{Identifier: "ZQ4T7HXB2MPLK9WA", Success: true, Resource: "lkc-r8v5k2", Owner: "sa-9w3k1p", Time: now})
	seen := map[string]bool{}
	for len(others) < 3 {
		e := b.otherEvent(now, "lkc-r8v5k2", "sa-9w3k1p", "CLOUDKEY00000000")
		var v struct{ Type string }
		_ = json.Unmarshal(e, &v)
		if !seen[v.Type] {
			seen[v.Type] = true
			others = append(others, e)
		}
	}
	return auth, others
}

// otherEvent is one of the events that are not authentications with an
// API key: authorizations, first fetches, control-plane requests (some
// with a Cloud API key, which leaves no authentication event).
func (b *AuditLogBroker) otherEvent(at time.Time, cluster, owner, cloudKey string) []byte {
	b.mu.Lock()
	id, n := uuid(b.rng), b.rng.IntN(10)
	b.mu.Unlock()
	crn := "crn://confluent.cloud/kafka=" + cluster
	t := at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	switch {
	case n < 6:
		return mustJSON(cloudEvent{
			SpecVersion: "1.0", ID: id, Source: crn, Subject: crn + "/topic=orders", Type: "io.confluent.kafka.server/authorization",
			DataContentType: "application/json", Time: t,
			Data: map[string]any{
				"serviceName": crn, "methodName": "kafka.DescribeConfigs", "resourceName": crn + "/topic=orders",
				"authenticationInfo": map[string]any{"principal": "User:" + owner},
				"authorizationInfo": map[string]any{
					"granted": true, "operation": "DescribeConfigs", "resourceType": "Topic", "resourceName": "orders", "patternType": "LITERAL",
					"rbacAuthorization": map[string]any{"role": "DeveloperRead", "scope": map[string]any{"outerScope": []string{"organization=" + orgID}, "clusters": map[string]string{"kafka-cluster": cluster}}},
				},
				"request":         map[string]string{"correlation_id": fmt.Sprint(n * 7919), "client_id": "orders-service"},
				"requestMetadata": map[string]string{"request_id": id},
			},
		})
	case n < 9:
		return mustJSON(cloudEvent{
			SpecVersion: "1.0", ID: id, Source: crn, Subject: crn + "/topic=payments", Type: "io.confluent.kafka.server/request",
			DataContentType: "application/json", Time: t,
			Data: map[string]any{
				"serviceName": crn, "methodName": "kafka.Fetch", "resourceName": crn + "/topic=payments",
				"authenticationInfo": map[string]any{"principal": "User:" + owner},
				"request":            map[string]string{"correlation_id": fmt.Sprint(n * 104729), "client_id": "payments-consumer"},
				"requestMetadata":    map[string]string{"connection_id": fmt.Sprint(n * 15485863)},
				"result":             map[string]string{"status": "SUCCESS"},
			},
		})
	default:
		return mustJSON(cloudEvent{
			SpecVersion: "1.0", ID: id, Source: "crn://confluent.cloud/", Subject: "crn://confluent.cloud/organization=" + orgID,
			Type: "io.confluent.cloud/request", DataContentType: "application/json", Time: t,
			Data: map[string]any{
				"serviceName": "crn://confluent.cloud/", "methodName": "GetAPIKeys", "resourceName": "crn://confluent.cloud/organization=" + orgID,
				"authenticationInfo": map[string]any{
					"principal":   map[string]any{"confluentServiceAccount": map[string]string{"resourceId": owner}},
					"result":      "SUCCESS",
					"credentials": map[string]any{"idSecretCredentials": map[string]string{"credentialId": cloudKey}, "mechanism": "HTTP_BASIC"},
				},
				"result": map[string]string{"status": "SUCCESS"},
			},
		})
	}
}

type cloudEvent struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Subject         string `json:"subject,omitempty"`
	Type            string `json:"type"`
	DataContentType string `json:"datacontenttype"`
	Time            string `json:"time"`
	Data            any    `json:"data"`
}

// usage is how one key is used in the simulated audit log.
type usage int

const (
	usedDaily   usage = iota // authenticates every day
	usedWeekly               // every five days or so
	notUsed                  // not in the window: a candidate for deletion
	usedFailing              // daily, and some clients fail with an old secret
	stoppedUsed              // last used three days ago
	unaudited                // used daily, on a Basic cluster: no audit log sees it
)

// usageOf is how key is used: by a hash of its id, with every key of an
// owner and resource that has several (a rotation) in daily use.
func usageOf(id string, rotated bool) usage {
	if rotated {
		return usedDaily
	}
	switch h := fnv32(id) % 20; {
	case h < 12:
		return usedDaily
	case h < 14:
		return usedWeekly
	case h < 18:
		return notUsed
	case h < 19:
		return usedFailing
	default:
		return stoppedUsed
	}
}

// KeyUsage says how the simulated audit log uses each Kafka, Schema
// Registry, ksqlDB and Flink key of the organisation ("daily", "weekly",
// "unused", "failing", "stopped"), and which keys are in daily use where
// no audit log sees them ("unaudited": a Basic cluster): what the tests
// and the demo expect to see. Cloud, Global and Tableflow keys sign in
// nowhere the log sees: they are not listed.
func (s *Server) KeyUsage() map[string]string {
	names := map[usage]string{usedDaily: "daily", usedWeekly: "weekly", notUsed: "unused", usedFailing: "failing", stoppedUsed: "stopped", unaudited: "unaudited"}
	out := map[string]string{}
	for _, k := range s.auditedKeys() {
		out[k.key.ID] = names[k.usage]
	}
	return out
}

// DeletedKeys are the ids of keys that no longer exist and still try to
// authenticate in the simulated audit log.
func (s *Server) DeletedKeys() []string {
	r := mrand.New(mrand.NewPCG(s.cfg.Org.Seed, 0xde1))
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = apiKeyID(r)
	}
	return ids
}

type auditedKey struct {
	key     APIKey
	service string // kafka, schema-registry, ksqldb, flink
	usage   usage
}

// serviceOf is the service a key signs in to, by its (first) resource:
// "" for a resource whose sign-ins no audit log records (Cloud, Global,
// Tableflow).
func serviceOf(r *ObjectRef) string {
	switch {
	case strings.HasPrefix(r.ID, "lkc-"):
		return "kafka"
	case strings.HasPrefix(r.ID, "lsrc-"):
		return "schema-registry"
	case strings.HasPrefix(r.ID, "lksqlc-"):
		return "ksqldb"
	case r.Kind == "Region":
		return "flink"
	}
	return ""
}

// auditedKeys are the keys that sign in to a service with an audit log
// (Kafka, Schema Registry, ksqlDB, Flink) with an owner, with how each is
// used; a key whose clients connect to a Basic cluster is in use and
// leaves no event.
func (s *Server) auditedKeys() []auditedKey {
	keys := s.APIKeys()
	group := map[string]int{}
	for _, k := range keys {
		if k.Spec.Owner != nil && k.Spec.Resource != nil {
			group[k.Spec.Owner.ID+"/"+k.Spec.Resource.ID]++
		}
	}
	kinds := map[string]string{}
	for _, c := range s.KafkaClusters() {
		kinds[c.ID] = c.Spec.Config.Kind
	}
	audit, now := s.AuditLog().KeyID, s.Now()
	var out []auditedKey
	for _, k := range keys {
		if k.Spec.Owner == nil || k.Spec.Resource == nil || k.ID == audit {
			continue
		}
		service := serviceOf(k.Spec.Resource)
		if service == "" {
			continue
		}
		u := usageOf(k.ID, group[k.Spec.Owner.ID+"/"+k.Spec.Resource.ID] > 1)
		if created, _ := time.Parse(time.RFC3339, k.Metadata.CreatedAt); u == stoppedUsed && now.Sub(created) < 4*24*time.Hour {
			u = usedDaily // too young to have stopped three days ago
		}
		if service == "kafka" && kinds[k.Spec.Resource.ID] == "Basic" {
			u = unaudited
		}
		out = append(out, auditedKey{key: k, service: service, usage: u})
	}
	return out
}

// precise drops t's digits at random: events come with whole seconds,
// milliseconds or nanoseconds.
func precise(r *mrand.Rand, t time.Time) time.Time {
	return t.Truncate([]time.Duration{time.Second, time.Millisecond, 1}[r.IntN(3)])
}

// produceHistory fills the log with the authentications of the past
// History, in time order, each with opts.Others other events.
func (b *AuditLogBroker) produceHistory() error {
	now := b.opts.Now()
	start := now.Add(-b.opts.History)
	r := mrand.New(mrand.NewPCG(seedOf(b.s), 0x415))
	var auths []Authentication
	at := func(from, to time.Time) time.Time {
		if !to.After(from) {
			return from
		}
		return from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))))
	}
	day := 24 * time.Hour
	for _, k := range b.s.auditedKeys() {
		created, _ := time.Parse(time.RFC3339, k.key.Metadata.CreatedAt)
		// The organisation may be dated from another time than the log:
		// a key is used from when it exists in the log's time.
		from := start
		if age := b.s.Now().Sub(created); age < b.opts.History {
			from = now.Add(-age)
		}
		ok := Authentication{
			Identifier: k.key.ID, Success: true, Service: k.service, Resource: k.key.Spec.Resource.ID,
			Environment: environmentOf(k.key.Spec.Resource), Owner: k.key.Spec.Owner.ID,
		}
		every, until := time.Duration(0), now
		switch k.usage {
		case usedDaily, usedFailing:
			every = day
		case usedWeekly:
			every = 5 * day
		case stoppedUsed:
			every, until = day, now.Add(-3*day)
		}
		if every == 0 {
			continue
		}
		for t := from; t.Before(until); t = t.Add(every) {
			a := ok
			a.Time = precise(r, at(t, minTime(t.Add(every), until)))
			auths = append(auths, a)
			if k.usage == usedFailing {
				f := ok
				f.Success, f.Owner, f.Time = false, "", precise(r, at(t, minTime(t.Add(every), until)))
				auths = append(auths, f)
			}
		}
	}
	// Workloads that sign in with an OAuth token, not an API key: identity
	// pools on Kafka, ksqlDB and Flink, a few times a day.
	for t := start; t.Before(now); t = t.Add(8 * time.Hour) {
		for _, svc := range []string{"kafka", "ksqldb", "flink"} {
			auths = append(auths, Authentication{Identifier: "pool-" + svc, Success: true, Service: svc, Token: true, Time: precise(r, at(t, minTime(t.Add(8*time.Hour), now)))})
		}
	}
	clusters := b.s.KafkaClusters()
	cluster := func() string {
		if len(clusters) == 0 {
			return "lkc-00000"
		}
		return clusters[r.IntN(len(clusters))].ID
	}
	for _, id := range b.s.DeletedKeys() {
		for t := start; t.Before(now); t = t.Add(6 * time.Hour) {
			auths = append(auths, Authentication{Identifier: id, Unknown: true, Resource: cluster(), Time: precise(r, at(t, minTime(t.Add(6*time.Hour), now)))})
		}
	}
	// What someone types: never a label value.
	for _, id := range []string{"admin", "' OR 1=1 --", "kafka", strings.Repeat("A", 300), "ключ"} {
		auths = append(auths, Authentication{Identifier: id, Unknown: true, Resource: cluster(), Time: at(start, now)})
	}
	slices.SortFunc(auths, func(x, y Authentication) int { return x.Time.Compare(y.Time) })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var batch []Record
	flush := func() error {
		err := b.Produce(ctx, batch...)
		batch = batch[:0]
		return err
	}
	prev := start
	cloudKey := b.cloudKey()
	for i, a := range auths {
		// The other events fall between this authentication and the last.
		for range max(b.opts.Others, 0) {
			t := at(prev, a.Time)
			batch = append(batch, Record{Value: b.otherEvent(t, cluster(), "sa-00000", cloudKey), Time: t})
		}
		prev = a.Time
		batch = append(batch, Record{Value: b.event(a), Time: a.Time})
		if i%1000 == 0 {
			// Now and then a record that is no event at all.
			batch = append(batch, Record{Value: []byte(`{"specversion":"1.0","type":`), Time: a.Time})
		}
		if len(batch) >= 5000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// keepProducing adds, every Every, a few other events and now and then an
// authentication of a key in daily use or a failure of a deleted key.
func (b *AuditLogBroker) keepProducing() {
	defer b.done.Done()
	t := time.NewTicker(b.opts.Every)
	defer t.Stop()
	keys := b.s.auditedKeys()
	deleted := b.s.DeletedKeys()
	cloudKey := b.cloudKey()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		now := b.opts.Now()
		b.mu.Lock()
		n := b.rng.IntN(10)
		b.mu.Unlock()
		var recs []Record
		for range max(b.opts.Others, 0) / 3 {
			recs = append(recs, Record{Value: b.otherEvent(now, "lkc-00000", "sa-00000", cloudKey), Time: now})
		}
		switch {
		case n < 5 && len(keys) > 0:
			k := keys[n*len(keys)/5]
			if k.usage == usedDaily || k.usage == usedFailing {
				recs = append(recs, Record{Value: b.event(Authentication{
					Identifier: k.key.ID, Success: true, Service: k.service, Resource: k.key.Spec.Resource.ID,
					Environment: environmentOf(k.key.Spec.Resource), Owner: k.key.Spec.Owner.ID, Time: now,
				}), Time: now})
			}
		case n == 8:
			recs = append(recs, Record{Value: b.event(Authentication{Identifier: "pool-flink", Success: true, Service: "flink", Token: true, Time: now}), Time: now})
		case n == 9:
			recs = append(recs, Record{Value: b.event(Authentication{Identifier: deleted[0], Unknown: true, Time: now}), Time: now})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = b.Produce(ctx, recs...) // a demo's log; a failure shows in the exporter
		cancel()
	}
}

// cloudKey is a Cloud API key of the organisation: control-plane requests
// name it, and it never authenticates in the audit log's sense.
func (b *AuditLogBroker) cloudKey() string {
	for _, k := range b.s.APIKeys() {
		if k.Spec.Resource != nil && k.Spec.Resource.ID == "cloud" {
			return k.ID
		}
	}
	return "CLOUDKEY00000000"
}

// environmentOf is the environment of a resource: its reference's, or its
// CRN's.
func environmentOf(r *ObjectRef) string {
	if r.Environment != "" {
		return r.Environment
	}
	for seg := range strings.SplitSeq(r.ResourceName, "/") {
		if env, ok := strings.CutPrefix(seg, "environment="); ok {
			return env
		}
	}
	return ""
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func seedOf(s *Server) uint64 {
	if s == nil {
		return 1
	}
	return s.cfg.Org.Seed
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

func uuid(r *mrand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the simulator's own values always marshal
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// year, and returns it with its PEM (what a client trusts).
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "confluent-cloud-sim audit log"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
