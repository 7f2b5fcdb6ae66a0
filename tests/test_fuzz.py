"""Property tests: arbitrary and mutated real inputs raise nothing but ParseError."""

from __future__ import annotations

import os

from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xentui.parsers import ParseError
from xentui.parsers.sniff import parse_text

SEEDS = [p.read_text() for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".txt", ".json", ".sxp", ".sexpr", ".xml")]
EXAMPLES = int(os.environ.get("XENTUI_FUZZ_EXAMPLES", "300"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _parse(text: str) -> None:
    try:
        parse_text(text, "fuzz")
    except ParseError as exc:
        assert exc.source == "fuzz" and ":" in exc.position


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["cut", "insert", "delete", "dup"]))
        i = draw(st.integers(0, len(text)))
        if op == "cut":
            text = text[:i]
        elif op == "insert":
            text = (
                text[:i]
                + draw(st.text(alphabet=st.sampled_from("()[]{}<>'\"\\\n ,:.-0abc\x1b\u202e"), max_size=6))
                + text[i:]
            )
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        else:
            j = draw(st.integers(i, min(len(text), i + 200)))
            text = text[:j] + text[i:j] + text[j:]
    return text


@PROFILE
@given(mutated())
def test_mutated_real_outputs(text: str) -> None:
    _parse(text)


@PROFILE
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _parse(text)


@PROFILE
@given(st.sampled_from(["(", "[", "<d>", "{"]), st.integers(1, 3000))
def test_deep_nesting(opener: str, depth: int) -> None:
    _parse(opener * depth)
