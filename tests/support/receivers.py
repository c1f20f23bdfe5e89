"""Real network peers started by the test-suite: an SMTP server (aiosmtpd) and an HTTP
receiver for webhooks. Nothing is mocked: pgbackman_alerts talks to them over TCP.

* :class:`MailServer` runs aiosmtpd in its own thread on 127.0.0.1 with a free port: plain,
  STARTTLS (``starttls=True``) or SMTP over TLS (``implicit_tls=True``), optionally with a
  user/password it accepts. Every message is kept with its envelope, whether the session
  was encrypted and who logged in (None: no login happened).
* :class:`HttpReceiver` is a ThreadingHTTPServer that records every POST (path, headers,
  body) and answers 200 (or ``status``).
* :func:`self_signed` makes a certificate for 127.0.0.1 with openssl(1).
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from support.pgcluster import free_port


def self_signed(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for CN/SAN 127.0.0.1, valid two days."""
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    encrypted: bool
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        assert isinstance(msg, EmailMessage)
        login = self.server.user if session.authenticated else None
        with self.server.lock:
            self.server.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    msg,
                    smtp._tls_protocol is not None or self.server.implicit_tls,
                    login,
                )
            )
        return "250 Message accepted"


class MailServer:
    """aiosmtpd on 127.0.0.1:<free port>; ``messages`` holds what it received."""

    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        user: str | None = None,
        password: str | None = None,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = free_port()
        self.implicit_tls = implicit_tls
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.user, self.password = user, password
        kwargs: dict[str, Any] = {}
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
        if starttls:
            kwargs.update(tls_context=context, require_starttls=True)
        if user is not None:
            kwargs.update(authenticator=self._auth, auth_require_tls=starttls)
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if implicit_tls else None,
            **kwargs,
        )

    def _auth(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        if ok:
            with self.lock:
                self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        with self.lock:
            return list(self.messages)


class HttpReceiver:
    """Records POSTs on 127.0.0.1:<free port>; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver.lock:
                    receiver.posts.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": raw.decode("utf-8", "replace"),
                        }
                    )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def json_posts(self) -> list[Any]:
        with self.lock:
            return [json.loads(p["body"]) for p in self.posts]
