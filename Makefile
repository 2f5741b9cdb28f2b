# redis_native developer targets.  `make test` is the one test command (README, .ci/run).
#
#   make deps           system packages (apt, only if missing) + .venv with the test extra
#   make build          in-place build of redis_native._native (incremental)
#   make test           deps + build + pytest            (PYTEST_ARGS="-k foo -x" to narrow)
#   make demo           deps + build + demo/demo.py against a throwaway redis-server
#   make bench          deps + build + build/floor + matplotlib, then benchmarks/bench.py
#                       (BENCH_ARGS=..., e.g. "--quick"): results.{json,md}, docs/bench.png
#   make asan-test      ASan+UBSan build in build/asan, pytest with libasan preloaded
#   make valgrind-test  a subset of the tests under valgrind memcheck (VALGRIND_TESTS=...)
#   make wheel          pip wheel . into dist/ (the packaging path users take)
#   make clean          build products; `make distclean` also removes .venv

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
BENCH_ARGS ?=
DEMO_ARGS ?=

export PYTHON VENV
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

# Parallel compilation of src/*.c (build_ext --parallel); 2 cores on the CI machines.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# ASan build: a fresh copy of the sources in build/asan/tree, built in place there with
# REDIS_NATIVE_ASAN=1 (its build/ subdirectory is kept, so the build stays incremental), so
# the tests import exactly the instrumented extension whatever their sys.path tricks, and
# switching between `make test` and `make asan-test` never rebuilds the other one.
ASAN_TREE := build/asan/tree
LIBASAN = $(shell gcc -print-file-name=libasan.so)
ASAN_ENV = LD_PRELOAD=$(LIBASAN) ASAN_OPTIONS=detect_leaks=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PYTHONMALLOC=malloc

# Valgrind: the tests run under Debian's /usr/bin/python3 in build/valgrind-venv, because
# pyenv's optimised 3.11 builds report thousands of uninitialised-value errors on their own
# (int.from_bytes(b"") at startup) while Debian's are clean.  The in-place extension is
# reused (same 3.11 ABI).  CPython's suppressions + scripts/valgrind.supp, system malloc.
# Elsewhere: make valgrind-test VALGRIND_PYTHON=$(PY) VALGRIND_ARGS="... --undef-value-errors=no"
VALGRIND_PYTHON ?= /usr/bin/python3
VALGRIND_VENV := build/valgrind-venv
VALGRIND_TESTS ?= tests/test_reader.py tests/test_packer.py tests/test_callbacks.py
VALGRIND_SUPP := $(wildcard /usr/lib/valgrind/python3.supp) scripts/valgrind.supp
VALGRIND_ARGS ?= --tool=memcheck --error-exitcode=99 --leak-check=no --num-callers=40 \
	--track-origins=yes $(addprefix --suppressions=,$(VALGRIND_SUPP))

.PHONY: all deps sysdeps venv build test demo bench bench-deps asan-build asan-test valgrind-test \
	wheel check-install clean distclean

all: build

deps: sysdeps venv

sysdeps:
	scripts/deps.sh system

venv:
	scripts/deps.sh venv

build: deps
	$(PY) setup.py -q build_ext --inplace --parallel $(JOBS)

test: build
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

demo: build
	scripts/with-redis-server -- $(PY) demo/demo.py $(DEMO_ARGS)

# Server on CPU 0, client on CPU 1 (bench.py pins itself and the floor client),
# measured side by side.  matplotlib draws the chart: a bench-only dependency,
# installed here and not part of the test extra (make test and CI never need it).
bench: build build/floor bench-deps
	scripts/with-redis-server --cpu 0 -- $(PY) benchmarks/bench.py $(BENCH_ARGS)

bench-deps: venv
	@$(PY) -c 'import matplotlib' 2>/dev/null || $(PY) -m pip install -q matplotlib

# The floor: a blocking C client on libhiredis doing each workload's round trips.
build/floor: benchmarks/floor.c | sysdeps
	mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $< $$(pkg-config --cflags --libs hiredis) -lpthread

asan-build: deps
	mkdir -p $(ASAN_TREE)
	find $(ASAN_TREE) -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
	tar -c --format=posix --exclude=./.git --exclude=./$(VENV) --exclude=./build --exclude=./dist \
		--exclude='*.so' --exclude=__pycache__ . | tar -x -C $(ASAN_TREE)
	cd $(ASAN_TREE) && REDIS_NATIVE_ASAN=1 $(CURDIR)/$(PY) setup.py -q build_ext --inplace \
		--parallel $(JOBS)

asan-test: asan-build
	@test -e "$(LIBASAN)" || { echo "libasan.so not found (gcc -print-file-name)"; exit 1; }
	cd $(ASAN_TREE) && $(ASAN_ENV) $(CURDIR)/$(PY) -m pytest -q -p no:cacheprovider \
		tests $(PYTEST_ARGS)

valgrind-test: build
	scripts/deps.sh valgrind
	VENV=$(VALGRIND_VENV) PYTHON=$(VALGRIND_PYTHON) scripts/deps.sh venv
	@v() { "$$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }; \
	if [ "$$(v $(PY))" != "$$(v $(VALGRIND_VENV)/bin/python)" ]; then \
		echo "valgrind-test: $(VALGRIND_PYTHON) is Python $$(v $(VALGRIND_VENV)/bin/python)," \
			"the build is for $$(v $(PY)); set VALGRIND_PYTHON=$(PY)"; exit 1; fi
	PYTHONMALLOC=malloc valgrind $(VALGRIND_ARGS) $(VALGRIND_VENV)/bin/python -m pytest -q \
		-p no:cacheprovider $(VALGRIND_TESTS) $(PYTEST_ARGS)

wheel: deps
	$(PY) -m pip wheel -q --no-deps -w dist .

# Proves that `pip install .` builds and that the installed copy imports outside the tree.
check-install: deps
	rm -rf build/check-install && $(PYTHON) -m venv build/check-install
	build/check-install/bin/python -m pip install -q .
	cd /tmp && $(CURDIR)/scripts/with-redis-server -- $(CURDIR)/build/check-install/bin/python -c \
		'import os, redis_native as redis; r = redis.from_url(os.environ["REDIS_URL"]); \
		r.set("k", "v"); assert r.get("k") == b"v"; print("installed and working:", redis.__file__)'

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find redis_native -name '*.so' -delete
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
