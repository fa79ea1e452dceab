# Two commands (README.md): `make book` and `make test`.
# Both create .venv from requirements.txt when it is missing or older than
# requirements.txt/pyproject.toml, and install companion in editable mode.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SANITIZE := tests/nbval_sanitize.cfg

.PHONY: exercises book test lint unit nbval book-strict browser pdf pdf-test serve bench budget test-portability clean help data

help:
	@echo "make book   build the HTML book into _build/html (from committed outputs)"
	@echo "make test   lint (ruff), unit tests, nbval over every notebook, book build with warnings as errors, browser test"
	@echo "make exercises  student notebooks (solutions removed, check cells added) in _build/exercises"
	@echo "make pdf    the whole book as one PDF, _build/pdf/book.pdf (needs Chromium and a Chinese font)"
	@echo "make serve  serve the built book on http://127.0.0.1:8000 (search works fully there)"
	@echo "make test-portability   nbval under configurations that change floating-point results"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; print(f"Using Python {v[0]}.{v[1]} ($(PYTHON))"); sys.exit(0 if v >= (3, 10) else "Python 3.10 or newer is needed (3.11 recommended)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The English sentiment archive is fetched once into the cache (~/.cache/companion
# or $$COMPANION_DATA); notebooks never download. Idempotent: checks the sha256.
data: $(STAMP)
	$(PY) -m companion data fetch

book: $(STAMP) data
	$(VENV)/bin/jupyter-book build --quiet .
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

# COMPANION_FULL_INSTALL=1: a missing library fails the run (tests/conftest.py skips it otherwise).
unit: $(STAMP) data
	COMPANION_FULL_INSTALL=1 $(PY) -m pytest tests

nbval: $(STAMP) data
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) -p no:cacheprovider book

book-strict: $(STAMP)
	rm -rf _build/html _build/.doctrees
	$(VENV)/bin/jupyter-book build --warningiserror --nitpick --keep-going .

# The linter of pyproject.toml ([tool.ruff]): pyflakes errors and line length.
lint: $(STAMP)
	$(VENV)/bin/ruff check companion tests benchmarks book/_ext tools

# Every page of the built book in headless Chromium (tests/test_book_in_browser.py):
# console errors, requests leaving the machine, MathJax, widths at 1280 and 390 px,
# images, solution dropdowns, English and Chinese search. Skipped with a message
# when no Chromium or Chrome is installed.
browser: $(STAMP)
	BOOK_BROWSER_TEST=1 $(PY) -m pytest -p no:cacheprovider -q tests/test_book_in_browser.py

# The whole book as one PDF (tools/book_pdf.py): the single-page build, with warnings as
# errors, printed by the same Chromium; the test reads it back (tests/test_book_pdf.py).
pdf: $(STAMP)
	rm -rf _build/singlehtml
	$(VENV)/bin/jupyter-book build --quiet --warningiserror --nitpick --keep-going --builder singlehtml .
	$(PY) tools/book_pdf.py

pdf-test: pdf
	BOOK_PDF_TEST=1 $(PY) -m pytest -p no:cacheprovider -q tests/test_book_pdf.py

# Student notebooks for class (companion/exercises/student.py): every chapter without its
# solutions, a work cell under each exercise, check("chNN.K", answer) where one can be checked.
exercises: $(STAMP)
	$(PY) -m companion exercises --out _build/exercises

# The built book on 127.0.0.1 only (opened as file://, search shows no snippets).
serve: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html 8000

test: lint unit nbval book-strict browser pdf-test

# nbval over the book under each configuration of tests/portability.py (threads,
# PyTorch/oneDNN/OpenBLAS kernels); writes benchmarks/results/portability.md.
# CONFIGS="avx2 threads-1" runs a subset; PORTABILITY_ARGS=--no-write leaves the table alone,
# PORTABILITY_ARGS=--merge keeps the committed rows of what is not run now.
test-portability: $(STAMP) data
	$(PY) tests/portability.py $(if $(CONFIGS),--configs $(CONFIGS)) $(PORTABILITY_ARGS)

# Wall time and peak memory of every chapter (benchmarks/results/notebook_budget.md).
budget: $(STAMP) data
	$(PY) benchmarks/notebook_budget.py

# The benchmark suite of chapter 13 (results in benchmarks/results/bench_<device>.*),
# then the attention, import-time, chapter 15 compression and chapter 16 serving scripts. Run it on a quiet machine.
bench: $(STAMP) data
	$(PY) -m companion bench --runs 3
	$(PY) benchmarks/attention.py --threads 1 --runs 3
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/compression.py
	$(PY) benchmarks/serving.py
	$(PY) benchmarks/generation_batching.py

clean:
	rm -rf _build
