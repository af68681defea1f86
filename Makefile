# Baton: `make run` (demo or CONFIG=path/engagement.toml) and `make test`. Needs Python >= 3.11 and git.
# PORT: the dashboard's port (default 8501), e.g. `make run PORT=8600`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo
PORT   ?= 8501

.PHONY: run collect test test-slow lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Without CONFIG: build the demo engagement into ./demo (git repository, recordings, engagement.toml; kept when
# it exists: `make clean` or `python -m collectors demo --out demo --force` rebuilds it), collect it (its GitHub
# and Jira data replay from demo/recordings: no server, no token), then serve the dashboard on PORT.
run: $(VENV)/.runtime
	@config="$(CONFIG)"; \
	if [ -z "$$config" ]; then config=$(DEMO)/engagement.toml; \
		[ -f "$$config" ] || $(BIN)/python -m collectors demo --out $(DEMO) >/dev/null || exit $$?; fi; \
	$(BIN)/python -m collectors collect --config "$$config" || exit $$?; \
	echo "Serving the dashboard on http://localhost:$(PORT)"; \
	BATON_CONFIG="$$(realpath "$$config")" exec $(BIN)/python -m streamlit run app.py --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

collect: $(VENV)/.runtime
	$(BIN)/python -m collectors collect --config "$(CONFIG)"

test: $(VENV)/.dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not slow and not browser"

# The slow tier (browser, kill, concurrency and large-repository tests); .ci/run runs it after `make test`.
test-slow: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m "slow or browser"

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.runtime
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
