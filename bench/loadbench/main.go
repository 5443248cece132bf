// Command loadbench measures the built exporter against the simulated
// Confluent Cloud on loopback, for docs/benchmarks.md: requests and wall time
// per refresh, decode throughput, memory, and /metrics latency one scrape at
// a time and under 20 concurrent scrapers, with and without refreshes
// running, as Prometheus scrapes (its Accept header, gzip) and as a plain
// client does (text, identity); with a real Prometheus where one is
// installed, its own scrape_duration_seconds; and the catch-up of an
// organisation's audit log (-audit-records), its speed, memory and what it
// costs a scrape. `make bench` runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

const (
	apiKey = "BENCH"
	secret = "bench-secret"
	byok   = 500
)

func main() {
	var (
		binary   = flag.String("exporter", ".build/bench/confluent_keys_exporter", "the exporter binary")
		keysFlag = flag.String("keys", "1000,10000,100000", "API-key counts to measure")
		latency  = flag.Duration("latency", 100*time.Millisecond, "simulated latency per page for the wall-time run (0: skip)")
		scrapers = flag.Int("scrapers", 20, "concurrent scrapers")
		duration = flag.Duration("duration", 30*time.Second, "length of each scrape-load phase")
		promN    = flag.Int("prometheus-scrapes", 20, "scrapes by a real Prometheus, where one is installed, for its scrape_duration_seconds (0: skip)")
		records  = flag.Int("audit-records", 2000000, "records of the audit log whose catch-up is measured (0: skip)")
		flood    = flag.Bool("flood", true, "measure the peak RSS of refusing certificate authorities of 30,000 certificates each")
		auditN   = flag.Int("audit-keys", 10000, "API keys of the organisation whose audit log is read")
		promOnly = flag.Int("prometheus-only", 0, "only Prometheus's scrape_duration_seconds against the exporter and its floor, this many rounds, alternating")
	)
	flag.Parse()
	if *promOnly > 0 {
		for _, f := range strings.Split(*keysFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				fail(err)
			}
			if err := prometheusRounds(*binary, n, *promOnly, *promN); err != nil {
				fail(err)
			}
		}
		return
	}
	if *keysFlag == "" {
		*keysFlag = "0"
	}
	fmt.Printf("# loadbench %s, %d scrapers for %s per phase, %d BYOK keys\n\n", time.Now().UTC().Format(time.RFC3339), *scrapers, *duration, byok)
	fmt.Println("| API keys | requests/refresh (min) | refresh 0 ms | decode MB/s | refresh at " + latency.String() + "/page (pages×latency) | RSS after refresh | heap after refresh | one scrape p50 / p99, Prometheus (gzip) | one scrape p50 / p99, identity | bytes Prometheus / identity | 20 scrapers p50 / p99, Prometheus | scrapes/s | peak RSS under load | peak heap under load | 20 scrapers p50 / p99, identity | p50 / p99 while refreshing, Prometheus | upstream requests from scrapes | Prometheus scrape_duration_seconds | the same of a static server (floor) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range strings.Split(*keysFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fail(err)
		}
		if n == 0 {
			continue
		}
		row, err := measure(*binary, n, *latency, *scrapers, *duration, *promN)
		if err != nil {
			fail(fmt.Errorf("%d keys: %w", n, err))
		}
		fmt.Println(row)
	}
	if *flood {
		fmt.Print("\n# a flood of certificates: every page one certificate authority of 30,000 certificates, pages without end\n\n")
		fmt.Println("| --confluent.max-items | refused after | certificates offered | peak RSS |")
		fmt.Println("|---|---|---|---|")
		for _, max := range []int{1000, 250000} {
			row, err := measureFlood(*binary, max)
			if err != nil {
				fail(fmt.Errorf("flood: %w", err))
			}
			fmt.Println(row)
		}
	}
	if *records > 0 {
		fmt.Printf("\n# audit log: %d records, %d API keys, TLS on loopback, the broker (kfake) in this process, the exporter in its own\n\n", *records, *auditN)
		fmt.Println("| log | records | catch-up | records/s | peak RSS while catching up | RSS caught up | one scrape p50, Prometheus (gzip), audit log on / off |")
		fmt.Println("|---|---|---|---|---|---|---|")
		var restarts []string
		for _, c := range []struct {
			name   string
			others int
		}{{"nine in ten other events", 9}, {"authentications only", 0}} {
			row, restart, err := measureAuditLog(*binary, *records, *auditN, c.others, *duration)
			if err != nil {
				fail(fmt.Errorf("audit log, %s: %w", c.name, err))
			}
			fmt.Printf("| %s %s\n", c.name, row)
			restarts = append(restarts, fmt.Sprintf("| %s %s", c.name, restart))
		}
		fmt.Printf("\n# audit log: a restart (SIGTERM, then started again on the same --storage.path) after the window above was read, with %d records written meanwhile\n\n", restartRecords)
		fmt.Println("| log | window read before | records read after the restart | caught up after the restart | state file |")
		fmt.Println("|---|---|---|---|---|")
		for _, r := range restarts {
			fmt.Println(r)
		}
	}
}

// measureAuditLog fills an organisation's audit log with records (one
// authentication with each of the keys in turn, then others other events)
// and measures how fast the exporter reads it all, the memory it takes,
// and a scrape with and without the audit log.
func measureAuditLog(binary string, records, keys, others int, d time.Duration) (row, restart string, err error) {
	const auditSecret = "bench-audit-secret"
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: byok, APIKeys: keys, AuditLog: true}, APIKey: apiKey, APISecret: secret, RateLimit: 1 << 30})
	api := httptest.NewServer(s)
	defer api.Close()
	b, err := sim.StartAuditLog(s, sim.AuditLogOptions{Secret: auditSecret, TLS: true, Partitions: 6})
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	var ids []string
	for _, k := range s.APIKeys() {
		ids = append(ids, k.ID)
	}
	now := time.Now()
	if err := b.Fill(context.Background(), records, others, ids, now.Add(-6*24*time.Hour), now); err != nil {
		return "", "", err
	}
	ca, err := os.CreateTemp("", "audit-ca-*.pem")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(ca.Name())
	if _, err := ca.Write(b.CAPEM()); err != nil {
		return "", "", err
	}
	ca.Close()

	// A scrape of the organisation without the audit log, for comparison.
	plain, err := start(binary, api.URL, "1h")
	if err != nil {
		return "", "", err
	}
	offP50, _, _, _ := load(plain.url, 1, d/3, prometheusClient)
	plain.stop()

	began := time.Now()
	storage, err := os.MkdirTemp("", "loadbench-storage-*")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(storage)
	args := []string{
		"--audit-log.bootstrap-servers=" + strings.Join(b.Addrs(), ","), "--storage.path=" + storage,
		"--audit-log.api-key=" + s.AuditLog().KeyID, "--audit-log.ca-file=" + ca.Name(), "CONFLUENT_AUDIT_LOG_API_SECRET=" + auditSecret,
	}
	e, err := start(binary, api.URL, "1h", args...)
	if err != nil {
		return "", "", err
	}
	defer e.stop()
	read, err := caughtUp(e, began)
	if err != nil {
		return "", "", err
	}
	took := time.Since(began)
	if int(read) != records {
		return "", "", fmt.Errorf("caught up after %.0f records, want %d", read, records)
	}
	_, peak := e.rss()
	runtimeGC(e)
	now2, _ := e.rss()
	onP50, _, _, _ := load(e.url, 1, d/3, prometheusClient)
	row = fmt.Sprintf("| %d | %.1f s | %.0f | %.1f MiB | %.1f MiB | %s / %s |", records, took.Seconds(), float64(records)/took.Seconds(),
		peak, now2, ms(onP50), ms(offP50))

	// A restart: only what was written while the exporter was down is read.
	e.stopGracefully()
	if err := b.Fill(context.Background(), restartRecords, others, ids, now, time.Now()); err != nil {
		return "", "", err
	}
	began = time.Now()
	e, err = start(binary, api.URL, "1h", args...)
	if err != nil {
		return "", "", err
	}
	defer e.stop()
	read, err = caughtUp(e, began)
	if err != nil {
		return "", "", err
	}
	took = time.Since(began)
	info, err := os.Stat(filepath.Join(storage, "audit-log-default.json"))
	if err != nil {
		return "", "", err
	}
	restart = fmt.Sprintf("| %d records | %.0f | %.2f s (start to caught_up 1, the first refresh included) | %.1f MB |", records, read, took.Seconds(), float64(info.Size())/1e6)
	return row, restart, nil
}

// measureFlood serves certificate authorities of 30,000 certificates each,
// page after page, and measures the exporter's peak RSS until it refused
// the list (reason pagination).
func measureFlood(binary string, maxItems int) (string, error) {
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: 10, APIKeys: 100}, APIKey: apiKey, APISecret: secret, RateLimit: 1 << 30})
	s.SetFaults(sim.Faults{Endpoint: "iam_certificate_authorities", Body: "array-flood", Next: "endless"})
	api := httptest.NewServer(s)
	defer api.Close()
	began := time.Now()
	e, err := launch(binary, api.URL, "1h", "/-/healthy", fmt.Sprintf("--confluent.max-items=%d", maxItems)) // never ready: a list fails
	if err != nil {
		return "", err
	}
	defer e.stop()
	refused := `confluent_refresh_errors_total{collector="certificate_authorities",organization="default",reason="pagination"}`
	for {
		m, err := e.metrics()
		if err != nil {
			return "", err
		}
		if m[refused] > 0 {
			break
		}
		if time.Since(began) > 5*time.Minute {
			return "", fmt.Errorf("not refused within 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var pages int
	for _, r := range s.Requests() {
		if r.Endpoint == "iam_certificate_authorities" {
			pages++
		}
	}
	_, peak := e.rss()
	return fmt.Sprintf("| %d | %.1f s | %d pages of 30,000 (two lists read them: the authorities and their pools' parents) | %.1f MiB |",
		maxItems, time.Since(began).Seconds(), pages, peak), nil
}

// restartRecords are written to the audit log while the exporter is down.
const restartRecords = 10000

// caughtUp waits until e says it caught up, and returns how many records
// it read.
func caughtUp(e *exporter, began time.Time) (float64, error) {
	for {
		m, err := e.metrics()
		if err != nil {
			return 0, err
		}
		if m[`confluent_audit_log_caught_up{organization="default"}`] == 1 {
			var read float64
			for name, v := range m {
				if strings.HasPrefix(name, "confluent_audit_log_records_total{") {
					read += v
				}
			}
			return read, nil
		}
		if time.Since(began) > 30*time.Minute {
			return 0, fmt.Errorf("not caught up within 30 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runtimeGC waits a few seconds for the exporter's heap to settle after a
// catch-up (the Go runtime returns memory to the system on its own pace).
func runtimeGC(e *exporter) {
	deadline := time.Now().Add(5 * time.Second)
	last, _ := e.rss()
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		now, _ := e.rss()
		if now >= last {
			return
		}
		last = now
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadbench:", err)
	os.Exit(1)
}

func measure(binary string, n int, latency time.Duration, scrapers int, d time.Duration, promScrapes int) (string, error) {
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: byok, APIKeys: n, Quirks: true}, APIKey: apiKey, APISecret: secret, RateLimit: 1 << 30})
	api := httptest.NewServer(s)
	defer api.Close()
	minRequests := s.MinimalRequests(100, false) // every collector on by default, users off

	// 1. One refresh with no added latency: requests, wall time, throughput, memory.
	e, err := start(binary, api.URL, "1h")
	if err != nil {
		return "", err
	}
	m, err := e.metrics()
	if err != nil {
		e.stop()
		return "", err
	}
	requests := len(s.Requests())
	if !servesLabel(m, "confluent_quota_limit", "resource_id") {
		// An exporter before per-scope quotas (BENCH_BEFORE) reads the organisation's only.
		minRequests = s.MinimalRequestsScopes(100, false, "ORGANIZATION")
	}
	if !servesFamily(m, "confluent_organization_info") {
		minRequests-- // an exporter before 0.2 (BENCH_BEFORE) does not read the organisation
	}
	if requests != minRequests {
		e.stop()
		return "", fmt.Errorf("%d requests for one refresh, want the minimum %d", requests, minRequests)
	}
	refresh, err := slowest(m, "confluent_refresh_duration_seconds")
	if err != nil {
		e.stop()
		return "", err
	}
	mbps := float64(s.BytesServed()) / 1e6 / refresh
	rss, _ := e.rss()
	heap := m["go_memstats_heap_alloc_bytes"]

	// 2. Scrape load, no refresh running; the heap is sampled once a second.
	// The peak RSS is reset first (Linux: clear_refs 5), so that it is the
	// scrapes' peak, not the refresh's.
	e.resetPeakRSS()
	stopSampling := make(chan struct{})
	peakHeap := make(chan float64)
	go func() {
		top := heap
		for {
			select {
			case <-stopSampling:
				peakHeap <- top
				return
			case <-time.After(time.Second):
				if m, err := e.metrics(); err == nil {
					top = max(top, m["go_memstats_heap_inuse_bytes"])
				}
			}
		}
	}()
	p50, p99, rate, _ := load(e.url, scrapers, d, prometheusClient)
	close(stopSampling)
	heapUnderLoad := <-peakHeap
	_, peak := e.rss()
	idP50, idP99, _, _ := load(e.url, scrapers, d, identityClient)
	oneP50, oneP99, _, promBytes := load(e.url, 1, d/3, prometheusClient)
	oneIDP50, oneIDP99, _, idBytes := load(e.url, 1, d/3, identityClient)
	promDuration, promFloor := "-", "-"
	if path, err := exec.LookPath("prometheus"); err == nil && promScrapes > 0 {
		promDuration = prometheusScrapeDuration(path, e.url, promScrapes)
		if static, err := staticTarget(e.url); err == nil {
			promFloor = prometheusScrapeDuration(path, static.URL, promScrapes)
			static.Close()
		} else {
			promFloor = "error: " + err.Error()
		}
	}
	fromScrapes := len(s.Requests()) - requests
	e.stop()
	if fromScrapes != 0 {
		return "", fmt.Errorf("scrapes caused %d upstream requests", fromScrapes)
	}

	// 3. Scrape load while refreshes run often (interval ≈ 4 × an unloaded refresh).
	interval := max(5*time.Second, 4*time.Duration(refresh*float64(time.Second))).Round(time.Second)
	e, err = start(binary, api.URL, interval.String())
	if err != nil {
		return "", err
	}
	busyP50, busyP99, _, _ := load(e.url, scrapers, d, prometheusClient)
	e.stop()

	// 4. Wall time with latency per page: pages × latency is the floor (the
	// lists are read concurrently, so the longer one counts).
	wall := "-"
	if latency > 0 {
		s.SetFaults(sim.Faults{LatencyMS: int(latency.Milliseconds())})
		e, err = start(binary, api.URL, "1h")
		if err != nil {
			return "", err
		}
		m, err := e.metrics()
		e.stop()
		if err != nil {
			return "", err
		}
		took, err := slowest(m, "confluent_refresh_duration_seconds")
		if err != nil {
			return "", err
		}
		pages, err := slowest(m, "confluent_refresh_pages")
		if err != nil {
			return "", err
		}
		floor := pages * latency.Seconds()
		wall = fmt.Sprintf("%.2f s (%.0f × %s = %.1f s, +%.1f%%)", took, pages, latency, floor, 100*(took-floor)/floor)
		s.SetFaults(sim.Faults{})
	}

	return fmt.Sprintf("| %d | %d (%d) | %.3f s | %.0f | %s | %.1f MiB | %.1f MiB | %s / %s | %s / %s | %.2f MB / %.2f MB | %s / %s | %.0f | %.1f MiB | %.1f MiB | %s / %s | %s / %s | %d | %s | %s |",
		n, requests, minRequests, refresh, mbps, wall, rss, heap/(1<<20), ms(oneP50), ms(oneP99), ms(oneIDP50), ms(oneIDP99),
		float64(promBytes)/1e6, float64(idBytes)/1e6, ms(p50), ms(p99), rate, peak, heapUnderLoad/(1<<20),
		ms(idP50), ms(idP99), ms(busyP50), ms(busyP99), fromScrapes, promDuration, promFloor), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// exporter is a running exporter process.
type exporter struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// start runs the binary against apiURL and waits until it is ready; extra
// are more flags, and NAME=value environment variables.
func start(binary, apiURL, interval string, extra ...string) (*exporter, error) {
	return launch(binary, apiURL, interval, "/-/ready", extra...)
}

// launch runs the binary against apiURL and waits until path answers 200.
func launch(binary, apiURL, interval, path string, extra ...string) (*exporter, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{
		"--web.listen-address=" + addr, "--confluent.url=" + apiURL,
		"--refresh.interval=" + interval, "--web.max-requests=20", "--log.level=warn",
	}
	env := append(os.Environ(), "CONFLUENT_CLOUD_API_KEY="+apiKey, "CONFLUENT_CLOUD_API_SECRET="+secret)
	for _, x := range extra {
		if strings.HasPrefix(x, "--") {
			args = append(args, x)
		} else {
			env = append(env, x)
		}
	}
	bin, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadbench-exporter-*") // its working directory: the default --storage.path goes there
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := &exporter{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() { <-e.done; os.RemoveAll(dir) }()
	go func() { _ = cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if resp, err := http.Get(e.url + path); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("exporter exited")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("not ready within 10 minutes")
		}
	}
}

func (e *exporter) stop() {
	_ = e.cmd.Process.Kill()
	<-e.done
}

// stopGracefully stops the exporter as SIGTERM does: it saves what the
// audit log told.
func (e *exporter) stopGracefully() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	<-e.done
}

// metrics scrapes the exporter and returns its samples by series.
// slowest is the larger of the byok and api_keys series of name, an error
// when either is missing (a renamed label must not measure 0). Exporters
// before 0.2 (BENCH_BEFORE) serve them without the organization label.
func slowest(m map[string]float64, name string) (float64, error) {
	var out float64
	for _, c := range []string{"byok", "api_keys"} {
		series := name + `{collector="` + c + `",organization="default"}`
		v, ok := m[series]
		if !ok {
			v, ok = m[name+`{collector="`+c+`"}`]
		}
		if !ok {
			return 0, fmt.Errorf("the exporter serves no %s", series)
		}
		out = max(out, v)
	}
	return out, nil
}

// servesFamily reports whether m has a series of the family name.
func servesFamily(m map[string]float64, name string) bool {
	for series := range m {
		if strings.HasPrefix(series, name+"{") || series == name {
			return true
		}
	}
	return false
}

// servesLabel reports whether a series of the family name has the label.
func servesLabel(m map[string]float64, name, label string) bool {
	for series := range m {
		if strings.HasPrefix(series, name+"{") && strings.Contains(series, label+"=") {
			return true
		}
	}
	return false
}

func (e *exporter) metrics() (map[string]float64, error) {
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func (e *exporter) resetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", e.cmd.Process.Pid), []byte("5"), 0)
}

// rss returns the process's resident and peak resident memory in MiB.
func (e *exporter) rss() (now, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		return math.NaN(), math.NaN()
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

// A scraper's request headers: what Prometheus 2.42 sends (it reads the
// gzip body as it comes), or a plain client's (text, no compression).
type scraper struct{ accept, encoding string }

var (
	prometheusClient = scraper{
		accept:   "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		encoding: "gzip",
	}
	identityClient = scraper{accept: "text/plain;version=0.0.4", encoding: "identity"}
)

// load runs n scrapers against url for d and returns the median and 99th
// percentile latency of the successful scrapes (the whole body read),
// scrapes per second and the size of the last body as sent.
func load(url string, n int, d time.Duration, c scraper) (p50, p99 time.Duration, perSecond float64, size int64) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
				req.Header.Set("Accept", c.accept)
				req.Header.Set("Accept-Encoding", c.encoding)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				got, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					mu.Lock()
					lats = append(lats, time.Since(start))
					size = got
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(lats) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(lats)
	return lats[len(lats)/2], lats[len(lats)*99/100], float64(len(lats)) / d.Seconds(), size
}

// staticTarget serves, fixed, the body and headers the exporter answers
// Prometheus with: a target that costs nothing, so that Prometheus's
// scrape_duration_seconds of it is Prometheus's own work on those samples
// (decompressing, parsing, appending), the floor of any exporter's figure.
func staticTarget(exporterURL string) (*httptest.Server, error) {
	req, err := http.NewRequest(http.MethodGet, exporterURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", prometheusClient.accept)
	req.Header.Set("Accept-Encoding", prometheusClient.encoding)
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	header := resp.Header.Clone()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for _, h := range []string{"Content-Type", "Content-Encoding", "Content-Length"} {
			w.Header().Set(h, header.Get(h))
		}
		_, _ = w.Write(body)
	})), nil
}

// prometheusRounds prints Prometheus's scrape_duration_seconds against the
// exporter of n keys and against a static server of its bytes, rounds
// times, one after the other: what one measurement alone cannot tell from
// noise.
func prometheusRounds(binary string, n, rounds, scrapes int) error {
	path, err := exec.LookPath("prometheus")
	if err != nil {
		return err
	}
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: byok, APIKeys: n, Quirks: true}, APIKey: apiKey, APISecret: secret, RateLimit: 1 << 30})
	api := httptest.NewServer(s)
	defer api.Close()
	e, err := start(binary, api.URL, "1h")
	if err != nil {
		return err
	}
	defer e.stop()
	static, err := staticTarget(e.url)
	if err != nil {
		return err
	}
	defer static.Close()
	for r := range rounds {
		fmt.Printf("%d keys, round %d: exporter %s, floor %s\n", n, r+1,
			prometheusScrapeDuration(path, e.url, scrapes), prometheusScrapeDuration(path, static.URL, scrapes))
	}
	return nil
}

// prometheusScrapeDuration runs a real Prometheus scraping url every second
// until it scraped n times and returns the median of its own
// scrape_duration_seconds for the target, formatted.
func prometheusScrapeDuration(binary, url string, n int) string {
	v, err := prometheusMedianScrape(binary, url, n)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%.1f ms", v*1000)
}

func prometheusMedianScrape(binary, target string, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "loadbench-prometheus")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n  - job_name: exporter\n    static_configs: [{targets: [%q]}]\n",
		strings.TrimPrefix(target, "http://"))
	if err := os.WriteFile(dir+"/prometheus.yml", []byte(config), 0o600); err != nil {
		return 0, err
	}
	cmd := exec.Command(binary, "--config.file="+dir+"/prometheus.yml", "--storage.tsdb.path="+dir+"/data", "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// n scrapes, then the median of their durations.
	query := func(q string) (float64, error) { return testkit.PromValue("http://"+addr, q) }
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if got, err := query(`count_over_time(scrape_duration_seconds{job="exporter"}[2m])`); err == nil && got >= float64(n) {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("prometheus did not scrape %d times within 2 minutes", n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return query(`quantile_over_time(0.5, scrape_duration_seconds{job="exporter"}[2m])`)
}
