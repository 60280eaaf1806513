# flint — build, test and run targets. `make dev` and `make test` are the two
# commands a newcomer needs; both install what they need through hack/.

GO       ?= go
BIN      ?= bin/flint
PKGS     ?= ./...
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: all build test bench lint dev deps testenv nsqd clean

all: build

# Binaries are built without cgo, as the images are: a static binary starts about
# 20 ms sooner (no dynamic loader, no cgo runtime), which flint dev's start shows.
# hack/stamp stamps the module version of HEAD (its tag, or a pseudo-version of
# the commit) and that module's checksums, which `flint version` prints and the
# function projects of `flint compile` require.
build: deps
	CGO_ENABLED=0 $(GO) build -ldflags "$$($(GO) run ./hack/stamp)" -o $(BIN) .

deps:
	@bash hack/deps.sh

# Prints where the etcd and kube-apiserver binaries of the tests are, building
# them the first time (about 7 minutes; a no-op afterwards).
testenv:
	@bash hack/testenv.sh

# Prints where the nsqd and nsqlookupd of the nsq source's tests are, building
# them the first time (seconds; a no-op afterwards).
nsqd:
	@bash hack/nsqd.sh

# FLINT_ARGO_EXAMPLES is Argo Events' own examples, which test/conformance
# loads and compiles unchanged (hack/argo-examples.sh fetches them once).
test: deps testenv nsqd
	FLINT_ARGO_EXAMPLES="$${FLINT_ARGO_EXAMPLES:-$$(bash hack/argo-examples.sh)}" $(GO) test $(TESTFLAGS) $(PKGS)

# The ratio benchmark of flint dev against a bare HTTP relay and a durable one
# (hack/bench-e2e.sh), then the in-process Go benchmarks. BENCHARGS go to the
# load generator.
bench: deps
	bash hack/bench-e2e.sh $(BENCHARGS)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./test/bench/

lint: deps
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

dev: build
	./$(BIN) dev -f examples/webhook/

clean:
	rm -rf bin
