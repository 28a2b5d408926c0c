"""The Whoosh schema, the mapping of a Kamervraag onto it, and the index's version record.

Field weights (BM25F, applied as query boosts in :data:`SEARCH_FIELDS`), measured on the
relevance query set (``bench/relevance.py``, ``docs/relevance.md``):

- ``nummer`` 4.0: a Kamervraag or document number typed in the box is a known-item request.
- ``titel``, ``onderwerp``, ``vragen``, ``antwoorden`` 1.0 each. A heavier title (3.0) and
  questions (1.5), the first guess, lost 0.06 MRR@10 on the tuning queries: titles repeat
  the question's words, so boosting them double-counts; every text field has its own
  length normalisation already.
- ``personen`` 0.5: the names of ministers and submitters, without stopwords (searching
  the name fields themselves, where "de" and "van" matched every "de Jonge", cost 0.03
  MRR@10), so ``yesilgoz stikstof`` finds her answers on nitrogen.

Quoted phrases search ``exact``: every word as written (folded, not stemmed; stopwords
skipped as in the text fields), so ``"kinderen"`` does not match *kind*. The stemmed fields
keep no positions: a phrase in a field (``titel:"groene waterstof"``) is the exact phrase
anywhere AND its words in that field.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate, chain, repeat
from operator import sub
from pathlib import Path
from typing import Any, TypeVar

import kvsearch.analysis  # noqa: F401 - before Whoosh: it imports Whoosh lean

# isort: split
from whoosh import columns, fields, formats
from whoosh.analysis import Token
from whoosh.codec import base, whoosh3
from whoosh.filedb.compound import SubFile
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.filedb.structfile import BufferFile
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint, pack_ushort

from kvsearch.analysis import (
    ANALYZER_VERSION,
    EMPTY_LEXICON,
    STEMMER,
    VALUE_GAP,
    DutchAnalyzer,
    analyze,
    fold,
    lexicon_for,
    term_frequencies,
    term_positions,
)
from kvsearch.errors import IndexCorruptError
from kvsearch.model import Kamervraag
from kvsearch.termsfile import MAGIC as TERMS_MAGIC
from kvsearch.termsfile import TermsFileReader, TermsFileWriter

#: The corpus lexicon (compounds, names) in each generation folder.
LEXICON_FILE = "lexicon.json.gz"

#: Bump when the schema or the stored document format changes (5: compact term infos;
#: 6: kvsearch's terms file, ``kvsearch.termsfile``).
SCHEMA_VERSION = "6"

#: Query field names (what users type before ``:``) -> index field.
FIELD_ALIASES: dict[str, str] = {
    "minister": "minister",
    "ministers": "minister",
    "indiener": "indiener",
    "indieners": "indiener",
    "partij": "partij",
    "onderwerp": "onderwerp",
    "onderwerpen": "onderwerp",
    "titel": "titel",
    "vraag": "vragen",
    "vragen": "vragen",
    "antwoord": "antwoorden",
    "antwoorden": "antwoorden",
    "ministerie": "ministerie",
    "nummer": "nummer",
    "exact": "exact",
    "ministerpartij": "ministerpartij",
    "indienerpartij": "indienerpartij",
}

#: Fields searched by words without a field prefix, with their BM25F weights.
SEARCH_FIELDS: dict[str, float] = {
    "nummer": 4.0,
    "titel": 1.0,
    "onderwerp": 1.0,
    "vragen": 1.0,
    "antwoorden": 1.0,
    "personen": 0.5,
}

#: Fields whose terms are stemmed Dutch text (used for snippets and per-question scores).
TEXT_FIELDS = ("titel", "vragen", "antwoorden", "onderwerp")


_UTF8 = "utf-8"
_SURROGATES = "surrogatepass"
#: Starts a position list that is not one of UTF-8 code points (never a UTF-8 lead byte):
#: a list with a gap beyond U+10FFFF, or an empty one, in Whoosh's pickled form.
_WIDE = b"\xff"
_WHOOSH_POSITIONS = formats.Positions()


def encode_positions(positions: Sequence[int]) -> bytes:
    """The compact form of a posting's positions (:class:`CompactPositions`)."""
    try:
        text = "".join(map(chr, map(sub, positions, chain((0,), positions))))
    except (ValueError, OverflowError):
        text = ""
    if not text:
        return _WIDE + _WHOOSH_POSITIONS.encode(list(positions))
    return text.encode(_UTF8, _SURROGATES)


def decode_positions(value: bytes) -> list[int]:
    """The positions of :func:`encode_positions`' form."""
    if value[:1] == _WIDE:
        return _WHOOSH_POSITIONS.decode_positions(value[1:])
    return list(accumulate(map(ord, value.decode(_UTF8, _SURROGATES))))


class CompactPositions(formats.Positions):
    """Whoosh's Positions format with a smaller value: the gaps between a posting's
    positions as the code points of a UTF-8 string (a gap under 128 takes one byte, under
    2,048 two), where Whoosh stores a 4-byte count and a pickled list. Encoding and
    decoding are C-level ``str`` operations; the frequency is the string's length."""

    def encode(self, poslist: Sequence[int]) -> bytes:
        return encode_positions(poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return decode_positions(valuestring)

    def decode_frequency(self, valuestring: bytes) -> int:
        if valuestring[:1] == _WIDE:
            return super().decode_frequency(valuestring[1:])
        return len(valuestring.decode(_UTF8, _SURROGATES))


# ---------------------------------------------------------------- compact term infos
#
# Whoosh's W3 codec keeps a term info per term (about a million at 90,000 documents): a
# 27-byte header (flags, total weight, document frequency, shortest and longest field
# length, highest weight, first and last document), then either the place of the posting
# list in the postings file (12 bytes) or, for a term in few documents, the postings
# themselves, pickled. The compact form holds the same numbers as the code points of a
# UTF-8 string (a number under 128 takes one byte, under 2,048 two; decoding is a C-level
# ``str`` operation), and inlined postings as document gaps, whole-number weights and the
# values' byte lengths, after the values themselves:
#
#     TI_POSTINGS  numbers (offset and length as two code points each)
#     TI_INLINED   values, numbers, the numbers' byte length (one byte)
#
# Whoosh's own form starts with 0 or 1 and is still read. Anything the compact form
# cannot hold (a fractional weight, a number of 2**20 or more where one code point is
# used, numbers of more than 255 bytes) is written in Whoosh's form.

TI_POSTINGS = 2  # the posting list is in the postings file
TI_INLINED = 3  # the postings are in the term info
_POSTINGS_TAG, _INLINED_TAG = bytes((TI_POSTINGS,)), bytes((TI_INLINED,))
#: How the inlined postings' values are kept: none (a format without values), derived
#: from the weights (Frequency: the frequency as a 4-byte unsigned int), or as they are.
VALUES_NONE, VALUES_FREQUENCY, VALUES_BYTES = 0, 1, 2
_CODE_POINTS = 0x110000
_LOW_BITS = 20  # offsets and lengths in the postings file: two code points, 20 bits low
_LOW_MASK = (1 << _LOW_BITS) - 1


def encode_terminfo(
    weight: float,
    doc_freq: int,
    min_length: int,
    max_length: int,
    max_weight: float,
    min_id: int,
    max_id: int,
    *,
    extent: tuple[int, int] | None = None,
    inlined: tuple[Sequence[int], Sequence[float], Sequence[bytes], int] | None = None,
) -> bytes | None:
    """A term info in the compact form, or None when it must be written in Whoosh's.

    ``min_length`` and ``max_length`` are Whoosh's length bytes. Either ``extent`` (offset
    and length of the posting list in the postings file) or ``inlined``: the postings'
    document numbers, weights and values, and how the values are kept (VALUES_*)."""
    total = int(weight)
    top = int(max_weight)
    if (
        total != weight
        or top != max_weight
        or not 0 <= top <= total < _CODE_POINTS
        or not 0 <= min_id <= max_id < _CODE_POINTS
    ):
        return None
    head = [total, doc_freq, min_length, max_length, top, min_id, max_id - min_id]
    if extent is not None:
        offset, length = extent
        if offset >> _LOW_BITS >= _CODE_POINTS or length >> _LOW_BITS >= _CODE_POINTS:
            return None
        head += (offset >> _LOW_BITS, offset & _LOW_MASK, length >> _LOW_BITS, length & _LOW_MASK)
        return _POSTINGS_TAG + "".join(map(chr, head)).encode(_UTF8, _SURROGATES)
    assert inlined is not None
    ids, weights, values, kind = inlined
    wholes = list(map(int, weights))
    if len(ids) != doc_freq or wholes != list(weights):  # whole weights (under total)
        return None
    head.append(kind)
    if doc_freq > 1:
        head += map(sub, ids[1:], ids)  # the gaps after the first document (min_id)
    head += wholes
    data = b""
    if kind == VALUES_FREQUENCY:
        if list(values) != list(map(pack_uint, wholes)):
            return None
    elif kind == VALUES_BYTES:
        if len(values) != doc_freq:
            return None
        head += map(len, values)
        data = b"".join(values)
    try:
        numbers = "".join(map(chr, head)).encode(_UTF8, _SURROGATES)
    except ValueError:  # a gap, weight or value length beyond the last code point
        return None
    if len(numbers) > 255:
        return None
    return _INLINED_TAG + data + numbers + bytes((len(numbers),))


#: Whoosh's field length of each length byte.
_BYTE_LENGTHS = [whoosh3.byte_to_length(b) for b in range(256)]


class CompactTermInfo(whoosh3.W3TermInfo):
    """A term info read from the compact form (:func:`decode_terminfo`). Inlined postings
    are decoded when first asked for: most look-ups want only the statistics."""

    _lazy: tuple[list[int], bytes] | None = None  # the numbers and the values' bytes

    def is_inlined(self) -> bool:
        return self._lazy is not None or self._inlined is not None

    def inlined_postings(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[bytes, ...]]:
        if self._lazy is not None:
            self._inlined = _inlined_postings(*self._lazy)
            self._lazy = None
        return self._inlined

    def to_bytes(self) -> bytes:
        self.inlined_postings()
        return super().to_bytes()


_new_terminfo = functools.partial(object.__new__, CompactTermInfo)


def decode_terminfo(raw: bytes) -> whoosh3.W3TermInfo:
    """The term info of either form (see :func:`encode_terminfo`)."""
    tag = raw[0]
    if tag == TI_INLINED:
        end = len(raw) - 1
        start = end - raw[end]
        n = list(map(ord, raw[start:end].decode(_UTF8, _SURROGATES)))
    elif tag == TI_POSTINGS:
        n = list(map(ord, raw[1:].decode(_UTF8, _SURROGATES)))
    else:
        return whoosh3.W3TermInfo.from_bytes(raw)
    info = _new_terminfo()  # every attribute of W3TermInfo.__init__ is set below
    info._weight = float(n[0])
    info._df = n[1]
    info._minlength = _BYTE_LENGTHS[n[2]]
    info._maxlength = _BYTE_LENGTHS[n[3]]
    info._maxweight = float(n[4])
    info._minid = n[5]
    info._maxid = n[5] + n[6]
    info._inlined = None
    if tag == TI_POSTINGS:
        info._offset = n[7] << _LOW_BITS | n[8]
        info._length = n[9] << _LOW_BITS | n[10]
    else:
        info._offset = info._length = None
        info._lazy = (n, raw[1:start])
    return info


def _inlined_postings(
    n: list[int], data: bytes
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[bytes, ...]]:
    """Document numbers, weights and values from a compact term info's numbers ``n`` and
    the bytes of its values."""
    df = n[1]
    kind = n[7]
    if df == 1:  # most terms: one document, its weight, its value
        weight = n[8]
        if kind == VALUES_BYTES:
            return (n[5],), (weight,), (data,)
        return (n[5],), (weight,), (pack_uint(weight),) if kind == VALUES_FREQUENCY else ()
    pos = 7 + df
    ids = tuple(accumulate(n[8:pos], initial=n[5]))
    weights = tuple(n[pos : pos + df])
    values: tuple[bytes, ...] = ()
    if kind == VALUES_FREQUENCY:
        values = tuple(map(pack_uint, weights))
    elif kind == VALUES_BYTES:
        ends = list(accumulate(n[pos + df : pos + 2 * df]))
        values = tuple(map(data.__getitem__, map(slice, chain((0,), ends), ends)))
    return ids, weights, values


# ---------------------------------------------------------------- the terms file
#
# KvCodec writes each segment's terms in kvsearch's terms file (kvsearch.termsfile: about
# 8 bytes per term beside the keys and values, where Whoosh's hash file spends 36) and
# reads either that or Whoosh's.

_NO_FIELD = pack_ushort(65535)  # the key prefix of a field the segment does not have


def positional_reader(dbfile: Any) -> Callable[[int, int], bytes]:
    """``read(position, size)`` of a Whoosh file (see :mod:`kvsearch.termsfile`):
    ``size`` bytes at ``position``; at the file's end fewer, or the bytes of the next
    part of the compound file it is in.

    A search opens segments without memory maps (``kvsearch.search``): a terms file is
    then a part of the compound segment file, and Whoosh's ``get`` on it goes through
    four Python calls, a seek and a buffered read (6.5 us a read, measured at 10,000
    documents); ``os.pread`` at the part's place in the segment file is one system call
    (1.4 us). A memory-mapped part (Whoosh's BufferFile) is sliced; any other file
    object is read with ``get``."""
    buf = getattr(dbfile, "_buf", None)
    if isinstance(dbfile, BufferFile) and buf is not None:

        def read_buffer(position: int, size: int) -> bytes:
            return bytes(buf[position : position + size])

        return read_buffer
    pread = getattr(os, "pread", None)
    file = getattr(dbfile, "file", None)
    base_offset = 0
    if isinstance(file, SubFile):
        base_offset = file._offset
        file = file._file
    fd = None
    if pread is not None and isinstance(file, io.IOBase):
        try:
            fd = file.fileno()
        except (OSError, ValueError):  # not a file of the OS, or closed
            fd = None
    if fd is None:
        return dbfile.get  # type: ignore[no-any-return]

    def read_file(position: int, size: int) -> bytes:
        if file.closed:  # its descriptor may be another file's by now
            raise ValueError("I/O operation on closed file")
        return pread(fd, size, base_offset + position)

    return read_file


class KvFieldWriter(whoosh3.W3FieldWriter):
    """W3's field writer, with the terms in kvsearch's terms file."""

    def __init__(self, codec: Any, storage: Any, segment: Any) -> None:
        # W3FieldWriter.__init__ with a TermsFileWriter for its OrderedHashWriter (which
        # writes its header when made).
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = None
        self._fieldid = None
        self._btext = None
        self._fieldobj = None
        self._format = None
        self._tindex = TermsFileWriter(self._create_file(whoosh3.W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(whoosh3.W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False


class KvTermsReader(whoosh3.W3TermsReader):
    """W3's terms reader for kvsearch's terms file or Whoosh's, with term infos in
    either form."""

    def __init__(self, codec: Any, dbfile: Any, length: int, postfile: Any) -> None:
        self._codec = codec
        self._dbfile = dbfile
        read = positional_reader(dbfile)
        self._tindex: TermsFileReader | OrderedHashReader
        if read(0, len(TERMS_MAGIC)) == TERMS_MAGIC:
            self._tindex = TermsFileReader(read, length, dbfile.close)
        else:
            self._tindex = OrderedHashReader(dbfile, length)
        fieldmap: dict[str, int] = self._tindex.extras["fieldmap"]
        self._fieldmap = fieldmap
        self._postfile = postfile
        self._fieldunmap: list[str | None] = [None] * len(fieldmap)
        for fieldname, num in fieldmap.items():
            self._fieldunmap[num] = fieldname
        self._fieldkeys = {fieldname: pack_ushort(num) for fieldname, num in fieldmap.items()}

    def _keycoder(self, fieldname: str, tbytes: bytes) -> bytes:
        return self._fieldkeys.get(fieldname, _NO_FIELD) + tbytes

    def items(self) -> Iterator[tuple[tuple[str, bytes], whoosh3.W3TermInfo]]:
        decode = self._keydecoder
        return ((decode(k), decode_terminfo(v)) for k, v in self._tindex.items())

    def items_from(
        self, fieldname: str, prefix: bytes
    ) -> Iterator[tuple[tuple[str, bytes], whoosh3.W3TermInfo]]:
        decode = self._keydecoder
        start = self._keycoder(fieldname, prefix)
        return ((decode(k), decode_terminfo(v)) for k, v in self._tindex.items_from(start))

    def term_info(self, fieldname: str, tbytes: bytes) -> whoosh3.W3TermInfo:
        raw = self._tindex.get(self._keycoder(fieldname, tbytes))
        if raw is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return decode_terminfo(raw)

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        return self._stats(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        return self._stats(fieldname, tbytes).doc_frequency()

    def _stats(self, fieldname: str, tbytes: bytes) -> whoosh3.W3TermInfo:
        # KeyError for an unknown term, as Whoosh's readers expect of these two.
        return decode_terminfo(self._tindex[self._keycoder(fieldname, tbytes)])

    def cursor(self, fieldname: str, fieldobj: Any) -> base.FieldCursor:
        if isinstance(self._tindex, TermsFileReader):
            return KvTermsCursor(self._tindex, self._keycoder(fieldname, b""), fieldobj)
        return KvFieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)


class KvFieldCursor(whoosh3.W3FieldCursor):
    """W3's cursor on Whoosh's terms file, with term infos in either form."""

    def term_info(self) -> whoosh3.W3TermInfo | None:
        if self._pos is None:
            return None
        return decode_terminfo(self._tindex.dbfile.get(self._datapos, self._datalen))


class KvTermsCursor(base.FieldCursor):
    """W3's cursor (the same moves and answers) on kvsearch's terms file: the terms of
    one field, whose keys start with ``prefix``. An entry's term info is read with its
    term."""

    def __init__(self, tindex: TermsFileReader, prefix: bytes, fieldobj: Any) -> None:
        self._tindex = tindex
        self._prefix = prefix
        self._fieldobj = fieldobj
        self._startpos = tindex.seek(prefix)
        self._pos: int | None = self._startpos
        self._text: Any = None
        self._value: bytes | None = None
        self.next()

    def first(self) -> Any:
        self._pos = self._startpos
        return self.next()

    def find(self, term: Any) -> Any:
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._pos = self._tindex.seek(self._prefix + term)
        return self.next()

    def next(self) -> Any:
        if self._pos is not None:
            entry = self._tindex.entry_at(self._pos)
            if entry is not None:
                key, value, self._pos = entry
                size = len(self._prefix)
                if key[:size] == self._prefix:
                    self._text = self._fieldobj.from_bytes(key[size:])
                    self._value = value
                    return self._text
        self._text = self._pos = self._value = None
        return None

    def text(self) -> Any:
        return self._text

    def term_info(self) -> whoosh3.W3TermInfo | None:
        if self._value is None:
            return None
        return decode_terminfo(self._value)

    def is_valid(self) -> bool:
        return self._pos is not None


class KvCodec(whoosh3.W3Codec):
    """Whoosh's W3 codec with kvsearch's terms file (:mod:`kvsearch.termsfile`), reading
    Whoosh's too, and term infos in either form (kvsearch's writer,
    ``kvsearch.indexer.BulkWriter``, writes the compact one)."""

    def field_writer(self, storage: Any, segment: Any) -> KvFieldWriter:
        return KvFieldWriter(self, storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> KvTermsReader:
        name = segment.make_filename(self.TERMS_EXT)
        length = storage.file_length(name)
        terms_file = storage.open_file(name)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return KvTermsReader(self, terms_file, length, postfile)


_Field = TypeVar("_Field", bound=fields.FieldType)


def _compact(field: _Field) -> _Field:
    """``field`` with :class:`CompactPositions` in place of Whoosh's Positions format."""
    if type(field.format) is formats.Positions:
        field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


class DutchText(fields.TEXT):
    """A TEXT field whose indexing computes terms, frequencies and positions in bulk
    (:func:`term_frequencies`, :func:`term_positions`) instead of one Whoosh Token per
    word. Queries go through the same analyzer as a plain TEXT field; the postings are
    identical to TEXT's (``tests/test_schema.py`` proves it)."""

    def bulk_postings(self, value: Any) -> tuple[str, dict[str, Any]] | None:
        """``("positions", {term: [position, ...]})`` or ``("freqs", {term: count})`` of a
        text at index time, or None when the field must index it token by token."""
        analyzer = self.analyzer
        if not isinstance(analyzer, DutchAnalyzer) or not isinstance(value, str):
            return None
        options = {
            "stem": analyzer.stem,
            "stops": analyzer.stops,
            "lexicon": lexicon_for(analyzer.lexicon),
        }
        if isinstance(self.format, formats.Positions):
            return "positions", term_positions(value, **options)
        if type(self.format) is formats.Frequency:
            return "freqs", term_frequencies(value, **options)
        return None

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        bulk = self.bulk_postings(value)
        if bulk is None:
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        kind, postings = bulk
        if kind == "positions":
            encode = self.format.encode
            for term, positions in postings.items():
                n = len(positions)
                yield term.encode("utf-8"), n, n * boost, encode(positions)
        else:
            for term, n in postings.items():
                yield term.encode("utf-8"), n, n * boost, pack_uint(n)


def make_schema(lexicon: str = EMPTY_LEXICON.key) -> fields.Schema:
    """The schema of an index whose corpus lexicon has the key ``lexicon``."""
    text = DutchAnalyzer(stem=True, lexicon=lexicon)
    names = DutchAnalyzer(stem=False)
    people = PersonNameAnalyzer()

    def stemmed(phrase: bool = False) -> fields.TEXT:
        # No positions: phrases are matched on ``exact``. A compound in a query stands for
        # itself OR its parts. Subjects and roles keep positions (they are short), so a
        # filter or field query matches a phrase within one subject or one role.
        return _compact(DutchText(analyzer=text, phrase=phrase, multitoken_query="or"))

    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        nummer=_compact(DutchText(analyzer=DutchAnalyzer(stem=False, stops=True))),
        titel=stemmed(),
        vragen=stemmed(),
        antwoorden=stemmed(),
        onderwerp=stemmed(phrase=True),
        ministerie=stemmed(phrase=True),
        exact=_compact(DutchText(analyzer=DutchAnalyzer(stem=False, stops=True))),
        personen=_compact(DutchText(analyzer=DutchAnalyzer(stem=False, stops=True))),
        # Plain TEXT: the initials forms of PersonNameAnalyzer need its own tokens.
        minister=_compact(fields.TEXT(analyzer=people)),
        indiener=_compact(fields.TEXT(analyzer=people)),
        partij=_compact(DutchText(analyzer=names)),
        ministerpartij=_compact(DutchText(analyzer=names)),
        indienerpartij=_compact(DutchText(analyzer=names)),
        asked=fields.NUMERIC(int, bits=32, sortable=True),
        answered=fields.NUMERIC(int, bits=32, sortable=True),
        # Days between asked and answered; -1 when not answered. Signed, so ranges work.
        days=fields.NUMERIC(int, bits=32, sortable=True),
        doc=fields.STORED(),
        **{field: fields.COLUMN(FacetColumn()) for field in FACET_FIELDS.values()},
    )


def date_number(value: Any) -> int:
    """A date as the integer ``YYYYMMDD`` stored in the numeric date fields (0 for None)."""
    if value is None:
        return 0
    return value.year * 10000 + value.month * 100 + value.day


def document(kv: Kamervraag) -> dict[str, Any]:
    """The field values of one Kamervraag."""
    parties: list[str] = []
    for person in (*kv.ministers, *kv.submitters):
        if person.party and person.party not in parties:
            parties.append(person.party)
    numbers = [kv.id, kv.question_doc, kv.answer_doc]
    return {
        "id": kv.id,
        "nummer": "\n".join(n for n in numbers if n),
        "titel": kv.title,
        "vragen": "\n".join(qa.question for qa in kv.questions),
        "antwoorden": "\n".join(qa.answer for qa in kv.questions if qa.answer),
        "exact": "\n".join([kv.title, *(f"{qa.question}\n{qa.answer}" for qa in kv.questions)]),
        "onderwerp": "\n".join(kv.subjects),
        "ministerie": "\n".join(p.role for p in kv.ministers if p.role),
        "minister": "\n".join(p.name for p in kv.ministers),
        "personen": "\n".join(p.name for p in (*kv.ministers, *kv.submitters)),
        "indiener": "\n".join(p.name for p in kv.submitters),
        "partij": "\n".join(parties),
        "ministerpartij": "\n".join(_unique(p.party for p in kv.ministers)),
        "indienerpartij": "\n".join(_unique(p.party for p in kv.submitters)),
        "asked": date_number(kv.asked),
        "answered": date_number(kv.answered),
        "days": answer_days(kv),
        "doc": pack(kv),
        **{FACET_FIELDS[name]: value for name, value in facet_values(kv).items()},
    }


def answer_days(kv: Kamervraag) -> int:
    """Days between asked and answered for the ``days`` field: -1 when not answered."""
    days = kv.answer_days
    return -1 if days is None else max(0, days)


# ---------------------------------------------------------------- facet columns
#
# Facets and statistics are computed from columns, never from the stored documents: one
# column per facet (see FACET_FIELDS), whose value for a document is that document's
# values joined by VALUE_SEP, de-duplicated with case and accents ignored (so a Kamervraag
# counts once per value however often the value occurs in it). A FacetColumn keeps each
# distinct value once per segment and one small number per document, so counting a set of
# documents is a C-level count of those numbers (see kvsearch.search).

VALUE_SEP = "\x1f"

#: Facet or statistic -> its column field. The multi-valued facets first.
FACET_FIELDS = {
    "minister": "facet_minister",
    "party": "facet_party",
    "ministry": "facet_ministry",
    "submitter": "facet_submitter",
    "submitter-party": "facet_submitter_party",
    "subject": "facet_subject",
    "year": "facet_year",  # the year asked
    "days": "facet_days",  # days to the answer; empty when unanswered
    "questions": "facet_questions",  # the number of questions
}
#: The multi-valued facets.
LIST_FACETS = ("minister", "party", "ministry", "submitter", "submitter-party", "subject")

_CONTROL_RE = re.compile(r"[\x00-\x1f]+")
_ROLE_SPLIT_RE = re.compile(r"\s*,\s*(?=(?:minister|staatssecretaris)\b)", re.IGNORECASE)
_ROLE_PREFIX_RE = re.compile(
    r"^(?:minister-president|minister|staatssecretaris|staatsecretaris)\b"
    r"(?:\s+zonder\s+portefeuille)?(?:\s+(?:voor|van))?\s*",
    re.IGNORECASE,
)


def ministry_of(role: str) -> list[str]:
    """The ministry part(s) of a role text: "minister justitie en veiligheid" ->
    ["justitie en veiligheid"]; "minister-president, minister algemene zaken" ->
    ["algemene zaken"]; "minister voor medische zorg" -> ["medische zorg"]."""
    out = []
    for part in _ROLE_SPLIT_RE.split(role.strip()):
        rest = _ROLE_PREFIX_RE.sub("", part.strip()).strip(" ,")
        if rest:
            out.append(rest)
    return out


def _clean(value: str) -> str:
    return " ".join(_CONTROL_RE.sub(" ", value).split())


def _unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, cleaned, without case/accent duplicates, in order."""
    seen: set[str] = set()
    out = []
    for value in values:
        value = _clean(value)
        key = fold(value)
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def facet_values(kv: Kamervraag) -> dict[str, bytes]:
    """The facet column values of a Kamervraag, by facet name (see FACET_FIELDS)."""
    lists = {
        "minister": [p.name for p in kv.ministers],
        "party": [p.party for p in kv.ministers],
        "ministry": [m for p in kv.ministers for m in ministry_of(p.role)],
        "submitter": [p.name for p in kv.submitters],
        "submitter-party": [p.party for p in kv.submitters],
        "subject": list(kv.subjects),
    }
    out = {name: VALUE_SEP.join(_unique(values)).encode("utf-8") for name, values in lists.items()}
    days = kv.answer_days
    out["year"] = str(kv.asked.year).encode()
    out["days"] = b"" if days is None else str(max(0, days)).encode()
    out["questions"] = str(len(kv.questions)).encode()
    return out


_UNIQUE_SEP = b"\x1e"  # between the distinct values of a FacetColumn (never in a value)


class FacetColumn(columns.Column):
    """A column of byte strings stored as the list of distinct values plus, per document,
    the number of its value in that list (one byte when there are up to 256 distinct
    values, else two or four). Like Whoosh's RefBytesColumn, without its limit of 65,535
    distinct values and with a reader that exposes both parts for bulk counting.

    Layout: the reference array, the distinct values joined by ``\\x1e``, the length of
    that blob (4 bytes), the array's typecode (1 byte). Value 0 is ``b""``, the value of a
    document that was given none."""

    reversible = False

    def writer(self, dbfile: Any) -> FacetColumnWriter:
        return FacetColumnWriter(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> FacetColumnReader:
        return FacetColumnReader(dbfile, basepos, length, doccount)


class FacetColumnWriter(columns.ColumnWriter):
    def __init__(self, dbfile: Any) -> None:
        self._dbfile = dbfile
        self._refs = array("I")
        self._uniques: dict[bytes, int] = {b"": 0}

    def add(self, docnum: int, value: bytes) -> None:
        refs = self._refs
        if docnum > len(refs):
            refs.extend(repeat(0, docnum - len(refs)))
        value = value.replace(_UNIQUE_SEP, b" ")
        uniques = self._uniques
        ref = uniques.get(value)
        if ref is None:
            ref = uniques[value] = len(uniques)
        refs.append(ref)

    def finish(self, doccount: int) -> None:
        refs = self._refs
        if doccount > len(refs):
            refs.extend(repeat(0, doccount - len(refs)))
        count = len(self._uniques)
        typecode = "B" if count <= 1 << 8 else "H" if count <= 1 << 16 else "I"
        self._dbfile.write_array(array(typecode, refs[:doccount]))
        blob = _UNIQUE_SEP.join(self._uniques)  # dicts keep insertion (= reference) order
        self._dbfile.write(blob)
        self._dbfile.write_uint(len(blob))
        self._dbfile.write_byte(ord(typecode))


class FacetColumnReader(columns.ColumnReader):
    """``refs[docnum]`` is the index of the document's value in ``uniques``."""

    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        self._doccount = doccount
        end = basepos + length
        typecode = chr(dbfile.get_byte(end - 1))
        size = dbfile.get_uint(end - 5)
        self.refs = dbfile.get_array(basepos, typecode, doccount)
        self.uniques: list[bytes] = dbfile.get(end - 5 - size, size).split(_UNIQUE_SEP)

    def __len__(self) -> int:
        return self._doccount

    def __getitem__(self, docnum: int) -> bytes:
        return self.uniques[self.refs[docnum]]

    def __iter__(self) -> Iterator[bytes]:
        uniques = self.uniques
        return (uniques[ref] for ref in self.refs)


# ---------------------------------------------------------------- person names

_INITIALS_RE = re.compile(r"\s*((?:[^\W\d_]{1,2}\.\s*)+)(?=[^\W\d_])")


class PersonNameAnalyzer(DutchAnalyzer):
    """Names of people (one per line), folded and split like text, with initials.

    Leading initials count as one word, their first letter: "H.M. de Jonge" is analysed
    as "h de jonge" (at index and query time alike). At index time, a full first name also
    yields its initial at the same position: "Hugo de Jonge" is found by "hugo de jonge",
    "de jonge", "h. de jonge" and "h.m. de jonge". So a name in initials form and a written
    out name meet on the initials form; "hugo de jonge" does not find "H.M. de Jonge".
    """

    def __init__(self) -> None:
        super().__init__(stem=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersonNameAnalyzer)

    def __hash__(self) -> int:
        return hash(PersonNameAnalyzer)

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        if not tokenize:
            yield from super().__call__(
                value,
                positions,
                chars,
                keeporiginal,
                removestops,
                start_pos,
                start_char,
                tokenize,
                mode,
                **kwargs,
            )
            return
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term, pos, startchar, endchar in person_terms(value, query=mode == "query"):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[startchar:endchar]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + startchar
                token.endchar = start_char + endchar
            yield token


def person_terms(text: str, *, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """``(term, position, startchar, endchar)`` of names, one per line (see
    :class:`PersonNameAnalyzer`); lines are :data:`VALUE_GAP` positions apart."""
    base = 0
    line_start = 0
    for line in text.split("\n"):
        last = -1
        for term, pos, start, end in _name_terms(line, query):
            last = max(last, pos)
            yield term, base + pos, line_start + start, line_start + end
        if last >= 0:
            base += last + 1 + VALUE_GAP
        line_start += len(line) + 1


def _name_terms(line: str, query: bool) -> Iterator[tuple[str, int, int, int]]:
    mode = "query" if query else "index"
    m = _INITIALS_RE.match(line)
    if m:
        yield fold(m.group(1).strip()[0]), 0, m.start(1), m.end(1)
        offset = m.end(1)
        for term, pos, start, end in analyze(line[offset:], mode=mode, stem=False, stops=False):
            yield term, pos + 1, start + offset, end + offset
        return
    tokens = list(analyze(line, mode=mode, stem=False, stops=False))
    if query or not tokens or tokens[-1][1] == 0:
        yield from tokens
        return
    first_word = [t for t in tokens if t[1] == 0]
    yield from first_word
    first, _pos, start, end = first_word[0]
    initial = first[0]
    if len(first) > 1 and initial.isalpha() and all(t[0] != initial for t in first_word):
        yield initial, 0, start, end
    yield from tokens[len(first_word) :]


#: The zlib preset dictionary of the stored documents (``bench/make_stored_dict.py``), and
#: its Adler-32, which zlib records in every stream compressed with it.
STORED_DICT_FILE = Path(__file__).with_name("stored.zdict")
STORED_DICT_ADLER32 = 0xCEFE6A7C
_STORED_LEVEL = 6


@functools.cache
def _stored_dict() -> bytes:
    return STORED_DICT_FILE.read_bytes()


@functools.cache
def _compressor() -> Any:
    return zlib.compressobj(_STORED_LEVEL, zdict=_stored_dict())


@functools.cache
def _decompressor() -> Any:
    return zlib.decompressobj(zdict=_stored_dict())


def pack(kv: Kamervraag, *, compress: bool = True) -> bytes:
    """The stored form of a Kamervraag: compact JSON, zlib-compressed with the preset
    dictionary :data:`STORED_DICT_FILE` (a fifth smaller than without it). The index
    writer stores it as it is (``kvsearch.indexer.STORED_LEVEL``)."""
    data = json.dumps(kv.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if not compress:
        return data
    compressor = _compressor().copy()  # the dictionary loaded once
    return compressor.compress(data) + compressor.flush()


def unpack(blob: bytes) -> Kamervraag:
    """A Kamervraag from :func:`pack`'s form, or from the plain or compressed JSON of
    indexes written before (a zlib stream starts with 0x78, JSON with "{"). A stream
    compressed with another dictionary is an error (zlib checks its Adler-32)."""
    if blob[:1] == b"x":
        try:
            decompressor = _decompressor().copy()
            blob = decompressor.decompress(blob) + decompressor.flush()
        except zlib.error as exc:
            raise IndexCorruptError(f"a stored document cannot be read: {exc}") from exc
    return Kamervraag.from_dict(json.loads(blob.decode("utf-8")))


def version_record() -> dict[str, str]:
    """What an index must match to be read by this kvsearch."""
    return {
        "schema_version": SCHEMA_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "stemmer": STEMMER,
    }
