# Two entry points: `make run` (the bot on its embedded defaults) and `make test` (everything CI
# checks). Both create the virtual environment they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared

.PHONY: run test test-lowest lock lint typecheck contracts knowledge originality pytest eval bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The console also serves the web pages on 127.0.0.1 (override with PMADVICE_HTTP_PORT).
run: export PMADVICE_HTTP_PORT ?= 8765
run: $(VENV)/.installed
	$(BIN)/pmadvice run

test: lint typecheck contracts knowledge originality pytest test-lowest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

contracts: $(VENV)/.installed
	$(BIN)/lint-imports

knowledge: $(VENV)/.installed
	$(BIN)/pmadvice knowledge check

originality:
	@if [ -f "$(SHARED)/tools/originality.py" ]; then \
		$(BIN)/python $(SHARED)/tools/originality.py knowledge/; \
	else \
		echo "originality: $(SHARED)/tools/originality.py not found, skipped"; \
	fi

pytest: $(VENV)/.installed
	$(BIN)/pytest -q

eval: $(VENV)/.installed
	$(BIN)/python $(SHARED)/eval/evaluate.py --cmd "$(BIN)/pmadvice search"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/web.py

clean:
	rm -rf $(VENV) $(LOWEST) .mypy_cache .ruff_cache .pytest_cache test-artifacts

# The declared minimum versions, tested: the suite again on the lowest release of every direct
# dependency (uv keeps a download cache, so only the first run fetches them).
LOWEST := .venv-lowest
test-lowest: $(VENV)/.installed
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e ".[dev]"
	$(LOWEST)/bin/pytest -q -p no:cacheprovider

# requirements.lock pins every runtime dependency for the image; refresh it after changing them.
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet \
		--custom-compile-command "make lock" -o requirements.lock
