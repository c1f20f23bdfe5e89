"""pgbackman_maintenance's work: one pass of housekeeping tasks over this backup server.

``daemon`` is the loop (a :class:`pgbackman.infra.daemon.Daemon`); ``runner`` runs one pass
(tasks in order, each isolated); ``tasks`` holds the tasks; ``deleting`` how a task deletes a
row (or refuses); ``files`` deletes only what was written for a row, inside the local root and
under the job lock; ``integrity`` checks backups, records and alerts what it finds;
``verify`` is ``--verify``; ``report`` counts what a pass did (errors vs warnings). SQL lives
in ``pgbackman.catalog.maintenance``,
retention decisions in ``pgbackman.core.retention``.
"""
