# reelfactory: `make demo` runs the main job, `make test` runs the tests.
# Each target creates .venv and installs what it needs (Debian packages included) itself.

VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip --quiet --disable-pip-version-check
SYSTEM_PKGS := fonts-dejavu-core
# `make test` only: the browser tests drive Debian's chromium (Playwright downloads none).
TEST_SYSTEM_PKGS := chromium
# torch's CPU wheel: an unpinned torch pulls a multi-GB CUDA build.
TORCH       ?= torch==2.13.0
DEMO_APPROVER ?= maya.chen@aurora-coffee.example   # listed in brand_kits/aurora-coffee/kit.yaml
PYTEST_ARGS ?=

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1

.PHONY: demo up test lint bench system-deps test-system-deps clean

# Installs those of the Debian packages $(1) that are missing; `dpkg -s` keeps reruns quiet.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PKGS))

test-system-deps: system-deps
	$(call apt_install,$(TEST_SYSTEM_PKGS))

$(VENV)/.base: pyproject.toml | system-deps
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install '$(TORCH)'
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | test-system-deps
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install '$(TORCH)'
	$(PIP) install -e '.[dev,render]'
	@touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(VENV)/bin/reel demo --approve-as $(strip $(DEMO_APPROVER))

up: $(VENV)/.base
	$(VENV)/bin/reel up

test: $(VENV)/.dev
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy reelfactory flows tasks bench tests

bench: $(VENV)/.dev
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) reel-data .pytest_cache .mypy_cache .ruff_cache
