"""Keep label values bounded: every value that comes from outside goes through one of these.

A label value is a new time series; an unbounded one (a model path, an error message, a cache
key) grows Prometheus memory until it falls over. So:

* model names are normalised (``registry.ollama.ai/library/qwen2.5:latest`` → ``qwen2.5``), and
* open-ended labels use a :class:`BoundedLabel`: an optional allowlist, then the first ``limit``
  distinct values seen, then ``_OTHER`` for everything else::

      model_label = BoundedLabel(limit=20)
      model_label(normalise_model("/models/Qwen2.5-7B-Instruct.Q4_K_M.gguf"))  # 'qwen2.5-7b-instruct.q4_k_m'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from exporters.catalogue import OVERFLOW

_UNSAFE = re.compile(r"[^a-z0-9._:/+-]+")
_REGISTRY_PREFIXES = ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/")
_MAX_LEN = 64


class BoundedLabel:
    """A label whose distinct values are capped; thread-safe.

    ``allowed`` values always pass. With ``limit`` > 0, up to ``limit`` further distinct values
    are admitted first come, first served (per process); the rest become ``overflow``.
    """

    def __init__(self, allowed: Iterable[str] = (), limit: int = 0, overflow: str = OVERFLOW) -> None:
        self._allowed = frozenset(allowed)
        self._seen: set[str] = set()
        self._limit = limit
        self._overflow = overflow
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        if not value:
            return self._overflow
        if value in self._allowed or value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
        return self._overflow


def normalise_model(name: str | None) -> str:
    """A short, stable model label: lower case, no registry prefix, no ``:latest``, no path or ``.gguf``."""
    if not name:
        return "unknown"
    model = name.strip().lower()
    for prefix in _REGISTRY_PREFIXES:
        model = model.removeprefix(prefix)
    if model.startswith(("/", "./")) or model.endswith(".gguf"):
        model = model.rsplit("/", 1)[-1]  # a file path: keep the file name
    model = model.removesuffix(".gguf").removesuffix(":latest")
    model = _UNSAFE.sub("-", model).strip("-")
    return model[:_MAX_LEN] or "unknown"


_ERROR_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$|^[1-5][0-9]{2}$")


def error_type(error: BaseException | type[BaseException] | int | str | None) -> str:
    """OTel ``error.type``: the exception class name or HTTP status; ``""`` for success.

    Anything that does not look like a class name or a status code (a message, say) becomes
    ``_OTHER`` so a careless caller cannot leak text into a label.
    """
    if error is None or error == "":
        return ""
    if isinstance(error, BaseException):
        error = type(error)
    if isinstance(error, type):
        return error.__name__
    text = str(error)
    return text if _ERROR_TOKEN.match(text) else OVERFLOW


def enum_label(value: str, allowed: Iterable[str], what: str) -> str:
    """Check a caller-supplied enumerated label; a typo is a bug in our code, so raise."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, not {value!r}")
    return value
