# The two commands of the README's quick start, and the gates CI runs.
# Every target creates the venv and installs what it needs from the project's own files.
PY_BASE ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: kernels run test test-kernels-pure check docs build-check clean

$(PY):
	# Resolve a pyenv shim to the real interpreter, then make the venv from it.
	"$$($(PY_BASE) -c 'import sys; print(sys.executable)')" -m venv --upgrade-deps $(VENV)

$(STAMP): $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet 'setuptools>=77' 'Cython>=3.1,<4' wheel
	$(PY) -m pip install --quiet --no-build-isolation -e '.[test,bench,docs]'
	touch $(STAMP)

# Rebuild changed kernels in place (nothing rebuilds on import).
kernels: $(STAMP)
	$(PY) setup.py -q build_ext --inplace

# The main job: a workflow that scans this repository and writes a report (build/repo_report.md).
run: kernels
	$(VENV)/bin/symphony run examples/workflows/repo_report.json --param root=. --param output=build/repo_report

test: kernels
	$(VENV)/bin/pytest -p no:cacheprovider -q --cov=symphony --cov-report=term:skip-covered --cov-fail-under=80

test-kernels-pure: kernels
	SYMPHONY_PURE_PYTHON=1 $(VENV)/bin/pytest -p no:cacheprovider -q --no-cython tests/kernels tests/test_selection.py

check: kernels
	$(VENV)/bin/ruff check symphony tests asv_benchmarks
	$(VENV)/bin/mypy

docs: kernels
	$(VENV)/bin/sphinx-build -q -W -b html docs docs/_build/html

build-check: $(STAMP)
	rm -rf dist && $(PY) -m build --sdist --wheel --outdir dist . > dist.log 2>&1 || (tail -40 dist.log; exit 1)
	rm -f dist.log

clean:
	rm -rf build dist symphony/_core/*.c symphony/_core/*.so symphony/_core/*.html
