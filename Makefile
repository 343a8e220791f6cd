# The README's commands. Each one runs the idempotent set-up first.
VENV ?= .venv
PY := $(VENV)/bin/python
LOCALITIES ?= Dandenong VIC 3175;Richmond VIC 3121

.PHONY: setup crawl test test-python test-server ci demo lint format typecheck bench soak bench-incremental clean

setup:
	@NEWHOMIE_VENV=$(VENV) bash scripts/setup.sh

crawl: setup
	$(VENV)/bin/scrapy crawl listings -a localities="$(LOCALITIES)"

test: setup lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

# Under another Python 3.11+ of the machine, if it has one: set-up, demo, storage tests (.venv-smoke/).
test-python: setup
	@bash scripts/smoke_python.sh

# The storage and end-to-end database tests against Debian's PostgreSQL over TCP, not the embedded one.
test-server: setup
	@bash scripts/test_server.sh

# What CI runs: the suite (and a check that it left no server running), then the same code under a
# second Python and against a second server.
ci: test
	$(PY) scripts/no_servers_left.py
	@$(MAKE) --no-print-directory test-python test-server

demo: setup
	$(PY) -m newhomie demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: setup
	$(VENV)/bin/mypy newhomie tests benchmarks scripts

bench: setup
	$(PY) benchmarks/bench_prices.py
	$(PY) benchmarks/bench_pages.py
	$(PY) benchmarks/bench_upsert.py
	$(PY) benchmarks/bench_report.py

# Minutes, not seconds: a crawl of 200 localities of the local site with its faults on.
soak: setup
	$(PY) benchmarks/bench_soak.py

# Minutes too: a full and an incremental crawl of the local site a week later, side by side.
bench-incremental: setup
	$(PY) benchmarks/bench_incremental.py

clean:
	rm -rf $(VENV) .venv-smoke .pytest_cache .mypy_cache .ruff_cache
