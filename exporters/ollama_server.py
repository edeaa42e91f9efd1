"""Poll an Ollama server's ``/api/ps`` and ``/api/tags``: Ollama has no /metrics of its own.

Exports whether the API answers, which models are loaded (with VRAM and the time Ollama will
unload them) and how many are pulled, and counts loads and unloads by comparing consecutive
polls. A model already loaded when the poller starts is not counted as a load (we did not see
it happen), but its counters are created at 0 so ``increase()`` works from the first change::

    poller = OllamaPoller(Instruments(registry), ollama.Client(host="http://127.0.0.1:11434", timeout=5))
    poller.poll()
"""

from __future__ import annotations

from typing import Any

from exporters.instrument import Instruments
from exporters.labels import normalise_model


class OllamaPoller:
    name = "ollama"

    def __init__(self, inst: Instruments, client: Any, interval: float = 15.0) -> None:
        self.inst = inst
        self.client = client  # an ollama.Client: ps() and list() parse the documented responses
        self.interval = interval
        self._loaded: set[str] | None = None  # None until the first successful poll
        m = inst.metrics
        self._up = m["llm_sre_ollama_up"]
        self._count = m["llm_sre_ollama_loaded_models"]
        self._available = m["llm_sre_ollama_available_models"]
        self._vram = m["llm_sre_ollama_model_vram_bytes"]
        self._expiry = m["llm_sre_ollama_model_expiry_timestamp_seconds"]
        self._loads = m["llm_sre_ollama_model_loads_total"]
        self._unloads = m["llm_sre_ollama_model_unloads_total"]

    def _model(self, name: str) -> str:
        return self.inst.model_label(normalise_model(name))

    def poll(self) -> None:
        try:
            running = self.client.ps().models
            pulled = self.client.list().models
        except Exception:
            # Down: say so, and drop per-model gauges rather than keep reporting stale VRAM.
            self._up.set(0)
            self._vram.clear()
            self._expiry.clear()
            raise
        self._up.set(1)
        self._available.set(len(pulled))
        self._count.set(len(running))
        now: set[str] = set()
        self._vram.clear()
        self._expiry.clear()
        for entry in running:
            model = self._model(entry.model or entry.name or "")
            now.add(model)
            self._vram.labels(model=model).set(entry.size_vram or 0)
            if entry.expires_at is not None:
                self._expiry.labels(model=model).set(entry.expires_at.timestamp())
        previous = self._loaded if self._loaded is not None else now
        for model in now | previous:
            self._loads.labels(model=model)  # create at 0
            self._unloads.labels(model=model)
        for model in now - previous:
            self._loads.labels(model=model).inc()
        for model in previous - now:
            self._unloads.labels(model=model).inc()
        self._loaded = now
