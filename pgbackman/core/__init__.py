"""Pure rules of PgBackMan (no I/O, no catalog, no processes): cron fields and lines, file
names, client argv, database selection, retention, PostgreSQL versions, input validation."""
