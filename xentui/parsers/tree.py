"""Helpers shared by the parsers for building configuration trees."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from xentui.model import ConfigNode


def mark_decisive(node: ConfigNode, paths: set[tuple[str, ...]], _here: tuple[str, ...] = ()) -> ConfigNode:
    """A copy of the tree with the nodes at `paths` (keys below the root) marked decisive."""
    if not paths:
        return node
    children = tuple(mark_decisive(c, paths, (*_here, c.key)) for c in node.children)
    decisive = node.decisive or (_here in paths and bool(_here))
    if children == node.children and decisive == node.decisive:
        return node
    return replace(node, children=children, decisive=decisive)


def from_json(key: str, value: Any) -> ConfigNode:
    """A JSON value as a tree; list items are keyed `[i]`."""
    if isinstance(value, dict):
        return ConfigNode(key, None, tuple(from_json(str(k), v) for k, v in value.items()))
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ConfigNode(key, "[" + ", ".join(_scalar(v) for v in value) + "]")
        return ConfigNode(key, None, tuple(from_json(f"[{i}]", v) for i, v in enumerate(value)))
    return ConfigNode(key, _scalar(value))


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_int(text: str | None, default: int = 0) -> int:
    """Lenient integer reading for config values ("1024", "1024.0", "<default>")."""
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except (ValueError, OverflowError):
            return default


def to_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def truthy(text: str | None) -> bool | None:
    """xl/xend booleans: "True"/"1"/"yes" → True, "False"/"0"/"no" → False, "<default>"/missing → None."""
    if text is None:
        return None
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    return None


def json_get(d: Any, *path: str) -> Any:
    """The value at `path` in nested JSON objects; None where any step is missing or not an object."""
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def json_str(v: Any) -> str | None:
    """A JSON scalar as text; None for null, objects and arrays."""
    return None if v is None or isinstance(v, (dict, list)) else str(v)
