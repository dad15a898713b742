# Dhanwantari: `make run` serves the demo, `make test` runs the whole suite.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEV    := DEBUG=true
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-mysql lint format sysdeps install migrate seed clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@bash scripts/sysdeps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed .env

# A checkout's own random SECRET_KEY and column-encryption key, so manage.py
# (check, makemigrations, shell) runs without setup. Never committed; the real
# environment always wins over it, and it never turns DEBUG on. A .env made
# before FIELD_ENCRYPTION_KEYS existed lacks the key: `rm .env` and make again
# (data written with the old key then no longer decrypts; dev data only).
.env:
	@printf '# Local settings for this checkout, made by make (git-ignored).\nSECRET_KEY=%s\nFIELD_ENCRYPTION_KEYS=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		"$$($(PYTHON) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" > $@

sysdeps:
	@bash scripts/sysdeps.sh

run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo
	$(DEV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite against the local MariaDB and Redis, as CI runs it.
test-mysql: install
	DATABASE_URL=mysql://root:@127.0.0.1:3306/dhanwantari REDIS_URL=redis://127.0.0.1:6379/15 \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install
	$(DEV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	$(DEV) $(BIN)/python manage.py seed_demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles

# The benchmark (issue 10): pages and chat through nginx + gunicorn + daphne, beside
# the bare stack. Needs MariaDB, Redis, wrk and nginx (bench/setup.sh installs nginx and wrk
# as root). Fills an empty BENCH_DB with generate_load_data and the demo DB with seed_demo.
BENCH_DB    ?= mysql://root:@127.0.0.1:3306/dh_bench
BENCH_DEMO  ?= mysql://root:@127.0.0.1:3306/dh_bench_demo
BENCH_SCALE ?= 1
BENCH_ARGS  ?=
.PHONY: bench
bench: install
	@bash bench/setup.sh
	$(BIN)/python -m bench.run --database-url $(BENCH_DB) --scale $(BENCH_SCALE) --compare-database-url $(BENCH_DEMO) $(BENCH_ARGS)
