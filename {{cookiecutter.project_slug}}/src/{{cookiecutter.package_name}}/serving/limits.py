"""What a client may send: headers within a deadline and a size, a JSON body within a size.

Hand-written on purpose: uvicorn has no deadline for headers and keeps headers of any size,
and neither it nor FastAPI bounds a request's body while reading it. Each limit is a few lines
on uvicorn's protocol or on the ASGI `receive` channel, which no library we depend on offers.
"""

import asyncio
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: The most bytes of headers one request may send (nginx allows 32 KiB by default).
MAX_HEADER_BYTES = 64 * 1024
HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)
# The largest JSON body accepted, per record of the largest batch (a record is a few hundred
# bytes); a larger body is refused as soon as that many bytes have arrived, before parsing.
BYTES_PER_RECORD = 4096
JSON = "Content-Type: application/json"


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """Uvicorn's HTTP protocol, with a deadline and a size limit for each request's headers.

    Uvicorn closes idle kept-alive connections only: a client that connects and then sends its
    headers a byte at a time (slowloris) would hold its connection open for ever. Here the
    clock starts when the connection opens, or at the first byte of a later request on it, and
    the connection is closed unless the headers are complete `header_timeout` seconds later.
    Headers larger than MAX_HEADER_BYTES (which uvicorn's httptools parser would keep in
    memory, however large) are answered 431 and the connection closed.
    """

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        """Uvicorn's protocol, given how many seconds a request's headers may take."""
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.header_deadline: asyncio.TimerHandle | None = None
        self.header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock as the connection opens."""
        super().connection_made(transport)
        self.start_clock()

    def on_message_begin(self) -> None:
        """Start the clock at a request's first byte, unless it runs already."""
        super().on_message_begin()
        if self.header_deadline is None:
            self.start_clock()

    def data_received(self, data: bytes) -> None:
        """Parse the bytes; refuse headers that have grown past MAX_HEADER_BYTES unfinished."""
        super().data_received(data)
        if self.header_deadline is None:  # no headers pending: a body, or nothing yet
            return
        self.header_bytes += len(data)
        if self.header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.transport.write(HEADERS_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        """Stop the clock: the headers are in."""
        self.stop_clock()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock of a connection that is gone."""
        self.stop_clock()
        super().connection_lost(exc)

    def start_clock(self) -> None:
        """Close the connection `header_timeout` seconds from now, unless stopped before."""
        self.header_bytes = 0
        self.header_deadline = self.loop.call_later(self.header_timeout, self.transport.close)

    def stop_clock(self) -> None:
        """Cancel the headers' deadline, if one is set."""
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None


class BodyLimit:
    """Refuse a POST body that is not JSON (415) or passes `max_bytes` (413), while it is read.

    The refusal is raised from `receive`, where FastAPI reads the body, so it is answered by
    the app's error handler in the usual shape. A `Content-Length` over the limit is refused
    before a byte is read; a body without one (chunked) or that lies is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        """Wrap the app."""
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = f"the body is larger than {max_bytes:,} bytes: send fewer records"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the app a `receive` that checks the body of a POST request."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        length = headers.get("content-length", "")
        size = 0

        async def limited() -> Message:
            nonlocal size
            if media_type != "application/json":
                raise HTTPException(415, f"the body must be JSON: send the header {JSON}")
            if length.isdigit() and int(length) > self.max_bytes:
                raise HTTPException(413, self.too_large)
            message = await receive()
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                raise HTTPException(413, self.too_large)
            return message

        await self.app(scope, limited, send)
