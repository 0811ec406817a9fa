# Tastemaker — `make run` starts the product on embedded defaults; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run install test test-deps bench lint messages clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

install: $(VENV)/.installed

# the demo offers the sandbox payment provider (off by default: it makes money up; never on a public instance)
run: export TASTEMAKER_PAYMENT_PROVIDERS ?= sandbox
run: install
	$(BIN)/tastemaker migrate --noinput
	$(BIN)/tastemaker seed-demo
	$(BIN)/tastemaker serve --host $(HOST) --port $(PORT)

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

test-deps: $(VENV)/.test-installed
	bash scripts/system-deps.sh

test: test-deps
	bash scripts/test.sh

bench: test-deps
	$(BIN)/python tests/bench/run.py

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports

messages: install
	cd src/tastemaker && ../../$(BIN)/tastemaker makemessages -l zh_Hans && ../../$(BIN)/tastemaker compilemessages

clean:
	rm -rf $(VENV) var
