"""pgbackman_control internals: the daemon loop (daemon.py), the resync logic (resync.py) and
the backup server's directories and node files (files.py)."""
