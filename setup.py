"""Packaging for PgBackMan: the package, one console script per program, SQL and etc/ files,
the manual pages (built from docs/man with docutils) and the bash completions."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
version: dict[str, str] = {}
exec((HERE / "pgbackman" / "version.py").read_text(), version)  # noqa: S102 - our own file
# Every program is a file in bin/ (what runs from a checkout); its module follows the one
# naming rule of pgbackman/programs/__init__.py (read without importing the package).
programs: dict[str, object] = {}
exec((HERE / "pgbackman" / "programs" / "__init__.py").read_text(), programs)  # noqa: S102
PROGRAMS = sorted(p.name for p in (HERE / "bin").iterdir() if not p.name.startswith("_"))
if not PROGRAMS:
    raise SystemExit("setup.py: bin/ lists no program (is bin/ missing from the sdist?)")
# Manual pages and completions under share/ (scripts/build_manpages.py; docutils is a build
# requirement in pyproject.toml).
manpages: dict[str, object] = {
    "__file__": str(HERE / "scripts" / "build_manpages.py"),
    "__name__": "build_manpages",
}
exec((HERE / "scripts" / "build_manpages.py").read_text(), manpages)  # noqa: S102

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
        # Encryption at rest: age (X25519 recipients) in-process, streamed with flat memory
        # (encrypt_io/decrypt_io), and an ephemeral identity that never leaves memory.
        "pyrage>=1.2",
        # CLUSTER dumps compressed in Python with the chosen method: zstd and lz4 frames.
        "zstandard>=0.21",
        "lz4>=4.0",
        # Offsite copies on S3-compatible object storage: multipart streams, the standard
        # credential chain (env, ~/.aws, instance role), AWS, MinIO, Ceph RGW alike.
        "boto3>=1.28",
    ],
    extras_require={
        "test": [
            "pytest>=8", "pexpect>=4.8", "mypy>=1.8", "types-psycopg2", "types-tabulate", "ruff>=0.5",
            "docutils>=0.20", "types-croniter", "pytest-xdist>=3.5",
            # A real SMTP server for the pgbackman_alerts tests (not a mock of smtplib).
            "aiosmtpd>=1.4",
            # A real S3 API server for the offsite tests (moto in server mode, not a mock).
            "moto[server]>=5.0", "boto3-stubs[s3]",
        ],
    },
    entry_points={
        "console_scripts": [
            f"{name} = {programs['module_for'](name)}:main"  # type: ignore[operator]
            for name in PROGRAMS
        ]
    },
    data_files=[
        ("share/pgbackman", [str(p) for p in sorted(Path("sql").glob("*.sql"))]),
        ("share/pgbackman/schema", [str(p) for p in sorted(Path("sql/schema").glob("*.sql"))]),
        ("share/pgbackman/upgrade", [str(p) for p in sorted(Path("sql/upgrade").glob("*.sql"))]),
        ("share/pgbackman/etc", [str(p) for p in sorted(Path("etc").glob("*")) if p.is_file()]),
        *manpages["data_files"](),  # type: ignore[operator]
    ],
)
