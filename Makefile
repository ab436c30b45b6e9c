# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint typecheck services screenshots bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# In development, `make run` and `make demo` meet on the demo PBX's AMI port (`callrouter demo pbx`), unless
# CALLROUTER_AMI_HOST is set (in the environment or in .env): then serve talks to that PBX.
DEMO_AMI_PORT ?= 5039
DEMO_PBX_ENV = export CALLROUTER_ENV=$${CALLROUTER_ENV:-development}; \
	if [ "$$CALLROUTER_ENV" = development ] && [ -z "$$CALLROUTER_AMI_HOST" ] \
		&& ! grep -qs '^CALLROUTER_AMI_HOST=' .env; then \
		export CALLROUTER_AMI_HOST=127.0.0.1 CALLROUTER_AMI_PORT=$(DEMO_AMI_PORT) \
			CALLROUTER_AMI_USERNAME=demo CALLROUTER_AMI_SECRET=demo-secret; \
	fi;

## Install into .venv, migrate the embedded SQLite database and serve (API + FastAGI + AMI link to the demo PBX).
run: $(STAMP)
	$(DEMO_PBX_ENV) $(BIN)/callrouter db upgrade && exec $(BIN)/callrouter serve

## With `make run` serving: seed the demo data, place routed calls over FastAGI, then play calls through the
## demo PBX (AMI): a screen pop, a missed call and an answered call arrive live in the workspace.
demo: $(STAMP)
	$(DEMO_PBX_ENV) $(BIN)/callrouter demo seed
	for number in +79001234567 89001112233 +79004445566 +79009999999; do \
		echo "--- call from $$number"; \
		CALLROUTER_ENV=$${CALLROUTER_ENV:-development} $(BIN)/callrouter demo call $$number || exit 1; \
	done
	$(DEMO_PBX_ENV) $(BIN)/callrouter demo pbx

## Install into .venv, start PostgreSQL/Redis if needed, lint, type-check and run every test.
test: $(STAMP) services lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

services:
	./.ci/ensure-services

bench: $(STAMP) services
	$(BIN)/python -m bench.import_csv

## Re-take the workspace screenshots in docs/img/workspace (the browser tests, headless Chromium).
screenshots: $(STAMP) services
	CALLROUTER_SCREENSHOTS=$(CURDIR)/docs/img/workspace $(BIN)/pytest -q tests/browser

## Re-extract the translatable texts and merge them into the Russian and English catalogs (then translate).
messages: $(STAMP)
	$(BIN)/pybabel extract --no-wrap --sort-by-file -F crm_core/i18n/babel.cfg -k N_ -k ngettext:1,2 \
		-o crm_core/i18n/messages.pot callrouter crm_core pbx_bridge
	for lang in ru en; do \
		$(BIN)/pybabel update --no-wrap --no-fuzzy-matching --ignore-obsolete -l $$lang -i crm_core/i18n/messages.pot \
			-d crm_core/i18n/locale || exit 1; \
	done

clean:
	rm -rf $(VENV) callrouter.db .pytest_cache .mypy_cache .ruff_cache
