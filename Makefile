# The two commands of the README: `make run` and `make test`.
.PHONY: run test test-hsm lint venv system-deps

venv:
	@scripts/venv.sh

system-deps:
	@scripts/system-deps.sh

## run the service on its embedded default (SQLite + ./var) at http://127.0.0.1:8000
run: venv
	.venv/bin/eseal serve

## the whole test suite (SQLite by default; ESEAL_TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
test: venv system-deps
	.venv/bin/pytest -q

## the interop suite and signing API tests with every key in a fresh SoftHSM2 token
test-hsm: venv system-deps
	scripts/test-hsm.sh

## ruff (lint and format) and mypy
lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
