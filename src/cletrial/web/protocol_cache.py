"""The protocol definition the study runs, loaded once per application on first use.

>>> cache = ProtocolCache("lenalidomide-cle-2012")
>>> cache.protocol_ref
'lenalidomide-cle-2012'
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["ProtocolCache"]


class ProtocolCache:
    """Load the protocol definition ``protocol_ref`` (id or path) once, thread-safely.

    Parameters
    ----------
    protocol_ref : str
        A bundled protocol id (e.g. ``lenalidomide-cle-2012``) or a path to a definition file.
    """

    def __init__(self, protocol_ref: str) -> None:
        self.protocol_ref = protocol_ref
        self._loaded: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        """Return the loaded protocol (raises the protocol package's errors if it is invalid)."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from cletrial.protocol import load_protocol

                    self._loaded = load_protocol(self.protocol_ref)
        return self._loaded
