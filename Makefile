# Jikimi's entry points. A fresh Linux machine needs only python3 (>= 3.11) and make:
# the first target run makes .venv here, installs uv into it and syncs the locked dependencies.
#
#   make run        start everything locally (jikimi up); Ctrl-C stops it
#   make test       the whole suite, integration, browser (e2e) and slow fault/load tests included
#   make browser    install Debian's chromium for the browser tests if it is missing (run by make test)
#   make test-fast  unit tests only (no servers)
#   make lint       ruff and mypy --strict
#   make bench      the benchmarks (python -m bench)
#   make clean      remove the virtual environment and caches (not var/, which holds local data)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# uv.lock was written by uv 0.13; a lock is read by the minor series that wrote it or a newer one.
UV_SPEC := uv>=0.13,<0.14
ARGS ?=

# uv must use the interpreter of .venv, never download one, and keep the project env in .venv.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_NO_PROGRESS := 1

.PHONY: install browser run test test-fast lint bench clean

install: $(VENV)/.synced

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(UV_SPEC)"

# --inexact: uv and pip live in this venv without being in the lock; an exact sync would remove them.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --python $(BIN)/python
	touch $@

# The browser tests drive Debian's chromium (never a downloaded one): installed with apt-get when
# missing and we are root or have sudo; otherwise the one command to run is printed and they skip.
browser:
	@bash tests/e2e/install-chromium.sh

run: install
	$(BIN)/jikimi up $(ARGS)

test: install browser
	$(BIN)/pytest $(ARGS)

test-fast: install
	$(BIN)/pytest -m "not slow and not integration" $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict shared services jikimi

bench: install
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
