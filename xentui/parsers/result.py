"""What a config parser returns: the domains, and what it had to skip or guess (cut-short input...)."""

from __future__ import annotations

from dataclasses import dataclass

from xentui.model import Domain


@dataclass(frozen=True)
class ParseResult:
    domains: tuple[Domain, ...]
    problems: tuple[str, ...] = ()
