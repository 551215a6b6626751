# Language server (server/): its pytest suites (tests/test_server_*.py) run in the main pytest target.
# The benchmark installs jedi-language-server into a throwaway venv under .tools/ for the comparison.
.PHONY: bench-lsp lsp-smoke
BENCH_TARGETS += bench-lsp

bench-lsp: $(STAMP)
	$(PY) bench/lsp.py --write

# Start the server over stdio and print its version (quick check of an installed copy).
lsp-smoke: $(STAMP)
	$(PY) -m server --version
