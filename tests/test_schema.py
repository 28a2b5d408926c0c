"""The bulk indexing path gives exactly the postings of Whoosh's own TEXT field."""

from __future__ import annotations

import json
import pickle
import zlib
from collections import Counter
from itertools import accumulate
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields, formats

from kvsearch.analysis import Lexicon, analyze, register, term_frequencies, term_positions
from kvsearch.errors import IndexCorruptError
from kvsearch.indexer import SAMPLE_DIR
from kvsearch.parse import parse_file, parse_text
from kvsearch.schema import (
    STORED_DICT_ADLER32,
    STORED_DICT_FILE,
    CompactPositions,
    DutchText,
    document,
    make_schema,
    pack,
    unpack,
)

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
                analyzer=field.analyzer, phrase=isinstance(field.format, formats.Positions)
            )
            plain.format = field.format  # CompactPositions or Frequency
            assert whoosh_postings(field, value) == whoosh_postings(plain, value), name


def test_positional_fields_use_compact_positions() -> None:
    schema = make_schema(LEXICON.key)
    positional = [n for n, f in schema.items() if isinstance(f.format, formats.Positions)]
    assert {"exact", "onderwerp", "minister", "personen"} <= set(positional)
    assert all(type(schema[n].format) is CompactPositions for n in positional)


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(
        st.one_of(
            st.integers(0, 200),
            st.integers(0, 0x10FFFF),
            st.integers(0xD800, 0xDFFF),  # surrogate code points
            st.integers(0x110000, 1 << 31),  # beyond Unicode: Whoosh's form
        ),
        max_size=30,
    )
)
def test_compact_positions_round_trip(gaps: list[int]) -> None:
    positions = list(accumulate(gaps))
    fmt = CompactPositions()
    value = fmt.encode(positions)
    assert value  # an empty value would be dropped from a posting block
    assert fmt.decode_positions(value) == positions
    assert fmt.decode_frequency(value) == len(positions)
    if positions and max(gaps) < 128:
        assert len(value) == len(positions)  # one byte per small gap
    assert pickle.loads(pickle.dumps(fmt)) == fmt


def test_stored_document_round_trip_and_older_forms() -> None:
    """Documents are stored as JSON compressed with the preset dictionary; those of older
    indexes (plain JSON, compressed JSON) still read; another dictionary is an error."""
    path = SAMPLE_DIR / "2024Z01294.txt"
    kv = parse_text(path.read_text(encoding="utf-8"), str(path))
    blob = pack(kv)
    plain = pack(kv, compress=False)
    assert plain.startswith(b"{")
    assert blob.startswith(b"x")
    assert len(blob) < len(zlib.compress(plain, 9)) * 0.9  # the dictionary pays
    assert unpack(blob) == kv
    assert unpack(plain) == kv
    older = zlib.compress(json.dumps(kv.to_dict()).encode("utf-8"), 6)
    assert unpack(older) == kv
    other = zlib.compressobj(6, zdict=b"another dictionary")
    with pytest.raises(IndexCorruptError):
        unpack(other.compress(plain) + other.flush())


def test_stored_dictionary_is_the_recorded_one() -> None:
    """A new dictionary needs a new STORED_DICT_ADLER32 (and SCHEMA_VERSION)."""
    data = STORED_DICT_FILE.read_bytes()
    assert len(data) == 32 * 1024
    assert zlib.adler32(data) == STORED_DICT_ADLER32
