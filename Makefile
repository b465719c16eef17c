# ShortScience: `make run` starts everything on http://127.0.0.1:8000; `make test` runs the tests.
# `make engines` starts Kafka, FerretDB (MongoDB protocol) and OpenSearch on loopback for the real-engine tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench faults load fuzz clean engines engines-stop

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	SHORTSCIENCE_DEMO_DATA=$${SHORTSCIENCE_DEMO_DATA:-true} SHORTSCIENCE_LOG_JSON=$${SHORTSCIENCE_LOG_JSON:-false} $(BIN)/shortscience run

# Everything: starts the engines (unless ENGINES=off or already named in the environment) and
# the browser, runs the whole suite, then the API suite again on the distributed backends.
test: $(STAMP)
	bash tests/run.sh $(PYTEST_ARGS)

# Only the embedded tier, no engines, no second run: the quick loop while coding.
test-fast: $(STAMP)
	ENGINES=off $(BIN)/python -m pytest $(PYTEST_ARGS)

# With the engines running (`make engines`), the gateway read and search freshness figures are
# also measured on Kafka + MongoDB protocol + OpenSearch.
bench: $(STAMP)
	set -e; if [ -f $${ENGINES_DIR:-.engines}/env ]; then set -a; . $${ENGINES_DIR:-.engines}/env; set +a; fi; \
	$(BIN)/python -m bench.run $(BENCH_ARGS); \
	$(BIN)/python -m bench.social; \
	$(BIN)/python -m bench.imports; \
	$(BIN)/python -m bench.search; \
	if [ -n "$${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then $(BIN)/python -m bench.search --backends distributed; fi; \
	$(BIN)/python -m bench.portability; \
	$(BIN)/python -m bench.render; \
	$(BIN)/python -m bench.pages

# Issue 8: heavier fault injection (more kills, longer streams), the load test, more fuzzing.
faults: $(STAMP)
	SHORTSCIENCE_FAULTS_HEAVY=1 $(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

load: $(STAMP)
	$(BIN)/python -m bench.loadtest $(LOAD_ARGS)

fuzz: $(STAMP)
	SHORTSCIENCE_FUZZ_EXAMPLES=$${SHORTSCIENCE_FUZZ_EXAMPLES:-500} $(BIN)/python -m pytest tests/fuzz $(PYTEST_ARGS)

# ENGINES_DIR (default .engines) holds the cached jars and binary, the engines' data and logs, and `env`.
engines:
	$(PYTHON) deploy/engines/engines.py start
	@cat $${ENGINES_DIR:-.engines}/env

engines-stop:
	$(PYTHON) deploy/engines/engines.py stop

clean:
	rm -rf $(VENV) data artifacts .pytest_cache *.egg-info
