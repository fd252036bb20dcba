# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install migrate seed lint lock ci clean

$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(BIN)/.installed

migrate: install
	@mkdir -p var
	$(BIN)/python -m app.cli migrate

seed: migrate
	$(BIN)/python -m app.cli seed

run: seed
	$(BIN)/python -m app.cli ensure-admin
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --proxy-headers

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

lock:
	$(BIN)/pip freeze --exclude-editable | sed '1i # Pinned dependency tree for requirements.in. Regenerate: make lock' > requirements.lock

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var/*.db*
