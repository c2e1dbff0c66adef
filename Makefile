# Yiwang — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run — install, migrate, load the demo region, start web + worker on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/yiwang migrate --noinput
	$(BIN)/yiwang load-demo
	$(BIN)/yiwang serve

## make test — the whole suite (SQLite; PostgreSQL when DATABASE_URL is set; browser when Chromium is present)
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/licences.py

clean:
	rm -rf $(VENV) var artifacts
