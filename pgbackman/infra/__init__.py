"""PgBackMan infra package."""
