"""docs/benchmarks.md is written by several benchmarks: each replaces only its own section, between markers.

Sections without markers (same-day A/B comparisons, profiles) are written by hand and never touched.
"""

from __future__ import annotations

from pathlib import Path


def replace_section(out: Path, name: str, section: str, at_top: bool = False) -> None:
    """Put `section` between `<!-- name:begin -->` and `<!-- name:end -->`, replacing what was there; a new
    section goes right under the title (`at_top`) or at the end. The rest of the file is left alone."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = out.read_text() if out.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section.strip()}\n{end}"
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    elif at_top:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{block}\n\n{rest.lstrip()}"
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.rstrip() + "\n")
