# make run   — the dashboard (a real host if one is found, else the built-in demo host); installs only what
#              running needs (python3-venv, python3-libvirt, the venv)
# make test  — lint, type check, the single file and the whole test suite; installs the labs' packages too
# make dist  — dist/xentui.pyz: one file to copy to a dom0 and run with its python3 (3.9 or newer)
# make demo  — the dashboard on the built-in demo host
# make bench — the benchmark (about 25 minutes, and 15 more in the Xen lab); each part writes its own section of docs/benchmarks.md
# make soak  — 30 minutes against the real libvirt lab with guests coming and going; writes docs/soak.md
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run demo test lint setup setup-run dist screenshots bench soak clean

setup-run:
	@bash scripts/setup.sh run

setup:
	@bash scripts/setup.sh test

run: setup-run
	@$(BIN)/xentui $(ARGS)

demo: setup-run
	@$(BIN)/xentui --demo $(ARGS)

lint: setup
	@$(BIN)/ruff check xentui tests lab scripts bench
	@$(BIN)/ruff format --check xentui tests lab scripts bench
	@$(BIN)/mypy

dist: setup-run
	@$(BIN)/python scripts/build_dist.py

test: lint dist
	@$(BIN)/python -m pytest -q -rs -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests ran" >&2; exit 1; fi; exit $$rc

bench: setup dist
	@PYTHONPATH=. $(BIN)/python -m bench.run
	@PYTHONPATH=. $(BIN)/python -m bench.single_file --write
	@flock /tmp/xentui-xen-lab.lock env PYTHONPATH=. $(BIN)/python -m bench.run --dom0

soak: setup
	@PYTHONPATH=. $(BIN)/python -m bench.soak

screenshots: setup
	@PYTHONPATH=. $(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist
