# hvaudit — run `make help` for the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/hvaudit/hvaudit/agent.Version=$(VERSION)
PKGS     := ./...

.PHONY: help build test demo bench lint cross clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build bin/hvaudit
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/hvaudit ./agent/cmd/hvaudit

test: build ## Run unit and integration tests (integration uses bin/hvaudit)
	$(GO) test -count=1 -timeout 30m $(PKGS)

demo: build ## Audit the embedded simulated estate; reports land in ./hvaudit-demo/
	./bin/hvaudit demo

bench: ## Benchmarks: a 100-host/5,000-VM simulated vSphere audit and the check engine
	$(GO) test -run '^$$' -bench 'BenchmarkAudit' -benchtime 1x -timeout 30m ./integration/
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./checks/

lint: ## go vet and gofmt
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

cross: ## Cross-compile and vet for Windows and macOS
	GOOS=windows $(GO) build -o /dev/null ./agent/cmd/hvaudit
	GOOS=windows $(GO) vet $(PKGS)
	GOOS=darwin $(GO) build -o /dev/null ./agent/cmd/hvaudit

clean: ## Remove build output and demo reports
	rm -rf bin hvaudit-demo
