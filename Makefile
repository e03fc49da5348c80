# otelcol-ccp: run Microsoft Sentinel CCP connectors in an OpenTelemetry Collector.
# Every target works on a fresh machine with Go >= 1.26 and the Go module proxy.

GO        ?= go
TOOLS     := $(CURDIR)/.tools
OCB       := $(TOOLS)/builder
MDATAGEN  := $(TOOLS)/mdatagen
BIN       := $(CURDIR)/bin
COLLECTOR := $(BIN)/otelcol-ccp
PKGS      := ./...
# CI runs the tests with the race detector; the e2e test builds the distro itself.
TESTFLAGS ?= -race -count=1 -timeout 45m

.PHONY: all build run test test-unit bench lint fmt vet generate clean tools soak soak-short soak-ha bench-e2e

all: build

$(OCB): tools/go.mod tools/go.sum
	cd tools && GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder

$(MDATAGEN): tools/go.mod tools/go.sum
	cd tools && GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/mdatagen

tools: $(OCB) $(MDATAGEN)

# build: the ocb distro plus the helper programs (ccp command-line tool, emulators/demo).
build: $(OCB)
	@mkdir -p $(BIN)
	$(OCB) --config builder-config.yaml
	cp _build/otelcol-ccp $(COLLECTOR)
	$(GO) build -o $(BIN)/ccpemulator ./internal/emulator/ccpemulator
	@if [ -d cmd/ccp ]; then $(GO) build -o $(BIN)/ccp ./cmd/ccp; fi

# run: the demo. Local emulators of a vendor API and of Azure Monitor Logs Ingestion (with its
# Entra ID token endpoint), and the distro polling one into the other. Ctrl-C stops it.
run: build
	$(BIN)/ccpemulator demo --collector $(COLLECTOR) --config testdata/demo/config.yaml

test: vet build
	$(GO) test $(TESTFLAGS) $(PKGS)

test-unit: vet
	$(GO) test $(TESTFLAGS) -short $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

# bench-e2e: the performance paths through the built distro against the emulators (OTLP/HTTP and
# CCP poll in, azure_monitor_dcr and debug out, a 1,000,000-event backfill), the collector held to
# one CPU; prints one table (events per CPU-second, wire fill, requests per 1,000 events, peak
# RSS). About 2 minutes; see bench/README.md.
bench-e2e: build
	$(GO) run ./bench -collector $(COLLECTOR)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

generate: $(MDATAGEN)
	cd receiver/ccpreceiver && $(MDATAGEN) metadata.yaml
	cd receiver/ccphealthreceiver && $(MDATAGEN) metadata.yaml
	cd exporter/azuremonitordcrexporter && $(MDATAGEN) metadata.yaml
	cd extension/ccpstatusextension && $(MDATAGEN) metadata.yaml
	cd extension/ccpcoordinatorextension && $(MDATAGEN) metadata.yaml

# soak: 1,000,000 events per paging mode, every fault, an Azure incident and 5 kill -9 of the collector (about 17 minutes).
soak: build
	CCP_SOAK=full $(GO) test -count=1 -run 'TestSoak$$' -timeout 40m -v ./soak/

soak-short: build
	$(GO) test -count=1 -run TestSoakShort -timeout 20m -v ./soak/

# soak-ha: three replicas coordinated through one etcd (Debian's etcd-server) through 10 minutes
# of repeated kill -9, SIGSTOP and deposed leaders (about 13 minutes).
soak-ha: build
	CCP_SOAK=ha $(GO) test -count=1 -run 'TestSoakHA$$' -timeout 16m -v ./soak/

clean:
	rm -rf $(BIN) _build .cache
