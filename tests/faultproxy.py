"""A loopback TCP proxy that can drop connections or answer 502, for server-fault tests.

``FaultProxy(target_port)`` listens on 127.0.0.1 and forwards to the target. Set
``drop_next`` to close that many incoming connections at once (the client sees a
reset/disconnect), or ``bad_gateway_next`` to answer that many requests with HTTP 502.
``always_drop`` drops everything. Every counter is bounded and the proxy stops with the test.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.drop_next = 0
        self.bad_gateway_next = 0
        self.always_drop = False
        self.connections = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                continue
            with self._lock:
                self.connections += 1
                drop = self.always_drop or self.drop_next > 0
                bad = not drop and self.bad_gateway_next > 0
                if self.drop_next > 0 and not self.always_drop:
                    self.drop_next -= 1
                if bad:
                    self.bad_gateway_next -= 1
            if drop:
                self.dropped += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # RST: the client sees a reset connection
                continue
            if bad:
                threading.Thread(target=self._bad_gateway, args=(client,), daemon=True).start()
                continue
            threading.Thread(target=self._pipe_pair, args=(client,), daemon=True).start()

    @staticmethod
    def _bad_gateway(client: socket.socket) -> None:
        try:
            client.settimeout(5)
            client.recv(65536)
            body = b"bad gateway"
            client.sendall(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        except OSError:
            pass
        finally:
            client.close()

    def _pipe_pair(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=30)
        except OSError:
            client.close()
            return
        threads = [
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True),
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True),
        ]
        for t in threads:
            t.start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)
