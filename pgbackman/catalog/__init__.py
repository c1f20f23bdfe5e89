"""PgBackMan catalog package."""
