"""What a shell command gets to work with: config, catalog, output, prompts and look-ups.

A command function receives a :class:`ShellContext` and the values of its parameters
(``shell/params.py``). Asking (``# Label [default]: `` then ``# Are all values correct
(yes/no): ``) lives here so that every command asks the same way, and so that Ctrl-C/EOF
inside a prompt becomes :class:`Aborted` ("[ABORTED] Command interrupted by the user.")
instead of leaving the shell. Look-ups a command, its defaults and tab completion share
(a node's databases, a server's row) are remembered for the command (:meth:`memo`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import servers as cat_servers
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import validate
from pgbackman.errors import Aborted, UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.pgnode.connection import NodeTarget
from pgbackman.shell.render import RULER, Output

T = TypeVar("T")
# The catalog's shipped default domain: a placeholder the install docs ask to change.
PLACEHOLDER_DOMAIN = "example.org"
MEMO_SECONDS = 30.0


class ShellExit(Exception):
    """Raised by quit/EOF to leave the shell loop."""


class ShellContext:
    """Per-session state shared by all commands."""

    def __init__(
        self,
        cfg: Config,
        cat: Catalog,
        out: Output,
        interactive: bool,
        input_func: Callable[[str], str] = input,
    ) -> None:
        self.cfg = cfg
        self.cat = cat
        self.out = out
        self.interactive = interactive
        self.input_func = input_func
        self.history: list[str] = []
        self._prompted = False
        # The candidates of the question being asked right now (None at the command
        # prompt): lets tab completion offer what the question asks for.
        self.asking: Callable[[str], list[str]] | None = None
        self._memo: dict[Any, tuple[float, Any]] = {}

    # -- prompting -------------------------------------------------------------------
    def begin_command(self) -> None:
        """Reset per-command state (called by the app before each command)."""
        self._prompted = False
        self._memo.clear()

    @property
    def prompted(self) -> bool:
        """True once the running command asked something (it then owes a confirmation)."""
        return self._prompted

    def _ask(
        self, text: str, completer: Callable[[str], list[str]] | None = None
    ) -> str:
        if not self.interactive:
            raise UserInputError(
                "Wrong number of parameters used: this command needs its parameters when "
                "not run interactively"
            )
        if not self._prompted:
            self._prompted = True
            self.out.write(RULER)
        self.asking = completer or (lambda typed: [])
        try:
            return self.input_func(text)
        except (KeyboardInterrupt, EOFError):
            # The terminal is left mid-line after ^C/^D.
            self.out.write()
            raise Aborted() from None
        finally:
            self.asking = None

    def ask(self, question: str, completer: Callable[[str], list[str]] | None) -> str:
        """Ask ``question`` as it is (the parameter framework builds it)."""
        return self._ask(question, completer)

    def prompt(self, label: str, default: str = "") -> str:
        """Ask ``# Label [default]: ``; an empty answer means the default."""
        answer = self._ask(f"# {label} [{default}]: ").strip()
        validate.no_control_chars(label, answer)
        return answer if answer != "" else default

    def confirm(self, question: str = "Are all values correct (yes/no)") -> bool:
        """Ask until the answer is exactly ``yes`` or ``no``."""
        if not self._prompted:
            self._prompted = True
            self.out.write(RULER)
        self.out.write()
        while True:
            answer = self._ask(f"# {question}: ", lambda typed: ["yes", "no"]).strip()
            if answer in ("yes", "no"):
                self.out.write(RULER)
                return answer == "yes"

    def confirm_or_abort(
        self, question: str = "Are all values correct (yes/no)"
    ) -> None:
        """Confirm, or raise :class:`Aborted` when the answer is no."""
        if not self.confirm(question):
            raise Aborted()

    # -- look-ups --------------------------------------------------------------------
    def memo(self, key: Any, fetch: Callable[[], T]) -> T:
        """``fetch()``, remembered for the running command (and for completion, briefly):
        a command, its prompts' defaults and tab completion ask the catalog or a node once."""
        hit = self._memo.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < MEMO_SECONDS:
            value: T = hit[1]
            return value
        value = fetch()
        self._memo[key] = (now, value)
        return value

    def default_backup_server(self) -> str:
        """The backup server offered by default in prompts (config, else this host's FQDN)."""
        return self.cfg.backup_server.fqdn

    def default_domain(self, catalog_default: str) -> str:
        """The domain offered for a new server or node: the catalog's default when a DBA
        set one, else the domain of this host, else the catalog's placeholder."""
        if catalog_default != PLACEHOLDER_DOMAIN:
            return catalog_default
        return validate.domain_of(self.default_backup_server()) or catalog_default

    def node_databases(self, node_id: int) -> list[str]:
        """Names of the databases on the node, system ones included (connects once per
        command)."""

        def fetch() -> list[str]:
            with pgnode.session(
                self.node_target(node_id), application_name="pgbackman_cli"
            ) as conn:
                return pgnode.list_databases(conn, include_system=True)

        return self.memo(("node_databases", node_id), fetch)

    def resolve_server(self, value: str) -> int:
        """SrvID or FQDN -> server_id; UserInputError when no such backup server."""
        value = value.strip()
        validate.no_control_chars("SrvID / FQDN", value)
        number = validate.number(value, "SrvID", validate.INT_MAX)
        if number is not None:
            found = self.memo(
                ("server", number), lambda: cat_servers.get_server(self.cat, number)
            )
            if found is None:
                raise UserInputError(
                    f"Backup server with SrvID [{value}] does not exist"
                )
            return number
        server_id = cat_servers.server_id_by_fqdn(self.cat, value)
        if server_id is None and value != value.lower():
            # Host names are case-insensitive and registered lower-cased.
            server_id = cat_servers.server_id_by_fqdn(self.cat, value.lower())
        if server_id is None:
            raise UserInputError(f"Backup server [{value}] does not exist")
        return server_id

    def resolve_node(self, value: str) -> int:
        """NodeID, FQDN or FQDN:port -> node_id; UserInputError when unknown or ambiguous."""
        value = value.strip()
        validate.no_control_chars("NodeID / FQDN", value)
        number = validate.number(value, "NodeID")
        if number is not None:
            found = self.memo(
                ("node", number), lambda: cat_nodes.get_node(self.cat, number)
            )
            if found is None:
                raise UserInputError(f"PgSQL node with NodeID [{value}] does not exist")
            return number
        fqdn, port = validate.split_fqdn_port(value)
        ids = cat_nodes.node_ids_by_fqdn(self.cat, fqdn, port)
        if not ids:
            raise UserInputError(f"PgSQL node [{value}] does not exist")
        if len(ids) > 1:
            raise UserInputError(
                f"PgSQL node [{value}] is ambiguous (several ports); use FQDN:port or the NodeID"
            )
        return ids[0]

    def server_row(self, server_id: int) -> dict[str, Any]:
        """The catalog row of a backup server (for the command running now)."""
        row = self.memo(
            ("server", server_id), lambda: cat_servers.get_server(self.cat, server_id)
        )
        if row is None:
            raise UserInputError(
                f"Backup server with SrvID [{server_id}] does not exist"
            )
        return dict(row)

    def node_row(self, node_id: int) -> dict[str, Any]:
        """The catalog row of a PgSQL node (for the command running now)."""
        row = self.memo(
            ("node", node_id), lambda: cat_nodes.get_node(self.cat, node_id)
        )
        if row is None:
            raise UserInputError(f"PgSQL node with NodeID [{node_id}] does not exist")
        return dict(row)

    def node_target(self, node_id: int) -> NodeTarget:
        """Connection target of a registered node (for pgnode/connection.py)."""
        node = self.node_row(node_id)
        return NodeTarget(
            fqdn=node["fqdn"],
            port=int(node["pgport"]),
            admin_user=node["admin_user"],
            node_id=int(node["node_id"]),
        )
