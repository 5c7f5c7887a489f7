"""A lean HTTP/1.1 keep-alive client for the load benchmarks (asyncio streams, one connection).

The load generator runs on the same 2 cores as the server it measures, so its own CPU per
request is taken from the server. httpx costs about 1 ms of client CPU per save here; this
client writes the request bytes itself and reads the answer by its ``Content-Length`` (or
chunks), about a tenth of that. It speaks only what the benchmarks need: JSON bodies, one
request at a time on one connection, no redirects, no TLS.

>>> import asyncio
>>> async def demo():
...     async def answer(reader, writer):
...         await reader.readuntil(b"\\r\\n\\r\\n")
...         writer.write(b"HTTP/1.1 201 Created\\r\\ncontent-length: 10\\r\\n\\r\\n")
...         writer.write(b'{"id": 7}\\n')
...         await writer.drain()
...     server = await asyncio.start_server(answer, "127.0.0.1", 0)
...     port = server.sockets[0].getsockname()[1]
...     http = await Connection.open("127.0.0.1", port)
...     status, body = await http.request("POST", "/x", {"a": 1})
...     http.close(); server.close()
...     return status, body
>>> asyncio.run(demo())
(201, b'{"id": 7}\\n')
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Connection:
    """One keep-alive HTTP/1.1 connection; :meth:`request` sends a request and reads its
    answer (status and body bytes)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect to ``host:port``."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send ``body`` as JSON (``None``: no body) and return the status and the body."""
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}",
                 f"content-length: {len(payload)}"]  # fmt: skip
        if body is not None:
            lines.append("content-type: application/json")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            return status, await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("transfer-encoding", "").lower() == "chunked":
            return status, await self._chunks()
        raise ConnectionError(f"{method} {path}: answer {status} has no length: {fields}")

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        """Close the connection."""
        self.writer.close()
