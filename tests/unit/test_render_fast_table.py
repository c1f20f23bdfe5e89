"""The shell's fast table renderer draws exactly what tabulate's "pretty" format draws."""

from __future__ import annotations

import random

import pytest
from tabulate import tabulate

from pgbackman.shell.render import pretty_table

ALPHABET = [
    "a",
    "B",
    "7",
    " ",
    "-",
    ".",
    "_",
    "|",
    "+",
    "(",
    "é",
    "日",
    "\t",
    "%",
    "'",
    '"',
]


def _tab(headers: list[str], body: list[list[str]], align: list[str]) -> str:
    return tabulate(
        body, headers=headers, tablefmt="pretty", colalign=align, disable_numparse=True
    )


@pytest.mark.parametrize("seed", range(300))
def test_same_output_as_tabulate(seed: int) -> None:
    rnd = random.Random(seed)
    ncols = rnd.randint(1, 6)
    headers = [
        "".join(rnd.choice("abcXYZ #/") for _ in range(rnd.randint(1, 9))).strip()
        or "h"
        for _ in range(ncols)
    ]
    align = [rnd.choice(["left", "center"]) for _ in range(ncols)]
    alphabet = ALPHABET if seed % 3 == 0 else ALPHABET[:11]
    body = [
        [
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
            for _ in range(ncols)
        ]
        for _ in range(rnd.randint(0, 8))
    ]
    assert pretty_table(headers, body, align) == _tab(headers, body, align)


def test_typical_catalog_values() -> None:
    headers = ["DefID", "Backup server", "Schedule", "Retention", "Parameters"]
    align = ["center", "left", "center", "center", "left"]
    body = [
        ["00000000001", "backup01.example.org", "0 3 * * *", "7 days (1)", ""],
        [
            "00000000012",
            "b.example.org",
            "*/5 1-3 * * 1,3",
            "1 mon (12)",
            "--exclude-table-data=a",
        ],
        ["1.50", "  padded  ", "", "None", "-0"],
    ]
    assert pretty_table(headers, body, align) == _tab(headers, body, align)
