# One entry point for newcomers and CI: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test venv lint typecheck pytest bench clean

# Each part of the kit adds its own suites in mk/<part>.mk: `TEST_TARGETS += <target>`.
TEST_TARGETS :=
BENCH_TARGETS :=
-include mk/*.mk

run: $(STAMP)
	$(VENV)/bin/fglocal invoke --code-dir examples/hello --event examples/hello/events/hello.json

venv: $(STAMP)

# editable_mode=compat puts the checkout on sys.path through a plain .pth line: no import hook,
# so `fglocal` starts as fast as an installed copy would.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' --config-settings editable_mode=compat
	touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check fglocal server debug_adapter tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck pytest $(TEST_TARGETS)

bench: $(STAMP) $(BENCH_TARGETS)
	$(PY) bench/invoke.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
