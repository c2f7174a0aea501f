"""HTML pieces of ``upconv tour``: checks (expected vs computed, ✓ each), tables, sections.

A :class:`Check` compares a value written from a seed (a literal in
:mod:`upconv.explain._tour_seeds`) with the value upconv computes; :class:`Section` collects
HTML fragments and checks in page order.  Everything here is plain text: no Pillow.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OK, BAD = "\u2713", "\u2717"  # the check mark and the cross of a check's verdict


def esc(text: Any) -> str:
    """HTML-escape ``str(text)`` (quotes too)."""
    return html.escape(str(text), quote=True)


def num(v: Any) -> str:
    """A number as the tables show it: ``5``, ``12.5``, ``0.333333``; bools as yes/no."""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    f = float(v)
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.6g}"


def plain(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars and tuples turned into JSON-ready values."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    return value


def agree(expected: Any, computed: Any, tol: float = 0.0) -> bool:
    """Whether ``computed`` equals ``expected``: exactly, or within ``tol`` for numbers.

    Both are JSON-ready values (see :func:`plain`): dicts need the same keys, lists the same
    length, strings and bools the same value and type, numbers ``|e - c| <= tol``.
    """
    if isinstance(expected, dict):
        return (isinstance(computed, dict) and set(expected) == set(computed)
                and all(agree(expected[k], computed[k], tol) for k in expected))
    if isinstance(expected, list):
        return (isinstance(computed, list) and len(expected) == len(computed)
                and all(agree(e, c, tol) for e, c in zip(expected, computed, strict=True)))
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        return type(expected) is type(computed) and bool(expected == computed)
    if isinstance(computed, bool) or not isinstance(computed, int | float):
        return False
    return abs(float(expected) - float(computed)) <= tol


def table(value: Any, *, cls: str = "grid", blank_zero: bool = False) -> str:
    """A value as HTML: a 1-d or 2-d array as a grid, a dict as rows, else text."""
    value = plain(value)
    if isinstance(value, dict):
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{_cell_text(v)}</td></tr>"
                       for k, v in value.items())
        return f'<table class="kv">{rows}</table>'
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        body = "".join(
            "<tr>" + "".join(_td(v, blank_zero) for v in row) + "</tr>" for row in value)
        return f'<table class="{cls}">{body}</table>'
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return f'<table class="{cls}"><tr>' + "".join(_td(v, blank_zero) for v in value) + (
            "</tr></table>")
    return f'<span class="value">{_cell_text(value)}</span>'


def _td(v: Any, blank_zero: bool) -> str:
    if blank_zero and v == 0:
        return '<td class="blank"></td>'
    return f"<td>{esc(num(v))}</td>"


def _cell_text(v: Any) -> str:
    if isinstance(v, list):
        if v and all(isinstance(r, list) for r in v):
            return table(v)
        return esc("(" + ", ".join(num(x) if not isinstance(x, list) else str(x)
                                   for x in v) + ")")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return esc(num(v))
    return esc(v)


@dataclass(frozen=True)
class Check:
    """One worked example: the value written from a seed against the value computed.

    Attributes
    ----------
    id : str
        Stable name, ``'<seed>-<what>'`` (``'002-bilinear'``).
    seed : str
        The seed it comes from (``'000'`` to ``'004'``).
    title : str
        What is checked.
    expected : JSON-ready value
        Written from the seed, never computed by upconv.
    computed : JSON-ready value
        What upconv computes.
    how : str
        The code that computed it.
    ok : bool
        ``agree(expected, computed, tol)``.
    note : str
        HTML shown under the pair (may be empty).
    """

    id: str
    seed: str
    title: str
    expected: Any
    computed: Any
    how: str
    ok: bool
    note: str = ""

    def html(self) -> str:
        """The check as a block: verdict, title, expected and computed side by side."""
        mark, cls = (OK, "ok") if self.ok else (BAD, "bad")
        data = (f'data-check="{esc(self.id)}" data-seed="{esc(self.seed)}" '
                f'data-ok="{"true" if self.ok else "false"}" '
                f'data-expected="{esc(json.dumps(self.expected))}" '
                f'data-computed="{esc(json.dumps(self.computed))}"')
        note = f'<div class="note">{self.note}</div>' if self.note else ""
        return (
            f'<div class="check {cls}" id="check-{esc(self.id)}" {data}>'
            f'<div class="check-head"><span class="verdict {cls}">{mark}</span> '
            f"<b>{esc(self.title)}</b> <span class='cid'>[{esc(self.id)}]</span></div>"
            f'<div class="pair"><figure><figcaption>expected (written from seed {self.seed})'
            f"</figcaption>{table(self.expected)}</figure>"
            f"<figure><figcaption>computed: <code>{esc(self.how)}</code></figcaption>"
            f"{table(self.computed)}</figure></div>{note}</div>"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"id": self.id, "seed": self.seed, "title": self.title, "ok": self.ok,
                "expected": self.expected, "computed": self.computed, "how": self.how}


@dataclass
class Section:
    """A part of the page: a title, HTML fragments in order, and the checks among them."""

    id: str
    title: str
    intro: str = ""
    parts: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def p(self, text: str) -> None:
        """Add a paragraph of HTML (the caller escapes what needs it)."""
        self.parts.append(f"<p>{text}</p>")

    def h(self, text: str) -> None:
        """Add a sub-heading (escaped)."""
        self.parts.append(f"<h3>{esc(text)}</h3>")

    def raw(self, fragment: str) -> None:
        """Add an HTML fragment as it is."""
        self.parts.append(fragment)

    def quote(self, text: str, source: str) -> None:
        """Add a quotation from a seed (escaped)."""
        self.parts.append(f'<blockquote>{esc(text)}<footer>{esc(source)}</footer></blockquote>')

    def check(self, id: str, title: str, expected: Any, computed: Callable[[], Any] | Any,
              how: str, *, tol: float = 0.0, note: str = "") -> Check:
        """Compare, record and show one example; ``computed`` may be a zero-argument callable.

        An exception raised while computing is a failed check (its message is the computed
        value), so one broken op never hides the other examples.
        """
        try:
            value = computed() if callable(computed) else computed
            value = plain(value)
            ok = agree(plain(expected), value, tol)
        except Exception as err:  # shown as a failed check, not a crash of the tour
            value, ok = f"error: {type(err).__name__}: {err}", False
        c = Check(id, id.split("-", 1)[0], title, plain(expected), value, how, ok, note)
        self.checks.append(c)
        self.parts.append(c.html())
        return c

    def html(self) -> str:
        """The section as HTML."""
        head = f'<section id="{esc(self.id)}"><h2>{esc(self.title)}</h2>'
        intro = f"<p class='intro'>{self.intro}</p>" if self.intro else ""
        return head + intro + "\n".join(self.parts) + "</section>"


def figure(content: str, caption: str, *, cls: str = "fig") -> str:
    """Wrap HTML ``content`` in a ``<figure>`` with an escaped ``caption``."""
    return f'<figure class="{cls}">{content}<figcaption>{caption}</figcaption></figure>'


def command(text: str) -> str:
    """A shell command to reproduce a picture, as inline code."""
    return f'<code class="cmd">$ {esc(text)}</code>'


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(f"<code>{esc(p[1:-1])}</code>" if p.startswith("`") and p.endswith("`")
                   else esc(p) for p in parts)


def markdown(md: str) -> str:
    """The small Markdown of :func:`upconv.explain.trace` as HTML.

    Headings (``##``), fenced code blocks, ``-`` bullets, numbered steps, inline code.
    """
    out: list[str] = []
    code: list[str] | None = None
    bullets: list[str] = []

    def flush() -> None:
        if bullets:
            out.append("<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for line in md.splitlines():
        if line.startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                out.append("<pre>" + esc("\n".join(code)) + "</pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
        elif line.startswith("## "):
            flush()
            out.append(f"<h4>{_inline(line[3:])}</h4>")
        elif line.startswith("- "):
            bullets.append(_inline(line[2:]))
        elif line.strip():
            flush()
            out.append(f"<p>{_inline(line)}</p>")
        else:
            flush()
    flush()
    return '<div class="trace">' + "\n".join(out) + "</div>"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;
 background:#fafafa;line-height:1.45}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 18px}
header{padding-top:18px}
h1{margin:.2em 0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2.2em}
h3{margin-top:1.6em}
nav ol{columns:2;font-size:14px}
code{background:#f0f0f0;padding:0 3px;border-radius:3px;font-size:90%}
code.cmd{display:inline-block;margin:2px 0;background:#272822;color:#f8f8f2;padding:2px 6px}
pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:12px;line-height:1.25}
blockquote{border-left:4px solid #bbb;margin:8px 0;padding:4px 12px;color:#444;
 background:#f3f3f3;font-size:14px}
blockquote footer{font-size:12px;color:#777;margin-top:2px}
.summary{font-size:18px;padding:10px 14px;border-radius:6px;background:#e8f5e9;
 border:1px solid #a5d6a7}
.summary.bad{background:#ffebee;border-color:#ef9a9a}
.check{border:1px solid #ddd;border-left:6px solid #43a047;background:#fff;margin:10px 0;
 padding:8px 12px;border-radius:4px}
.check.bad{border-left-color:#e53935;background:#fff5f5}
.check-head{margin-bottom:6px}.cid{color:#999;font-size:12px}
.verdict{font-weight:bold;font-size:20px;padding:0 4px}
.verdict.ok{color:#2e7d32}.verdict.bad{color:#c62828}
.pair{display:flex;flex-wrap:wrap;gap:28px}
.pair figure{margin:0}.pair figcaption{font-size:12px;color:#555;margin-bottom:4px}
.note{font-size:13px;color:#444;margin-top:6px}
table.grid{border-collapse:collapse;font-family:ui-monospace,Menlo,Consolas,monospace;
 font-size:13px}
table.grid td{border:1px solid #bbb;min-width:26px;height:22px;text-align:center;
 padding:0 4px;background:#fff}
table.grid td.blank{background:#f4f4f4}
table.kv{border-collapse:collapse;font-size:13px}
table.kv th{text-align:left;padding:1px 10px 1px 0;color:#555;font-weight:normal}
table.kv td{font-family:ui-monospace,Menlo,Consolas,monospace;padding:1px 4px}
table.list{border-collapse:collapse;font-size:13px;margin:8px 0}
table.list th,table.list td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}
table.list td.n{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}
.figs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure.fig{margin:6px 0;background:#fff;border:1px solid #e3e3e3;padding:8px;
 border-radius:4px;max-width:100%;overflow-x:auto}
figure.fig figcaption{font-size:13px;color:#333;margin-top:4px;max-width:720px}
figure.fig img{max-width:100%;height:auto}
.photo img{image-rendering:pixelated;width:256px;height:256px;display:block}
.photo{display:inline-block;vertical-align:top;margin:6px 10px 12px 0;font-size:13px;
 width:520px}
.photo .pics{display:flex;gap:6px}
.bar{display:inline-block;height:10px;background:#64b5f6;vertical-align:middle}
.trace{background:#fff;border:1px solid #e3e3e3;padding:4px 12px;border-radius:4px}
.trace h4{margin:.6em 0}.trace p{margin:.3em 0;font-size:14px}
footer{color:#666;font-size:13px;padding:30px 18px}
"""


def page(title: str, head_html: str, sections: Sequence[Section], footer: str) -> str:
    """The whole document: head, table of contents, sections, footer."""
    toc = "".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in sections)
    body = "\n".join(s.html() for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header>{head_html}<nav><ol>{toc}</ol></nav></header>"
        f"<main>{body}</main><footer>{footer}</footer></body></html>\n"
    )
