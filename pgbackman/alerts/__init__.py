"""pgbackman_alerts: delivery of alert rows by mail (digests) and to chat/webhook targets.

``sender.py`` (one delivery cycle), ``smtp.py`` (smtplib: SSL, STARTTLS, login only when a
user is set), ``urls.py`` (apprise for ``notify_urls``). Messages are built by
:mod:`pgbackman.core.digest`; alert rows come from :mod:`pgbackman.catalog.alerts`.
"""
