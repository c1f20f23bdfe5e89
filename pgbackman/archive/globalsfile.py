"""The ROLES (``-USERS.sql``) and DBCONFIG (``-DBCONFIG.sql``) files written beside a dump,
rendered from :class:`pgbackman.pgnode.globals.DatabaseGlobals` (also saved as
JSON on the USERS file's last comment line ``-- pgbackman-globals-json: {...}``, so a restore
can re-render a subset, e.g. only some roles: :func:`read_globals_from_users_file`).
The JSON lives inside the USERS file, not beside it, because maintenance deletes exactly the
files the catalog row names.

ROLES file: one transaction; every missing role is created inside a ``DO`` block guarded by
``IF NOT EXISTS`` with the source's attributes, password hash (when it was readable),
``ALTER ROLE ... SET`` settings and comment. Roles that already exist are left untouched.
Memberships follow (``GRANT role TO member``, a no-op when already granted; memberships of
predefined ``pg_*`` roles are skipped with a warning when the target lacks that role).
Applying the file twice is safe.

Membership grantors are kept (``GRANTED BY``) when the grantor is among the roles in the
file. From a PostgreSQL >= 16 source the grants are ordered so that each grantor holds its
ADMIN OPTION before it is named (a grant whose grantor cannot be satisfied is restored
without it). From an older source the grantor was never checked by PostgreSQL, and
PostgreSQL >= 16 refuses a grantor without ADMIN OPTION: such a grant names its grantor
only when the file is applied to a server older than 16 (a ``DO`` block decides at apply
time), as ``pg_dumpall`` 16 does not dump the grantors of older servers either.

DBCONFIG file: a psql script (needs psql's ``\\if``/``\\gset``, PostgreSQL >= 10 clients)
that can be retargeted without editing: ``psql -v target_db=NEW -f FILE`` (default: the
original name) and ``-v create_db=off`` to skip ``CREATE DATABASE``. It creates the database
when missing (``TEMPLATE template0``, source encoding and locale), then sets the owner,
connection limit, ``ALTER DATABASE ... SET``, ``ALTER ROLE ... IN DATABASE ... SET``, the ACL
(``REVOKE``/``GRANT ... ON DATABASE``, in the source ACL's order; a privilege granted by a
role other than the owner is granted under ``SET ROLE`` to that role, as ``pg_dump`` does,
so its grantor is kept) and the comment.

All identifiers are double-quoted and all literals escaped here (never pasted raw).
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets

from pgbackman.pgnode.globals import DatabaseGlobals, Membership, RoleInfo

# GUCs whose value is a list of identifiers (pg_dump's variable_is_guc_list_quote): their
# stored form "a, \"B c\"" must be split and each element quoted, or SET would make one
# element of the whole string.
GUC_LIST_QUOTE = frozenset(
    {
        "local_preload_libraries",
        "search_path",
        "session_preload_libraries",
        "shared_preload_libraries",
        "temp_tablespaces",
        "unix_socket_directories",
    }
)


def quote_ident(name: str) -> str:
    """Always-quoted SQL identifier."""
    if "\x00" in name:
        raise ValueError("NUL in identifier")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """SQL string literal, correct whatever standard_conforming_strings is (like
    PQescapeLiteral: E'' form when a backslash is present)."""
    if "\x00" in value:
        raise ValueError("NUL in literal")
    body = value.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def psql_quote_arg(value: str) -> str:
    """A single-quoted argument of a psql backslash command (\\set): '' and \\ escaped."""
    body = value.replace("\\", "\\\\").replace("'", "''")
    body = body.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return "'" + body + "'"


def split_guc_list(value: str) -> list[str]:
    """SplitGUCList: comma-separated identifiers, double quotes group (and "" escapes)."""
    items: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i].isspace():
            i += 1
        if i >= n:
            break
        if value[i] == '"':
            i += 1
            buf = []
            while i < n:
                if value[i] == '"':
                    if i + 1 < n and value[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(value[i])
                i += 1
            items.append("".join(buf))
        else:
            start = i
            while i < n and value[i] != ",":
                i += 1
            items.append(value[start:i].strip())
        while i < n and value[i].isspace():
            i += 1
        if i < n and value[i] == ",":
            i += 1
    return items


def render_setting(setting: str) -> tuple[str, str]:
    """'name=value' (pg_db_role_setting) -> (quoted name, SQL value list)."""
    name, _, value = setting.partition("=")
    if name.lower() in GUC_LIST_QUOTE:
        parts = split_guc_list(value)
        rendered = ", ".join(quote_literal(p) for p in parts) if parts else "''"
    else:
        rendered = quote_literal(value)
    return quote_ident(name), rendered


def _dollar_tag(*bodies: str) -> str:
    """A dollar-quote tag that occurs in none of ``bodies`` (names are data)."""
    while True:
        tag = f"$pgb_{secrets.token_hex(4)}$"
        if not any(tag in b for b in bodies):
            return tag


def _role_options(r: RoleInfo) -> str:
    opts = [
        "SUPERUSER" if r.superuser else "NOSUPERUSER",
        "INHERIT" if r.inherit else "NOINHERIT",
        "CREATEROLE" if r.createrole else "NOCREATEROLE",
        "CREATEDB" if r.createdb else "NOCREATEDB",
        "LOGIN" if r.canlogin else "NOLOGIN",
        "REPLICATION" if r.replication else "NOREPLICATION",
        "BYPASSRLS" if r.bypassrls else "NOBYPASSRLS",
    ]
    if r.connlimit != -1:
        opts.append(f"CONNECTION LIMIT {int(r.connlimit)}")
    if r.password:
        opts.append("PASSWORD " + quote_literal(r.password))
    if r.valid_until:
        opts.append("VALID UNTIL " + quote_literal(r.valid_until))
    return " ".join(opts)


def _grant_sql(m: Membership, grantor: str | None = None) -> str:
    if m.inherit_option is not None:
        # PostgreSQL >= 16 source: every option explicit (INHERIT's default would otherwise
        # come from the member's own INHERIT attribute).
        with_ = (
            f" WITH ADMIN {'TRUE' if m.admin_option else 'FALSE'},"
            f" INHERIT {'TRUE' if m.inherit_option else 'FALSE'},"
            f" SET {'FALSE' if m.set_option is False else 'TRUE'}"
        )
    elif m.admin_option:
        with_ = " WITH ADMIN OPTION"  # also understood by PostgreSQL < 16
    else:
        with_ = ""
    by = f" GRANTED BY {quote_ident(grantor)}" if grantor else ""
    return f"GRANT {quote_ident(m.role)} TO {quote_ident(m.member)}{with_}{by};"


def _grant_order(
    memberships: list[Membership], names: set[str]
) -> list[tuple[Membership, str | None]]:
    """PostgreSQL >= 16 source: (membership, grantor to name) in an order where every
    grantor already holds ADMIN OPTION on the role it grants; a grantor that cannot be
    satisfied (outside the file, a cycle) is dropped."""
    admins: set[tuple[str, str]] = set()
    out: list[tuple[Membership, str | None]] = []
    pending = list(memberships)
    while pending:
        progress = []
        for m in pending:
            g = m.grantor if m.grantor in names else None
            if g is None or (m.role, g) in admins:
                progress.append((m, g))
        if not progress:
            progress = [(m, None) for m in pending[:1]]
        for m, g in progress:
            out.append((m, g))
            pending.remove(m)
            if m.admin_option:
                admins.add((m.role, m.member))
    return out


def render_roles_sql(
    g: DatabaseGlobals,
    *,
    node: str,
    roles: list[str] | None = None,
    generated: _dt.datetime | None = None,
) -> str:
    """The ROLES file; ``roles`` limits it to a subset (memberships between kept roles)."""
    keep = set(roles) if roles is not None else None
    selected = [r for r in g.roles if keep is None or r.name in keep or r.predefined]
    names = {r.name for r in selected}
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).isoformat(
        timespec="seconds"
    )
    out = [
        "-- PgBackMan",
        f"-- Roles needed by database {g.database.name!r} on {node} "
        f"(PostgreSQL {g.server_version}), generated {when}",
        "-- Safe to apply more than once: psql -X -v ON_ERROR_STOP=1 -d postgres -f <this file>",
        "-- Missing roles are created with the source's attributes; existing roles are not changed.",
    ]
    out += [f"-- NOTE: {n}" for n in g.notes]
    out += ["", "SET client_encoding = 'UTF8';", "BEGIN;", ""]
    for r in selected:
        if r.predefined:
            continue
        stmts = [f"CREATE ROLE {quote_ident(r.name)} WITH {_role_options(r)};"]
        for s in r.settings:
            qn, qv = render_setting(s)
            stmts.append(f"ALTER ROLE {quote_ident(r.name)} SET {qn} TO {qv};")
        if r.comment is not None:
            stmts.append(
                f"COMMENT ON ROLE {quote_ident(r.name)} IS {quote_literal(r.comment)};"
            )
        check = quote_literal(r.name)
        body = "\n    ".join(stmts)
        tag = _dollar_tag(body, check)
        out += [
            f"-- Role {r.name!r}",
            f"DO {tag}",
            "BEGIN",
            f"  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {check}) THEN",  # noqa: S608 - a script we write; {check} is quote_literal()-ed
            f"    {body}",
            "  ELSE",
            f"    RAISE NOTICE 'role % already exists: left unchanged', {check};",
            "  END IF;",
            "END",
            f"{tag};",
            "",
        ]
    predefined = {r.name for r in selected if r.predefined}
    kept = [m for m in g.memberships if m.member in names and m.role in names]
    if g.server_version_num >= 160000:
        ordered = _grant_order(kept, names - predefined)
    else:
        ordered = [
            (m, m.grantor if m.grantor in names - predefined else None) for m in kept
        ]
    for m, grantor in ordered:
        if m.role in predefined:
            grantor = None
        stmt = _grant_sql(m)
        if grantor and g.server_version_num < 160000:
            # Recorded, never checked before PostgreSQL 16: name the grantor only on a
            # server that does not check it either (see the module docstring).
            with_grantor = _grant_sql(m, grantor)
            tag = _dollar_tag(with_grantor, stmt)
            out += [
                f"DO {tag}",
                "BEGIN",
                "  IF pg_catalog.current_setting('server_version_num')::int < 160000 THEN",
                f"    {with_grantor}",
                "  ELSE",
                f"    {stmt}",
                "  END IF;",
                "END",
                f"{tag};",
            ]
            continue
        if grantor:
            stmt = _grant_sql(m, grantor)
        if m.role in predefined:
            check = quote_literal(m.role)
            tag = _dollar_tag(stmt, check)
            out += [
                f"DO {tag}",
                "BEGIN",
                f"  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {check}) THEN",  # noqa: S608 - a script we write; {check} is quote_literal()-ed
                f"    {stmt}",
                "  ELSE",
                f"    RAISE WARNING 'predefined role % does not exist here: membership skipped', {check};",
                "  END IF;",
                "END",
                f"{tag};",
            ]
        else:
            out.append(stmt)
    out += ["", "COMMIT;", "", "-- PgBackMan roles dump completed", ""]
    return "\n".join(out)


def render_dbconfig_sql(
    g: DatabaseGlobals, *, node: str, generated: _dt.datetime | None = None
) -> str:
    """The DBCONFIG psql script (see module docstring)."""
    d = g.database
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).isoformat(
        timespec="seconds"
    )
    target = ':"target_db"'
    out = [
        "-- PgBackMan",
        f"-- Database attributes of {d.name!r} on {node} (PostgreSQL {g.server_version}), "
        f"generated {when}",
        "-- psql -X -v ON_ERROR_STOP=1 [-v target_db=NAME] [-v create_db=off] -d postgres -f <this file>",
        "-- Apply the roles file first.",
        "\\set ON_ERROR_STOP 1",
        "\\if :{?target_db}",
        "\\else",
        f"\\set target_db {psql_quote_arg(d.name)}",
        "\\endif",
        "\\if :{?create_db}",
        "\\else",
        "\\set create_db on",
        "\\endif",
        "SET client_encoding = 'UTF8';",
        "SELECT (:'create_db')::boolean AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database "
        "WHERE datname = :'target_db') AS pgbackman_create_db \\gset",
        "\\if :pgbackman_create_db",
    ]
    create = [
        f"CREATE DATABASE {target} WITH TEMPLATE = template0",
        f"ENCODING = {quote_literal(d.encoding)}",
    ]
    if d.locale_provider == "i":
        create.append("LOCALE_PROVIDER = icu")
        if d.icu_locale:
            create.append(f"ICU_LOCALE = {quote_literal(d.icu_locale)}")
        if d.icu_rules:
            create.append(f"ICU_RULES = {quote_literal(d.icu_rules)}")
    create.append(f"LC_COLLATE = {quote_literal(d.collate)}")
    create.append(f"LC_CTYPE = {quote_literal(d.ctype)}")
    out.append(" ".join(create) + ";")
    out.append("\\endif")
    if d.tablespace != "pg_default":
        out.append(
            f"-- source tablespace {d.tablespace!r} is not recreated (node specific)"
        )
    out.append(f"ALTER DATABASE {target} OWNER TO {quote_ident(d.owner)};")
    if d.connlimit != -1:
        out.append(f"ALTER DATABASE {target} CONNECTION LIMIT {int(d.connlimit)};")
    for s in d.settings:
        qn, qv = render_setting(s)
        out.append(f"ALTER DATABASE {target} SET {qn} TO {qv};")
    for role, settings in sorted(d.role_settings.items()):
        for s in settings:
            qn, qv = render_setting(s)
            out.append(
                f"ALTER ROLE {quote_ident(role)} IN DATABASE {target} SET {qn} TO {qv};"
            )
    if d.acl is not None:
        out.append(f"REVOKE ALL ON DATABASE {target} FROM PUBLIC;")
        out.append(f"REVOKE ALL ON DATABASE {target} FROM {quote_ident(d.owner)};")
        for a in d.acl:
            who = "PUBLIC" if a.grantee is None else quote_ident(a.grantee)
            priv = {"TEMP": "TEMPORARY"}.get(a.privilege, a.privilege)
            if priv not in ("CONNECT", "CREATE", "TEMPORARY"):
                raise ValueError(f"unexpected database privilege {a.privilege!r}")
            opt = " WITH GRANT OPTION" if a.grantable and a.grantee is not None else ""
            grant = f"GRANT {priv} ON DATABASE {target} TO {who}{opt};"
            if a.grantor is not None and a.grantor != d.owner:
                # Granted by a role holding the grant option: grant it as that role (the
                # grantor PostgreSQL records is the role that runs GRANT).
                out += [f"SET ROLE {quote_ident(a.grantor)};", grant, "RESET ROLE;"]
            else:
                out.append(grant)
    if d.comment is not None:
        out.append(f"COMMENT ON DATABASE {target} IS {quote_literal(d.comment)};")
    out += ["", "-- PgBackMan database configuration dump completed", ""]
    return "\n".join(out)


GLOBALS_MARKER = "-- pgbackman-globals-json: "


def read_globals_from_users_file(path: str) -> DatabaseGlobals | None:
    """The structured roles/settings saved in a USERS file (None when the file has none)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(GLOBALS_MARKER):
                return DatabaseGlobals.from_json_dict(
                    json.loads(line[len(GLOBALS_MARKER) :])
                )
    return None
