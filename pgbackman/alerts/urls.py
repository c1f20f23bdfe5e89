"""Chat and webhook targets (``[pgbackman_alerts] notify_urls``) through apprise.

apprise knows the URL schemes of about a hundred services (``json://`` and ``form://``
webhooks, Slack, Matrix, Teams, Telegram, ntfy, ...), so operators pick their target by URL
instead of waiting for a plugin. URLs often carry tokens: errors name the scheme and host
only, never the whole URL.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import apprise

from pgbackman.errors import DeliveryError

log = logging.getLogger(__name__)


def redact(url: str) -> str:
    """``scheme://host`` of a URL: enough to say which target, without its secrets."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<unparsable URL>"
    return f"{parts.scheme}://{host}" if parts.scheme else "<URL without a scheme>"


def check_urls(urls: list[str]) -> None:
    """Refuse URLs apprise does not understand (a clear error before the first alert)."""
    for url in urls:
        if apprise.Apprise.instantiate(url) is None:
            raise DeliveryError(
                f"notify_urls: apprise does not understand {redact(url)}"
            )


def notify(urls: list[str], title: str, body: str) -> None:
    """Send one notification to every URL; DeliveryError if any target failed."""
    failed = []
    for url in urls:
        target = apprise.Apprise()
        if not target.add(url):
            failed.append(f"{redact(url)} (not understood)")
            continue
        if not target.notify(title=title, body=body):
            failed.append(redact(url))
    if failed:
        raise DeliveryError(
            f"notification failed for {', '.join(failed)} (see the log)"
        )
