# The front door. Every target sets itself up from nothing: a .venv with crmine installed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export OPENBLAS_NUM_THREADS ?= 1
export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: demo test bench lint format clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,spark]"
	rm -f $(VENV)/.installed-* && touch $@

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,spark,bench]"
	touch $@

demo: $(STAMP)
	$(BIN)/crmine demo --dir demo

# The report test opens the page in Debian's Chromium; install it when missing (root with apt only).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
	  echo "chromium not installed; the browser test will be skipped"; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) demo build .pytest_cache
