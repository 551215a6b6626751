# Trigger events, `fglocal serve` and `fglocal package` (their pytest suites run in the main pytest target).
.PHONY: bench-serve
BENCH_TARGETS += bench-serve

bench-serve: $(STAMP)
	$(PY) bench/serve.py
