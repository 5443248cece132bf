// Command confluent_keys_exporter exports the BYOK keys and IAM API keys of a
// Confluent Cloud organisation as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/supervisor"
)

const name = "confluent_keys_exporter"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	// No @file arguments: kingpin would read the file and quote its lines
	// in its errors (a secret, for one).
	kingpin.EnableFileExpansion = false
	app := kingpin.New(name, "Prometheus exporter for the BYOK keys and API keys of a Confluent Cloud organisation.")
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	f := config.AddFlags(app)
	webFlags := kingpinflag.AddFlags(app, ":10061")
	logFlags := addLogFlags(app)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, config.ParseError(app, args, os.Getenv, err))
		return 1
	}
	logger, slogger := logFlags.loggers(stderr)
	cfg, err := f.Check(os.Getenv)
	if err == nil {
		err = checkWebConfig(*webFlags.WebConfigFile)
	}
	if err != nil {
		level.Error(logger).Log("msg", "Invalid configuration", "err", err)
		return 1
	}
	if cfg.CheckOnly {
		// Check loaded the file and validated every organisation.
		orgs, _ := cfg.Organizations()
		printCheck(stdout, orgs)
		return 0
	}

	level.Info(logger).Log("msg", "Starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	level.Info(logger).Log("msg", "Each replica of the exporter makes its own API requests: N replicas use N times the rate-limit quota")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// What serves the organisations' series: from encodings cached per
	// family, plus the registry, gathered and encoded per scrape.
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	series := scrape.NewServer(scrape.ServerOpts{
		Registry: reg, MaxRequests: cfg.MaxRequests, ProbeOnly: cfg.RefreshOnProbe, Logger: slogger,
	})
	// The organisations, each read by its own refresher and published to
	// the server; the configuration (re)loaded into them.
	sup := supervisor.New(ctx, supervisor.Options{
		Server: series, OnProbe: cfg.RefreshOnProbe, StoragePath: cfg.StoragePath,
		UserAgent: name + "/" + version.Version, Logger: logger,
	})
	defer sup.Close()
	reload := newReloader(cfg, sup, logger)
	reg.MustRegister(reload)
	if err := reload.reload(); err != nil {
		return 1
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(ctx, hup, reload)

	mux, err := newMux(served{series, sup}, reload.handler(cfg.Lifecycle), cfg.TelemetryPath, cfg.Pprof)
	if err != nil {
		level.Error(logger).Log("msg", "Building the landing page", "err", err)
		return 1
	}
	// No WriteTimeout: the metrics handler sets a deadline per response, fit to its size.
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, webFlags, slogger) }()

	code := 0
	select {
	case err := <-serveErr:
		level.Error(logger).Log("msg", "HTTP server failed", "err", err)
		code = 1
	case <-ctx.Done():
		level.Info(logger).Log("msg", "Shutting down")
	}
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		level.Warn(logger).Log("msg", "HTTP server shutdown", "err", err)
	}
	return code
}

// printCheck says what --config.check found: the organisations, and where
// each one's audit log is read from (or none), so that a missing audit log
// is seen before the first week's "unused" findings.
func printCheck(w io.Writer, orgs []config.Organization) {
	names := make([]string, len(orgs))
	for i, o := range orgs {
		names[i] = o.Name
	}
	fmt.Fprintf(w, "configuration OK: %d organization(s): %s\n", len(orgs), strings.Join(names, ", "))
	for _, o := range orgs {
		a := o.AuditLog
		if !a.Enabled() {
			fmt.Fprintf(w, "  %s: audit log none (key usage not told: --audit-log.bootstrap-servers or audit_log)\n", o.Name)
			continue
		}
		fmt.Fprintf(w, "  %s: audit log %s, topic %s, API key %s, secret from %s, lookback %s\n",
			o.Name, strings.Join(a.Bootstrap, ","), a.Topic, a.APIKey, a.SecretFrom, a.Lookback)
	}
}

// reloadOnHangup reloads the configuration on SIGHUP, as Prometheus does.
// Without --config.file there is nothing new to read, and nothing changes.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, r *reloader) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := r.reload(); errors.Is(err, errReloadRunning) {
				level.Info(r.logger).Log("msg", "SIGHUP while a reload runs: that reload reads the configuration")
			} // other errors are logged, and exported
		}
	}
}

// checkWebConfig reads --web.config.file at start, as exporter-toolkit would
// at the first connection, so that a broken one stops the exporter with a
// line naming the flag and the file before anything runs.
func checkWebConfig(path string) error {
	if path == "" {
		return nil
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("--web.config.file=%s: %w", path, err)
	}
	return nil
}

// organizations is what the mux serves of the organisations.
type organizations interface {
	Ready() bool
	Metrics() http.Handler
	Probe() http.Handler
	Names() []string
}

// served is the organisations as the server serves them and the
// supervisor runs them.
type served struct {
	*scrape.Server
	*supervisor.Supervisor
}

// newMux serves metrics at metricsPath, each organisation at /probe, the
// landing page, the health and lifecycle endpoints and, with pprof, Go's
// profiles under /debug/pprof/.
func newMux(sup organizations, reload http.Handler, metricsPath string, pprofOn bool) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, sup.Metrics())
	mux.Handle("/probe", sup.Probe())
	mux.Handle("/-/reload", reload)
	profiling := "false"
	if pprofOn {
		profiling = "true"
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !sup.Ready() {
			http.Error(w, "Not ready: waiting for the first complete refresh of every collector of every organization", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        name,
			Description: "Prometheus exporter for Confluent Cloud BYOK keys and API keys",
			Version:     version.Info(),
			Profiling:   profiling,
			Links: []web.LandingLinks{
				{Address: metricsPath, Text: "Metrics"},
				{Address: "/probe?organization=" + firstOrDefault(sup.Names()), Text: "One organization (/probe?organization=NAME)"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

func firstOrDefault(names []string) string {
	if len(names) == 0 {
		return config.DefaultOrganization
	}
	return names[0]
}
