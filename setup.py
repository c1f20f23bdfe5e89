"""Packaging for PgBackMan: the package, its console scripts, SQL and etc/ files."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
version: dict[str, str] = {}
exec((HERE / "pgbackman" / "version.py").read_text(), version)

setup(
    name="pgbackman",
    version=version["SOFTWARE_VERSION"],
    description="PostgreSQL backup manager for fleets of PostgreSQL servers",
    long_description=(HERE / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="GPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(include=["pgbackman", "pgbackman.*"]),
    include_package_data=True,
    package_data={"pgbackman": ["py.typed"]},
    install_requires=[
        "psycopg2>=2.9",
        "python-crontab>=3.0",
        "python-daemon>=3.0",
        "tabulate>=0.9",
        # pgbackman_alerts: chat/webhook targets (notify_urls) in ~100 services by URL.
        "apprise>=1.6",
        # Stale-backup detection: fire times of a definition's cron schedule.
        "croniter>=2.0",
        # pgbackman_metrics: Prometheus text exposition and its HTTP endpoint.
        "prometheus_client>=0.17",
    ],
    extras_require={
        "test": [
            "pytest>=8", "pexpect>=4.8", "mypy>=1.8", "types-psycopg2", "types-tabulate", "ruff>=0.5",
            "docutils>=0.20", "types-croniter",
            # A real SMTP server for the pgbackman_alerts tests (not a mock of smtplib).
            "aiosmtpd>=1.4",
        ],
    },
    entry_points={
        "console_scripts": [
            "pgbackman = pgbackman.programs.cli:main",
            "pgbackman_control = pgbackman.programs.control:main",
            "pgbackman_maintenance = pgbackman.programs.maintenance:main",
            "pgbackman_dump = pgbackman.programs.dump:main",
            "pgbackman_restore = pgbackman.programs.restore:main",
            "pgbackman_alerts = pgbackman.programs.alerts:main",
            "pgbackman_check = pgbackman.programs.check:main",
            "pgbackman_metrics = pgbackman.programs.metrics:main",
            "pgbackman_status_info = pgbackman.programs.status_info:main",
            "pgbackman_zabbix_autodiscovery = pgbackman.programs.zabbix:main",
        ]
    },
    data_files=[
        ("share/pgbackman", [str(p) for p in sorted(Path("sql").glob("*.sql"))]),
        ("share/pgbackman/schema", [str(p) for p in sorted(Path("sql/schema").glob("*.sql"))]),
        ("share/pgbackman/etc", [str(p) for p in sorted(Path("etc").glob("*")) if p.is_file()]),
    ],
)
