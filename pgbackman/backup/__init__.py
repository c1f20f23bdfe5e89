"""One pgbackman_dump run: job resolution (catalog or cache), the dump itself, the roles and
database-settings files, the manifest and the recording of the result."""
