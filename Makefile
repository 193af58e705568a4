# dirigent: every target creates and uses the virtual environment in .venv.
# On a fresh Debian machine as root, `make test` / `make demo` also apt-get install
# Java 17, Maven, redis-server, kcat (an outside producer for the tests), prometheus
# (promtool for the alert rules, the server for the scrape test) and chromium (the
# dashboard's browser test) when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

.PHONY: help deps venv dev-up dev-down dev-status test test-unit test-integration test-heavy test-faults chaos \
        lint typecheck check demo bench bench-peers eval-anomaly deploy-check clean

help:
	@echo "make test        unit + integration tests against real Kafka and Redis"
	@echo "make demo        run the order-fulfilment demo end to end"
	@echo "make check       ruff + mypy --strict"
	@echo "make dev-up      start local Kafka and Redis (dev-down, dev-status)"
	@echo "make test-heavy  long fault-injection runs"
	@echo "make test-faults fault profile (own Kafka+Redis, SIGKILLs, poison; a few minutes)"
	@echo "make chaos       long seeded fault run with a table (CHAOS_SEED=..., ~8 min, stops by 25)"
	@echo "make bench       saga throughput benchmark"
	@echo "make eval-anomaly seeded incidents through the anomaly detector; table in docs/anomaly.md"
	@echo "make bench-peers the same saga on dirigent, faust-streaming and Temporal (not in CI)"
	@echo "make deploy-check hadolint, helm lint/template | kubeconform, actionlint (not in make test:"
	@echo "                 builds helm, kubeconform, actionlint from Go modules once, ~10 min on 2 cores)"

# System tools. Installs with apt-get only when something is missing and we are root.
deps:
	@missing=""; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v kcat >/dev/null || missing="$$missing kcat"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing:$$missing -- install with: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

dev-up: deps venv
	$(BIN)/dirigent dev up

dev-down: venv
	$(BIN)/dirigent dev down

dev-status: venv
	$(BIN)/dirigent dev status

# The README's test command: quality gates, the unit and integration suites, then the
# fault profile (its own Kafka and Redis, killed under load; a few minutes).
test: deps venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest tests/unit tests/integration
	$(BIN)/pytest tests/faults

test-unit: venv
	$(BIN)/pytest tests/unit

test-integration: deps venv
	$(BIN)/pytest tests/integration

test-heavy: deps venv
	$(BIN)/pytest -m heavy tests/heavy

# Starts its own Kafka and Redis on free ports (never the dev stack) and kills only those.
test-faults: deps venv
	$(BIN)/pytest tests/faults

chaos: deps venv
	$(PY) -m tests.faults.chaos

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

check: lint typecheck

demo: deps venv
	$(BIN)/dirigent demo

# Starts the local stack if needed (as make demo does). Options: BENCH_ARGS="--fsync-always"
bench: dev-up
	$(PY) -m bench $(BENCH_ARGS)

# Seeded: the detector core and the pattern miner (~1 min on one core), and the incidents
# replayed through the local Kafka and a real Watcher.
eval-anomaly: dev-up
	$(PY) -m dirigent.watch.eval --write docs/anomaly.md --kafka 127.0.0.1:9092 $(EVAL_ARGS)

# Not in CI: builds the Temporal CLI from Go modules once (.dirigent/tools/, a few minutes);
# if that (or the SDK's install) cannot be done it says why and the other peers still run.
# Options: make bench-peers PEERS_ARGS="--sagas 2000 --peers dirigent,faust" (docs/peers.md).
bench-peers: dev-up
	@$(PY) -c 'import temporalio' 2>/dev/null || $(BIN)/pip install -q -e '.[dev,peers]' || \
	  echo "bench-peers: could not install the temporalio SDK (extra 'peers'): no Temporal peer"
	@bin="$$(bash bench/peers/build_temporal.sh)"; \
	  $(PY) -m bench.peers --temporal-bin "$$bin" $(PEERS_ARGS)

# Not in make test: the first run builds helm, kubeconform and actionlint from Go modules
# (several minutes on two cores) into .dirigent/tools/; later runs take seconds.
# The pure-Python checks of the same files run in make test (tests/unit/deploy).
deploy-check:
	bash deploy/tools/deploy_check.sh

clean:
	-$(BIN)/dirigent dev down
	rm -rf $(VENV) .dirigent .mypy_cache .ruff_cache .pytest_cache
