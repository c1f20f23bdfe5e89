"""pgbackman_maintenance's work: one pass of housekeeping tasks over this backup server.

``daemon`` is the loop (a :class:`pgbackman.infra.daemon.Daemon`); ``runner`` runs one pass
(tasks in order, each isolated); ``tasks`` holds the six
tasks; ``files`` deletes what the catalog names, confined to the backup root and under the
job lock; ``report`` counts what a pass did. SQL lives in ``pgbackman.catalog.maintenance``,
retention decisions in ``pgbackman.core.retention``.
"""
