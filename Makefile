# Baton: `make run` (demo or CONFIG=path/engagement.toml) and `make test`. Needs Python >= 3.11 and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo
PORT   ?= 8501

.PHONY: run collect test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Without CONFIG: build the demo engagement into ./demo, collect it (its GitHub data from the local replay
# server started by `collectors demo-github`, stopped after the collection), serve it.
run: $(VENV)/.runtime
	@config="$(CONFIG)"; gh=""; \
	if [ -z "$$config" ]; then $(BIN)/python -m collectors demo --out $(DEMO) >/dev/null && config=$(DEMO)/engagement.toml; \
		$(BIN)/python -m collectors demo-github --config "$$config" > $(DEMO)/github-replay.log & gh=$$!; \
		for i in $$(seq 100); do grep -q Serving $(DEMO)/github-replay.log 2>/dev/null && break; sleep 0.1; done; fi; \
	$(BIN)/python -m collectors collect --config "$$config"; rc=$$?; \
	if [ -n "$$gh" ]; then kill $$gh; fi; \
	[ $$rc -eq 0 ] || exit $$rc; \
	echo "Serving the dashboard on http://localhost:$(PORT)"; \
	BATON_CONFIG="$$(realpath "$$config")" exec $(BIN)/python -m streamlit run app.py --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

collect: $(VENV)/.runtime
	$(BIN)/python -m collectors collect --config "$(CONFIG)"

test: $(VENV)/.dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.runtime
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
