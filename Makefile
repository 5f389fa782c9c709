# lpbench: build, test, run, bench, lint.
GO ?= go
BIN ?= lpbench
# staticcheck at a pinned version, fetched from the module proxy and built on first use (go run
# caches the binary), so lint needs nothing but Go. Override with an installed one if you like.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# revive, pinned and fetched the same way, holds functions to the limits in revive.toml (80 lines,
# cyclomatic complexity 25; test files exempt).
REVIVE ?= $(GO) run github.com/mgechev/revive@v1.17.0

.PHONY: all build test test-names test-short run bench lint fmt clean

all: lint test build

# The version every result and history row carries: git describe of the checkout (go run and this
# machine's GOFLAGS=-buildvcs=false record none), else the module's or "(devel)".
VERSION ?= $(shell git describe --always --dirty 2>/dev/null)
LDFLAGS = $(if $(VERSION),-X github.com/lpbench/lpbench/engine.version=$(VERSION))

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

# Tests whose figures are timed for real: run without the race detector, which would slow the
# client they measure. (A -run pattern that matches nothing passes: test-names checks each name.)
TIMED_ENGINE = TestFixedLatencyMeasured|TestStallNotHidden|TestCompareSimRuns|TestCompareSimRunsBySecond|TestCapacityKnee|TestSoak|TestCheckGrowingQueue
TIMED_CAPACITY = TestCapacityFindsTheSimulatorsLimit|TestCapacityFindsTheQuota|TestCapacityStepFailsOnStationarity|TestCapacityInterrupted|TestCapacityCutByCaps
TIMED_E2E = TestCapacityGeneratorBound|TestHistoryAA
TIMED_COMPARE = TestCompareBlocksCalibration

# The full suite: everything with the race detector, then the timed tests without it.
test: test-names
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...
	$(GO) test -count=1 -run '$(TIMED_ENGINE)' ./engine
	$(GO) test -count=1 -run '$(TIMED_CAPACITY)' ./capacity
	$(GO) test -count=1 -run '$(TIMED_E2E)' ./e2e
	$(GO) test -count=1 -run '$(TIMED_COMPARE)' ./compare

# Every name the timed phase runs exists in its package (a -run pattern matching nothing passes).
test-names:
	.ci/has-tests ./engine '$(TIMED_ENGINE)'
	.ci/has-tests ./capacity '$(TIMED_CAPACITY)'
	.ci/has-tests ./e2e '$(TIMED_E2E)'
	.ci/has-tests ./compare '$(TIMED_COMPARE)'

# The quick suite: skips the long tests.
test-short:
	$(GO) test -short -count=1 ./...

# The smoke profile against the embedded simulator.
run:
	$(GO) run -ldflags '$(LDFLAGS)' . run

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	GO=$(GO) bench/run.sh

# gofmt over every tracked file; go vet, staticcheck and revive over both modules (the root and
# deploy/).
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(REVIVE) -config revive.toml -set_exit_status ./...
	cd deploy && $(GO) vet ./... && $(STATICCHECK) ./... && $(REVIVE) -config ../revive.toml -set_exit_status ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f $(BIN)
