package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/supervisor"
)

// reloader reads the configuration again (SIGHUP, POST /-/reload) and
// hands its organisations to the supervisor. An invalid file keeps the
// running configuration. It exports the outcome as Prometheus does.
type reloader struct {
	cfg    *config.Config
	sup    *supervisor.Supervisor
	logger log.Logger

	mu          sync.Mutex // one reload at a time
	loaded      bool
	successful  prometheus.Gauge
	successTime prometheus.Gauge
}

func newReloader(cfg *config.Config, sup *supervisor.Supervisor, logger log.Logger) *reloader {
	return &reloader{
		cfg: cfg, sup: sup, logger: logger,
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "confluent_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "confluent_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
}

// Describe implements prometheus.Collector.
func (r *reloader) Describe(ch chan<- *prometheus.Desc) {
	r.successful.Describe(ch)
	r.successTime.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *reloader) Collect(ch chan<- prometheus.Metric) {
	r.successful.Collect(ch)
	r.successTime.Collect(ch)
}

// errReloadRunning is a reload asked for while one runs: it is not queued.
var errReloadRunning = errors.New("a reload is already running")

// reload reads the configuration and applies it, unless a reload is
// running: then it returns errReloadRunning at once (SIGHUPs and POSTs
// never pile up behind a slow one).
func (r *reloader) reload() error {
	if !r.mu.TryLock() {
		return errReloadRunning
	}
	defer r.mu.Unlock()
	orgs, err := r.cfg.Organizations()
	if err == nil {
		err = r.sup.Apply(orgs)
	}
	if err != nil {
		r.successful.Set(0)
		msg := "Reloading the configuration failed; the running configuration stays"
		if !r.loaded {
			msg = "Invalid configuration"
		}
		level.Error(r.logger).Log("msg", msg, "err", err)
		return err
	}
	r.loaded = true
	r.successful.Set(1)
	r.successTime.Set(float64(time.Now().UnixMilli()) / 1000)
	level.Info(r.logger).Log("msg", "Configuration loaded", "file", r.cfg.File, "organizations", fmt.Sprint(r.sup.Names()))
	return nil
}

// handler serves POST /-/reload when enabled, as Prometheus does. A failure
// answers 500 without its detail, which goes to the log: the body must not
// tell whoever can reach the port about the configuration. A cross-site
// request (a form on another site, posted by a browser) is refused.
func (r *reloader) handler(enabled bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !enabled {
			http.Error(w, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle", http.StatusForbidden)
			return
		}
		if req.Method != http.MethodPost && req.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Only POST or PUT requests allowed", http.StatusMethodNotAllowed)
			return
		}
		if crossSite(req) {
			http.Error(w, "Cross-site requests are refused", http.StatusForbidden)
			return
		}
		switch err := r.reload(); {
		case errors.Is(err, errReloadRunning):
			http.Error(w, "A reload is already running", http.StatusConflict)
		case err != nil:
			http.Error(w, "Reload failed; see the exporter's log", http.StatusInternalServerError)
		default:
			fmt.Fprintln(w, "Reloaded")
		}
	})
}

// crossSite reports whether a browser sent req from another site: its
// Sec-Fetch-Site says so, or its Origin is not the exporter's own.
// Command-line clients send neither.
func crossSite(req *http.Request) bool {
	if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != req.Host
}
