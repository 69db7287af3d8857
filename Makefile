# psnd — build, run and test. `make help` lists the targets.

GO       ?= go
BIN      := bin/psnd
PKG      := github.com/psnd/psnd
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(PKG)/internal/version.Version=$(VERSION)
ARGS     ?=

.PHONY: help build run test test-long bench lint fmt clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/psnd with the version stamped in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/psnd

run: build ## build, then run the daemon in the foreground (ARGS=--sandbox for the offline X)
	./$(BIN) serve $(ARGS)

test: ## run every test
	$(GO) test -count=1 ./...

test-long: ## run the long tests too (more crash-test iterations, longer fuzzing)
	PSN_TEST_LONG=1 $(GO) test -count=1 -timeout 60m ./...

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output
	rm -rf bin
