# ediary: the two set-up commands (`make demo`, `make test`) and the developer's tools.
# POSIX make: no GNU extensions, so it reads the same under any make.

.POSIX:

PYTHON3 = python3
VENV = .venv
PY = $(VENV)/bin/python
# Touched after a successful install; pyproject.toml newer than it means "install again".
STAMP = $(VENV)/.installed-from-pyproject
DEMO_DB = sqlite:///instance/demo.db
CHROMIUM = /usr/bin/chromium
# Three workers on two cores: many tests wait on servers, browsers and sockets (with two workers,
# tests/kiosk, tests/realtime and tests/browser used 114 % of the 200 %). The whole suite took
# 964 s with -n 2, 742 s with -n 3 and 845 s with -n 4 (one run each on this 2-core machine,
# 6 December 2026; four workers cost more CPU than they saved in waiting). Work stealing keeps the long
# tests (the district ledger, the kiosk set-up in debootstrap: ~2 min each) from ending the run
# alone. Every test database is named per worker (uuid), see tests/conftest.py.
# Override for one-off runs: make test PYTEST_ARGS="-n 0 -k migrations"
PYTEST_ARGS = -n 3 --dist worksteal

.PHONY: demo test lint fmt bench migration translations install compile-translations chromium

demo: install compile-translations
	mkdir -p instance
	$(VENV)/bin/ediary db upgrade --database-url $(DEMO_DB)
	$(VENV)/bin/ediary demo --database-url $(DEMO_DB)

test: install chromium compile-translations
	CI='$(CI)' $(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# *.mo files are build products (gitignored): compiled from the committed *.po on every run.
compile-translations: install
	@if ls ediary/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		$(VENV)/bin/pybabel compile -d ediary/translations; \
	else \
		echo "no translation catalogues yet (ediary/translations/*/LC_MESSAGES/*.po)"; \
	fi

# The browser tests drive Debian's chromium (/usr/bin/chromium). As root it is installed when
# missing; otherwise say so, and under CI=true stop, because a skipped browser test proves nothing.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian chromium for the browser tests"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium </dev/null \
				|| exit 1; \
		elif [ "$(CI)" = true ]; then \
			echo "error: $(CHROMIUM) is missing; install the Debian package chromium" >&2; exit 1; \
		else \
			echo "warning: $(CHROMIUM) is missing (apt-get install chromium); browser tests will fail" >&2; \
		fi; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff check --select I --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/run.py
	$(PY) bench/portal_load.py
	$(PY) -m bench.district --profile full --merge-into bench/out/latest.json

# make migration m="add pupil nicknames": a draft from the models, compared against a throw-away
# SQLite database at head. Read it before committing.
migration: install
	@if [ -z "$(m)" ]; then echo 'usage: make migration m="what changed"' >&2; exit 1; fi
	$(PY) -m ediary.migrations revision -m "$(m)"

# Extract the Polish source strings and merge them into each catalogue (pl is the source language;
# the English catalogue translates them). No fuzzy matching: a guessed translation is worse than
# an untranslated one, which at least shows up as missing.
translations: install
	@if [ ! -f babel.cfg ]; then echo "no babel.cfg" >&2; exit 1; fi
	mkdir -p ediary/translations
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o ediary/translations/messages.pot .
	@if ls ediary/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(VENV)/bin/pybabel update --no-fuzzy-matching -i ediary/translations/messages.pot \
			-d ediary/translations; \
	else \
		$(VENV)/bin/pybabel init -i ediary/translations/messages.pot -d ediary/translations -l en; \
	fi
