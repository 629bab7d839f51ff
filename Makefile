# Kundo — the two commands the README promises: `make run` and `make test`.
# Everything else here is a step of those two, runnable on its own.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
VENDOR := kundo/platform/web/static/vendor
TRANSLATIONS := kundo/platform/translations
PLUGINS := $(wildcard plugins/*/pyproject.toml)

# `make run PORT=8000` moves both the server and the workspace addresses.
PORT ?= 5000
HOST ?= 127.0.0.1
export KUNDO_DOMAIN ?= localhost:$(PORT)

.PHONY: run test install assets translations messages browser lint bench clean

## run: install what is missing, start PostgreSQL (embedded unless DATABASE_URL is set),
##      migrate, create the demo workspace and serve http://localhost:5000 — Ctrl-C stops it all.
run: install assets translations
	$(VENV)/bin/kundo serve --demo --host $(HOST) --port $(PORT)

## test: install what is missing (Chromium included) and run the whole suite.
test: install assets translations browser
	@# pytest exits 5 when it collected nothing: that is a broken suite, never a pass.
	$(VENV)/bin/pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] && echo "pytest collected no tests" >&2; exit $$rc; }

install: $(STAMP)

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check --upgrade pip wheel
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	for p in $(dir $(PLUGINS)); do $(PIP) install -q --disable-pip-version-check -e "$$p"; done
	touch $(STAMP)

## assets: front-end libraries from the npm registry, copied where the app serves them.
assets: $(VENDOR)/.copied

$(VENDOR)/.copied: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/swagger-ui-dist/{swagger-ui.css,swagger-ui-bundle.js,swagger-ui-standalone-preset.js} $(VENDOR)/swagger-ui/
	touch $@

## translations: compile the German catalogue (.mo files are build output, not in git).
translations: install
	$(VENV)/bin/pybabel -q compile -d $(TRANSLATIONS) -f

## messages: collect every msgid from templates and Python (nav labels included) into the catalogue.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k NavItem:2 --no-location --sort-output \
		--project Kundo --copyright-holder "Kundo" -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching -w 100
	@grep -c '^msgid' $(TRANSLATIONS)/messages.pot | xargs echo "msgids:"

## browser: Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/tenancy.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
