"""File and directory names of one dump run (upstream §4.3, with one timestamp per run).

Layout under a node's backup partition ``<dir>``::

    <dir>/dump/<db>-<fqdn>-v<R>-<ID>-c<CODE>-<TS>-DATABASE        pg_dump -Fd directory
    <dir>/dump/<db>-<fqdn>-v<R>-<ID>-c<CODE>-<TS>-USERS.sql       roles the database needs
    <dir>/dump/<db>-<fqdn>-v<R>-<ID>-c<CODE>-<TS>-DBCONFIG.sql    CREATE/ALTER DATABASE, ACL, comment
    <dir>/dump/<db>-<fqdn>-v<R>-<ID>-c<CODE>-<TS>-MANIFEST.sha256 sha256sum format, relative to dump/
    <dir>/log/<db>-<fqdn>-v<R>-<ID>-c<CODE>-<TS>.log              one log per run
    <dir>/dump/CLUSTER-<fqdn>-v<R>-<ID>-cCLUSTER-<TS>.sql.gz      pg_dumpall output (gzip;
                                                         .sql.zst, .sql.lz4, .sql by method)

An encrypted backup (age) has ``.age`` after the name of every file: ``-USERS.sql.age``,
``-DBCONFIG.sql.age``, ``.sql.gz.age`` and, inside the ``-DATABASE`` directory,
``toc.dat.age``, ``3001.dat.gz.age``... (the manifest itself is not encrypted: it holds
only checksums of what is on disk).

``<ID>`` is ``defid<N>`` (cron) or ``snapid<N>`` (at). ``<R>`` is the pg_dump release tag
(``15``, ``9_6``). The database name is made file-name safe by :func:`safe_component`; the
catalog keeps the exact name. The manifest is written last: its presence marks a complete dump.
While a run works, everything lives in ``<dir>/dump/.partial-<ID>-<pid>-<TS>/`` and is renamed
into place at the end; stale ``.partial-<ID>-*`` directories are swept by the next run of the
same job (under its lock).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass

from pgbackman.core.compression import CLUSTER_SUFFIX

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
# Keep names well under NAME_MAX (255 bytes) once the suffixes are added.
_MAX_COMPONENT = 96
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S"
PARTIAL_PREFIX = ".partial-"
ENCRYPTED_SUFFIX = ".age"
DUMP_DIR = "dump"  # inside a node's backup partition
LOG_DIR = "log"
_TS_RE = r"[0-9]{8}T[0-9]{6}"
_RELEASE_RE = r"[0-9]+(?:_[0-9]+)?"


def safe_component(name: str) -> str:
    """Encode ``name`` so it can be one path component, even inside a cron line.

    Characters outside ``[A-Za-z0-9._-]`` become ``_xHH_`` per UTF-8 byte (no ``%``: cron
    treats it specially; never ``/``). A leading ``.`` is encoded too, so a name can never be
    hidden, ``.`` or ``..``. Long results are shortened and made unique with a hash suffix.
    """
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch in _SAFE and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"_x{b:02X}_" for b in ch.encode("utf-8"))
    result = "".join(out)
    if len(result) > _MAX_COMPONENT:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
        result = f"{result[: _MAX_COMPONENT - 13]}~{digest}"
    return result


def run_timestamp(now: _dt.datetime) -> str:
    """The one timestamp used in every file name of a run."""
    return now.strftime(TIMESTAMP_FORMAT)


def job_tag(def_id: int | None, snapshot_id: int | None) -> str:
    """``defid<N>`` for a backup definition, ``snapid<N>`` for a snapshot."""
    if (def_id is None) == (snapshot_id is None):
        raise ValueError("exactly one of def_id and snapshot_id is required")
    return (
        f"defid{int(def_id)}"
        if def_id is not None
        else f"snapid{int(snapshot_id or 0)}"
    )


def lock_file_name(def_id: int | None, snapshot_id: int | None) -> str:
    """Per-job lock file inside the node's backup partition (docs/DESIGN.md)."""
    if def_id is not None:
        return f".backup-def{int(def_id)}.lock"
    if snapshot_id is not None:
        return f".snapshot-{int(snapshot_id)}.lock"
    raise ValueError("def_id or snapshot_id is required")


def partial_dir_name(tag: str, pid: int, ts: str) -> str:
    return f"{PARTIAL_PREFIX}{tag}-{int(pid)}-{ts}"


_PARTIAL_RE = re.compile(
    r"^\.partial-(?:defid(?P<def>[0-9]+)|snapid(?P<snap>[0-9]+))-(?P<pid>[0-9]+)-(?P<ts>.+)$"
)


@dataclass(frozen=True)
class PartialName:
    """What a staging directory's name says: its job, the pid of its run, the run's time."""

    def_id: int | None
    snapshot_id: int | None
    pid: int
    ts: str


def parse_partial_name(name: str) -> PartialName | None:
    """The parts of a ``.partial-<ID>-<pid>-<TS>`` name (None for anything else)."""
    m = _PARTIAL_RE.match(name)
    if m is None:
        return None
    return PartialName(
        int(m["def"]) if m["def"] else None,
        int(m["snap"]) if m["snap"] else None,
        int(m["pid"]),
        m["ts"],
    )


def partial_glob(tag: str) -> str:
    """Glob matching the staging directories of one job (and only that job)."""
    return f"{PARTIAL_PREFIX}{tag}-*"


# A restore of an encrypted pg_dump directory decrypts it first into a private directory of
# the target node's partition (restore/decrypt.py), named after its restore definition (or
# drill / clone id) and its pid; a killed restore leaves it behind, and it holds plaintext.
DECRYPTED_PREFIX = ".decrypted-restoredef"
_DECRYPTED_RE = re.compile(r"^\.decrypted-restoredef(?P<job>[0-9]+)-(?P<pid>[0-9]+)$")


@dataclass(frozen=True)
class DecryptedName:
    """What a decrypted copy's name says: the restore job's id and the pid of its run."""

    job_id: int
    pid: int


def decrypted_dir_name(job_id: int, pid: int) -> str:
    """``.decrypted-restoredef<N>-<pid>``: directly in the target node's partition."""
    return f"{DECRYPTED_PREFIX}{int(job_id)}-{int(pid)}"


def parse_decrypted_name(name: str) -> DecryptedName | None:
    """The parts of a ``.decrypted-restoredef<N>-<pid>`` name (None for anything else)."""
    m = _DECRYPTED_RE.match(name)
    if m is None:
        return None
    return DecryptedName(int(m["job"]), int(m["pid"]))


@dataclass(frozen=True)
class DumpNames:
    """Base names (no directory) of every file a run may produce."""

    base: str
    cluster: bool
    cluster_suffix: str = ".sql.gz"  # by compression method (core/compression.py)
    encrypted: bool = False

    @property
    def _sealed(self) -> str:
        return ENCRYPTED_SUFFIX if self.encrypted else ""

    @property
    def database(self) -> str:
        return f"{self.base}-DATABASE"

    @property
    def users(self) -> str:
        return f"{self.base}-USERS.sql{self._sealed}"

    @property
    def dbconfig(self) -> str:
        return f"{self.base}-DBCONFIG.sql{self._sealed}"

    @property
    def cluster_file(self) -> str:
        return f"{self.base}{self.cluster_suffix}{self._sealed}"

    @property
    def manifest(self) -> str:
        return f"{self.base}-MANIFEST.sha256"

    @property
    def log(self) -> str:
        return f"{self.base}.log"


def dump_names(
    *,
    dbname: str,
    node_fqdn: str,
    release_tag: str,
    tag: str,
    backup_code: str,
    ts: str,
    cluster_suffix: str = ".sql.gz",
    encrypted: bool = False,
) -> DumpNames:
    """Names of one run; ``backup_code`` CLUSTER ignores ``dbname``."""
    fqdn = safe_component(node_fqdn)
    code = safe_component(backup_code.upper())
    rel = safe_component(release_tag)
    if code == "CLUSTER":
        return DumpNames(
            f"CLUSTER-{fqdn}-v{rel}-{tag}-cCLUSTER-{ts}",
            cluster=True,
            cluster_suffix=cluster_suffix,
            encrypted=encrypted,
        )
    if not dbname:
        raise ValueError("a database name is required for backup code " + code)
    return DumpNames(
        f"{safe_component(dbname)}-{fqdn}-v{rel}-{tag}-c{code}-{ts}",
        cluster=False,
        encrypted=encrypted,
    )


# catalog column -> (directory under the partition, suffixes after the run's base name)
def file_layout(cluster: bool) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Where and under which suffixes pgbackman_dump writes each file a catalog row names:
    a CLUSTER dump by compression method, and ``.age`` after every file of an encrypted
    backup but the ``-DATABASE`` directory (its files inside carry it), the manifest and
    the log."""

    def sealed(*suffixes: str) -> tuple[str, ...]:
        return tuple(s + e for s in suffixes for e in ("", ENCRYPTED_SUFFIX))

    return {
        "pg_dump_file": (
            DUMP_DIR,
            sealed(*CLUSTER_SUFFIX.values()) if cluster else ("-DATABASE",),
        ),
        "pg_dump_roles_file": (DUMP_DIR, sealed("-USERS.sql")),
        "pg_dump_dbconfig_file": (DUMP_DIR, sealed("-DBCONFIG.sql")),
        "pg_dump_manifest_file": (DUMP_DIR, ("-MANIFEST.sha256",)),
        "pg_dump_log_file": (LOG_DIR, (".log",)),
        "pg_dump_roles_log_file": (LOG_DIR, (".log",)),
        "pg_dump_dbconfig_log_file": (LOG_DIR, (".log",)),
    }


_RELEASE_AT_START = re.compile(_RELEASE_RE)
_TS_ONLY = re.compile(_TS_RE)


@dataclass(frozen=True)
class RunBase:
    """The base names (:func:`dump_names`) of every run of one job: only the release and
    the timestamp may vary. Maintenance deletes nothing that does not match its row.

    Two literal parts and two precompiled patterns, the same language as the regular
    expression ``<head>-<fqdn>-v<release>-<tag>-c<code>-<ts>``: compiling one expression per
    row cost maintenance seconds when a pass deletes thousands of backups."""

    prefix: str  # <head>-<fqdn>-v
    middle: str  # -<tag>-c<code>-

    def fullmatch(self, name: str) -> bool:
        if not name.startswith(self.prefix):
            return False
        rest = name[len(self.prefix) :]
        # The release is digits and '_': it ends where the literal middle ('-...') starts.
        m = _RELEASE_AT_START.match(rest)
        if m is None or not rest.startswith(self.middle, m.end()):
            return False
        return _TS_ONLY.fullmatch(rest, m.end() + len(self.middle)) is not None


def run_base_pattern(
    *, dbname: str, node_fqdn: str, tag: str, backup_code: str
) -> RunBase:
    """The base names of every run of one job (see :class:`RunBase`)."""
    code = safe_component(backup_code.upper())
    head = "CLUSTER" if code == "CLUSTER" else safe_component(dbname)
    return RunBase(f"{head}-{safe_component(node_fqdn)}-v", f"-{tag}-c{code}-")


# catalog column -> (directory, suffixes) of the files PgBackMan 1.x wrote (upstream §4.3)
def legacy_file_layout(cluster: bool) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Where and under which suffixes PgBackMan 1.x wrote the files its catalog rows name:
    its backups, imported by the catalog upgrade, are deleted by retention like new ones."""
    if cluster:
        return {
            "pg_dump_file": (DUMP_DIR, (".sql.gz", ".sql")),  # .sql without /bin/gzip
            "pg_dump_log_file": (LOG_DIR, (".log",)),
        }
    return {
        "pg_dump_file": (
            DUMP_DIR,
            ("-DATABASE.sql",),
        ),  # 1.1+: a directory; 1.0: a file
        "pg_dump_log_file": (LOG_DIR, ("-DATABASE.log",)),
        "pg_dump_roles_file": (DUMP_DIR, ("-USERS.sql",)),
        "pg_dump_roles_log_file": (LOG_DIR, ("-USERS.log",)),
        "pg_dump_dbconfig_file": (DUMP_DIR, ("-DBCONFIG.sql",)),
        "pg_dump_dbconfig_log_file": (LOG_DIR, ("-DBCONFIG.log",)),
    }


def legacy_run_pattern(
    *, dbname: str, node_fqdn: str, tag: str, backup_code: str
) -> re.Pattern[str]:
    """The base names PgBackMan 1.x gave the files of one job: the raw database and node
    names, and 1.0 put no ``-`` between the code and the timestamp. 1.x took a timestamp per
    file, so the files of one run may differ there: group ``ts`` is that part."""
    code = backup_code.upper()
    head = "CLUSTER" if code == "CLUSTER" else dbname
    return re.compile(
        rf"{re.escape(head)}-{re.escape(node_fqdn)}-v{_RELEASE_RE}"
        rf"-{re.escape(tag)}-c{re.escape(code)}-?(?P<ts>{_TS_RE})"
    )


def restore_log_name(
    target: str,
    node_fqdn: str,
    release_tag: str,
    restore_def: int,
    ts: str,
    job: str = "restoredef",
) -> str:
    """``<target>-<fqdn>-v<R>-<job><N>-<TS>.log`` (file-name-safe components; ``job`` is
    ``restoredef`` for a restore definition, ``drill`` for a restore drill)."""
    return (
        f"{safe_component(target or 'CLUSTER')}-{safe_component(node_fqdn)}"
        f"-v{safe_component(release_tag)}-{safe_component(job)}{int(restore_def)}-{ts}.log"
    )


def restore_log_pattern(
    target: str, node_fqdn: str, restore_def: int, job: str = "restoredef"
) -> re.Pattern[str]:
    """Names :func:`restore_log_name` gives the logs of one restore definition (or drill:
    ``job``; a second run in the same second gets ``-<n>`` before ``.log``), and the name
    PgBackMan 1.x gave a restore log (raw names, no timestamp: upstream §5.2), for logs
    imported by the catalog upgrade."""
    ours = (
        rf"{re.escape(safe_component(target or 'CLUSTER'))}-"
        rf"{re.escape(safe_component(node_fqdn))}-v(?:{_RELEASE_RE}|unknown)"
        rf"-{re.escape(safe_component(job))}{int(restore_def)}-{_TS_RE}(?:-[0-9]+)?\.log"
    )
    if job != "restoredef":  # 1.x had restore definitions only
        return re.compile(ours)
    upstream = (
        rf"{re.escape(target)}-{re.escape(node_fqdn)}-v{_RELEASE_RE}"
        rf"-restoredef{int(restore_def)}\.log"
    )
    return re.compile(f"{ours}|{upstream}")
