# Debug adapter: Microsoft's DAP test client (DebugClient) drives `python -m debug_adapter`.
.PHONY: debug-adapter-node-test bench-debug

DEBUG_ADAPTER_NODE_TEST := debug_adapter/node-test

debug-adapter-node-test: $(STAMP)
	cd $(DEBUG_ADAPTER_NODE_TEST) && npm ci --no-audit --no-fund --loglevel=error
	cd $(DEBUG_ADAPTER_NODE_TEST) && PYTHON=$(abspath $(PY)) npm test

# Time to the first breakpoint, against plain debugpy; writes bench/RESULTS.md's "Debug adapter".
bench-debug: $(STAMP)
	$(PY) bench/debug.py --write

TEST_TARGETS += debug-adapter-node-test
BENCH_TARGETS += bench-debug
