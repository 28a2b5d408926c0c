"""The bulk indexing path gives exactly the postings of Whoosh's own TEXT field."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields

from kvsearch.analysis import Lexicon, analyze, register, term_frequencies, term_positions
from kvsearch.indexer import SAMPLE_DIR
from kvsearch.parse import parse_file, parse_text
from kvsearch.schema import DutchText, document, make_schema, pack, unpack

LEXICON = Lexicon(
    {"verkiezing": 40, "uitslag": 9, "stikstof": 5, "uitstoot": 70, "water": 90, "stof": 60},
    names=["Rutte", "Yeşilgöz"],
)
register(LEXICON)

WORDS = st.sampled_from(
    [
        "de",
        "het",
        "minister",
        "Rutte",
        "Yeşilgöz-Zegerius",
        "verkiezingsuitslag",
        "stikstofuitstoot",
        "F-35",
        "COVID-19",
        "auto's",
        "cao’s",
        "3.000",
        "€",
        "3,1",
        "kinderen",
        "bedrijven",
        "—",
        "«",
        "»",
        ".",
        ",",
        "?",
        "\n",
        "\n",
        "  ",
        "waterstof",
        "Daniëlle",
        "2024Z01294",
        "ministerie-breed",
    ]
)
TEXTS = st.one_of(st.lists(WORDS, max_size=40).map(" ".join), st.text(max_size=80))


def whoosh_postings(field: fields.FieldType, text: str) -> list[tuple[bytes, int, float, bytes]]:
    return sorted(field.index(text))


@pytest.mark.parametrize(("stem", "stops"), [(True, True), (False, True), (False, False)])
@pytest.mark.parametrize("phrase", [True, False])
@settings(max_examples=150, deadline=None)
@given(text=TEXTS)
def test_bulk_field_equals_whoosh_text(stem: bool, stops: bool, phrase: bool, text: str) -> None:
    from kvsearch.analysis import DutchAnalyzer

    analyzer = DutchAnalyzer(stem=stem, lexicon=LEXICON.key, stops=stops)
    plain = fields.TEXT(analyzer=analyzer, phrase=phrase)
    bulk = DutchText(analyzer=analyzer, phrase=phrase)
    assert whoosh_postings(bulk, text) == whoosh_postings(plain, text)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS)
def test_bulk_functions_equal_analyze(text: str) -> None:
    tokens = list(analyze(text, lexicon=LEXICON))
    assert term_frequencies(text, lexicon=LEXICON) == dict(Counter(t for t, *_ in tokens))
    positions: dict[str, list[int]] = {}
    for term, pos, *_ in tokens:
        positions.setdefault(term, []).append(pos)
    assert term_positions(text, lexicon=LEXICON) == positions


@pytest.mark.parametrize("path", sorted(SAMPLE_DIR.glob("*.txt"))[:8], ids=lambda p: p.stem)
def test_every_field_of_real_documents(path: Path) -> None:
    schema = make_schema(LEXICON.key)
    doc = document(parse_file(path))
    for name, value in doc.items():
        field = schema[name]
        if isinstance(field, DutchText):
            plain = fields.TEXT(
                analyzer=field.analyzer, phrase=field.format.__class__.__name__ == "Positions"
            )
            assert whoosh_postings(field, value) == whoosh_postings(plain, value), name


def test_stored_document_round_trip_and_older_compressed_form() -> None:
    """Documents are stored as JSON; those of older indexes (compressed JSON) still read."""
    path = SAMPLE_DIR / "2024Z01294.txt"
    kv = parse_text(path.read_text(encoding="utf-8"), str(path))
    blob = pack(kv)
    assert blob.startswith(b"{")
    assert unpack(blob) == kv
    older = zlib.compress(json.dumps(kv.to_dict()).encode("utf-8"), 6)
    assert unpack(older) == kv
