# lpbench: build, test, run, bench, lint.
GO ?= go
BIN ?= lpbench

.PHONY: all build test test-short run bench lint fmt clean

all: lint test build

build:
	$(GO) build -o $(BIN) .

# The full suite, with the race detector: what CI runs.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# The quick suite: skips the long tests.
test-short:
	$(GO) test -short -count=1 ./...

# The smoke profile against the embedded simulator.
run:
	$(GO) run . run

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f $(BIN)
