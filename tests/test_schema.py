"""The bulk indexing path gives exactly the postings of Whoosh's own TEXT field."""

from __future__ import annotations

import io
import json
import pickle
import zlib
from array import array
from bisect import bisect_left
from collections import Counter
from itertools import accumulate
from pathlib import Path

import pytest
from conftest import terminfo_stats
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields, formats
from whoosh.codec.whoosh3 import W3TermInfo, byte_to_length
from whoosh.system import pack_uint, pack_ushort

from kvsearch import termsfile
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
    assert terminfo_stats(info) == (
        412.0,
        130,
        byte_to_length(20),
        byte_to_length(90),
        7.0,
        3,
        21_000,
    )
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
    assert terminfo_stats(info) == (8.0, 3, byte_to_length(1), byte_to_length(255), 5.0, 17, 9000)
    assert info.is_inlined()
    assert info.inlined_postings() == ((17, 18, 9000), (2, 1, 5), values)
    # Whoosh's form of the same term info (what a writer would copy) reads back the same.
    again = decode_terminfo(decode_terminfo(raw).to_bytes())
    assert again.inlined_postings() == info.inlined_postings()
    assert terminfo_stats(again) == terminfo_stats(info)


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
    assert terminfo_stats(decode_terminfo(info.to_bytes())) == terminfo_stats(info)
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


# ---------------------------------------------------------------- the terms file


class _MemoryFile(io.BytesIO):
    """A file to write a terms file to, whose bytes stay readable after it is closed."""

    data = b""

    def close(self) -> None:
        self.data = self.getvalue()
        super().close()


def _terms_file(
    entries: list[tuple[bytes, bytes]], *, one_by_one: int = 0, extras: dict | None = None
) -> bytes:
    """A terms file of ``entries`` (sorted): the first ``one_by_one`` added one at a time,
    the rest in two bulk calls."""
    f = _MemoryFile()
    writer = termsfile.TermsFileWriter(f)
    writer.extras.update(extras or {})
    for key, value in entries[:one_by_one]:
        writer.add(key, value)
    rest = entries[one_by_one:]
    half = len(rest) // 2
    for part in (rest[:half], rest[half:]):
        writer.add_all([k for k, _ in part], [v for _, v in part])
    length = writer.close()
    assert f.closed
    assert length == len(f.data)
    return f.data


def _terms_reader(data: bytes) -> termsfile.TermsFileReader:
    return termsfile.TermsFileReader(lambda pos, size: data[pos : pos + size], len(data))


def _check_terms_file(entries: list[tuple[bytes, bytes]], data: bytes, probes: list[bytes]) -> None:
    """Every key found with its value, every probe that is not a key not found, and the
    entries from every probe on, in order."""
    reader = _terms_reader(data)
    assert len(reader) == len(entries)
    assert list(reader.items()) == entries
    assert list(reader.keys()) == [k for k, _ in entries]
    assert list(reader.values()) == [v for _, v in entries]
    keys = {k for k, _ in entries}
    for key, value in entries:
        assert reader.get(key) == value
        assert reader[key] == value
        assert key in reader
    for probe in probes:
        if probe not in keys:
            assert reader.get(probe) is None
            assert probe not in reader
            with pytest.raises(KeyError):
                reader[probe]
    for probe in probes:
        expected = entries[bisect_left(entries, (probe,)) :]
        assert list(reader.items_from(probe)) == expected, probe
        assert list(reader.keys_from(probe)) == [k for k, _ in expected]
        pos = reader.seek(probe)
        assert reader.entry_at(pos) == (
            (*expected[0], reader.seek(expected[1][0]) if len(expected) > 1 else reader._table)
            if expected
            else None
        )


def _boundaries(keys: list[bytes]) -> list[bytes]:
    """Keys just before, at and just after each key, before all and after all."""
    out = [b"", b"\x00", b"\xff" * 40]
    for key in keys:
        out += [key, key + b"\x00", key + b"\xff", key[:-1]]
        if key[-1:] > b"\x00":
            out.append(key[:-1] + bytes([key[-1] - 1]) + b"\xff")
    return out


def test_empty_terms_file() -> None:
    data = _terms_file([], extras={"fieldmap": {}})
    reader = _terms_reader(data)
    assert data.startswith(termsfile.MAGIC)
    assert reader.extras == {"fieldmap": {}}
    assert len(reader) == 0
    assert reader.get(b"\x00\x00") is None
    assert list(reader.items()) == []
    assert list(reader.items_from(b"")) == []
    assert reader.entry_at(reader.seek(b"")) is None
    _check_terms_file([], data, _boundaries([b"\x00\x00a"]))


def test_terms_file_of_one_entry() -> None:
    entries = [(b"\x00\x01stikstof", b"\x02info")]
    data = _terms_file(entries, one_by_one=1, extras={"fieldmap": {"titel": 1}})
    assert _terms_reader(data).extras == {"fieldmap": {"titel": 1}}
    _check_terms_file(entries, data, _boundaries([entries[0][0]]))


def test_terms_file_of_many_fields_with_shared_prefixes() -> None:
    """Keys of several fields sharing prefixes, more than a few sparse index steps;
    look-ups before, between and after all keys, and at every kind of boundary."""
    words = [b"", b"a", b"ab", b"abc", b"abd", b"abda", b"b", b"ba", b"\xc3\xa9", b"z" * 140]
    words += [b"stik%03d" % n for n in range(60)]
    keys = sorted(pack_ushort(field) + word for field in (0, 1, 2, 300) for word in words)
    entries = [(key, b"v%d" % n * (n % 7)) for n, key in enumerate(keys)]
    assert len(entries) > 8 * termsfile.SPARSE_STEP
    probes = [*_boundaries(keys), pack_ushort(5) + b"a", pack_ushort(1) + b"abcd"]
    for one_by_one in (0, 17, len(entries)):
        _check_terms_file(entries, _terms_file(entries, one_by_one=one_by_one), probes)


@pytest.mark.parametrize(("key_size", "value_size"), [(200, 3), (3, 200), (300, 70_000)])
def test_terms_file_of_long_keys_and_values(key_size: int, value_size: int) -> None:
    """Lengths of two-byte varints, values longer than a look-up reads and entries longer
    than a scan reads at a time."""
    entries = [(bytes([n]) * key_size, bytes([n]) * (value_size + n)) for n in range(1, 40)]
    entries = sorted([*entries, (b"\x05", b"")])
    _check_terms_file(
        entries, _terms_file(entries, one_by_one=3), _boundaries([k for k, _ in entries])
    )


@pytest.mark.parametrize(
    ("settings_", "slot_size"),
    [
        ({"TAG_BITS": 0}, 4),  # every slot's entry is read and compared
        ({"LOAD": 1.0}, 4),  # runs longer than one read of slots
        ({"WIDE_SLOTS_FROM": 0}, 8),  # 8-byte slots
    ],
)
def test_terms_file_hash_table_layouts(
    settings_: dict[str, float], slot_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings_.items():
        monkeypatch.setattr(termsfile, name, value)
    keys = sorted({b"%d" % (n * 7919 % 10007) for n in range(3000)})
    entries = [(key, key[::-1]) for key in keys]
    data = _terms_file(entries)
    reader = _terms_reader(data)
    assert reader._slot_size == slot_size
    table = array("I" if slot_size == 4 else "Q")
    table.frombytes(data[reader._table : reader._table + reader._slots * slot_size])
    runs = [len(run) for run in bytes(map(bool, table)).split(b"\x00")]
    assert table[-termsfile.PROBE_SLOTS :] == array(table.typecode, [0]) * termsfile.PROBE_SLOTS
    assert sum(map(bool, table)) == len(entries)
    if "LOAD" in settings_:
        assert reader._home == len(entries)
        assert max(runs) > termsfile.PROBE_SLOTS
    probes = [key + b"x" for key in keys[::5]]
    _check_terms_file(entries, data, probes[::20] + keys[::97])
    assert all(key not in reader for key in probes if key not in keys)


def test_terms_file_slot_layout() -> None:
    """4-byte slots up to offsets of 2**28 with 8 tag bits, then fewer; 8-byte slots
    beyond (no offset overflows)."""
    assert termsfile.slot_layout(100) == (4, 8)
    assert termsfile.slot_layout((1 << 24) - 1) == (4, 8)
    assert termsfile.slot_layout(1 << 24) == (4, 7)
    assert termsfile.slot_layout((1 << 28) - 1) == (4, 4)
    assert termsfile.slot_layout(1 << 28) == (8, 8)
    assert termsfile.slot_layout(1 << 40) == (8, 8)


def test_terms_file_keys_must_increase() -> None:
    writer = termsfile.TermsFileWriter(_MemoryFile())
    writer.add_all([b"b", b"c"], [b"", b""])
    with pytest.raises(ValueError, match="Keys must increase"):
        writer.add(b"c", b"")
    with pytest.raises(ValueError, match="Keys must increase"):
        writer.add_all([b"d", b"f", b"e"], [b"", b"", b""])
    with pytest.raises(ValueError, match="Keys must increase"):
        writer.add_all([b"a"], [b""])
    with pytest.raises(ValueError, match="as many keys as values"):
        writer.add_all([b"x"], [])
    writer.add(b"d", b"1")
    writer.add_all([b"e"], [b"2"])
    writer.close()


def test_damaged_terms_file_is_refused() -> None:
    data = _terms_file([(b"a", b"1"), (b"b", b"2")])
    with pytest.raises(IndexCorruptError, match="not a kvsearch terms file"):
        _terms_reader(b"HSH3" + data[4:])
    with pytest.raises(IndexCorruptError):
        _terms_reader(data[:-3])
    with pytest.raises(IndexCorruptError, match="trailer is damaged"):
        _terms_reader(data[:-60] + bytes(56) + termsfile.MAGIC)


_KEYS = st.binary(max_size=10)


@settings(max_examples=300, deadline=None)
@given(
    entries=st.dictionaries(_KEYS, st.binary(max_size=150), max_size=300),
    absent=st.lists(_KEYS, max_size=30),
    one_by_one=st.integers(0, 300),
)
def test_terms_file_round_trip(
    entries: dict[bytes, bytes], absent: list[bytes], one_by_one: int
) -> None:
    """Any sorted keys and values: every key found with its value, other keys not found,
    ``items_from(k)`` the entries from k on."""
    items = sorted(entries.items())
    _check_terms_file(items, _terms_file(items, one_by_one=one_by_one), [*absent, *entries])
