# The two commands that matter: `make run` starts the whole system, `make
# test` runs every check. Everything they need is installed by the targets
# below from the Go module proxy, the npm registry and Debian's packages.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN     := $(CURDIR)/.bin
BUF     := $(CURDIR)/tools/node_modules/.bin/buf
# Installed with buf, from tools/package.json.
REDOCLY := $(CURDIR)/tools/node_modules/.bin/redocly
MODULES := platform proto/gen/go services/directory services/intake services/casework services/notification gateway operator stack web
# The modules with code only a test build has (-tags testclock: the clock the
# whole-system tests move; see platform/testclock), vetted in that build too.
TAGGED  := platform services/casework
PLUGINS := $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway $(BIN)/protoc-gen-openapiv2
export PATH := $(BIN):$(PATH)

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

.PHONY: run
run: postgres-binaries $(BIN)/mailpit $(BIN)/nats-server ## Run the whole system with demo data (Ctrl-C stops it).
	cd stack && GOWORK=off go build -o $(BIN)/disputes-local ./cmd/disputes-local
	$(BIN)/disputes-local

.PHONY: test
test: postgres-binaries $(BIN)/mailpit chromium lint breaking check-generated vet rules ## Run every module's tests against real PostgreSQL, NATS and SMTP, and the website's in headless Chromium, plus lint, buf breaking, vet, the generated-code check and the alerting rules' and dashboard's checks.
	@failed=""; for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && GOWORK=off go test -count=1 -timeout 20m ./...) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi
	@echo "== go test tools/openapi3"
	cd tools && GOWORK=off go test -count=1 ./openapi3/

# The website's browser test (web/internal/browsertest, part of make test)
# saves a screenshot of every page it checks; this keeps them in
# docs/screenshots, which the README shows. It needs axe-core from
# tools/package.json, installed with buf.
.PHONY: screenshots
screenshots: postgres-binaries $(BIN)/mailpit chromium $(BUF) ## Refresh docs/screenshots: every page of the website at phone and desktop width, from the browser test.
	rm -f docs/screenshots/*.png
	cd web && GOWORK=off SCREENSHOTS=$(CURDIR)/docs/screenshots go test -count=1 -run '^TestBrowser$$' ./internal/browsertest/

.PHONY: lighthouse
lighthouse: chromium $(BUF) ## Lighthouse's accessibility and best-practices scores of the client's and the members' pages, against the website of a running make run.
	scripts/lighthouse.sh

.PHONY: chaos
chaos: postgres-binaries $(BIN)/mailpit $(BIN)/nats-server ## Fault test: the whole system on durable PostgreSQL under load while each process, NATS and PostgreSQL fail in turn (about eight minutes).
	cd stack && GOWORK=off CHAOS=full go test -count=1 -timeout 60m -run '^TestChaos$$' -v ./chaos/

.PHONY: bench
bench: postgres-binaries $(BIN)/mailpit $(BIN)/nats-server ## Benchmarks: concerns/s through REST beside pgbench's rate for the same transaction, at 1, 8 and 32 clients; the website's pages at 20 clients (p50/p95 ms, bytes).
	cd stack && GOWORK=off go test -count=1 -timeout 30m -run '^$$' -bench . -benchtime 3000x ./bench/

.PHONY: vet
vet: ## go mod tidy check, go vet and gofmt on every module, each built on its own (GOWORK=off).
	@for m in $(MODULES); do \
		echo "== go vet $$m"; \
		(cd $$m && GOWORK=off go mod tidy -diff && GOWORK=off go build ./... && GOWORK=off go vet ./...); \
	done
	cd tools && GOWORK=off go vet ./openapi3/
	@for m in $(TAGGED); do \
		echo "== go vet -tags testclock $$m"; \
		(cd $$m && GOWORK=off go vet -tags testclock ./...); \
	done
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.\(gw\.\)\?go$$')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi

.PHONY: lint
lint: $(BUF) ## buf lint and buf format on the protos; @redocly/cli lint on the OpenAPI document (redocly.yaml).
	$(BUF) lint
	$(BUF) format -d --exit-code proto --path proto/ipn
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true $(REDOCLY) lint --format=stylish

# openapi3 turns the Swagger 2.0 document that `buf generate -o $(1)` wrote
# into $(1)/.data/openapiv2 into the OpenAPI 3 document $(2): tools/openapi3
# converts it with kin-openapi and completes it from the protos (a buf image)
# and the error catalogue, which it first holds to the reasons the code gives.
OPENAPI_DOC := gateway/internal/openapi/disputes.openapi.json
# The reference page's files: Redoc's standalone bundle and its licences, from
# the redoc package pinned in tools/package.json, copied by make generate and
# compared by make check-generated, so that an upgrade is a deliberate change.
REFERENCE   := gateway/internal/httpapi/reference
REDOC_FILES := bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE
openapi3 = $(BUF) build --path proto/ipn -o "$(1)/.data/openapiv2/disputes.binpb" && \
	(cd tools && GOWORK=off go run ./openapi3 \
		-swagger "$(1)/.data/openapiv2/disputes.swagger.json" -image "$(1)/.data/openapiv2/disputes.binpb" \
		-errors $(CURDIR)/proto/ipn/disputes/apidoc/v1/errors.yaml \
		-source $(CURDIR)/platform -source $(CURDIR)/services -source $(CURDIR)/gateway \
		-out "$(2)")

.PHONY: generate
generate: $(BUF) $(PLUGINS) ## Regenerate Go code and the OpenAPI document from the protos (offline).
	$(BUF) format -w proto --path proto/ipn
	$(BUF) generate
	$(call openapi3,$(CURDIR),$(CURDIR)/$(OPENAPI_DOC))
	cp $(addprefix tools/node_modules/redoc/,$(REDOC_FILES)) $(REFERENCE)/

.PHONY: check-generated
check-generated: $(BUF) $(PLUGINS) ## Fail when the committed generated code differs from a fresh generation.
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/proto/gen/go" "$$tmp/gateway/internal/openapi"; \
	$(BUF) generate -o "$$tmp"; \
	$(call openapi3,$$tmp,$$tmp/$(OPENAPI_DOC)); \
	diff -r --exclude=go.mod --exclude=go.sum "$$tmp/proto/gen/go" proto/gen/go; \
	diff "$$tmp/$(OPENAPI_DOC)" $(OPENAPI_DOC); \
	for f in $(REDOC_FILES); do \
		cmp "tools/node_modules/redoc/$$f" "$(REFERENCE)/$${f##*/}" || { echo "$(REFERENCE) is not the pinned redoc's: run make generate"; exit 1; }; \
	done; \
	echo "generated code matches the protos"

# breaking compares the protos in the working tree with those of the last
# commit of main: the local branch main where there is one, else the commit
# checked out (a clone where main is not a local branch). So a change that
# breaks clients (buf.yaml's FILE rules: a field, method or message removed
# or renumbered, a type changed) fails make test before it is committed; one
# meant to break clients belongs in a new package version (v2). On CI the
# clone is at main's head, so there it compares main with itself and passes.
.PHONY: breaking
breaking: $(BUF) ## Check the protos for changes that break clients, against the last commit of main.
	@if git show-ref --verify -q refs/heads/main; then against='.git#branch=main'; else against='.git#ref=HEAD'; fi; \
	echo "buf breaking --against $$against"; \
	$(BUF) breaking --against "$$against"

# rules checks what deploy/ gives Prometheus and Grafana: the alerting rules
# (promtool check rules) and their unit tests (promtool test rules), the
# example scrape configuration (promtool check config), and tools/promtool/metricscheck, which parses
# every expression of the rules and the dashboard with Prometheus's PromQL
# parser and fails on a metric or label that docs/operations.md's table of
# metrics does not list (and on a dashboard that is not valid JSON, older than
# schemaVersion 39 or without its datasource variable).
.PHONY: rules
rules: $(BIN)/promtool ## Check and unit-test the alerting rules in deploy/prometheus, and hold the rules and the Grafana dashboard to the metrics docs/operations.md lists.
	$(BIN)/promtool check rules deploy/prometheus/alerts.yaml
	$(BIN)/promtool test rules deploy/prometheus/alerts_test.yaml
	$(BIN)/promtool check config deploy/prometheus/prometheus.yaml
	cd tools/promtool && GOWORK=off go run ./metricscheck -catalogue $(CURDIR)/docs/operations.md \
		-dashboard $(CURDIR)/deploy/grafana/disputes.json -rules $(CURDIR)/deploy/prometheus/alerts.yaml

.PHONY: tools
tools: $(BUF) $(PLUGINS) $(BIN)/mailpit $(BIN)/nats-server ## Install the pinned code generators and development servers.

$(BUF): tools/package.json tools/package-lock.json
	@scripts/ensure-npm.sh
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $(BUF)

$(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway $(BIN)/protoc-gen-openapiv2: tools/go.mod
	cd tools && GOWORK=off GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go
	cd tools && GOWORK=off GOBIN=$(BIN) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc
	cd tools && GOWORK=off GOBIN=$(BIN) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

# The SMTP server tests and make run use, and make run's NATS server (Debian's
# nats-server is too old for this project).
$(BIN)/mailpit: tools/go.mod
	cd tools && GOWORK=off GOBIN=$(BIN) go install github.com/axllent/mailpit

$(BIN)/nats-server: tools/go.mod
	cd tools && GOWORK=off GOBIN=$(BIN) go install github.com/nats-io/nats-server/v2

# Prometheus's promtool, for make rules, from a module of its own
# (tools/promtool/go.mod, pinned with its go.sum) so that Prometheus's many
# dependencies reach neither tools/go.mod nor the services. A build on a cold
# module cache downloads about 200 modules and compiles them: minutes.
$(BIN)/promtool: tools/promtool/go.mod tools/promtool/go.sum
	cd tools/promtool && GOWORK=off GOBIN=$(BIN) go install github.com/prometheus/prometheus/cmd/promtool

.PHONY: chromium
chromium: ## Install Debian's Chromium when it is missing (the browser test, make screenshots and make lighthouse drive it headless).
	@scripts/ensure-chromium.sh

.PHONY: postgres-binaries
postgres-binaries: ## Install Debian's PostgreSQL server binaries when neither they nor DATABASE_URL are there.
	@scripts/ensure-postgres.sh

.PHONY: clean
clean: ## Remove built binaries and make run's data (database, mail, logs).
	@# As root, from a folder the postgres user cannot enter, make run keeps
	@# its cluster under that user's home and .data/pg links to it.
	@if [ -L .data/pg ] && [ -f .data/pg/linked-from ]; then kept=$$(readlink -f .data/pg); echo "rm -rf $$kept"; rm -rf -- "$$kept"; fi
	rm -rf .bin .data
