"""shell/params.py without a catalog: argument counts, one-line parsing, prompting with the
re-ask loop, completion by position, the derived usage text; and the host-domain rule."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from pgbackman.catalog.connection import Catalog
from pgbackman.config import BackupServerConfig, Config
from pgbackman.core import validate
from pgbackman.errors import Aborted, UserInputError
from pgbackman.shell import params as P
from pgbackman.shell import registry
from pgbackman.shell.context import ShellContext
from pgbackman.shell.render import Output


def make_ctx(answers: list[str] | None = None, fqdn: str = "") -> ShellContext:
    feed: Iterator[str] = iter(answers or [])
    cfg = Config(backup_server=BackupServerConfig(backup_server=fqdn))

    def typed(prompt: str) -> str:
        ctx.out.stream.write(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise KeyboardInterrupt from None

    ctx = ShellContext(
        cfg, Catalog(cfg.database), Output(stream=io.StringIO()), True, typed
    )
    return ctx


def port_param(**kw: object) -> P.Param:
    return P.Param(
        "port",
        "Port",
        lambda ctx, v, text: validate.port(text),
        default="5432",
        **kw,  # type: ignore[arg-type]
    )


NAME = P.Param("name", "Name", lambda ctx, v, text: validate.required("Name", text))


def test_arities_follow_the_optional_parameters() -> None:
    a, b, c, d = (P.Param(k, k) for k in "abcd")
    assert P.arities([]) == (0,)
    assert P.arities([a, b]) == (2,)
    # 1.0's form without the 3rd parameter, and the full form.
    assert P.arities([a, b, P.Param("x", "x", present_from=4), c]) == (3, 4)
    # register_snapshot_definition: the 4th from 10 arguments, the last from 9.
    snap = [
        *(P.Param(str(i), str(i)) for i in range(3)),
        P.Param("exc", "exc", present_from=10),
        *(P.Param(str(i), str(i)) for i in range(4, 9)),
        P.Param("release", "release", present_from=9),
    ]
    assert P.arities(snap) == (8, 9, 10)
    # trailing optional ones (update_pgsql_node_config)
    assert P.arities(
        [a, b, P.Param("s", "s", present_from=3), P.Param("t", "t", present_from=4)]
    ) == (2, 3, 4)
    assert P.arities([P.Param("topic", "t", present_from=1)]) == (0, 1)
    assert P.arities([P.Param("argv", "c", variadic=True)])[:3] == (1, 2, 3)
    assert P.present([a, P.Param("x", "x", present_from=3), d], 2) == [a, d]


def test_one_line_parsing_empty_means_default_and_first_error_wins() -> None:
    ctx = make_ctx()
    v = P.from_line(ctx, [NAME, port_param()], ["db1", ""])
    assert (v.name, v.port) == ("db1", 5432)
    assert v.raw["port"] == "5432" and v.typed["port"] == "" and "port" not in v.given
    with pytest.raises(UserInputError, match=r"Port value should be an INTEGER.*\[x\]"):
        P.from_line(ctx, [NAME, port_param()], ["db1", "x"])
    with pytest.raises(UserInputError, match="Name contains control characters"):
        P.from_line(ctx, [NAME, port_param()], ["a\nb", "x"])
    # An omitted optional parameter takes its default through the prompt parser; a typed
    # one goes through line_parse (force-deletion vs y/n).
    force = P.Param(
        "force",
        "Force deletion (y/n)",
        lambda ctx, v, text: text == "y",
        default="n",
        line_parse=lambda ctx, v, text: text == "force-deletion",
        present_from=2,
    )
    assert P.from_line(ctx, [NAME, force], ["x"]).force is False
    assert P.from_line(ctx, [NAME, force], ["x", "force-deletion"]).force is True


def test_prompting_asks_again_after_a_bad_answer_only() -> None:
    ctx = make_ctx(["pg1", "abc", "70000", "", "done"])
    params = [NAME, port_param(), P.Param("remarks", "Remarks")]
    v = P.from_prompts(ctx, params)
    assert (v.name, v.port, v.remarks) == ("pg1", 5432, "done")
    out = ctx.out.stream.getvalue()  # type: ignore[attr-defined]
    assert out.count("# Name []: ") == 1  # not asked again
    assert out.count("# Port [5432]: ") == 3
    assert "[ERROR]: Port value should be an INTEGER between 1 and 65535: [abc]" in out
    assert "[ERROR]: Port value should be between 1 and 65535: [70000]" in out
    assert out.index("[abc]") < out.index("# Remarks")
    # Ctrl-C at the re-asked question aborts the command.
    ctx = make_ctx(["pg1", "abc"])
    with pytest.raises(Aborted):
        P.from_prompts(ctx, params)


def test_defaults_may_depend_on_earlier_values_and_ask_if_skips() -> None:
    ctx = make_ctx(["a,b"])
    params = [
        P.Param("dbs", "DBname"),
        P.Param(
            "minute",
            "Minutes cron",
            default=lambda ctx, v: "07" if "," in v.dbs else "41",
            ask_if=lambda v: "," not in v.dbs,
        ),
    ]
    v = P.from_prompts(ctx, params)
    assert v.minute == "07"
    assert "Minutes cron" not in ctx.out.stream.getvalue()  # type: ignore[attr-defined]


def test_completion_by_position_quotes_only_what_must_be() -> None:
    ctx = make_ctx()
    seen: list[object] = []

    def names(ctx: ShellContext, v: P.Values, text: str) -> list[str]:
        seen.append(v.node)  # the earlier value, parsed on demand
        return ["app1", "Mixed Case db", "#all_databases#"]

    params = [
        P.Param("node", "Node", lambda ctx, v, text: int(text) * 10),
        P.Param("db", "DBname", complete=names),
    ]
    assert P.completions(ctx, params, ["4"], "") == [
        "app1",
        "'Mixed Case db'",
        "#all_databases#",
    ]
    assert seen == [40]
    assert P.completions(ctx, params, ["4"], "Mix") == ["'Mixed Case db'"]
    assert P.completions(ctx, params, [], "") == []  # the node has no completer
    assert P.completions(ctx, params, ["4", "x"], "") == []  # past the last one
    # A completer that fails offers nothing.
    assert P.completions(ctx, params, ["not a number"], "") == []


def test_usage_text_is_derived_from_the_parameters() -> None:
    params = [
        P.Param("a", "A", placeholder="[SrvID|FQDN]", help="The server."),
        P.Param("b", "B", placeholder="[DBname exceptions]", help="Left out."),
        *(
            P.Param(f"p{i}", "x", placeholder=f"[parameter number {i}]")
            for i in range(6)
        ),
    ]
    text = P.usage_text("register_something", params, "Does it.", "Example: x")
    lines = text.splitlines()
    assert lines[0].startswith("register_something [SrvID|FQDN] [DBname exceptions]")
    synopsis = [ln for ln in lines[: lines.index("")]]
    assert all(len(ln) <= P.WIDTH for ln in synopsis) and len(synopsis) > 1
    # wrapped between placeholders, aligned under the first one
    assert all(
        ln.startswith(" " * len("register_something ") + "[") for ln in synopsis[1:]
    )
    assert "Does it." in text and "Example: x" in text
    assert "  [SrvID|FQDN]" in text and "The server." in text
    assert text.index("Does it.") < text.index("Parameters:") < text.index("Example")


def test_every_command_usage_starts_with_its_synopsis() -> None:
    for name in registry.names():
        cmd = registry.get(name)
        assert cmd is not None
        first = cmd.usage.splitlines()[0]
        assert first.split()[0] == name
        for p in cmd.params:
            assert p.shown in cmd.usage, (name, p.key)


def test_domain_defaults() -> None:
    assert validate.domain_of("backup01.example.net") == "example.net"
    assert validate.domain_of("Backup01.Uio.NO") == "uio.no"
    for no_domain in ("vm", "localhost", "vm.localdomain", "10.0.0.1", ""):
        assert validate.domain_of(no_domain) is None
    assert make_ctx(fqdn="pg-backup01.uio.no").default_domain("example.org") == "uio.no"
    assert make_ctx(fqdn="vm").default_domain("example.org") == "example.org"
    # A domain a DBA put in the catalog wins over the host's.
    assert make_ctx(fqdn="pg-backup01.uio.no").default_domain("db.site") == "db.site"
