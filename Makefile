# The two commands a newcomer needs: `make demo` and `make test`.
# Everything the tests need is installed here when it is missing.

GO        ?= go
PROMU     := $(GO) tool promu
LINT      := $(GO) tool -modfile=tools/go.mod golangci-lint
VULNCHECK := $(GO) tool -modfile=tools/go.mod govulncheck
GREMLINS  := $(GO) tool -modfile=tools/go.mod gremlins
PROMTOOL  ?= promtool
BIN       := confluent_keys_exporter
GOOS      := $(shell $(GO) env GOOS)
GOARCH    := $(shell $(GO) env GOARCH)
BUILD_DIR := .build/$(GOOS)-$(GOARCH)
CROSS_PLATFORMS := linux/amd64 linux/arm64 darwin/arm64 windows/amd64
TARBALL_FILES   := LICENSE NOTICE README.md CHANGELOG.md CONTRIBUTING.md dashboards alerts docs examples
VERSION   := $(shell cat VERSION)
IMAGE     ?= confluent_keys_exporter:$(VERSION)
BUILDAH   := buildah --storage-driver vfs
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# quiet NAME: under make test, the noisy steps' output goes to .build/logs/NAME.log
# and one line says how they went (scripts/quietly.sh); run alone, they talk.
quiet = $(if $(QUIET),./scripts/quietly.sh $(1))
Q     = $(if $(QUIET),@)

FUZZ_TARGETS := apiclient:FuzzDecodeBYOKPage apiclient:FuzzDecodeAPIKeyPage apiclient:FuzzPageToken \
	apiclient:FuzzRedactDecoded config:FuzzLoadFile auditlog:FuzzDecode auditlog:FuzzDecodeState
FUZZTIME     ?= 5m

.PHONY: help check image image-push all build demo demo-build test deps modules fmt-check vet lint unit e2e-stack rules fuzz fuzz-short vulncheck crossbuild \
	tarball tarball-test docker image-test chart-test prometheusrule bench bench-smoke mutation clean

all: build

## help: this list.
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); n = index($$0, ":"); printf "  %-14s %s\n", substr($$0, 1, n - 1), substr($$0, n + 2); next } \
	     /^## / { sub(/^## /, ""); printf "  %-14s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## check: the inner loop, a minute or two warm: format, vet, lint, the unit tests
## under -short (the slow ones and those needing Prometheus, helm or buildah are
## left to make test).
check: fmt-check vet lint
	$(GO) test -short ./...

## build: the exporter, with promu (version, revision and build date in --version).
build:
	$(Q)$(call quiet,build) $(PROMU) build --prefix $(BUILD_DIR)
	$(if $(QUIET),,@echo "built $(BUILD_DIR)/$(BIN)")

## demo: start the simulated Confluent Cloud and the exporter on loopback
## (DEMO_PORT=10061, SIM_PORT=10062 and the simulated audit log's AUDIT_PORT=10063
## unless given: make demo DEMO_PORT=9061).
DEMO_PORT  ?= 10061
SIM_PORT   ?= 10062
AUDIT_PORT ?= 10063
demo: demo-build
	EXPORTER=$(BUILD_DIR)/$(BIN) SIM=.build/demo/confluent-cloud-sim DEMO_PORT=$(DEMO_PORT) SIM_PORT=$(SIM_PORT) AUDIT_PORT=$(AUDIT_PORT) ./scripts/demo.sh

## demo-build: the exporter as make build stamps it, and the simulator.
demo-build: build
	$(GO) build -o .build/demo/confluent-cloud-sim ./cmd/confluent-cloud-sim

## test: everything CI runs; the Go tests last, so that their summary closes the output.
test: QUIET := 1
## Each step prints one line (its output, when it has some, in .build/logs/).
test: deps modules fmt-check vet lint rules fuzz-short bench-smoke build crossbuild tarball-test image-test chart-test unit
	@echo "make test: all checks passed"

## modules: download every Go module the build, the tools and the chart's tests need, at once
## (a first run's "go: downloading" lines go to .build/logs/modules.log).
modules:
	$(Q)$(call quiet,modules) sh -c '$(GO) mod download && $(GO) mod download -modfile=tools/go.mod && $(GO) -C internal/charttest mod download'

## deps: Prometheus, promtool, Alertmanager (and amtool), buildah, systemd-analyze and curl from Debian, when missing.
deps:
	@if ! command -v $(PROMTOOL) >/dev/null || ! command -v prometheus >/dev/null || \
	    ! command -v prometheus-alertmanager >/dev/null || ! command -v amtool >/dev/null || ! command -v buildah >/dev/null || \
	    ! command -v systemd-analyze >/dev/null || ! command -v curl >/dev/null; then \
		echo "installing prometheus, prometheus-alertmanager, buildah, systemd and curl (Debian packages; log: .build/logs/deps.log)"; \
		mkdir -p .build/logs; \
		{ $(SUDO) apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			prometheus prometheus-alertmanager buildah systemd curl; } >.build/logs/deps.log 2>&1 || \
		{ tail -n 40 .build/logs/deps.log; echo "deps: FAILED (log: .build/logs/deps.log)"; exit 1; }; \
	fi
	@echo "deps: $$($(PROMTOOL) --version 2>&1 | head -n1)"

## fmt-check: gofmt has nothing to change.
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(if $(QUIET),@echo "fmt-check: ok")

## vet: go vet.
vet:
	$(Q)$(call quiet,vet) $(GO) vet ./...

## lint: golangci-lint, pinned in tools/go.mod.
lint:
	$(Q)$(call quiet,lint) $(LINT) run ./...

## unit: unit, race, end-to-end and real-stack tests, every tool they need required.
unit:
	$(Q)$(call quiet,unit) env CONFLUENT_KEYS_EXPORTER_REQUIRE_TOOLS=1 $(GO) test -race -count=1 ./...

## e2e-stack: simulator, exporter, real Prometheus and Alertmanager; an alert end to end (part of unit).
e2e-stack: deps
	$(GO) test -count=1 -run 'TestRealStack|TestDashboardsAndRulesUseExposedMetrics' -v .

## rules: promtool checks and unit tests of the alerting rules.
rules:
	$(Q)$(call quiet,rules) sh -c '$(PROMTOOL) check rules alerts/*.rules.yml && $(PROMTOOL) test rules alerts/tests/*.yml'

## fuzz-short: 50,000 inputs of each fuzz target (part of make test); fuzz: $(FUZZTIME) each.
## A count, not a duration: with a duration, Go 1.26's fuzz coordinator can fail
## a clean run with "context deadline exceeded" as time runs out (golang/go#75804,
## fixed in Go 1.27), and CI must not fail on a race in the toolchain.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=50000x QUIET=$(QUIET)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		p=$${t%%:*}; f=$${t#*:}; \
		$(if $(QUIET),,echo "fuzzing $$p $$f for $(FUZZTIME)";) \
		$(call quiet,fuzz-$$f) $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./$$p || exit 1; \
	done

## vulncheck: govulncheck (pinned in tools/go.mod). Needs vuln.go.dev, which
## this project's CI machines cannot reach, so it is not part of make test.
vulncheck:
	$(VULNCHECK) ./...

## crossbuild: compile every release platform, so a platform-specific break is caught.
crossbuild:
	@for p in $(CROSS_PLATFORMS); do \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null . || exit 1; \
	done
	@echo "crossbuild: $(CROSS_PLATFORMS) compile"

## tarball: the release tarball of this platform, in promu's layout
## (promu names tarballs after the git remote, which a clone may not have).
TARBALL_NAME := $(BIN)-$(VERSION).$(GOOS)-$(GOARCH)
tarball: build
	$(Q)rm -rf .tarballs/$(TARBALL_NAME) && mkdir -p .tarballs/$(TARBALL_NAME)
	$(Q)cp -R $(BUILD_DIR)/$(BIN) $(TARBALL_FILES) .tarballs/$(TARBALL_NAME)/
	$(Q)tar -C .tarballs -czf .tarballs/$(TARBALL_NAME).tar.gz $(TARBALL_NAME)
	$(Q)rm -rf .tarballs/$(TARBALL_NAME)
	@echo "wrote .tarballs/$(TARBALL_NAME).tar.gz"

## tarball-test: unpack the tarball and run what it holds, as the README's install steps do.
tarball-test: tarball
	$(Q)./scripts/tarball-test.sh .tarballs/$(TARBALL_NAME).tar.gz $(TARBALL_NAME)

## image: the container image IMAGE (default confluent_keys_exporter:VERSION), built without a
## daemon by buildah; `make image IMAGE=registry.example.com/team/confluent_keys_exporter:0.1.0`
## names it for your registry, `make image-push IMAGE=...` pushes it there (buildah push; log in
## first with `buildah login`). With Docker: `make build`, then `docker build -t IMAGE .`.
image: docker

image-push:
	$(BUILDAH) push $(IMAGE)

## docker: the image, as `make image` (the name Prometheus exporters' Makefiles use).
docker: build
	$(Q)cp /etc/ssl/certs/ca-certificates.crt .build/ca-certificates.crt
	$(Q)$(call quiet,docker) $(BUILDAH) bud --isolation chroot -f Dockerfile --build-arg OS=$(GOOS) --build-arg ARCH=$(GOARCH) -t $(IMAGE) .

## image-test: run the image against the simulator and scrape it.
image-test: docker
	$(Q)$(GO) build -o .build/confluent-cloud-sim ./cmd/confluent-cloud-sim
	$(Q)$(call quiet,image-test) env IMAGE=$(IMAGE) ./scripts/image-test.sh

## bench: the figures of docs/benchmarks.md (Go benchmarks, then the load run with the
## audit log's catch-up; ~30 minutes).
## BENCH_BEFORE=<git rev> adds the load run of that revision's binary, side by side.
bench:
	@mkdir -p .build/bench
	@echo "machine: $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $$(free -g | awk '/Mem:/{print $$2}') GiB; $$($(GO) version)"
	$(GO) build -o .build/bench/$(BIN) .
	@echo "production Go lines (no tests, simulator, bench, internal): $$(git ls-files '*.go' | grep -v '_test\.go$$' | grep -v '^internal/\|^bench/\|^cmd/' | xargs cat | wc -l)"
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./collector ./series ./scrape ./auditlog | tee .build/bench/go-bench.txt
	$(GO) run ./bench/loadbench -exporter .build/bench/$(BIN) | tee .build/bench/loadbench.md
	@if [ -n "$(BENCH_BEFORE)" ]; then \
		echo "== the load run against $(BENCH_BEFORE), side by side"; \
		rm -rf .build/bench/before && git worktree add -f --detach .build/bench/before $(BENCH_BEFORE) >/dev/null && \
		(cd .build/bench/before && $(GO) build -o ../$(BIN)-before .) && git worktree remove --force .build/bench/before && \
		$(GO) run ./bench/loadbench -exporter .build/bench/$(BIN)-before -audit-records 0 | tee .build/bench/loadbench-before.md; \
	fi

## bench-smoke: the benchmarks at the smallest size, briefly, so they cannot rot (part of make test).
bench-smoke:
	@mkdir -p .build/bench
	$(Q)$(GO) build -o .build/bench/$(BIN) .
	$(Q)$(call quiet,bench-smoke-go) $(GO) test -short -run '^$$' -bench . -benchtime 3x ./collector ./series ./scrape ./auditlog
	$(Q)$(call quiet,bench-smoke-load) $(GO) run ./bench/loadbench -exporter .build/bench/$(BIN) -keys 1000 -duration 2s -latency 20ms -prometheus-scrapes 3 \
		-audit-records 20000 -audit-keys 1000

## mutation: mutation testing (gremlins, pinned in tools/go.mod) of apiclient, collector,
## config, supervisor, series, scrape, auditlog, secret and backoff, gated on the targets of docs/testing.md
## (efficacy >= 90%, mutant coverage >= 85%). An hour or more on 2 cores, so not part of make test. The
## logs and JSON reports land in .build/mutation/.
MUTATION_PKGS := apiclient collector config supervisor series scrape auditlog secret backoff
mutation:
	@mkdir -p .build/mutation
	@for p in $(MUTATION_PKGS); do \
		echo "== gremlins unleash ./$$p"; \
		GOFLAGS=-count=1 $(GREMLINS) unleash --timeout-coefficient 20 \
			--threshold-efficacy 90 --threshold-mcover 85 \
			-o .build/mutation/$$p.json ./$$p > .build/mutation/$$p.log 2>&1; rc=$$?; \
		grep -E '^ *(LIVED|TIMED OUT|NOT COVERED) |^(Killed|Timed out|Test efficacy|Mutator coverage)' .build/mutation/$$p.log; \
		[ $$rc -eq 0 ] || { echo "$$p: gremlins failed (.build/mutation/$$p.log)"; exit 1; }; \
		awk '/^Test efficacy:/ { e = $$3 + 0 } /^Mutator coverage:/ { c = $$3 + 0 } \
			END { if (e < 90 || c < 85) { printf "%s: efficacy %s%%, coverage %s%%: below the targets (90%%, 85%%)\n", p, e, c; exit 1 } }' \
			p=$$p .build/mutation/$$p.log || exit 1; \
	done

## chart-test: helm lint --strict and helm template of charts/ with the default values and
## each ci/*-values.yaml, every object decoded strictly into the Kubernetes types, the
## chart's promises and its golden rendering (internal/charttest, its own module).
chart-test:
	$(Q)$(call quiet,chart-test) $(GO) -C internal/charttest test -count=1 ./...

## prometheusrule: regenerate deploy/kubernetes/prometheusrule.yaml from alerts/, and the
## chart's copies of the rules and the dashboard.
prometheusrule:
	$(GO) run ./internal/promrule/gen

clean:
	rm -rf .build .tarballs
