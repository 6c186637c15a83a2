# Plateau — the two commands: `make run` and `make test` (see README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PLATEAU := $(VENV)/bin/plateau
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test bench install test-deps assets migrate seed serve migrations clean messages

$(PY):
	python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) assets

# htmx comes from npm (pinned in package-lock.json) and is copied to a git-ignored folder.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json
	mkdir -p src/plateau/web/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js src/plateau/web/static/vendor/htmx.min.js

migrate: install
	$(PLATEAU) migrate

seed: migrate
	$(PLATEAU) seed --if-empty

run: seed
	$(PLATEAU) serve --host $(HOST) --port $(PORT)

# Debian's chromium drives the browser tests (Playwright never downloads one).
/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-core; \
	else echo "chromium missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi

test-deps: install /usr/bin/chromium

test: test-deps
	$(VENV)/bin/pytest -q

bench: install
	$(PIP) install -q -e '.[bench]' || echo "pyworkforce not installed: the Erlang C bench times Plateau alone"
	$(PY) bench/run.py

# Pre-release only: rewrite migration 0001 from the models.
migrations: install
	$(PY) tools/regen_initial_migration.py

clean:
	rm -rf $(VENV) node_modules src/plateau/web/static/vendor

# Extract French source strings and update the English and Arabic catalogues.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location --sort-output -o src/plateau/locale/messages.pot .
	for lang in en ar; do \
	  if [ -f src/plateau/locale/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(VENV)/bin/pybabel update --no-fuzzy-matching -i src/plateau/locale/messages.pot -d src/plateau/locale -l $$lang; \
	  else $(VENV)/bin/pybabel init -i src/plateau/locale/messages.pot -d src/plateau/locale -l $$lang; fi; \
	done
