package supervisor

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log/level"
)

// firstProbeWait is how long a probe that starts an organisation waits for
// its first refresh when Prometheus does not say its scrape timeout
// (Prometheus's default timeout). A variable for the tests.
var firstProbeWait = 10 * time.Second

// Probe serves /probe?organization=NAME: that organisation's series only,
// with its health and upstream metrics (the blackbox exporter's pattern), so
// that each organisation can be its own target, and Prometheus can spread
// organisations across replicas by relabelling.
func (s *Supervisor) Probe() http.Handler { return http.HandlerFunc(s.serveProbe) }

func (s *Supervisor) serveProbe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("organization")
	var o *organization
	for _, c := range *s.running.Load() {
		if c.cfg.Name == name {
			o = c
		}
	}
	switch {
	case name == "":
		http.Error(w, fmt.Sprintf("The organization parameter is missing: /probe?organization=NAME (configured: %s)",
			strings.Join(s.Names(), ", ")), http.StatusBadRequest)
		return
	case o == nil: // quoted, and at most 64 characters of it
		http.Error(w, fmt.Sprintf("Unknown organization %.64q: not in the configuration (configured: %s)",
			name, strings.Join(s.Names(), ", ")), http.StatusNotFound)
		return
	}
	run := o.current()
	if s.opts.OnProbe {
		run = o.probed()
		ctx, cancel := context.WithTimeout(r.Context(), probeWait(r.Header))
		select { // a started organisation answers once it has tried every list
		case <-run.exporter.Attempted():
		case <-ctx.Done():
		}
		cancel()
	}
	run.probe.ServeHTTP(w, r)
}

// maxScrapeTimeout bounds the scrape timeout a probe believes: Prometheus
// takes none longer than its scrape interval, and a header of "Inf" or a
// year must not hold a request for ever.
const maxScrapeTimeout = 5 * time.Minute

// probeWait is how long a probe that starts an organisation waits for its
// first refresh: 80% of the scrape timeout Prometheus sends
// (X-Prometheus-Scrape-Timeout-Seconds), leaving the rest to answer before
// Prometheus gives up; firstProbeWait when it sends none that is usable.
func probeWait(h http.Header) time.Duration {
	secs, err := strconv.ParseFloat(h.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil || !(secs > 0) || secs > maxScrapeTimeout.Seconds() { // !(>) refuses NaN too
		return firstProbeWait
	}
	return time.Duration(secs * 0.8 * float64(time.Second))
}

// probed notes a probe of the organisation and returns its run, started
// if it was not running.
func (o *organization) probed() *run {
	o.lastProbe.Store(time.Now().UnixNano())
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.run.done == nil && !o.closed {
		level.Info(o.sup.opts.Logger).Log("msg", "Refreshing organization while it is probed", "organization", o.cfg.Name)
		o.startLocked(o.sup.ctx)
		go o.stopWhenIdle(o.run)
	}
	return o.run
}

// stopWhenIdle stops r once the organisation has not been probed for
// idleIntervals refresh intervals, and puts a new run, not started, in its
// place: the next probe starts afresh.
func (o *organization) stopWhenIdle(r *run) {
	t := time.NewTicker(o.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, o.lastProbe.Load())) < idleIntervals*o.cfg.Interval {
			continue
		}
		o.mu.Lock()
		if o.run != r || o.closed {
			o.mu.Unlock()
			return // Apply stops it
		}
		audit := o.audit
		o.audit = o.sup.newAuditReader(o.cfg) // a reader runs once; the next resumes from its state
		fresh, err := o.newRun()
		if err == nil {
			o.run = fresh
		} else {
			// Not expected (the same configuration made a run before), and
			// then the organisation is not refreshed on probe any more
			// until a reload: say so.
			level.Error(o.sup.opts.Logger).Log("msg", "Cannot prepare the organization's next run; it will not be refreshed on probe until the configuration is reloaded",
				"organization", o.cfg.Name, "err", err)
		}
		o.mu.Unlock()
		r.cancel()
		<-r.done
		audit.stop()
		level.Info(o.sup.opts.Logger).Log("msg", "Stopped refreshing organization: not probed for "+strconv.Itoa(idleIntervals)+" refresh intervals",
			"organization", o.cfg.Name)
		return
	}
}
