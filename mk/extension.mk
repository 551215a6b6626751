# The VS Code extension (vscode-extension/): `make vsix` builds the .vsix; `make test` runs its unit
# tests (ext-unit) and the end-to-end test in code-server + headless Chromium (ext-e2e).
EXT := vscode-extension
EXT_VSIX := $(EXT)/dist/functiongraph-python.vsix
EXT_NPM_STAMP := $(EXT)/node_modules/.install-stamp
EXT_E2E_OUTPUT ?= test-output/e2e

.PHONY: vsix ext-deps ext-typecheck ext-unit ext-e2e

ext-deps: $(EXT_NPM_STAMP)

$(EXT_NPM_STAMP): $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

ext-typecheck: $(EXT_NPM_STAMP)
	cd $(EXT) && npx tsc -p . --noEmit

# Always rebuilt: it bundles the current fglocal/server/debug_adapter sources.
vsix: $(EXT_NPM_STAMP) ext-typecheck
	cd $(EXT) && PYTHON=$(PYTHON) ./scripts/bundle-python.sh
	cd $(EXT) && node scripts/build.mjs
	cd $(EXT) && npx vsce package --no-dependencies --allow-missing-repository --out dist/functiongraph-python.vsix

ext-unit: $(EXT_NPM_STAMP)
	cd $(EXT) && npx tsc -p tsconfig.test.json && node --test out/src/test/

ext-e2e: vsix
	$(EXT)/e2e/run.sh $(EXT_VSIX) $(EXT_E2E_OUTPUT)

TEST_TARGETS += ext-unit ext-e2e
