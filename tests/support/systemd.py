"""A stand-in for systemd's notification socket: what a ``Type=notify`` daemon tells it.

The test binds a real unix datagram socket and gives its path to the program in
``NOTIFY_SOCKET``, exactly as systemd does; :meth:`NotifySocket.expect` reads the messages.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType


class NotifySocket:
    """A bound ``AF_UNIX``/``SOCK_DGRAM`` socket; ``address`` goes into NOTIFY_SOCKET."""

    def __init__(self) -> None:
        # A short directory of its own: unix socket paths are limited to 107 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="pgb-notify-", dir="/tmp"))
        self.address = str(self._dir / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.address)
        self.messages: list[list[str]] = []

    def receive(self, timeout: float) -> list[str] | None:
        """The next datagram as its ``KEY=value`` lines, or None after ``timeout`` s."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        lines = data.decode("utf-8").splitlines()
        self.messages.append(lines)
        return lines

    def expect(self, state: str, timeout: float = 30.0) -> list[str]:
        """Read messages until one holds ``state`` (e.g. ``READY=1``); return that one."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            lines = self.receive(left)
            if lines is not None and state in lines:
                return lines
        raise AssertionError(f"no {state} within {timeout}s; got {self.messages}")

    def close(self) -> None:
        self.sock.close()
        Path(self.address).unlink(missing_ok=True)
        self._dir.rmdir()

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
