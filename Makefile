# Hallway: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(abspath .)
LOCAL := $(ROOT)/.local
VENV := $(LOCAL)/venv
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help
help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@scripts/dev/venv.sh
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## create .local/venv with every Python dependency

.PHONY: proto
proto: venv ## regenerate gen/hallway from proto/
	$(PY) -m hallway_dev.protogen

.PHONY: infra-up
infra-up: venv ## fetch (cached) and start Kafka, PostgreSQL, OpenSearch, SMTP sink on loopback
	scripts/stack/up.sh

.PHONY: infra-down
infra-down: ## stop the local infrastructure
	scripts/stack/down.sh

.PHONY: up
up: venv ## bring up everything: infrastructure, services, gateway, demo data (NO_SEED=1 to skip)
	scripts/stack/up.sh
	scripts/dev/run.sh start

.PHONY: down
down: ## stop services and infrastructure started by `make up`
	-scripts/dev/run.sh stop
	scripts/stack/down.sh

.PHONY: token
token: venv ## mint a bearer token: make token HANDLE=alice
	@$(PY) -m hallway_dev.devpki $(LOCAL)/pki >/dev/null
	@env $$($(PY) -m hallway_dev.devpki $(LOCAL)/pki --env gateway) HALLWAY_DEV_MODE=true \
	  $(PY) -m hallway_gateway token $(HANDLE)

.PHONY: lint
lint: venv ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: test
test: venv ## the whole suite: unit, integration, end-to-end, crash, deploy checks
	scripts/dev/test.sh

.PHONY: faults
faults: venv ## the full fault matrix: kill -9 / SIGSTOP each service and (private) Kafka, PostgreSQL, OpenSearch under load; prints the table
	HALLWAY_FAULTS_FULL=1 scripts/dev/test.sh tests/faults -s -p no:cacheprovider

.PHONY: contracts
contracts: venv ## regenerate contracts/ (AsyncAPI per service, JSON schema per event)
	$(PY) -m hallway_dev.asyncapi

.PHONY: catalogue
catalogue: venv ## re-render the service catalogue: chart files/catalogue.yaml, docker/Dockerfile stages, docs tables
	$(PY) -m hallway_dev.catalogue

.PHONY: chart-readme
chart-readme: ## regenerate charts/hallway/README.md's parameter tables from values.yaml's @param comments
	"$$(scripts/tools/readme-generator.sh)" -v charts/hallway/values.yaml -r charts/hallway/README.md

.PHONY: manifests
manifests: ## re-render deploy/k8s from the Helm chart (a test keeps them in sync)
	scripts/tools/render-manifests.sh
