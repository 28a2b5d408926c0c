"""Any damage to a valid file ends in a Kamervraag or a ParseError, never anything else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvsearch.errors import ParseError
from kvsearch.model import Kamervraag
from kvsearch.parse import parse_bytes, parse_text

SAMPLE = Path(__file__).resolve().parent.parent / "kvsearch" / "sample"
# Small files keep the tests fast; together they cover answered, unanswered, one and several
# submitters, the reference layout and a "(na 1 dagen)" file.
SMALL = ["2024Z01294", "2024Z14717", "2024Z18890", "2024Z18561", "2024Z18792", "2024Z14419"]
TEXTS = {stem: (SAMPLE / f"{stem}.txt").read_text(encoding="utf-8") for stem in SMALL}

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.sampled_from(SMALL).map(TEXTS.__getitem__)


def _parses_or_fails_cleanly(text: str) -> Kamervraag | None:
    try:
        return parse_text(text, "fuzz.txt")
    except ParseError as exc:
        assert exc.path == "fuzz.txt"
        assert exc.line >= 1
        assert exc.reason
        return None


def _bytes_parse_or_fail_cleanly(data: bytes) -> Kamervraag | None:
    try:
        return parse_bytes(data, "fuzz.txt")
    except ParseError as exc:
        assert exc.line >= 1
        return None


@st.composite
def line_mutations(draw: st.DrawFn) -> str:
    lines = draw(texts).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "duplicate", "swap", "blank", "strip", "indent"]))
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "blank":
            lines[i] = ""
        elif op == "strip":
            lines[i] = lines[i].strip()
        else:
            lines[i] = "  " + lines[i]
    return "\n".join(lines)


@FAST
@given(line_mutations())
def test_line_mutations(text: str) -> None:
    _parses_or_fails_cleanly(text)


@FAST
@given(texts, st.data())
def test_truncated_at_any_character(text: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(text)))
    _parses_or_fails_cleanly(text[:cut])


@FAST
@given(texts, st.data())
def test_unicode_text_inserted(text: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(text)))
    insert = data.draw(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                [
                    "(",
                    ")",
                    ",",
                    "\n",
                    "\r",
                    "\x00",
                    "\ufeff",
                    "\u00a0",
                    " • Vraag 1",
                    "Vraag 99999",
                    "(na  dagen)",
                    "Volledige titel:",
                    "Ingediend ",
                    "\u2028",
                    "٣",
                ]
            ),
        )
    )
    _parses_or_fails_cleanly(text[:at] + insert + text[at:])


@FAST
@given(texts, st.data())
def test_random_bytes_inserted(text: str, data: st.DataObject) -> None:
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)))
    insert = data.draw(st.binary(min_size=1, max_size=12))
    _bytes_parse_or_fail_cleanly(raw[:at] + insert + raw[at:])


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    _bytes_parse_or_fail_cleanly(data)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _parses_or_fails_cleanly(text)


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "Kamervraag 2024Z00001",
                "",
                "Titel",
                "Ingediend 1 mei 2024",
                "Beantwoord 2 mei 2024 (na 1 dag)",
                "Indiener A (B)",
                "Indieners A, B (c) (D)",
                "Beantwoord door X (minister y)",
                "Onderwerpen a, b",
                "Onderwerpen ",
                "Bron vraag u",
                " • Vraag 1",
                " • Vraag 2",
                "  tekst",
                "Kamervraag document nummer: kv",
                "Kamerantwoord document nummer: ah",
                "Volledige titel: t",
            ]
        ),
        max_size=25,
    )
)
def test_shuffled_layout_lines(lines: list[str]) -> None:
    _parses_or_fails_cleanly("\n".join(lines))


@settings(max_examples=60, deadline=None)
@given(line_mutations())
def test_deterministic_and_round_trips(text: str) -> None:
    first = _parses_or_fails_cleanly(text)
    second = _parses_or_fails_cleanly(text)
    assert first == second
    if first is not None:
        assert Kamervraag.from_dict(first.to_dict()) == first
        assert first.to_dict() == second.to_dict()  # type: ignore[union-attr]


def test_every_sample_round_trips() -> None:
    for path in sorted(SAMPLE.glob("*.txt")):
        k = parse_text(path.read_text(encoding="utf-8"), str(path))
        again = Kamervraag.from_dict(k.to_dict())
        assert again == k
        assert again.source == k.source
