"""The lifecycle the local stand-in servers share: a threaded server, started and stopped by ``with``."""

from __future__ import annotations

import socketserver
import threading
from typing import Self


class LocalServer:
    """Subclasses set ``self.server`` (any socketserver) in ``__init__``; ``with`` runs it in a thread."""

    server: socketserver.BaseServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        # serve_forever checks for shutdown() every poll_interval; its 0.5 s default made every
        # test using a stand-in wait that long in teardown.
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
