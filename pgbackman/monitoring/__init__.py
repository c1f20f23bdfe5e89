"""What monitoring systems are told about a backup server: ``state.py`` gathers it (catalog
views, the spool, the partitions), ``metrics.py`` turns it into Prometheus metrics;
pgbackman_check's evaluation is the pure :mod:`pgbackman.core.monitor`."""
