# FairShift: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run install migrate seed test lint bench clean

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

test: install  ## the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
	env -u TEST_DATABASE_URL $(PY) -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(PY) -m pytest; \
	else \
		echo "TEST_DATABASE_URL is not set: the PostgreSQL run was skipped (CI sets it)."; \
	fi

lint: install  ## static checks
	$(VENV)/bin/ruff check portal tests bench config.py wsgi.py

bench: install  ## benchmarks (printed; figures kept in docs/benchmarks.md)
	$(PY) bench/close_period.py
	$(PY) bench/fair_pay.py

clean:
	rm -rf $(VENV) instance .pytest_cache
