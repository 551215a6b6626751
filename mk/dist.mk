# The kit's wheel: `make dist` writes dist/functiongraph_devkit-<version>-py3-none-any.whl, built from
# a copy of the files git would commit (scripts/build-wheel.sh; the .vsix bundles the same build), so
# a stale build/ folder of an earlier build can never add a removed module. tests/test_distribution.py
# installs it into fresh venvs.
.PHONY: dist

dist:
	PYTHON=$(PYTHON) scripts/build-wheel.sh dist
