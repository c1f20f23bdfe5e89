"""Backups written by PgBackMan 1.x: their ``-USERS.sql`` and ``-DBCONFIG.sql`` files read
into :class:`~pgbackman.pgnode.globals.DatabaseGlobals`, so that a legacy backup restores
through the same renderers as this software's own (:mod:`pgbackman.archive.globalsfile`):
only the roles asked for, created when missing; the database created under the restore's
temporary name, then renamed.

1.x built both files by filtering ``pg_dumpall`` output line by line (upstream-behaviour.md
§4.5): the USERS file holds ``CREATE ROLE r;``, ``ALTER ROLE r WITH ...`` (attributes and
password hash), ``ALTER ROLE r SET ...``, ``COMMENT ON ROLE`` and ``GRANT x TO r GRANTED BY
y;`` lines; the DBCONFIG file ``CREATE DATABASE db WITH ...`` (with ``OWNER =`` before
PostgreSQL 11), ``ALTER DATABASE db SET ...``, ``GRANT``/``REVOKE ... ON DATABASE db`` and
``COMMENT ON DATABASE`` lines. Statements are parsed (identifiers and literals unquoted),
never pasted: what the restore runs is rendered again with this software's quoting. Lines
about another database or anything else are ignored. 1.x wrote neither a manifest nor a
checksum: such a backup is restored as legacy and unverified (see the restore runner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgbackman.pgnode.globals import (
    AclItem,
    DatabaseGlobals,
    DatabaseInfo,
    Membership,
    RoleInfo,
)

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<ident>"(?:[^"]|"")*")
    | (?P<estr>[Ee]'(?:[^'\\]|''|\\.)*')
    | (?P<str>'(?:[^']|'')*')
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<num>-?[0-9]+)
    | (?P<punct>[,;=()])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_DB_PRIVILEGES = ("CONNECT", "CREATE", "TEMPORARY")


class LegacyFormatError(ValueError):
    """A line of a 1.x file cannot be read as the statement it starts like."""


@dataclass(frozen=True)
class Token:
    kind: str  # ident (identifier, unquoted), str (literal, unquoted), word, num, punct
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokenize(line: str) -> list[Token]:
    """One SQL statement line -> tokens (identifiers and literals unquoted)."""
    out: list[Token] = []
    pos, text = 0, line.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise LegacyFormatError(f"cannot read {text[pos : pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        raw = m.group(kind)
        if kind == "ident":
            out.append(Token("ident", raw[1:-1].replace('""', '"')))
        elif kind == "str":
            out.append(Token("str", raw[1:-1].replace("''", "'")))
        elif kind == "estr":
            body = raw[2:-1].replace("''", "'")
            out.append(
                Token(
                    "str",
                    re.sub(
                        r"\\(.)", lambda e: _ESCAPES.get(e.group(1), e.group(1)), body
                    ),
                )
            )
        else:
            out.append(Token(kind, raw))
    return out


def _name(t: Token) -> str:
    """An identifier: quoted ones as written, unquoted ones as PostgreSQL folds them."""
    if t.kind == "ident":
        return t.text
    if t.kind == "word":
        return t.text.lower()
    raise LegacyFormatError(f"expected a name, found {t.text!r}")


def _setting(toks: list[Token]) -> str:
    """``guc TO 'a', 'b'`` / ``guc = 'v'`` -> ``guc=a, b`` (pg_db_role_setting form)."""
    if len(toks) < 3 or not (toks[1].is_word("TO") or toks[1].text == "="):
        raise LegacyFormatError("expected SET <parameter> TO <value>")
    values = [t.text for t in toks[2:] if t.text not in (",", ";")]
    if len(values) == 1:
        return f"{toks[0].text.lower()}={values[0]}"
    items = [
        v if re.fullmatch(r"[a-z_][a-z0-9_$]*", v) else '"' + v.replace('"', '""') + '"'
        for v in values
    ]
    return f"{toks[0].text.lower()}={', '.join(items)}"


@dataclass
class _Roles:
    roles: dict[str, RoleInfo] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    in_database: dict[str, list[str]] = field(default_factory=dict)

    def role(self, name: str) -> RoleInfo:
        if name not in self.roles:
            self.roles[name] = RoleInfo(
                name=name, oid=0, predefined=name.startswith("pg_")
            )
        return self.roles[name]


_ROLE_FLAGS = {
    "SUPERUSER": "superuser",
    "INHERIT": "inherit",
    "CREATEROLE": "createrole",
    "CREATEDB": "createdb",
    "LOGIN": "canlogin",
    "REPLICATION": "replication",
    "BYPASSRLS": "bypassrls",
}


def _role_options(r: RoleInfo, toks: list[Token]) -> None:
    i = 0
    while i < len(toks):
        t = toks[i]
        word = t.text.upper() if t.kind == "word" else ""
        if word in _ROLE_FLAGS:
            setattr(r, _ROLE_FLAGS[word], True)
        elif word.startswith("NO") and word[2:] in _ROLE_FLAGS:
            setattr(r, _ROLE_FLAGS[word[2:]], False)
        elif word == "PASSWORD" and i + 1 < len(toks):
            i += 1
            r.password = toks[i].text if toks[i].kind == "str" else None
        elif word == "VALID" and i + 2 < len(toks) and toks[i + 1].is_word("UNTIL"):
            i += 2
            r.valid_until = toks[i].text
        elif (
            word == "CONNECTION" and i + 2 < len(toks) and toks[i + 1].is_word("LIMIT")
        ):
            i += 2
            r.connlimit = int(toks[i].text)
        i += 1


def _users_statement(state: _Roles, toks: list[Token], dbname: str) -> None:
    if len(toks) >= 3 and toks[0].is_word("CREATE") and toks[1].is_word("ROLE"):
        state.role(_name(toks[2]))
    elif len(toks) >= 4 and toks[0].is_word("ALTER") and toks[1].is_word("ROLE"):
        r = state.role(_name(toks[2]))
        rest = toks[3:]
        if rest[0].is_word("WITH"):
            _role_options(r, rest[1:])
        elif rest[0].is_word("SET"):
            r.settings.append(_setting(rest[1:]))
        elif len(rest) > 3 and rest[0].is_word("IN") and rest[1].is_word("DATABASE"):
            if _name(rest[2]) == dbname and rest[3].is_word("SET"):
                state.in_database.setdefault(r.name, []).append(_setting(rest[4:]))
        else:
            _role_options(r, rest)
    elif (
        len(toks) >= 6
        and toks[0].is_word("COMMENT")
        and toks[2].is_word("ROLE")
        and toks[4].is_word("IS")
    ):
        state.role(_name(toks[3])).comment = toks[5].text
    elif len(toks) >= 4 and toks[0].is_word("GRANT") and toks[2].is_word("TO"):
        admin = any(t.is_word("ADMIN") for t in toks[4:])
        state.memberships.append(
            Membership(role=_name(toks[1]), member=_name(toks[3]), admin_option=admin)
        )


def _statements(text: str) -> list[list[Token]]:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("--") or s.upper() in ("BEGIN;", "COMMIT;"):
            continue
        toks = tokenize(s)
        if toks and toks[-1].text == ";":
            toks = toks[:-1]
        if toks:
            out.append(toks)
    return out


def parse_users(text: str, dbname: str) -> _Roles:
    """The roles, memberships and in-database role settings of a 1.x USERS file."""
    state = _Roles()
    for toks in _statements(text):
        try:
            _users_statement(state, toks, dbname)
        except (IndexError, LegacyFormatError) as exc:
            raise LegacyFormatError(
                f"unreadable roles statement {' '.join(t.text for t in toks)[:80]!r}: {exc}"
            ) from None
    return state


@dataclass
class _Db:
    info: DatabaseInfo | None = None
    owner: str | None = None
    settings: list[str] = field(default_factory=list)
    connlimit: int | None = None
    comment: str | None = None
    acl_statements: list[tuple[bool, set[str], list[str | None], bool]] = field(
        default_factory=list
    )  # (grant?, privileges, grantees (None = PUBLIC), with grant option)


def _create_database(name: str, toks: list[Token]) -> tuple[DatabaseInfo, str | None]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(toks):
        if toks[i].kind == "word" and toks[i].text.upper() != "WITH":
            key = toks[i].text.upper()
            if (
                key == "CONNECTION"
                and i + 1 < len(toks)
                and toks[i + 1].is_word("LIMIT")
            ):
                key, i = "CONNECTION LIMIT", i + 1
            if i + 2 < len(toks) and toks[i + 1].text == "=":
                opts[key] = toks[i + 2].text
                i += 3
                continue
        i += 1
    locale = opts.get("LOCALE", "")
    provider = {"LIBC": "c", "ICU": "i"}.get(opts.get("LOCALE_PROVIDER", "").upper())
    info = DatabaseInfo(
        name=name,
        owner="",
        encoding=opts.get("ENCODING", "UTF8"),
        collate=opts.get("LC_COLLATE", locale),
        ctype=opts.get("LC_CTYPE", locale),
        locale_provider=provider,
        icu_locale=opts.get("ICU_LOCALE") or None,
        tablespace=opts.get("TABLESPACE", "pg_default"),
        connlimit=int(opts.get("CONNECTION LIMIT", "-1")),
    )
    return info, opts.get("OWNER")


def _privileges(toks: list[Token]) -> set[str]:
    out: set[str] = set()
    for t in toks:
        word = t.text.upper()
        if word == "ALL":
            out |= set(_DB_PRIVILEGES)
        elif word in ("TEMP", "TEMPORARY"):
            out.add("TEMPORARY")
        elif word in _DB_PRIVILEGES:
            out.add(word)
    return out


def _dbconfig_statement(db: _Db, toks: list[Token], dbname: str) -> None:
    words = [t.text.upper() if t.kind == "word" else t.text for t in toks]
    if words[:2] == ["CREATE", "DATABASE"] and _name(toks[2]) == dbname:
        db.info, owner = _create_database(dbname, toks[3:])
        db.owner = owner or db.owner
    elif words[:2] == ["ALTER", "DATABASE"] and _name(toks[2]) == dbname:
        if words[3] == "SET":
            db.settings.append(_setting(toks[4:]))
        elif words[3:5] == ["OWNER", "TO"]:
            db.owner = _name(toks[5])
        elif words[3:5] == ["CONNECTION", "LIMIT"]:
            db.connlimit = int(toks[5].text)
    elif words[:3] == ["COMMENT", "ON", "DATABASE"]:
        if _name(toks[3]) == dbname and words[4] == "IS":
            db.comment = toks[5].text
    elif words[0] in ("GRANT", "REVOKE") and "ON" in words:
        on = words.index("ON")
        if words[on + 1] != "DATABASE" or _name(toks[on + 2]) != dbname:
            return
        grant = words[0] == "GRANT"
        rest = toks[on + 3 :]
        if not rest or not rest[0].is_word("TO", "FROM"):
            raise LegacyFormatError("expected TO or FROM")
        grantees: list[str | None] = []
        option = False
        for t in rest[1:]:
            if t.is_word("WITH", "GRANT", "OPTION", "GRANTED", "BY", "CASCADE"):
                option = option or t.is_word("OPTION")
                if t.is_word("GRANTED"):
                    break
                continue
            if t.text == ",":
                continue
            grantees.append(None if t.is_word("PUBLIC") else _name(t))
        db.acl_statements.append((grant, _privileges(toks[1:on]), grantees, option))


def _acl(db: _Db, owner: str) -> list[AclItem] | None:
    """The database ACL after the file's GRANT/REVOKE statements (None: untouched)."""
    if not db.acl_statements:
        return None
    acl: dict[str | None, dict[str, bool]] = {
        owner: {p: False for p in _DB_PRIVILEGES},
        None: {"CONNECT": False, "TEMPORARY": False},
    }
    for grant, privs, grantees, option in db.acl_statements:
        for who in grantees:
            held = acl.setdefault(who, {})
            for p in privs:
                if grant:
                    held[p] = held.get(p, False) or option
                else:
                    held.pop(p, None)
    return [
        AclItem(grantee=who, privilege=p, grantable=opt and who is not None)
        for who, held in acl.items()
        for p, opt in sorted(held.items())
    ]


def parse_dbconfig(text: str, dbname: str) -> _Db:
    db = _Db()
    for toks in _statements(text):
        try:
            _dbconfig_statement(db, toks, dbname)
        except (IndexError, ValueError) as exc:
            raise LegacyFormatError(
                f"unreadable database statement {' '.join(t.text for t in toks)[:80]!r}: {exc}"
            ) from None
    return db


def read_legacy_globals(
    users_text: str | None,
    dbconfig_text: str | None,
    dbname: str,
    *,
    default_owner: str,
    server_version: str = "",
) -> DatabaseGlobals:
    """Roles and database attributes of a 1.x backup. ``default_owner`` owns the database
    when the DBCONFIG file does not say (1.x dropped ``ALTER DATABASE ... OWNER TO`` lines,
    which pg_dumpall writes since PostgreSQL 11). LegacyFormatError when the DBCONFIG file
    has no ``CREATE DATABASE`` line for ``dbname``."""
    roles = parse_users(users_text or "", dbname)
    db = parse_dbconfig(dbconfig_text or "", dbname)
    notes = ["read from the files of a PgBackMan 1.x backup"]
    if db.info is None:
        if dbconfig_text is not None:
            raise LegacyFormatError(
                f"the database configuration file has no CREATE DATABASE line for {dbname!r}"
            )
        info = DatabaseInfo(
            name=dbname, owner=default_owner, encoding="UTF8", collate="", ctype=""
        )
    else:
        info = db.info
    if db.owner is None:
        notes.append(
            f"the owner of the database is not recorded: {default_owner} owns it"
        )
    info.owner = db.owner or default_owner
    if db.connlimit is not None:
        info.connlimit = db.connlimit
    info.settings = db.settings
    info.role_settings = roles.in_database
    info.comment = db.comment
    info.acl = _acl(db, info.owner)
    return DatabaseGlobals(
        database=info,
        roles=list(roles.roles.values()),
        memberships=roles.memberships,
        server_version=server_version,
        server_version_num=0,
        passwords_readable=any(r.password for r in roles.roles.values()),
        notes=notes,
    )
