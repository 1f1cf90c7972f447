# Two commands: `make dev` runs the service with demo data; `make test` runs the whole suite.
# Each installs what it needs on first use and skips it after (virtualenv, Maven jars, node_modules).
# Python packages come from requirements.lock, every one pinned with hashes; `make lock` rewrites it
# after an edit of pyproject.toml, and the install refuses a lock that no longer matches.
PY := .venv/bin/python
STAMP := .venv/.installed
LOCK := requirements.lock

.PHONY: dev test lint bench lock clean

$(STAMP): pyproject.toml $(LOCK) devtools/lockcheck.py
	python3 devtools/lockcheck.py
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
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

lock:
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet uv==0.13.8
	$(PY) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal -o $(LOCK)

clean:
	rm -rf .venv .data devdb/.classpath tools/firebase/node_modules
