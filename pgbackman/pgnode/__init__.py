"""SQL spoken to the PgSQL nodes being backed up (never to the catalog): connections
(connection.py), the roles and settings a database needs (globals.py) and the target-side
steps of a restore (restore.py)."""
