# Two commands: `make dev` runs the service with demo data; `make test` runs the whole suite.
# Each installs what it needs on first use and skips it after (virtualenv, Maven jars, node_modules).
PY := .venv/bin/python
STAMP := .venv/.installed

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(PY) -m app dev

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf .venv .data devdb/.classpath tools/firebase/node_modules
