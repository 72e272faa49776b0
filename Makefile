# FairShift: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run install migrate seed test lint audit bench load soak clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies

migrate: install  ## bring the database up to date
	$(FLASK) db upgrade

seed: migrate  ## load the demo programme once (skipped when already there)
	FAIRSHIFT_CONFIG=$${FAIRSHIFT_CONFIG:-development} $(FLASK) seed-demo

run: seed  ## serve the demo site on http://127.0.0.1:$(PORT)
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The browser tests (tests/e2e) drive Debian's Chromium; without it they are left out, loudly.
CHROMIUM    := $(or $(E2E_CHROMIUM),$(shell test -x /usr/bin/chromium && echo /usr/bin/chromium || command -v chromium))
E2E_IGNORE  := $(if $(CHROMIUM),,--ignore=tests/e2e)
NO_CHROMIUM := Chromium not found: the browser tests in tests/e2e were NOT run (install Debian's chromium package)

# pytest-xdist spreads the suite over the cores (TEST_WORKERS=0 runs it in one process); tests
# that share one thing (the browser server, the Redis database) are grouped onto one worker.
TEST_WORKERS ?= auto
XDIST        := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

test: install  ## the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
	@$(if $(CHROMIUM),,echo "$(NO_CHROMIUM)")
	env -u TEST_DATABASE_URL $(PY) -m pytest $(XDIST) $(E2E_IGNORE)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(PY) -m pytest $(XDIST) $(E2E_IGNORE); \
	else \
		echo "TEST_DATABASE_URL is not set: the PostgreSQL run was skipped (CI sets it)."; \
	fi
	@$(if $(CHROMIUM),,echo "$(NO_CHROMIUM)")

# pip-audit on the locked versions (constraints.txt pins every package, so no resolving); the
# exceptions, each with its date and reason, are listed in docs/security.md.
AUDIT        := $(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off
AUDIT_IGNORE :=

lint: install  ## static checks, and the dependency audit when a vulnerability service answers
	$(VENV)/bin/ruff check portal tests bench config.py wsgi.py
	@probe=$$(mktemp); echo "pip-audit==2.10.1" > $$probe; \
	if $(AUDIT) -r $$probe >/dev/null 2>&1; then rm -f $$probe; \
		$(AUDIT) -r constraints.txt $(AUDIT_IGNORE); \
	else rm -f $$probe; \
		echo "pip-audit: no vulnerability service answers from here (PyPI JSON API, OSV):"; \
		echo "  dependency audit SKIPPED. Run 'make audit' on a machine that reaches them."; \
	fi

audit: install  ## the locked dependencies against known vulnerabilities (needs pypi.org)
	$(AUDIT) -r constraints.txt $(AUDIT_IGNORE)

# gunicorn (the deploy extra, at its locked version) for the load and soak tests.
DEPLOY := $(VENV)/.deploy-installed
$(DEPLOY): $(STAMP) constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt gunicorn
	touch $(DEPLOY)

bench: install $(DEPLOY)  ## benchmarks (printed; figures kept in docs/benchmarks.md)
	$(PY) bench/close_period.py
	$(PY) bench/fair_pay.py
	$(PY) bench/pages.py
	$(PY) bench/pay_kept.py
	$(PY) bench/dashboard.py  # city size; BENCH_NATIONAL=1 adds 5,000 workers (minutes to build)
	@if [ "$$BENCH_LOAD" = 1 ]; then $(MAKE) --no-print-directory load; \
	else echo "BENCH_LOAD=1 adds the load test (make load)"; fi

load: install $(DEPLOY)  ## gunicorn, 2 workers, 16 users per page with wrk (BENCH_NATIONAL=1: 5,000 workers)
	@command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk"; exit 1; }
	$(PY) bench/load.py

soak: install $(DEPLOY)  ## gunicorn, 4 workers, 50 users writing for 60 s, then every write checked
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) instance .pytest_cache
