# qbslack: `make run` serves the embedded default, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install lint typecheck bench clean

$(BIN)/qbslack: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/qbslack

install: $(BIN)/qbslack

run: install
	$(BIN)/qbslack db upgrade
	PORT=$(PORT) $(BIN)/qbslack serve --port $(PORT)

test: lint typecheck
	$(BIN)/python -m pytest -q

# Style, formatting and the layer contracts (a wrong-way import fails here).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
