"""The listening socket: connections accepted from it send small writes at once (TCP_NODELAY)."""

from __future__ import annotations

import asyncio
import socket

from backloop.web.serve import bind


def test_accepted_connections_have_nodelay() -> None:
    # Without TCP_NODELAY, Nagle holds back a response's second write (headers, then body) until the client's
    # delayed ACK: about 40 ms for every request on a kept-alive connection.
    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = bind("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            value = await asyncio.wait_for(seen, 20)
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
