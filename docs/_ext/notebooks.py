"""Render the example notebooks (``examples/*.ipynb``) into the docs as reStructuredText pages.

At the start of each build, every notebook becomes ``docs/notebooks/<name>.rst``
(generated, not kept in git): its Markdown cells as text, its code cells as
Python blocks, a link to download the notebook, and ``docs/notebooks/index.rst``
lists them. The notebooks are kept without outputs (they need a data set; the
test suite runs them on a small mock), so the pages show the code, not its
results. Only ``nbformat`` is needed: the Markdown the notebooks use
(headings, paragraphs, lists, inline code, emphasis, links) is converted here.
"""

import re
from pathlib import Path

import nbformat

_HEADINGS = {1: "=", 2: "-", 3: "~", 4: "^"}
_INLINE = re.compile(r"`(?P<code>[^`]+)`|\*\*(?P<strong>[^*]+)\*\*|\*(?P<em>[^*\s][^*]*)\*"
                     r"|\[(?P<text>[^\]]+)\]\((?P<url>[^)\s]+)\)")
_SPECIAL = re.compile(r"([\\*_`|])")
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")


def _escape(text):
    return _SPECIAL.sub(r"\\\1", text)


def inline(text):
    """Markdown inline markup (code, strong, emphasis, links) as reStructuredText; the rest escaped."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        if m.group("code") is not None:
            token = f"``{m.group('code').strip()}``"
        elif m.group("strong") is not None:
            token = f"**{_escape(m.group('strong'))}**"
        elif m.group("em") is not None:
            token = f"*{_escape(m.group('em'))}*"
        else:
            token = f"`{_escape(m.group('text'))} <{m.group('url')}>`__"
        # inline markup must be set off from letters and digits: an escaped space joins without one
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        out.append(("\\ " if before.isalnum() else "") + token + ("\\ " if after.isalnum() else ""))
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def markdown_to_rst(source):
    """The Markdown of a notebook cell as reStructuredText lines."""
    lines, block = [], []

    def flush():
        if not block:
            return
        if _ITEM.match(block[0]):
            items = []
            for line in block:
                if _ITEM.match(line):
                    items.append([_ITEM.sub("", line)])
                else:
                    items[-1].append(line.strip())
            marker = "#." if re.match(r"\s*\d", block[0]) else "-"
            lines.extend(f"{marker} {inline(' '.join(item))}" for item in items)
        else:
            lines.append(inline(" ".join(line.strip() for line in block)))
        lines.append("")
        block.clear()

    for raw in source.splitlines():
        heading = re.match(r"^(#{1,4})\s+(.*?)\s*#*\s*$", raw)
        if heading:
            flush()
            title = inline(heading.group(2))
            lines += [title, _HEADINGS[len(heading.group(1))] * max(len(title), 3), ""]
        elif not raw.strip():
            flush()
        else:
            block.append(raw)
    flush()
    return lines


def notebook_to_rst(path, *, download):
    """One notebook as a reStructuredText page (``download``: the notebook's path relative to the page)."""
    nb = nbformat.read(str(path), as_version=4)
    lines, titled = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            md = markdown_to_rst(cell.source)
            lines += md
            if not titled and md and set(md[1]) == {"="}:
                titled = True
                lines += [f"*The notebook* ``{path.name}`` (:download:`download <{download}>`), shown without "
                          "its outputs: run it with Jupyter on the embedded mock survey, or set ``GLOBSML_DATA`` "
                          "to a data directory.", ""]
        elif cell.cell_type == "code" and cell.source.strip():
            lines += [".. code-block:: python", ""]
            lines += [f"    {line}".rstrip() for line in cell.source.splitlines()]
            lines.append("")
    if not titled:
        title = _escape(path.stem)
        lines = [title, "=" * len(title), "", *lines]
    return "\n".join(lines).rstrip() + "\n"


def _write_if_changed(path, text):
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def render_notebooks(app):
    """Write ``docs/notebooks/`` from ``examples/*.ipynb`` (Sphinx ``builder-inited``)."""
    srcdir = Path(app.srcdir)
    examples = srcdir.parent / "examples"
    out = srcdir / "notebooks"
    out.mkdir(exist_ok=True)
    notebooks = sorted(examples.glob("*.ipynb"))
    for path in notebooks:
        _write_if_changed(out / f"{path.stem}.rst", notebook_to_rst(path, download=f"../../examples/{path.name}"))
    for stale in out.glob("*.rst"):
        if stale.stem != "index" and not (examples / f"{stale.stem}.ipynb").is_file():
            stale.unlink()
    index = ["Example notebooks", "=================", "",
             "The notebooks in ``examples/``, rendered at each build of these pages. Each runs on the embedded "
             "mock survey, or on the data directory that ``GLOBSML_DATA`` names.", "",
             ".. toctree::", "   :maxdepth: 1", "", *(f"   {p.stem}" for p in notebooks), ""]
    _write_if_changed(out / "index.rst", "\n".join(index))


def setup(app):
    app.connect("builder-inited", render_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
