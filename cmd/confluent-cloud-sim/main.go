// Command confluent-cloud-sim serves a simulated Confluent Cloud API (every
// list endpoint the exporter reads) on loopback, for the demo, the tests and
// the benchmarks. See internal/sim for what it simulates and how to break it.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

func main() { os.Exit(run()) }

func run() int {
	app := kingpin.New("confluent-cloud-sim", "A simulated Confluent Cloud API for the exporter's demo and tests.")
	var (
		listen    = app.Flag("listen-address", "Address to listen on (loopback only).").Default("127.0.0.1:10062").String()
		key       = app.Flag("api-key", "Cloud API key the simulator accepts.").Default("DEMOKEY").String()
		secretEnv = app.Flag("api-secret-env", "Environment variable holding the secret the simulator accepts.").Default("CONFLUENT_CLOUD_API_SECRET").String()
		seed      = app.Flag("seed", "Seed of the generated organisation.").Default("1").Uint64()
		byok      = app.Flag("byok-keys", "Number of BYOK keys.").Default(fmt.Sprint(sim.DefaultOrg.BYOKKeys)).Int()
		apiKeys   = app.Flag("api-keys", "Number of IAM API keys.").Default(fmt.Sprint(sim.DefaultOrg.APIKeys)).Int()
		quirks    = app.Flag("quirks", "Reproduce the real API's quirks (ownerless keys, null resources, ...).").Default("true").Bool()
		rateLimit = app.Flag("rate-limit", "Requests allowed per rate window.").Default("10000").Int()
		window    = app.Flag("rate-window", "Rate-limit window.").Default("1m").Duration()
		latency   = app.Flag("latency", "Latency added to every list request.").Default("0s").Duration()
		now       = app.Flag("now", "The time the organisation is generated at, RFC 3339 (default: when the simulator starts); with --seed it gives the same organisation.").String()
		expired   = app.Flag("expired-keys", "API keys already expired (hidden unless a client asks show_expired=true).").Default("0").Int()
		auditPort = app.Flag("audit-log-port", "Serve each organisation's audit-log cluster (a Kafka protocol broker on 127.0.0.1) from this port on: the first organisation's on it, the n-th on it+n-1. 0: no audit log.").Default("0").Int()
		auditEnv  = app.Flag("audit-log-secret-env", "Environment variable holding the secret the audit-log key authenticates with.").Default("CONFLUENT_AUDIT_LOG_API_SECRET").String()
		auditTLS  = app.Flag("audit-log-tls", "Serve the audit log with TLS (a self-signed certificate for 127.0.0.1, written to --audit-log-ca-file).").Default("true").Bool()
		auditCA   = app.Flag("audit-log-ca-file", "Where to write the audit log's CA certificate (PEM).").String()
		auditInfo = app.Flag("audit-log-info-file", "Where to write the first organisation's audit-log bootstrap server and key, as shell variables (CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS, CONFLUENT_AUDIT_LOG_API_KEY).").String()
		auditDays = app.Flag("audit-log-history", "How far back the generated audit-log events go.").Default("168h").Duration()
		auditTick = app.Flag("audit-log-every", "Produce a few audit-log events this often while running (0: never).").Default("2s").Duration()
		auditGrow = app.Flag("audit-log-add-partitions-after", "Add two partitions to each audit log's topic this long after the start, as Confluent may while the log is busy (0: never).").Default("0").Duration()
		orgs      = app.Flag("organizations", "Organisations served, told apart by API key: the first accepts --api-key, the n-th --api-key with n appended (DEMOKEY, DEMOKEY2, ...); each its own data (seed, seed+1, ...) and rate limit.").Default("1").Int()
	)
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "confluent-cloud-sim:", err)
		return 2
	}
	secret := os.Getenv(*secretEnv)
	if secret == "" {
		fmt.Fprintf(os.Stderr, "confluent-cloud-sim: set %s to the secret the simulator should accept\n", *secretEnv)
		return 2
	}
	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "confluent-cloud-sim: --listen-address %q must be a loopback IP and port\n", *listen)
		return 2
	}

	at := time.Now().UTC().Truncate(time.Second)
	if *now != "" {
		if at, err = time.Parse(time.RFC3339, *now); err != nil {
			fmt.Fprintf(os.Stderr, "confluent-cloud-sim: --now=%q is not an RFC 3339 time (2026-06-01T00:00:00Z)\n", *now)
			return 2
		}
	}
	if *orgs < 1 || *orgs > 100 {
		fmt.Fprintf(os.Stderr, "confluent-cloud-sim: --organizations=%d is outside 1..100\n", *orgs)
		return 2
	}
	var served sim.Organizations
	for i := range *orgs {
		k, name, id := *key, "", "" // the simulator's defaults
		if i > 0 {
			k, name = fmt.Sprintf("%s%d", *key, i+1), fmt.Sprintf("Simulated Org %d", i+1)
			id = fmt.Sprintf("%08x-0000-4000-8000-%012x", *seed+uint64(i), i+1)
		}
		s := sim.New(sim.Config{
			Org: sim.OrgConfig{
				Seed: *seed + uint64(i), BYOKKeys: *byok, APIKeys: *apiKeys, Quirks: *quirks, Now: at, ExpiredKeys: *expired, AuditLog: true,
				ID: id, DisplayName: name,
			},
			APIKey:    k,
			APISecret: secret,
			RateLimit: *rateLimit, RateWindow: *window,
		})
		s.SetFaults(sim.Faults{LatencyMS: int(latency.Milliseconds())})
		served = append(served, s)
	}
	if *auditPort != 0 {
		stopLogs, err := startAuditLogs(served, auditLogFlags{
			port: *auditPort, secret: os.Getenv(*auditEnv), secretEnv: *auditEnv, tls: *auditTLS,
			caFile: *auditCA, infoFile: *auditInfo, history: *auditDays, every: *auditTick, grow: *auditGrow,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "confluent-cloud-sim:", err)
			return 1
		}
		defer stopLogs()
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "confluent-cloud-sim:", err)
		return 1
	}
	srv := &http.Server{Handler: served, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "confluent-cloud-sim: serving %d organisation(s) of %d BYOK keys and %d API keys (seed %d, generated at %s) on http://%s\n",
		*orgs, *byok, *apiKeys, *seed, at.Format(time.RFC3339), ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "confluent-cloud-sim:", err)
		return 1
	}
	return 0
}

type auditLogFlags struct {
	port                                int
	secret, secretEnv, caFile, infoFile string
	tls                                 bool
	history, every, grow                time.Duration
}

// startAuditLogs starts each organisation's audit-log cluster, and writes
// where the first is (and its CA) for the demo's exporter.
func startAuditLogs(served sim.Organizations, f auditLogFlags) (stop func(), err error) {
	if f.secret == "" {
		return nil, fmt.Errorf("set %s to the secret the audit-log key should authenticate with", f.secretEnv)
	}
	var brokers []*sim.AuditLogBroker
	stop = func() {
		for _, b := range brokers {
			b.Close()
		}
	}
	for i, s := range served {
		b, err := sim.StartAuditLog(s, sim.AuditLogOptions{
			Secret: f.secret, TLS: f.tls, Port: f.port + i, History: f.history, Every: f.every,
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("the audit log of organisation %d: %w", i+1, err)
		}
		brokers = append(brokers, b)
		fmt.Fprintf(os.Stderr, "confluent-cloud-sim: organisation %d's audit log on %s (key %s, TLS %v)\n", i+1, strings.Join(b.Addrs(), ","), s.AuditLog().KeyID, f.tls)
		if f.grow > 0 {
			grow := time.AfterFunc(f.grow, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := b.AddPartitions(ctx, 2); err != nil {
					fmt.Fprintf(os.Stderr, "confluent-cloud-sim: adding partitions to organisation %d's audit log: %v\n", i+1, err)
					return
				}
				fmt.Fprintf(os.Stderr, "confluent-cloud-sim: added 2 partitions to organisation %d's audit log\n", i+1)
			})
			prev := stop
			stop = func() { grow.Stop(); prev() }
		}
	}
	if f.caFile != "" && f.tls {
		if err := os.WriteFile(f.caFile, brokers[0].CAPEM(), 0o600); err != nil {
			stop()
			return nil, err
		}
	}
	if f.infoFile != "" {
		info := fmt.Sprintf("CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS=%s\nCONFLUENT_AUDIT_LOG_API_KEY=%s\n", strings.Join(brokers[0].Addrs(), ","), served[0].AuditLog().KeyID)
		if err := os.WriteFile(f.infoFile, []byte(info), 0o600); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}
