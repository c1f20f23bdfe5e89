"""Sending mail with smtplib, exactly as ``[pgbackman_alerts]`` says.

smtplib rather than apprise's ``mailto://`` because the rules must be exact and checkable:
``smtp_ssl`` = SMTP over TLS (port 465), ``smtp_starttls`` = STARTTLS on the plain port, and
neither only for the server named ``localhost`` (upstream); the certificate is always checked
(system CAs or ``smtp_ca_file``); ``login()`` happens only when ``smtp_user`` is set
(upstream always logged in, even with an empty user); a STARTTLS that the server does not
offer is an error, never a silent fall-back to clear text.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType

from pgbackman.config import AlertsConfig
from pgbackman.errors import DeliveryError

log = logging.getLogger(__name__)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{exc.smtp_code} {text}".strip()
    return str(exc) or type(exc).__name__


class SmtpConnection:
    """One SMTP session for a delivery cycle (context manager); ``send`` one message."""

    def __init__(self, cfg: AlertsConfig) -> None:
        self.cfg = cfg
        self._smtp: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cfg.smtp_ca_file or None)

    def open(self) -> None:
        cfg = self.cfg
        where = f"{cfg.smtp_server}:{cfg.smtp_port}"
        try:
            if cfg.smtp_mode == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.smtp_server,
                    cfg.smtp_port,
                    timeout=cfg.smtp_timeout,
                    context=self._tls(),
                )
            else:
                smtp = smtplib.SMTP(
                    cfg.smtp_server, cfg.smtp_port, timeout=cfg.smtp_timeout
                )
            self._smtp = smtp
            smtp.ehlo()
            if cfg.smtp_mode == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"SMTP server {where} does not offer STARTTLS (smtp_starttls = ON)"
                    )
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password)
        except DeliveryError:
            self.close()
            raise
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise DeliveryError(f"SMTP server {where}: {_reason(exc)}") from None
        log.debug("SMTP session open to %s (%s)", where, cfg.smtp_mode)

    def send(self, msg: EmailMessage) -> None:
        if self._smtp is None:
            raise DeliveryError("SMTP session is not open")
        try:
            refused = self._smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"SMTP delivery to {msg['To']}: {_reason(exc)}"
            ) from None
        if refused:
            raise DeliveryError(
                f"SMTP server refused {', '.join(sorted(refused))}: {refused}"
            )

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
