# riptide: the two commands a new user needs are `make run` and `make test`.
GO ?= go

.PHONY: run test test-short bench build fmt vet fuzz schema images

# Run the built-in NATS smoke scenario on the process platform. The first run
# builds the pinned nats-server with the Go toolchain (about a minute).
run:
	$(GO) run ./cmd/riptide run scenarios/nats-smoke.yaml

# Everything, real clusters included (a few minutes on 2 cores).
test: vet
	$(GO) test -race -count=1 -timeout 20m ./...

# Unit tests only: no cluster is launched.
test-short:
	$(GO) test -short -count=1 ./...

# `make test` runs the scenario loader's fuzz seeds (testdata and the
# catalog); this searches for new inputs. FUZZTIME=30m for a longer run.
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./scenarios/

# Regenerate scenarios/scenario.schema.json after changing the scenario
# types; TestSchemaUpToDate fails until it matches.
schema:
	$(GO) generate ./scenarios

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

build:
	$(GO) build -o bin/riptide ./cmd/riptide

# Local images for the docker platform on an engine without a registry:
# riptide/nats-server:2.12.1 and riptide/toxiproxy:2.12.0, FROM scratch with
# static binaries built by the Go toolchain. The docker tests build what they
# need on first use, so `make test` does not depend on this (docs/docker.md).
images:
	$(GO) run ./images/build

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt needed" && exit 1)
	$(GO) vet ./...
