# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-all bench chromium venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(STAMP)

# The browser test drives Debian's Chromium (browser downloads do not work here); a CJK font
# makes the Chinese names in its screenshots readable.
chromium:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto.*cjk"; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium and a CJK font for the browser test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
		else \
			echo "chromium missing and cannot be installed here (need root and apt-get): the browser test will fail"; \
		fi; \
	fi

# Synthesise a world, load it, run, write tonight's report, then serve the dashboard.
demo: $(STAMP)
	$(BIN)/linker demo

test: $(TEST_STAMP) chromium
	$(BIN)/python -m pytest -q

# Everything, slow tests included (their figures are also covered by bench/).
test-all: $(TEST_STAMP) chromium
	$(BIN)/python -m pytest -q -m ''

bench: $(TEST_STAMP)
	$(BIN)/python bench/ingest.py --sizes 100000,1000000
	$(BIN)/python bench/resolution.py
	$(BIN)/python bench/detection.py
	$(BIN)/python bench/nightly.py
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) build *.egg-info demo .pytest_cache
