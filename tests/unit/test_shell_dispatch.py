"""shell/app.py + registry: line handling without a catalog (commands that never touch it)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.shell import registry
from pgbackman.shell.app import Shell, expand_shortcut
from pgbackman.shell.completion import candidates
from pgbackman.shell.context import ShellContext
from pgbackman.shell.render import Output


def make_shell(
    interactive: bool = False, answers: list[str] | None = None
) -> tuple[Shell, io.StringIO]:
    buf = io.StringIO()
    cfg = Config()
    feed: Iterator[str] = iter(answers or [])

    def fake_input(prompt: str) -> str:
        buf.write(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise KeyboardInterrupt from None

    ctx = ShellContext(
        cfg,
        Catalog(cfg.database),
        Output("table", stream=buf),
        interactive,
        input_func=fake_input,
    )
    return Shell(ctx), buf


def test_registry_has_every_part_a_command() -> None:
    names = set(registry.names())
    for name in (
        "show_backup_servers",
        "register_backup_server",
        "delete_backup_server",
        "update_backup_server",
        "show_pgsql_nodes",
        "register_pgsql_node",
        "delete_pgsql_node",
        "update_pgsql_node",
        "show_backup_server_config",
        "update_backup_server_config",
        "show_pgsql_node_config",
        "update_pgsql_node_config",
        "show_pgbackman_config",
        "show_pgbackman_stats",
        "show_backup_server_stats",
        "show_pgsql_node_stats",
        "show_jobs_queue",
        "set",
        "show_history",
        "clear",
        "shell",
        "quit",
        "EOF",
        "help",
    ):
        assert name in names
    # upstream's 20 arguments, or 21-24 with the optional [stale backup grace]
    # [backup timeout] [backup compression] [max parallel backups]
    assert registry.get("update_pgsql_node_config").nargs == (20, 21, 22, 23, 24)  # type: ignore[union-attr]
    # upstream's 9, or 10 to 15 with the optional [encryption recipients], the three
    # offsite ones, [min free disk space] and [max parallel backups]
    assert registry.get("update_backup_server_config").nargs == (
        9,
        10,
        11,
        12,
        13,
        14,
        15,
    )  # type: ignore[union-attr]
    assert registry.get("show_pgsql_nodes").readonly  # type: ignore[union-attr]
    assert not registry.get("delete_pgsql_node").readonly  # type: ignore[union-attr]


def test_shortcuts() -> None:
    assert expand_shortcut("\\?") == "help "
    assert expand_shortcut("\\h set") == "help set"
    assert expand_shortcut("\\!ls -l") == "shell ls -l"
    assert expand_shortcut("\\s") == "show_history "
    assert expand_shortcut("\\q") == "quit "
    assert expand_shortcut("show_jobs_queue") == "show_jobs_queue"


def test_wrong_number_and_unknown() -> None:
    sh, buf = make_shell()
    assert not sh.execute("register_backup_server a b")
    assert buf.getvalue() == (
        "[ERROR] - Wrong number of parameters used.\n"
        "Type help or \\? to list commands\n"
    )
    assert not sh.execute("nope 1 2")
    assert "[ERROR] - Unknown command: [nope 1 2]." in buf.getvalue()
    assert not sh.execute("set 'unbalanced")
    assert "[ERROR]: No closing quotation" in buf.getvalue()
    assert sh.failures == 3
    assert sh.execute("   ")  # empty line: nothing


def test_no_lower_casing_and_set() -> None:
    sh, buf = make_shell()
    assert not sh.execute("SET output_format=json")
    assert sh.execute("set output_format=json")
    assert sh.ctx.out.format == "json"
    assert "[Done] Output format changed to [json]" in buf.getvalue()


def test_prompt_abort_and_confirm_loop() -> None:
    sh, buf = make_shell(interactive=True, answers=[])  # Ctrl-C at the first prompt
    assert not sh.execute("set")
    assert "# Parameter=value []: " in buf.getvalue()
    assert "[ABORTED] Command interrupted by the user." in buf.getvalue()
    sh, buf = make_shell(interactive=True, answers=["output_format=csv"])
    assert sh.execute("set")
    assert sh.ctx.out.format == "csv"
    sh, buf = make_shell(interactive=True, answers=["perhaps", "YES", "no"])
    sh.ctx.begin_command()
    assert sh.ctx.confirm() is False
    assert buf.getvalue().count("# Are all values correct (yes/no): ") == 3


def test_prompt_refused_when_not_interactive() -> None:
    sh, buf = make_shell(interactive=False)
    assert not sh.execute("set")
    assert "Wrong number of parameters used." in buf.getvalue()


def test_history_and_quit_and_script() -> None:
    sh, buf = make_shell()
    sh.execute("help quit")
    sh.execute("\\s")
    assert "[1]: help quit\n[2]: \\s\n" in buf.getvalue()
    sh, buf = make_shell()
    assert sh.run_script(["help set\n", "quit\n", "bogus\n"]) == 0
    assert "Done, thank you for using PgBackMan" in buf.getvalue()
    sh, buf = make_shell()
    assert sh.run_script(["bogus\n", "help\n"]) == 1
    assert sh.run_one("help shortcuts") == 0
    assert sh.run_one("bogus") == 1


def test_completion_of_command_names() -> None:
    assert candidates(None, "show_jobs", "show_jobs") == ["show_jobs_queue "]
    assert "show_backup_servers " in candidates(None, "show_backup_s", "show_backup_s")
    assert candidates(None, "help upd", "upd") == [
        n for n in registry.names() if n.startswith("upd")
    ]
    assert candidates(None, "help sho", "shortcuts"[:3])[-1] == "shortcuts"


def test_usage_texts_are_complete() -> None:
    for name in registry.names():
        cmd = registry.get(name)
        assert cmd is not None and cmd.usage, f"{name} has no help text"
        assert cmd.usage.splitlines()[0].startswith(name), name


def test_clear_prints_banner() -> None:
    sh, buf = make_shell()
    assert sh.execute("clear")
    assert buf.getvalue().startswith("\x1b[H\x1b[2J")
    assert "Welcome to the PostgreSQL Backup Manager shell ver." in buf.getvalue()


def test_eof_inside_a_prompt_aborts() -> None:
    buf = io.StringIO()
    cfg = Config()

    def eof_input(prompt: str) -> str:
        raise EOFError

    ctx = ShellContext(
        cfg,
        Catalog(cfg.database),
        Output("table", stream=buf),
        True,
        input_func=eof_input,
    )
    sh = Shell(ctx)
    assert not sh.execute("set")
    assert "[ABORTED] Command interrupted by the user." in buf.getvalue()
    assert ctx.asking is None
