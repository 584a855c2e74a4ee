# Gessin: `make run` for a working back office, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test test-postgres install install-test translations migrate demo chromium bench faults clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations chromium

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d translations
	$(BIN)/pybabel compile -D admin -d admin_views/translations

migrate: install
	$(BIN)/flask --app app db-upgrade

demo: migrate
	$(BIN)/flask --app app seed-demo --if-empty

run: demo
	@echo ""
	@echo "  Gessin: http://127.0.0.1:$(PORT)/"
	@echo "  Accessi demo (utente / password):"
	@echo "    call center      callcenter  / demo-callcenter"
	@echo "    centro ASP       asp         / demo-asp"
	@echo "    legale           legale      / demo-legale"
	@echo "    carrozzeria      carrozzeria / demo-carrozzeria"
	@echo "  WinCar (carrozzeria demo): UserID WINCAR-DEMO / password demo-wincar"
	@echo "    prova: $(BIN)/flask --app app wincar-send examples/nuovo.json --user WINCAR-DEMO --password demo-wincar"
	@echo "  API: http://127.0.0.1:$(PORT)/api/v1/docs"
	@echo "  Ctrl-C ferma server web e worker."
	@echo ""
	PORT=$(PORT) PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(BIN)/honcho start -f Procfile

# Debian's Chromium for the browser tests, installed when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installo chromium (Debian)..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium non installato: i test nel browser non possono girare" >&2; exit 1; }

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/grid.py

# The consumer killed mid-send (and, later, mid-job): deliveries, duplicates, time to drain.
# e.g. make faults FAULTS_ARGS="send --kills 5 --database-url postgresql://postgres@127.0.0.1:5432/gessin_bench_faults --redis-url redis://127.0.0.1:6379/5"
faults: $(VENV)/.installed-test translations  # aiosmtpd is a test need
	$(BIN)/python benchmarks/faults.py $(FAULTS_ARGS)

clean:
	rm -rf $(VENV) test-output .pytest_cache
