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
from whoosh.codec.whoosh3 import W3TermInfo, byte_to_length
from whoosh.system import pack_uint

from kvsearch.analysis import Lexicon, analyze, register, term_frequencies, term_positions
from kvsearch.errors import IndexCorruptError
from kvsearch.indexer import SAMPLE_DIR
from kvsearch.parse import parse_file, parse_text
from kvsearch.schema import (
    STORED_DICT_ADLER32,
    STORED_DICT_FILE,
    TI_INLINED,
    TI_POSTINGS,
    VALUES_BYTES,
    VALUES_FREQUENCY,
    VALUES_NONE,
    CompactPositions,
    DutchText,
    decode_terminfo,
    document,
    encode_positions,
    encode_terminfo,
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


# ---------------------------------------------------------------- compact term infos


def _stats(info: W3TermInfo) -> tuple[object, ...]:
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
    )


@pytest.mark.parametrize(
    ("extent", "size"),
    [
        # The tag; 412 and 130 take two bytes, 20,997 (the last id minus the first) three,
        # the other four numbers one: 12 bytes. Then offset and length, two code points each.
        ((0, 10), 16),
        ((35_000_000, 70_000), 22),  # 33 and 396,992; 0 and 70,000: 1 + 4 + 1 + 4 bytes
    ],
)
def test_compact_term_info_of_a_posting_list(extent: tuple[int, int], size: int) -> None:
    raw = encode_terminfo(412.0, 130, 20, 90, 7.0, 3, 21_000, extent=extent)
    assert raw is not None
    assert raw[0] == TI_POSTINGS
    assert len(raw) == size  # Whoosh's form: 39 bytes
    info = decode_terminfo(raw)
    assert _stats(info) == (412.0, 130, byte_to_length(20), byte_to_length(90), 7.0, 3, 21_000)
    assert not info.is_inlined()
    assert info.extent() == extent


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ((), VALUES_NONE),
        ((pack_uint(2), pack_uint(1), pack_uint(5)), VALUES_FREQUENCY),
        (tuple(encode_positions(p) for p in ([4, 9], [0], [7, 8, 300, 5000, 70000])), VALUES_BYTES),
    ],
)
def test_compact_term_info_of_inlined_postings(values: tuple[bytes, ...], kind: int) -> None:
    raw = encode_terminfo(
        8.0, 3, 1, 255, 5.0, 17, 9000, inlined=([17, 18, 9000], [2.0, 1.0, 5.0], values, kind)
    )
    assert raw is not None
    assert raw[0] == TI_INLINED
    info = decode_terminfo(raw)
    assert _stats(info) == (8.0, 3, byte_to_length(1), byte_to_length(255), 5.0, 17, 9000)
    assert info.is_inlined()
    assert info.inlined_postings() == ((17, 18, 9000), (2, 1, 5), values)
    # Whoosh's form of the same term info (what a writer would copy) reads back the same.
    again = decode_terminfo(decode_terminfo(raw).to_bytes())
    assert again.inlined_postings() == info.inlined_postings()
    assert _stats(again) == _stats(info)


@pytest.mark.parametrize(
    ("args", "inlined"),
    [
        ((2.5, 1, 1, 1, 2.5, 4, 4), None),  # a fractional weight
        ((1.0, 1, 1, 1, 1.0, 4, 1 << 21), None),  # a document number beyond one code point
        ((1.0, 1, 1, 1, 1.0, 4, 4), ([4], [1.0], [b"x" * 0x110000], VALUES_BYTES)),  # long
        ((1.0, 1, 1, 1, 1.0, 4, 4), ([4], [1.0], [pack_uint(3)], VALUES_FREQUENCY)),  # != w
        ((3.0, 2, 1, 1, 1.5, 4, 5), ([4, 5], [1.5, 1.5], [], VALUES_NONE)),  # fractional
    ],
)
def test_compact_term_info_refuses_what_it_cannot_hold(
    args: tuple[float, int, int, int, float, int, int],
    inlined: tuple[list[int], list[float], list[bytes], int] | None,
) -> None:
    """None: the writer then writes Whoosh's own form."""
    extent = None if inlined else (0, 1)
    assert encode_terminfo(*args, extent=extent, inlined=inlined) is None


def test_whooshs_term_infos_still_read() -> None:
    info = W3TermInfo(weight=6.0, df=2, minlength=3, maxlength=40, maxweight=4.0)
    info._minid, info._maxid = 5, 8
    info.set_inlined((5, 8), (2.0, 4.0), (b"a", b"b"))
    assert _stats(decode_terminfo(info.to_bytes())) == _stats(info)
    assert decode_terminfo(info.to_bytes()).inlined_postings() == info.inlined_postings()


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 70_000), min_size=1, max_size=15),
    weights=st.lists(st.integers(1, 70_000), min_size=15, max_size=15),
    positions=st.lists(st.lists(st.integers(0, 1 << 20), min_size=1, max_size=6), min_size=15),
    lengths=st.tuples(st.integers(0, 255), st.integers(0, 255)),
    extent=st.tuples(st.integers(0, 1 << 40), st.integers(0, 1 << 32)),
)
def test_compact_term_info_round_trip(
    gaps: list[int],
    weights: list[int],
    positions: list[list[int]],
    lengths: tuple[int, int],
    extent: tuple[int, int],
) -> None:
    """Whatever the numbers, the compact form reads back as written, or is refused."""
    ids = list(accumulate(gaps))
    df = len(ids)
    ws = [float(w) for w in weights[:df]]
    values = tuple(encode_positions(sorted(p)) for p in positions[:df])
    stats = (sum(ws), df, lengths[0], lengths[1], max(ws), ids[0], ids[-1])
    raw = encode_terminfo(*stats, inlined=(ids, ws, values, VALUES_BYTES))
    if raw is not None:
        info = decode_terminfo(raw)
        assert info.inlined_postings() == (tuple(ids), tuple(map(int, ws)), values)
        assert (info.weight(), info.doc_frequency(), info.min_id(), info.max_id()) == (
            sum(ws),
            df,
            ids[0],
            ids[-1],
        )
    else:  # the numbers take more than 255 bytes
        numbers = [*stats[:5], ids[0], ids[-1] - ids[0], VALUES_BYTES, *gaps[1:], *weights[:df]]
        numbers += map(len, values)
        assert len("".join(map(chr, map(int, numbers))).encode("utf-8", "surrogatepass")) > 255
    raw = encode_terminfo(*stats, extent=extent)
    if raw is not None:
        assert decode_terminfo(raw).extent() == extent
