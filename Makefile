# Two commands set everything up: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint coverage bench bench-small bench-observe bench-events bench-push bench-dav bench-soak bench-peers demo clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("circlebook needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/circlebook serve

# Most tests wait on a server process, a browser or a database, so more workers than cores
# keep the CPU busy (pytest-xdist); `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Line and branch coverage of the in-process suites; the end-to-end tests run the server
# in processes of its own, which this does not measure. Below the floor, it fails.
COVERAGE_FLOOR ?= 69
coverage: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests/unit tests/services tests/storage tests/integration \
		--cov=circlebook --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports

demo: $(STAMP)
	$(BIN)/circlebook demo

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-small: $(STAMP)
	$(BIN)/python -m bench.small $(BENCH_ARGS)

bench-observe: $(STAMP)
	$(BIN)/python -m bench.observe $(BENCH_ARGS)

bench-events: $(STAMP)
	$(BIN)/python -m bench.events $(BENCH_ARGS)

bench-push: $(STAMP)
	$(BIN)/python -m bench.push $(BENCH_ARGS)

bench-dav: $(STAMP)
	$(BIN)/python -m bench.dav

bench-soak: $(STAMP)
	$(BIN)/python -m bench.soak

# Radicale and Xandikos go into a virtualenv of their own under .bench-peers/.
bench-peers: $(STAMP)
	$(BIN)/python -m bench.peers $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache .coverage
