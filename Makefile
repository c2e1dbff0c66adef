# Yiwang — the two commands: `make run` and `make test`.
#   make run    on a fresh clone: .venv, install, migrate, demo data, web + worker on http://127.0.0.1:8000
#   make test   install the dev dependencies, ruff, the whole pytest suite
#               (SQLite; PostgreSQL when DATABASE_URL is set; browser journeys when Chromium is present)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000
# pytest-xdist processes (each with its own test database); PYTEST_WORKERS=0 runs in one process
PYTEST_WORKERS ?= 2
LINT_PATHS := src tests $(wildcard bench)

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
		|| { echo "需要 Python 3.11 或更高版本：make PYTHON=python3.11 …"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "无法建立虚拟环境；Debian/Ubuntu 上请先安装 python3-venv"; rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/yiwang migrate --noinput
	$(BIN)/yiwang load-demo
	$(BIN)/yiwang serve $(ADDR)

# pytest answers 5 when it collected no tests: make fails on it like on any other failure
test: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

# make bench [BENCH_SCALE=small]: every benchmark on the production set-up, one table, bench/results/latest.json
BENCH_SCALE ?= full
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py --scale $(BENCH_SCALE)

clean:
	rm -rf $(VENV) var artifacts
