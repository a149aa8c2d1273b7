# subhub — see README.md. Every target works on a fresh machine with Go and Node/npm.
GO        ?= go
BIN       ?= bin/subhub
NODE_DIR  := e2e/node
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
# The patched netpoll's own tests that drive its poller's reads and writes
# (the code the patch touches), plus the patch's test. Not the whole upstream
# suite: some of its tests fail or hang on this machine with or without the
# patch (see third_party/netpoll/SUBHUB-PATCH.md).
NETPOLL_TESTS := ^(TestPollBufferGrowthAllocatesEventsOnly|TestListenerClosesItsDescriptorOnce|TestConnectionWrite|TestConnectionLargeWrite|TestConnectionRead|TestLargeBufferWrite|TestConnectionLargeMemory|TestParallelShortConnection|TestServerReadAndClose|TestClientWriteAndClose|TestReadv|TestWritev|TestEpollEvent|TestEpollWait|TestEpollETClose|TestEpollETDel|TestPollTrigger|TestPollMod|TestPollClose)$$

.PHONY: all build run test vet fmt-check node-deps test-short bench benchcmp bench-e2e bench-e2e-quick fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/subhub

## run: serve on :8080 with an embedded NATS on 127.0.0.1:4222
run: build
	./$(BIN) serve

## node-deps: install the pinned npm clients used by the end-to-end tests
node-deps:
	@if [ ! -f $(NODE_DIR)/node_modules/.package-lock.json ]; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd third_party/netpoll && $(GO) vet ./...

## test: vet, gofmt, one iteration of every micro-benchmark, the allocation tests (they need -race off), then every test with the race detector (including the npm clients end to end), then the patched netpoll's poller tests
test: node-deps fmt-check vet
	$(GO) test -count=1 -timeout 5m -run '^$$' -bench . -benchtime 1x ./wire/ ./shard/ ./hub/...
	$(GO) test -count=1 -timeout 10m -run 'Alloc|NoRace' ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	cd third_party/netpoll && $(GO) test -race -count=1 -timeout 5m -run '$(NETPOLL_TESTS)' .

## bench: micro-benchmarks (benchstat-friendly; saved to benchmarks/out/new.txt)
bench:
	@mkdir -p benchmarks/out
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./wire/ ./shard/ ./hub/... ./benchmarks/... | tee benchmarks/out/new.txt

## benchcmp: compare benchmarks/out/new.txt against benchmarks/out/old.txt (make bench, save as old, change, make bench)
benchcmp:
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da benchmarks/out/old.txt benchmarks/out/new.txt

## bench-e2e: end-to-end scenarios against subhub, the naive baseline and the floor server; writes benchmarks/RESULTS.md
bench-e2e:
	$(GO) run ./benchmarks/e2e --out benchmarks/RESULTS.md

bench-e2e-quick:
	$(GO) run ./benchmarks/e2e --quick --out benchmarks/out/RESULTS-quick.md

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./wire/

clean:
	rm -rf bin benchmarks/out
