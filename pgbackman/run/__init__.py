"""What a dump run and a restore run share: the stop signal and per-run log (jobrun.py) and
the choice and logging of PostgreSQL client programs (clients.py)."""
