# The two commands: `make run` and `make test`. Everything they need is set up on the way.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3
export FLASK_APP := wsgi
# The address QR posters carry (required by the app); the demo's own unless one is given.
export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test setup db demo translations extract-messages bench clean

setup: $(VENV)/.installed node_modules/.installed translations

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compiled catalogues are build output (*.mo is ignored by git).
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d inspect_app/translations

# Refresh the catalogues after changing user-facing text; then translate the new entries in zh.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o inspect_app/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel -q update -i inspect_app/translations/messages.pot -d inspect_app/translations --no-fuzzy-matching --ignore-obsolete

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask checklists install

demo: db
	$(BIN)/flask demo

# gunicorn and the worker (escalation, reminders, retention: `flask worker`) side by side. Ctrl-C
# reaches both (one process group); when gunicorn ends for any reason the trap stops the worker too.
run: demo
	@echo ""
	@echo "SafeCampus Inspect: http://$(HOST):$(PORT)/"
	@echo ""
	@$(BIN)/flask worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The suite runs on SQLite; with TEST_DATABASE_URL set (as .ci/run does) it runs again on PostgreSQL.
# The second pass leaves out the tests that start their own gunicorn on a SQLite instance (the
# browser tests, the served-app test and the two processes on one Redis): they would only repeat
# the first pass. Each pass runs in pytest-xdist processes, a whole file to a process so module-wide
# fixtures are built once. The first pass has the browser tests, which also wait (on Chromium, on a
# retry's back-off, on a token to expire): a third process fills those waits on two cores (226 and
# 238 s against 252 and 261 s with two, alternated; docs/benchmarks.md). The other passes are all
# CPU, and keep one process a core.
TEST_WORKERS ?= 2
FIRST_PASS_WORKERS ?= 3
PYTEST_IN := $(BIN)/python -m pytest -q --dist loadfile --numprocesses
PYTEST := $(PYTEST_IN) $(TEST_WORKERS)

# With TEST_S3_ENDPOINT set (.ci/run starts SeaweedFS and Redis) the tests that keep files (photos,
# ticket evidence, reports with their pictures, the photo API) and the tests of the rate limits (sign-in,
# complaints, invitation codes) run a third, short time with the uploads in that S3 server and the counts
# in Redis, as a province's servers run; a plain machine skips it. `TEST_STORAGE=s3 pytest tests/photos`
# starts a server of its own; `TEST_LIMITS=redis` counts in TEST_REDIS_URL (default 127.0.0.1:6379).
S3_TESTS := tests/photos tests/tickets tests/reports tests/visits/test_api.py
LIMIT_TESTS := tests/accounts tests/complaints tests/volunteers

# The two machines (tests/test_two_machines.py: two gunicorn instances on one PostgreSQL, SeaweedFS and
# Redis) need TEST_DATABASE_URL: with it they run in the PostgreSQL pass alone (once is the point, and
# each run starts four servers); without it the first pass collects the test, which skips, or fails
# under CI.
TWO_MACHINES_ELSEWHERE := $(if $(TEST_DATABASE_URL),--ignore=tests/test_two_machines.py)

# Bytecode is kept even where the environment says not to (PYTHONDONTWRITEBYTECODE=1 on the project's
# machines): each xdist process, gunicorn and `flask` the suite starts would otherwise compile the app
# and rewrite every test module's asserts again (3 s per process at collection); the second and third
# passes, and every later run, read them back. __pycache__ is ignored by git.
test: export PYTHONDONTWRITEBYTECODE :=
test: setup
	$(PYTEST_IN) $(FIRST_PASS_WORKERS) $(TWO_MACHINES_ELSEWHERE)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  TEST_DB=postgresql $(PYTEST) --ignore=tests/browser --ignore=tests/test_served.py --ignore=tests/test_shared_limits.py; \
	fi
	@if [ -n "$$TEST_S3_ENDPOINT" ]; then \
	  echo "--- the upload and rate-limit tests again, on S3 ($$TEST_S3_ENDPOINT) and Redis"; \
	  TEST_STORAGE=s3 TEST_LIMITS=redis $(PYTEST) $(S3_TESTS) $(LIMIT_TESTS); \
	fi

bench: demo
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
