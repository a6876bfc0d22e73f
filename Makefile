# hvaudit — run `make help` for the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/hvaudit/hvaudit/agent.Version=$(VERSION)
PKGS     := ./...
# libvirt_dlopen links libvirt at run time, so no libvirt-dev is needed to build;
# libvirtd adds the test against a real libvirtd + QEMU (it needs root).
TAGS     ?= libvirt_dlopen,libvirtd
# Debian packages the tests use: libvirt's client library (test driver, demo),
# a real daemon with QEMU (under emulation; no KVM needed), the OVMF firmware
# and its descriptors (Secure Boot tests, UEFI guests), Chromium for the HTML
# report and trend page tests, and PostgreSQL for the shared history
# (.ci/postgres.sh starts a throwaway server); openssl for the signature
# interop test.
DEBS     := libvirt0 libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 ovmf chromium postgresql openssl
export GOFLAGS := $(GOFLAGS) -tags=$(TAGS)
# Packages whose code runs concurrently (bounded target collection, the
# parallel engine, paged ESXi retrieval, per-domain libvirt reads): `make
# race` runs their tests under the race detector, without the real-libvirtd
# test.
RACE_PKGS := ./agent/... ./checks/... ./collectors/esxi/... ./collectors/libvirt/...

.PHONY: help build deps test race demo bench lint cross clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build bin/hvaudit
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/hvaudit ./agent/cmd/hvaudit

deps: ## Install the Debian packages the tests use (as root; nothing to do when present)
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $$missing"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "note: $$missing missing; the tests that need them skip (run make deps as root)"; fi

test: build deps ## Run unit and integration tests (integration builds and runs the binary)
	$(GO) test -count=1 -timeout 40m $(PKGS)

race: ## Tests of the concurrent packages under the race detector
	$(GO) test -race -count=1 -tags libvirt_dlopen -timeout 30m $(RACE_PKGS)

demo: build ## Audit the embedded simulated estates; reports land in ./hvaudit-demo/
	@$(MAKE) --no-print-directory deps DEBS=libvirt0
	./bin/hvaudit demo

bench: ## Benchmarks: vSphere audits (2,000 and 10,000 VMs, 30 ms latency, 50 vCenters) beside the floor and per-object fetching, a 2,000-domain KVM audit, normalize, the engine
	@$(MAKE) --no-print-directory deps DEBS=libvirt0
	@echo "load average: $$(cut -d' ' -f1-3 /proc/loadavg) on $$(nproc) cores"
	$(GO) test -run '^$$' -bench 'BenchmarkVSphere|BenchmarkAuditKVM' -benchtime 1x -timeout 90m ./integration/
	$(GO) test -run '^$$' -bench 'BenchmarkNormalize' -benchtime 3x -benchmem -timeout 30m ./collectors/esxi/
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./checks/

lint: ## go vet, gofmt, and go.mod/go.sum as go mod tidy leaves them
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	@# -diff changes nothing and needs no network once the modules are
	@# downloaded (.ci/run's "modules" stage); a diff fails lint.
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

cross: ## Cross-compile and vet for Windows and macOS, and build without cgo
	GOOS=windows $(GO) build -o /dev/null ./agent/cmd/hvaudit
	GOOS=windows $(GO) vet $(PKGS)
	GOOS=darwin $(GO) build -o /dev/null ./agent/cmd/hvaudit
	CGO_ENABLED=0 $(GO) build -o /dev/null ./agent/cmd/hvaudit

clean: ## Remove build output and demo reports
	rm -rf bin hvaudit-demo
