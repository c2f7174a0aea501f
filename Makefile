# Two set-up-and-go targets (see README): `make demo` (main job) and `make test` (everything CI runs).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint bench clean data serve

# Fashion-MNIST for the experiments comes from Debian's package (MIT), never from the network at
# run time.
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(FMNIST):
	$(SUDO) apt-get install -y -q dataset-fashion-mnist || \
	  ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q dataset-fashion-mnist)

data: $(FMNIST)

# The explorer's browser tests drive Debian's Chromium (Playwright's own browser download does
# not work offline).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	$(SUDO) apt-get install -y -q chromium || \
	  ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.core: $(BIN)/python pyproject.toml
	$(PIP) -e .
	touch $@

$(VENV)/.all: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[all]'
	touch $@ $(VENV)/.core $(VENV)/.viz $(VENV)/.explorer

$(VENV)/.viz: $(BIN)/python pyproject.toml
	$(PIP) -e '.[viz]'
	touch $@ $(VENV)/.core

$(VENV)/.explorer: $(BIN)/python pyproject.toml
	$(PIP) -e '.[explorer]'
	touch $@ $(VENV)/.core

demo: $(VENV)/.viz
	$(BIN)/upconv tour --out out/tour
	$(BIN)/upconv shape transpose --input 2x2 --kernel 2
	$(BIN)/upconv shape transpose --input 6 --kernel 3 --stride 2 --padding 1 --output-padding 1
	$(BIN)/upconv solve --input 7 --output 14
	$(BIN)/upconv plan --input 28 --layers "conv k=3 s=2 p=1; pool k=2 ceil; conv k=3 s=2 p=1"
	$(BIN)/upconv animate transpose --values '1,2;3,4' --kernel-values '5,5;5,5' --out out/seed002.gif
	@echo "open out/tour/index.html in a browser"

lint: $(VENV)/.all
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

serve: $(VENV)/.explorer
	$(BIN)/upconv serve --open

test: lint $(FMNIST) $(CHROMIUM)
	$(BIN)/python -m pytest -q

bench: $(VENV)/.all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
