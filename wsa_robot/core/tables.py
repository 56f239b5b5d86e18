"""Every listing the CLI prints (encoders, tasks, runs, eval and sweep tables) is built here for a width, so it
stays readable in an 80-column terminal and when piped (rich then assumes 80 columns).

A person reads a narrow table best with fewer columns, not with every cell folded into slivers: each column
says how long it is kept (`keep`, lower = kept longer) and whether its text may wrap between words (prose such
as a description) or never (names, numbers, paths a user copies). Columns that do not fit at their narrowest
(the longest word of a wrapping column, the longest cell of the others) are left out, highest `keep` first,
and the caption names them; the columns kept get widths at least that narrow, so no word is ever split.
`width=None` (`--wide`) keeps every column at its natural width."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Cell = "str | Text"


@dataclass(frozen=True)
class Col:
    header: str
    keep: int = 0           # 0: always shown; columns are left out highest `keep` first
    wrap: bool = False      # may wrap between words (prose); otherwise never wraps
    justify: str = "left"


def _text(cell: "str | Text") -> Text:
    return cell if isinstance(cell, Text) else Text.from_markup(cell)


def _widths(col: Col, cells: list[Text]) -> tuple[int, int]:
    """(narrowest without splitting a word, natural) width of a column."""
    header = col.header.splitlines() or [""]
    lines = [line for c in cells for line in c.plain.splitlines()] + header
    natural = max(len(line) for line in lines)
    if not col.wrap:
        return natural, natural
    words = [w for line in lines for w in line.split()]
    return max([len(w) for w in words] + [1]), natural


def _overhead(n: int) -> int:
    """Columns of the table beyond its cells: one space of padding each side of a divider (a space)."""
    return 3 * (n - 1) if n else 0


def fitted_table(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence["str | Text"]],
                 width: int | None, caption: str | None = None, more: str = "--wide shows them",
                 row_styles: Sequence[str | None] | None = None) -> Table:
    """A rich Table of `rows` that fits `width` columns (None: every column, natural widths). `more` tells
    the reader where the columns left out are (appended to the caption when some are)."""
    cells = [[_text(c) for c in row] for row in rows]
    sizes = [_widths(col, [row[i] for row in cells]) for i, col in enumerate(cols)]
    kept = list(range(len(cols)))
    if width is not None:
        kept = [i for i, c in enumerate(cols) if c.keep == 0]
        for i in sorted((i for i, c in enumerate(cols) if c.keep), key=lambda i: cols[i].keep):
            trial = kept + [i]
            if sum(sizes[j][0] for j in trial) + _overhead(len(trial)) <= width:
                kept = trial
        kept.sort()
    widths = {i: sizes[i][1] for i in kept}
    if width is not None:  # narrow the wrapping columns, widest first, never below their longest word
        excess = sum(widths.values()) + _overhead(len(kept)) - width
        while excess > 0:
            room = [i for i in kept if cols[i].wrap and widths[i] > sizes[i][0]]
            if not room:
                break
            i = max(room, key=lambda j: widths[j])
            cut = min(excess, widths[i] - sizes[i][0], max(1, widths[i] // 4))
            widths[i] -= cut
            excess -= cut
    dropped = [cols[i].header.replace("\n", "") for i in range(len(cols)) if i not in kept]
    notes = [caption] if caption else []
    if dropped:
        notes.append(f"left out at {width} columns: {', '.join(dropped)} ({more})")
    table = Table(title=title, caption="\n".join(notes) or None, box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, caption_justify="left")
    for i in kept:
        col = cols[i]
        table.add_column(col.header, justify=col.justify, no_wrap=not col.wrap, overflow="ellipsis",
                         width=widths[i] if width is not None else None)
    for n, row in enumerate(cells):
        table.add_row(*[row[i] for i in kept], style=row_styles[n] if row_styles else None)
    return table


def natural_width(console: Console, renderable: RenderableType) -> int:
    return Measurement.get(console, console.options.update_width(10_000), renderable).maximum


def print_wide(console: Console, renderable: RenderableType) -> None:
    """Print at the renderable's natural width, wider than the terminal if need be (`--wide`, for grep). On a
    console of that width: rich clamps `print(width=...)` to the console's own (80 columns in a pipe)."""
    width = max(console.width, natural_width(console, renderable))
    wide = Console(file=console.file, width=width, color_system=console.color_system,
                   force_terminal=console.is_terminal, soft_wrap=False)
    wide.print(renderable)
