# dxplan: two commands. `make run` serves the demo; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# pytest-xdist processes for `make test` (`auto`: one per CPU; 0 runs the tests in this process)
PYTEST_WORKERS ?= auto
export DEBUG ?= true

.PHONY: run test setup setup-dev lint demo messages assets clean

# Packages are installed with uv (from PyPI, into the venv) when it installs, else with pip: the same pinned
# requirements, about 10 s instead of 2-3 minutes for a fresh venv. `make PIP_ONLY=1 …` uses pip alone.
PIP_ONLY ?=
install = if [ -z "$(PIP_ONLY)" ] && [ -x $(VENV)/bin/uv ]; then VIRTUAL_ENV="$(abspath $(VENV))" $(VENV)/bin/uv pip install --quiet $(1); else $(PY) -m pip install --quiet $(1); fi

$(VENV)/bin/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "dxplan needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	[ -n "$(PIP_ONLY)" ] || $(PY) -m pip install --quiet uv || echo "uv did not install; pip installs the requirements"

$(VENV)/.installed: $(VENV)/bin/activate requirements.txt
	$(call install,-r requirements.txt)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(call install,-r requirements-dev.txt)
	touch $@

var/env:
	mkdir -p var
	printf '# Written by make for a development checkout; the environment overrides it.\nDEBUG=true\n' > var/env

setup: $(VENV)/.installed var/env
	mkdir -p var/mail var/media
	$(PY) manage.py migrate --noinput

setup-dev: $(VENV)/.installed-dev var/env

demo: setup
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: setup-dev
	mkdir -p var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

messages: setup-dev
	$(PY) manage.py makemessages -l ja --no-obsolete --no-location -i ".venv/*" -i "var/*" -i "tests/*" -i "bench/*"
	$(PY) manage.py compilemessages -l ja -i .venv

# The design tokens and the Japanese web font, from npm into static/vendor (needs Node.js and npm; the output
# is committed, so only whoever updates assets/package.json runs this).
assets:
	cd assets && npm ci --no-audit --no-fund && node build.mjs

clean:
	rm -rf $(VENV) var/*.sqlite3
