"""PgBackMan shell package."""
