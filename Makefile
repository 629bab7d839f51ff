# Kundo — the two commands the README promises: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
VENDOR := kundo/platform/web/static/vendor
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: run test install assets translations browser lint bench clean

run: install assets translations
	$(VENV)/bin/kundo serve --demo --host 0.0.0.0 --port 5000

test: install assets translations browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel
	$(PIP) install -q -e '.[dev]'
	for p in $(dir $(PLUGINS)); do $(PIP) install -q -e "$$p" || exit 1; done
	touch $(STAMP)

assets: $(VENDOR)/htmx.min.js

$(VENDOR)/htmx.min.js: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/swagger-ui-dist/{swagger-ui.css,swagger-ui-bundle.js,swagger-ui-standalone-preset.js} $(VENDOR)/swagger-ui/

translations: install
	$(VENV)/bin/pybabel compile -q -d kundo/platform/translations -f

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/tenancy.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
