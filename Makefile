# `make demo` and `make test` each set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test test-dask docs lint dist bench-uci bench-speed clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch==2.13.0 first: on these machines it is a local CPU wheel, any other
	# torch requirement pulls gigabytes of CUDA packages.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,plot,excel,parquet,polars]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m benchmarks.uci --datasets breast --methods miwae mean --seeds 1 --out benchmarks/results/demo

test: venv
	$(PY) -m pytest -q

# The Dask path needs the optional `dask` extra (about 40 s and 400 MB more).
test-dask: venv
	$(PY) -m pip install -q -e ".[dask]"
	$(PY) -m pytest -q tests/test_dask.py

# The documentation site (docs/, examples/): Sphinx with numpydoc, the PyData
# theme and sphinx-gallery, from the optional `docs` extra. Warnings are errors
# (numpydoc's docstring checks and broken references among them), and every
# example of the gallery runs; open docs/_build/html/index.html.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[docs]"
	touch $@

docs: $(VENV)/.docs-installed
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# A wheel and an sdist in dist/, checked by twine, and the wheel installed into a
# fresh virtual environment (torch==2.13.0 first), where the package imports and
# the command runs.
dist: venv
	rm -rf dist build $(VENV)-dist
	$(PY) -m pip install -q build twine
	$(PY) -m build -q --outdir dist .
	$(PY) -m twine check --strict dist/*
	$(PYTHON) -m venv $(VENV)-dist
	$(VENV)-dist/bin/python -m pip install -q torch==2.13.0
	$(VENV)-dist/bin/python -m pip install -q dist/*.whl
	cd /tmp && $(CURDIR)/$(VENV)-dist/bin/python -c "import miwae_impute as m; print('miwae_impute', m.__version__)"
	$(VENV)-dist/bin/miwae-impute --version
	rm -rf $(VENV)-dist

bench-uci: venv
	$(PY) -m benchmarks.uci --out benchmarks/results/uci

bench-speed: venv
	$(PY) -m benchmarks.speed

clean:
	rm -rf $(VENV) $(VENV)-dist *.egg-info .pytest_cache .ruff_cache dist build
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst
