# Debug adapter: Microsoft's DAP test client (DebugClient) drives `python -m debug_adapter`.
.PHONY: debug-adapter-node-test bench-debug debugpy-legacy

# debugpy 1.5.1, the last release for Python 2.7/3.6 functions, in a folder of its own beside the
# venv's debugpy 1.8 (two releases cannot share one environment; see debug_adapter/debugpy_releases.py).
# The debug tests of every runtime need it, so the pytest target depends on it.
DEBUGPY_LEGACY := $(VENV)/debugpy-1.5.1
DEBUGPY_LEGACY_STAMP := $(DEBUGPY_LEGACY)/.installed-stamp

debugpy-legacy: $(DEBUGPY_LEGACY_STAMP)

$(DEBUGPY_LEGACY_STAMP): $(STAMP)
	rm -rf $(DEBUGPY_LEGACY)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --only-binary=:all: \
		--target $(DEBUGPY_LEGACY) debugpy==1.5.1
	touch $@

pytest: $(DEBUGPY_LEGACY_STAMP)

DEBUG_ADAPTER_NODE_TEST := debug_adapter/node-test

debug-adapter-node-test: $(STAMP) $(DEBUGPY_LEGACY_STAMP)
	cd $(DEBUG_ADAPTER_NODE_TEST) && npm ci --no-audit --no-fund --loglevel=error
	cd $(DEBUG_ADAPTER_NODE_TEST) && PYTHON=$(abspath $(PY)) npm test

# Time to the first breakpoint, against plain debugpy; writes bench/RESULTS.md's "Debug adapter".
bench-debug: $(STAMP)
	$(PY) bench/debug.py --write

TEST_TARGETS += debug-adapter-node-test
BENCH_TARGETS += bench-debug
