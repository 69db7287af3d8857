# psnd — build, run and test. `make help` lists the targets.

GO       ?= go
BIN      := bin/psnd
PKG      := github.com/psnd/psnd
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X $(PKG)/internal/version.Version=$(VERSION)
ARGS     ?=

.PHONY: help build run test test-long bench bench-go bench-idle lint fmt clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# The first build on a cold cache downloads modules and compiles every
# dependency for minutes without a word from go; say so before it starts.
# CGO_ENABLED=0: psnd needs no C (its SQLite is pure Go), and a static
# binary maps no libc: the daemon's resident memory is about 1.5 MB
# smaller (BENCHMARKS.md), and the binary runs on any Linux of its
# architecture.
build: ## build bin/psnd with the version stamped in (static: no C needed)
	@echo "Building $(BIN) (the first build downloads and compiles the dependencies: a few minutes; later ones take seconds)..."
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/psnd

run: build ## build, then run the daemon in the foreground (ARGS=--sandbox for the offline X)
	./$(BIN) serve $(ARGS)

test: ## run every test
	$(GO) test -count=1 ./...

test-long: ## run the long tests too (more crash-test iterations, longer fuzzing)
	PSN_TEST_LONG=1 $(GO) test -count=1 -timeout 60m ./...

# Benchmarks (figures in BENCHMARKS.md). Each runs BENCH_COUNT times (6, the
# fewest for which benchstat gives a 95% interval); raw output goes to
# BENCH_OUT, summarised with benchstat when the module proxy serves it. The
# publish benchmarks use the real clock, so their op counts are fixed (200
# posts; one burst of 1,000 per op). BENCH_RUN pipes through tee without
# losing go test's exit status.
BENCH_COUNT ?= 6
BENCH_OUT   ?= /tmp/psnd-bench
BENCHSTAT   ?= $(GO) run golang.org/x/perf/cmd/benchstat@latest
BENCH_RUN    = bash -o pipefail -c
BENCH_PKGS   = $(filter-out $(PKG)/internal/daemon $(PKG)/internal/e2e,$(shell $(GO) list ./...))

bench: bench-go bench-idle ## run every benchmark, then the 60 s idle-daemon measurement

bench-go: ## the Go benchmarks only (publish lateness, psnd list, text counting)
	@mkdir -p $(BENCH_OUT)
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench . -benchmem -count=$(BENCH_COUNT) $(BENCH_PKGS) | tee $(BENCH_OUT)/text.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'PublishLateness/single' -benchtime=200x -count=$(BENCH_COUNT) ./internal/daemon | tee $(BENCH_OUT)/lateness.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'PublishLateness/burst1000' -benchtime=1x -count=$(BENCH_COUNT) ./internal/daemon | tee -a $(BENCH_OUT)/lateness.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'PublishBurstRealTokens' -benchtime=1x -count=$(BENCH_COUNT) ./internal/daemon | tee -a $(BENCH_OUT)/lateness.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'ListPostsAPI' -benchtime=3x -benchmem -count=$(BENCH_COUNT) ./internal/daemon | tee $(BENCH_OUT)/list.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'ListCommand|ListJSONClientSide' -benchtime=3x -benchmem -count=$(BENCH_COUNT) -timeout 60m ./internal/e2e | tee -a $(BENCH_OUT)/list.txt"
	$(BENCH_RUN) "$(GO) test -run '^$$' -bench 'DaemonStart' -benchtime=40x -count=$(BENCH_COUNT) ./internal/e2e | tee $(BENCH_OUT)/start.txt"
	@if [ -d bench/twitter-text-js/node_modules/twitter-text ]; then bash bench/twitter-text-js/e2e.sh $(BENCH_COUNT); \
	else echo "skipped the end-to-end text comparison: run npm install in bench/twitter-text-js"; fi
	-$(BENCHSTAT) $(BENCH_OUT)/lateness.txt
	-$(BENCHSTAT) $(BENCH_OUT)/list.txt

bench-idle: ## `psnd serve` idle (fresh, after 10,000 API creates, after a 100k list): CPU, RSS, wake-ups over 3 x 60 s each
	@mkdir -p $(BENCH_OUT)
	$(BENCH_RUN) "PSN_BENCH_IDLE=1 $(GO) test -count=1 -run '^TestIdleDaemon$$' -v -timeout 30m ./internal/e2e | tee $(BENCH_OUT)/idle.txt"

# staticcheck is pinned (the module proxy serves it; nothing to install by
# hand); staticcheck.conf says which checks run and why.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output
	rm -rf bin
