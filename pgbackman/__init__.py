"""PgBackMan: PostgreSQL backup manager for fleets of PostgreSQL servers."""

from pgbackman.version import SOFTWARE_VERSION as __version__

__all__ = ["__version__"]
