# The two commands (see README.md):
#
#   make run    install what is missing, migrate, load the demo logins, serve on 127.0.0.1:5000
#   make test   install what is missing (dev tools too), ruff, then side by side pytest on
#               SQLite (browser tests included) and pytest on a throwaway PostgreSQL 15
#
# Written for Debian 12. As root, missing Debian packages are installed with apt-get; without
# root, make names them, prints the apt-get command and stops.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV      := .venv
BIN       := $(VENV)/bin
FLASK     := $(BIN)/flask --app recovery
STAMP     := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PGBIN     ?= /usr/lib/postgresql/15/bin
RUN_HOST  ?= 127.0.0.1
RUN_PORT  ?= 5000

# Debian packages. Without a CJK font WeasyPrint draws Chinese as empty boxes; without
# libharfbuzz-subset0 each PDF takes seconds instead of a fraction of one. redis-server: the
# tests of the RQ job backend start a throwaway Redis on loopback (tests/jobs/conftest.py).
RUN_PACKAGES  := fonts-noto-cjk libharfbuzz-subset0
TEST_PACKAGES := chromium fonts-noto-cjk libharfbuzz-subset0 poppler-utils redis-server \
                 $(if $(wildcard $(PGBIN)/initdb),,postgresql-15)

# Shell helpers at the top of each recipe: hdr prints a section header.
define PRELUDE
hdr() { if [[ -t 1 ]]; then printf '\n\033[1m==> %s\033[0m\n' "$$*"; else printf '\n==> %s\n' "$$*"; fi; }
endef

# $(call ensure-packages,PACKAGES): install those of PACKAGES that dpkg says are missing (plus
# python3-venv when the venv still has to be made and ensurepip is absent), with one
# apt-get update. Without root: name them, print the command, exit 1.
define ensure-packages
hdr "System packages"
wanted=($(1))
missing=()
if ! command -v dpkg >/dev/null 2>&1; then
    echo "Not a Debian system: make sure these (or their equivalents) are installed: $${wanted[*]}"
else
    if ! command -v python3 >/dev/null 2>&1; then
        wanted+=(python3 python3-venv)
    elif [[ ! -x $(BIN)/python ]] && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    for package in "$${wanted[@]}"; do
        status=$$(dpkg -s "$$package" 2>/dev/null || true)
        [[ $$status == *"Status: install ok installed"* ]] || missing+=("$$package")
    done
fi
if (( $${#missing[@]} == 0 )); then
    echo "present: $${wanted[*]}"
elif [[ $$(id -u) -ne 0 ]]; then
    echo "Missing Debian packages: $${missing[*]}" >&2
    echo "Install them as root, then run make again:" >&2
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $${missing[*]}" >&2
    exit 1
else
    echo "installing: $${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -q update
    apt-get -q install -y --no-install-recommends "$${missing[@]}"
fi
endef

.PHONY: help run test install install-dev translations system-run system-test

help:
	@echo "make run    install what is missing, migrate, load demo logins, serve on http://$(RUN_HOST):$(RUN_PORT)"
	echo "make test   install what is missing, ruff, pytest on SQLite (browser tests too) beside pytest on PostgreSQL 15"

# ---------------------------------------------------------------------------------------------
# make run

run: system-run install translations
	@$(PRELUDE)
	hdr "Database: flask --app recovery db upgrade"
	$(FLASK) db upgrade
	hdr "Demo data: flask --app recovery demo load --if-empty"
	$(FLASK) demo load --if-empty
	hdr "Serving on http://$(RUN_HOST):$(RUN_PORT)/  (Ctrl-C stops)"
	exec $(FLASK) run --host $(RUN_HOST) --port $(RUN_PORT)

# ---------------------------------------------------------------------------------------------
# make test: every check runs, even after one fails; the summary names the failures and the
# exit status is non-zero if any failed. The PostgreSQL server is stopped by .ci/with-postgres.

test: system-test install-dev translations
	@$(PRELUDE)
	pg_pid=""
	pg_log=$$(mktemp)
	trap 'echo; echo "make test: interrupted" >&2; [[ -n $$pg_pid ]] && kill $$pg_pid 2>/dev/null; rm -f "$$pg_log"; exit 130' INT TERM
	results=()
	failed=0
	step() {
	    local name=$$1 started=$$SECONDS status=0
	    shift
	    hdr "$$name"
	    echo "+ $$*"
	    "$$@" || status=$$?
	    record "$$name" $$started $$status
	}
	record() {  # record NAME STARTED STATUS
	    if (( $$3 == 0 )); then
	        results+=("ok      $$1  ($$((SECONDS - $$2)) s)")
	    else
	        results+=("FAILED  $$1  ($$((SECONDS - $$2)) s, exit $$3)")
	        failed=1
	    fi
	}
	step "ruff check" $(BIN)/ruff check .
	step "ruff format --check" $(BIN)/ruff format --check .
	# The two pytest runs go side by side, one per core: the SQLite run keeps one core busy,
	# the PostgreSQL run (pytest plus the server) about one more. The PostgreSQL run's output
	# is kept in a file and shown, whole, when it ends.
	pg_name="pytest on PostgreSQL 15 (not browser)"
	pg_command=(env RECOVERY_TEST_PGBIN=$(PGBIN) bash .ci/with-postgres $(BIN)/pytest -m "not browser")
	pg_started=$$SECONDS
	"$${pg_command[@]}" >"$$pg_log" 2>&1 &
	pg_pid=$$!
	hdr "$$pg_name: started beside the SQLite run, its output follows it"
	step "pytest on SQLite (all tests, browser included)" $(BIN)/pytest
	pg_status=0
	wait $$pg_pid || pg_status=$$?
	pg_pid=""
	hdr "$$pg_name"
	echo "+ $${pg_command[*]}"
	cat "$$pg_log"
	rm -f "$$pg_log"
	record "$$pg_name" $$pg_started $$pg_status
	hdr "Summary"
	printf '  %s\n' "$${results[@]}"
	if (( failed )); then
	    echo "make test: FAILED"
	    exit 1
	fi
	echo "make test: all passed"

# ---------------------------------------------------------------------------------------------
# Building blocks

system-run:
	@$(PRELUDE)
	$(call ensure-packages,$(RUN_PACKAGES))

system-test:
	@$(PRELUDE)
	$(call ensure-packages,$(TEST_PACKAGES))

$(BIN)/python:
	@$(PRELUDE)
	hdr "Creating $(VENV): python3 -m venv $(VENV)"
	python3 -m venv $(VENV)

install: $(STAMP)

install-dev: $(DEV_STAMP)

# Reinstalled only when pyproject.toml changes (the stamps live inside the venv).
$(STAMP): pyproject.toml | $(BIN)/python
	@$(PRELUDE)
	hdr "Installing the project: pip install -e ."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@$(PRELUDE)
	hdr "Installing the project with the dev tools: pip install -e '.[dev]'"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(STAMP)

# The catalogs' own command (recovery/core/translations.py) rather than `pybabel compile`, which
# skips catalogs whose header is marked fuzzy, as Babel marks the catalogs it writes.
translations:
	@$(PRELUDE)
	if compgen -G 'recovery/translations/*/LC_MESSAGES/*.po' >/dev/null; then
	    hdr "Translations: flask --app recovery translations compile"
	    $(FLASK) translations compile
	else
	    echo "(no catalogs in recovery/translations yet: nothing to compile)"
	fi
