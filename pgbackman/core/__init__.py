"""PgBackMan core package."""
