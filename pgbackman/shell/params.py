"""Declarative shell parameters: a command lists its parameters once, this module does the rest.

A :class:`Param` says what one positional parameter is: its prompt label, its default (text,
or computed from the catalog, the host or the values before it), its parser/validator, its
completer, and whether the one-line form may leave it out. From a command's list this module
derives

* the one-line form: which argument counts are accepted (:func:`arities`) and the parsing of
  every argument in order (:func:`from_line`; the first bad value is the one-line error);
* the interactive form (:func:`from_prompts`): ``# Label [default]: `` for each parameter,
  an empty answer meaning the default, every answer validated at once and the question asked
  again after a bad one (the error printed right away, nothing else lost);
* completion by position (:func:`completions`): the completer of the parameter being typed,
  with the values typed before it parsed on demand (the node's databases after a node);
* the synopsis and the parameter list of the usage text (:func:`usage_text`).

An empty value always means the default shown between ``[]``: the same rule for a prompt and
for ``""`` on the command line. Parsers raise :class:`~pgbackman.errors.UserInputError`.
"""

from __future__ import annotations

import logging
import shlex
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgbackman.core import validate
from pgbackman.errors import UserInputError

if TYPE_CHECKING:
    from pgbackman.shell.context import ShellContext

log = logging.getLogger(__name__)

Parser = Callable[["ShellContext", "Values", str], Any]
DefaultFunc = Callable[["ShellContext", "Values"], str]
Completer = Callable[
    ["ShellContext", "Values", str], Iterable[str]
]  # text typed so far
WIDTH = 88


def as_text(ctx: ShellContext, v: Values, text: str) -> str:
    """The default parser: the text as typed (control characters are refused before)."""
    return text


@dataclass(frozen=True)
class Param:
    """One positional parameter of a shell command."""

    key: str  # attribute of the Values the command receives
    label: str  # the prompt: "# <label> [<default>]: "
    parse: Parser = as_text
    default: str | DefaultFunc = ""
    complete: Completer | None = None
    placeholder: str = ""  # in the synopsis; "[<key>]" when empty
    help: str = ""  # its line in the "Parameters:" list of the usage text
    # The one-line form includes this parameter only from this many arguments on (older
    # argument lists stay valid: 1.0's 15 arguments of register_backup_definition).
    present_from: int = 0
    ask: bool = True  # False: one-line only, never prompted (its default is used)
    ask_if: Callable[[Values], bool] | None = None  # prompted only when this says so
    line_parse: Parser | None = None  # a different parser for a non-empty argument
    line_complete: Completer | None = None  # its completer (default: complete)
    title: str = ""  # the echo of a listing's filters (default: label)
    echo_parsed: bool = False  # the echo shows the value as understood, not as typed
    variadic: bool = False  # takes every remaining argument (the shell command)

    @property
    def shown(self) -> str:
        return self.placeholder or f"[{self.key}]"

    def default_text(self, ctx: ShellContext, v: Values) -> str:
        return self.default(ctx, v) if callable(self.default) else self.default


class Values:
    """The values of a command's parameters by key (``v.node``), plus the text each came
    from (``v.raw[key]``) and whether it was typed or defaulted.

    In completion the values are *lazy*: ``v.node`` parses what was typed for the node only
    when a completer asks for it (a completer that fails offers nothing)."""

    def __init__(
        self,
        ctx: ShellContext,
        params: Sequence[Param] = (),
        typed: dict[str, str] | None = None,
    ) -> None:
        self._ctx = ctx
        self._values: dict[str, Any] = {}
        self._lazy = {p.key: p for p in params} if typed is not None else {}
        self._typed = typed or {}
        self.raw: dict[str, str] = {}
        self.typed: dict[str, str] = {}  # one-line arguments exactly as typed
        self.given: set[str] = set()

    def set(self, key: str, text: str, value: Any, given: bool = True) -> None:
        self._values[key] = value
        self.raw[key] = text
        if given:
            self.given.add(key)

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        if key in self._values:
            return self._values[key]
        p = self._lazy.get(key)
        if p is None:
            raise AttributeError(key)
        text = self._typed.get(key, "")
        text = text if text.strip() else p.default_text(self._ctx, self)
        self.set(key, text, p.parse(self._ctx, self, text))
        return self._values[key]


# -- argument counts --------------------------------------------------------------------------
def present(params: Sequence[Param], nargs: int) -> list[Param]:
    """The parameters a one-line call with ``nargs`` arguments gives, in order."""
    return [p for p in params if p.present_from <= nargs]


def arities(params: Sequence[Param]) -> tuple[int, ...]:
    """Every argument count the one-line form accepts."""
    if params and params[-1].variadic:
        fixed = len(params) - 1
        return tuple(range(fixed + 1, 256))
    return tuple(n for n in range(len(params) + 1) if len(present(params, n)) == n)


# -- collecting values ------------------------------------------------------------------------
def _checked(p: Param, text: str) -> str:
    # No value of any parameter may hold control characters (cron lines, logs, one-line
    # messages); checked here once for all parsers.
    return text if p.variadic else validate.no_control_chars(p.label, text)


def from_line(ctx: ShellContext, params: Sequence[Param], args: list[str]) -> Values:
    """Parse the arguments of a one-line call (their count is one of :func:`arities`)."""
    v = Values(ctx)
    given = present(params, len(args))
    rest = iter(args)
    for p in params:
        if p.variadic:
            text = shlex.join(list(rest))
            v.set(p.key, text, p.parse(ctx, v, text))
            break
        if p in given:
            text = _checked(p, next(rest))
            v.typed[p.key] = text
            if text.strip():
                parse = p.line_parse or p.parse
                v.set(p.key, text, parse(ctx, v, text))
                continue
        text = p.default_text(ctx, v)
        v.set(p.key, text, p.parse(ctx, v, text), given=False)
    return v


def from_prompts(ctx: ShellContext, params: Sequence[Param]) -> Values:
    """Ask every parameter in turn; a bad answer is reported at once and asked again."""
    v = Values(ctx)
    for p in params:
        default = p.default_text(ctx, v)
        if not p.ask or (p.ask_if is not None and not p.ask_if(v)):
            v.set(p.key, default, p.parse(ctx, v, default), given=False)
            continue
        while True:
            answer = ctx.ask(
                f"# {p.label} [{default}]: ", _prompt_completer(ctx, p, v)
            ).strip()
            text = answer if answer else default
            try:
                v.set(p.key, text, p.parse(ctx, v, _checked(p, text)), bool(answer))
                break
            except UserInputError as exc:
                log.info("%s: %s", p.label, exc)
                ctx.out.error(str(exc))
    return v


def _prompt_completer(
    ctx: ShellContext, p: Param, v: Values
) -> Callable[[str], list[str]] | None:
    complete = p.complete
    if complete is None:
        return None
    return lambda text: list(complete(ctx, v, text))


# -- completion -------------------------------------------------------------------------------
def completions(
    ctx: ShellContext, params: Sequence[Param], typed: list[str], text: str
) -> list[str]:
    """Candidates for the argument after ``typed`` (the full argument list is assumed)."""
    index = len(typed)
    if index >= len(params):
        if not (params and params[-1].variadic):
            return []
        index = len(params) - 1
    p = params[index]
    complete = p.line_complete or p.complete
    if complete is None:
        return []
    v = Values(
        ctx, params[:index], dict(zip((q.key for q in params), typed, strict=False))
    )
    try:
        words = list(complete(ctx, v, text.lstrip("'\"")))
    except Exception:  # completion must never break the prompt
        log.debug("completion of %s failed", p.key, exc_info=True)
        return []
    out = []
    for w in words:
        # On the command line a name with blanks or quotes is offered quoted, as it must
        # be typed; prompts take the answer as it is.
        shown = w if _one_word(w) else shlex.quote(w)
        if shown.startswith(text) or w.startswith(text):
            out.append(shown)
    return list(dict.fromkeys(out))  # readline sorts what it shows


def _one_word(word: str) -> bool:
    try:
        return shlex.split(word) == [word]
    except ValueError:
        return False


# -- usage text -------------------------------------------------------------------------------
def synopsis(name: str, params: Sequence[Param]) -> str:
    """``name [a] [b] ...``, wrapped under the first placeholder (never inside one)."""
    indent = " " * (len(name) + 1)
    lines = [name]
    for word in (p.shown for p in params):
        if len(lines[-1]) + 1 + len(word) > WIDTH and lines[-1].strip() != name:
            lines.append(indent + word)
        else:
            lines[-1] += " " + word
    return "\n".join(lines)


def parameter_list(params: Sequence[Param]) -> str:
    """The ``Parameters:`` block: each placeholder and its help, aligned."""
    documented = [p for p in params if p.help]
    if not documented:
        return ""
    col = min(max(len(p.shown) for p in documented) + 4, 24)
    lines = ["Parameters:"]
    for p in documented:
        head = f"  {p.shown}"
        body = textwrap.wrap(" ".join(p.help.split()), WIDTH - col)
        if len(head) + 2 > col:
            lines.append(head)
            lines.extend(" " * col + b for b in body)
        else:
            lines.append(head.ljust(col) + body[0])
            lines.extend(" " * col + b for b in body[1:])
    return "\n".join(lines)


def usage_text(name: str, params: Sequence[Param], doc: str, notes: str) -> str:
    """Synopsis, description, parameters, then notes and examples."""
    parts = [synopsis(name, params)]
    for block in (textwrap.dedent(doc).strip(), parameter_list(params)):
        if block:
            parts.append(block)
    if notes.strip():
        parts.append(textwrap.dedent(notes).strip())
    return "\n\n".join(parts)
