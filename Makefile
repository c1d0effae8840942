# vein2vein: `make demo` runs the main job, `make test` the tests. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SRC    := src tests benchmarks scripts

.PHONY: check-system install demo test lint format bench lock clean

# Required system packages (README, "System packages"); says which are missing.
check-system:
	@$(PYTHON) scripts/check_system.py

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) scripts/check_system.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: check-system $(STAMP)
	$(BIN)/vein2vein demo --out demo-output

test: check-system $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Re-pin every dependency to what resolves today (then commit constraints.txt).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable --exclude vein2vein > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
