"""PgBackMan programs package."""
