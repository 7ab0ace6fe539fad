# dpsynth: `make demo` and `make test` work on a fresh machine with Python >= 3.10 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONSTRAINTS := constraints.txt
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[test,report,duckdb,spark]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	rm -rf out
	$(VENV)/bin/dpsynth demo --out out

lint: $(STAMP)
	$(VENV)/bin/ruff check dpsynth audits tests benchmarks
	$(VENV)/bin/lint-imports

# One BLAS/OpenMP thread per test worker: two workers on two cores, no oversubscription.
test: lint
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache build *.egg-info
