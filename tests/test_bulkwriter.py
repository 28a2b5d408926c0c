"""The bulk segment writer and the parallel build write the index Whoosh's writer would.

- BulkWriter's segment files are byte for byte those of Whoosh's SegmentWriter, for
  terms with one posting block and with several (more than 128 postings), with Whoosh's
  codec;
- with kvsearch's (compact term infos in kvsearch's terms file) a segment reads back term
  for term like Whoosh's, through every method of the terms reader and its cursor, and
  so does one written or merged by Whoosh's own writer with kvsearch's codec;
- segments merged by BulkWriter (the generic posting path) read back like Whoosh's;
- a build in worker processes (several segments) holds the same documents, records,
  skips and warnings as a build in one process, and ranks alike.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

import pytest
from conftest import terminfo_stats
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import STORED_COLUMN, W3Codec, W3TermsReader
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.filedb.structfile import StructFile
from whoosh.reading import TermNotFound
from whoosh.writing import SegmentWriter

from kvsearch import indexer
from kvsearch.analysis import register
from kvsearch.errors import IndexIntegrityError
from kvsearch.indexer import SAMPLE_DIR, BulkWriter, Progress, build_index
from kvsearch.parse import parse_text
from kvsearch.schema import (
    TI_INLINED,
    TI_POSTINGS,
    KvCodec,
    KvTermsReader,
    document,
    make_schema,
    positional_reader,
)
from kvsearch.search import Searcher
from kvsearch.store import read_manifest, read_records
from kvsearch.termsfile import MAGIC, TermsFileReader

QUERIES = [
    "stikstof",
    "neutraliteit ambtenaren",
    '"groene waterstof"',
    "minister:yesilgoz",
    "verkiezingen uitslag",
    "nummer:2024Z01294",
]


def _documents(copies: int) -> tuple[str, list[dict[str, Any]]]:
    files = sorted(SAMPLE_DIR.glob("*.txt"))
    lexicon = indexer.scan_lexicon(files, lambda _event: None)
    register(lexicon)
    docs = []
    for copy in range(copies):
        for path in files:
            doc = document(parse_text(path.read_text(encoding="utf-8"), str(path)))
            doc["id"] = f"{doc['id']}-{copy}"
            docs.append(doc)
    return lexicon.key, docs


def _segment_files(folder: Path) -> dict[str, bytes]:
    """The segment files by name without the (random) segment id."""
    out = {}
    for path in folder.iterdir():
        if path.name.endswith((".toc", "WRITELOCK")) or path.is_dir():
            continue
        out[re.sub(r"^MAIN_[a-z0-9]+", "MAIN", path.name)] = path.read_bytes()
    return out


def _write(folder: Path, writer_class: type, key: str, batches: list[list[dict[str, Any]]]) -> Any:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema(key))
    for batch in batches:
        writer = writer_class(ix, compound=False)
        for doc in batch:
            writer.add_document(**doc)
        writer.commit(merge=False)
    return ix


@pytest.mark.parametrize("copies", [1, 4])
def test_segment_files_are_identical_to_whooshs(
    tmp_path: Path, copies: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Whoosh's settings (nothing inlined, blocks of 128 postings, every block
    compressed at level 3, pickle protocol 2 with float weights, stored fields compressed
    at level 3, stored offsets only from 32,768 documents, Whoosh's term infos and codec),
    the files are Whoosh's byte for byte."""
    monkeypatch.setattr(indexer, "COMPACT_TERM_INFOS", False)
    monkeypatch.setattr(indexer, "BLOCK_LIMIT", 128)
    monkeypatch.setattr(indexer, "BLOCK_LEVEL", 3)
    monkeypatch.setattr(indexer, "INLINE_LIMIT", 1)
    monkeypatch.setattr(indexer, "COMPRESS_MIN", 0)
    monkeypatch.setattr(indexer, "STORED_OFFSETS_CUTOFF", 2**15)
    monkeypatch.setattr(indexer, "PICKLE_PROTOCOL", 2)
    monkeypatch.setattr(indexer, "STORED_LEVEL", 3)
    key, docs = _documents(copies)  # 4 copies: 144 documents, terms with several blocks
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    bulk_ix = _write(tmp_path / "bulk", BulkWriter, key, [docs])
    expected = _segment_files(tmp_path / "whoosh")
    got = _segment_files(tmp_path / "bulk")
    assert sorted(got) == sorted(expected)
    assert {".pst", ".trm"} <= {os.path.splitext(name)[1] for name in got}
    assert _terms_files(tmp_path / "bulk") == {b"HSH3"}  # Whoosh's terms file
    for name in expected:
        assert got[name] == expected[name], name
    with whoosh_ix.reader() as reader:
        most = max(reader.doc_frequency(name, text) for name, text in reader.all_terms())
    assert most > 128 if copies > 1 else most < 128
    whoosh_ix.close()
    bulk_ix.close()


def _contents(ix: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Every term's statistics and postings, every stored document and field length."""
    with ix.reader() as reader:
        terms = []
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            matcher = reader.postings(fieldname, btext)
            postings = []
            while matcher.is_active():
                # An Existence field has no values: None from a block, "" when inlined.
                value = matcher.value() or None
                postings.append((matcher.id(), matcher.weight(), value))
                matcher.next()
            stats = (
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                reader.frequency(fieldname, btext),
                reader.doc_frequency(fieldname, btext),
            )
            terms.append((fieldname, btext, stats, info.max_weight(), postings))
        stored = [reader.stored_fields(n) for n in range(reader.doc_count_all())]
        lengths = [
            (name, n, reader.doc_field_length(n, name))
            for name in ("titel", "vragen", "antwoorden", "exact", "minister")
            for n in range(reader.doc_count_all())
        ]
    return terms, stored, lengths


@pytest.mark.parametrize("block_limit", [None, 16])
def test_inlined_and_uncompressed_postings_read_like_whooshs(
    tmp_path: Path, block_limit: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With kvsearch's settings (short posting lists inlined, long blocks compressed at
    its level, small blocks stored as they are) the index reads back exactly like
    Whoosh's; with short blocks too (a term's postings in several blocks)."""
    if block_limit is not None:
        monkeypatch.setattr(indexer, "BLOCK_LIMIT", block_limit)
    key, docs = _documents(4)
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    bulk_ix = _write(tmp_path / "bulk", BulkWriter, key, [docs])
    assert indexer.INLINE_LIMIT > 1
    assert indexer.COMPRESS_MIN > 0
    assert indexer.PICKLE_PROTOCOL > 2
    assert indexer.STORED_LEVEL == 0
    assert indexer.COMPACT_TERM_INFOS
    assert indexer.BLOCK_LIMIT > 128 or block_limit
    assert indexer.BLOCK_LEVEL != 3
    assert _contents(bulk_ix) == _contents(whoosh_ix)
    blocks = _block_counts(bulk_ix)
    assert max(blocks) > 1 if block_limit else max(blocks) == 1
    assert _terms_reads(bulk_ix) == _terms_reads(whoosh_ix)
    # Every term info in kvsearch's compact form, in kvsearch's terms file.
    assert _terms_files(tmp_path / "bulk") == {MAGIC}
    assert _terms_files(tmp_path / "whoosh") == {b"HSH3"}
    with bulk_ix.reader() as reader:
        terms = reader._terms
        assert isinstance(terms, KvTermsReader)
        assert isinstance(terms._tindex, TermsFileReader)
        assert {raw[0] for raw in terms._tindex.values()} == {TI_POSTINGS, TI_INLINED}
        cursor = reader.cursor("exact")
        first = cursor.text()
        assert cursor.term_info().weight() == reader.frequency("exact", first) > 0
        # About 8 bytes per term beside its key and term info (Whoosh's file: 36).
        entries = list(terms._tindex.items())
        size = sum(len(key) + len(value) for key, value in entries)
        (trm,) = (tmp_path / "bulk").glob("*.trm")
        assert len(entries) > 3000
        assert trm.stat().st_size - size < 8.5 * len(entries)
    with whoosh_ix.reader() as reader:
        assert type(reader._terms) is W3TermsReader


def _terms_files(folder: Path) -> set[bytes]:
    """The magic numbers of the terms files of the (not compound) segments in ``folder``."""
    return {path.read_bytes()[:4] for path in folder.glob("*.trm")}


def _answer(method: Any, *args: Any) -> Any:
    """What ``method(*args)`` returns, or the name of the exception it raises."""
    try:
        return method(*args)
    except (KeyError, TermNotFound) as exc:
        return type(exc).__name__


def _terms_reads(ix: Any) -> list[Any]:
    """What the terms reader of an index's one segment answers, to every method and of
    every term, around every kind of boundary, and what its cursors answer."""
    out: list[Any] = []
    with ix.reader() as reader:
        terms = reader._terms
        fields = sorted(terms.indexed_field_names())
        all_terms = list(terms.terms())
        out += [fields, all_terms, [(term, terminfo_stats(info)) for term, info in terms.items()]]
        probes = [
            (fieldname, text)
            for fieldname in [*fields, "geen_veld"]
            for text in (b"", b"a", b"st", b"stikstof", b"zzzz", b"\xff")
        ]
        probes += all_terms[::29]
        probes += [(fieldname, text + b"\x00") for fieldname, text in all_terms[::31]]
        probes += [(fieldname, text[:-1]) for fieldname, text in all_terms[::37]]
        for fieldname, text in probes:
            info = _answer(terms.term_info, fieldname, text)
            out.append(
                (
                    (fieldname, text) in terms,
                    info if isinstance(info, str) else terminfo_stats(info),
                    _answer(terms.frequency, fieldname, text),
                    _answer(terms.doc_frequency, fieldname, text),
                    list(islice(terms.terms_from(fieldname, text), 20)),
                    [
                        (t, terminfo_stats(i))
                        for t, i in islice(terms.items_from(fieldname, text), 20)
                    ],
                )
            )
            if not isinstance(info, str):
                fmt = reader.schema[fieldname].format
                out.append(list(terms.matcher(fieldname, text, fmt).all_ids()))
        schema = dict(reader.schema.items())
        for fieldname in [*fields, "geen_veld"]:
            cursor = terms.cursor(fieldname, schema.get(fieldname))
            walk = []
            while cursor.is_valid():
                walk.append((cursor.text(), terminfo_stats(cursor.term_info())))
                cursor.next()
            walk.append((cursor.text(), cursor.term_info(), cursor.next(), cursor.is_valid()))
            walk.append(cursor.first())
            for probe_field, text in probes:
                if probe_field == fieldname:
                    found = cursor.find(text)
                    info = cursor.term_info()
                    walk.append(
                        (found, cursor.is_valid(), info and terminfo_stats(info), cursor.next())
                    )
            out.append(walk)
    return out


def test_whooshs_writer_with_kvsearchs_codec(tmp_path: Path) -> None:
    """Whoosh's own writer with KvCodec (its W3FieldWriter, and its merges) writes
    kvsearch's terms file too; the index reads back like one of Whoosh's codec."""
    key, docs = _documents(1)
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    kv_writer = functools.partial(SegmentWriter, codec=KvCodec())
    kv_ix = _write(tmp_path / "kv", kv_writer, key, [docs[:20], docs[20:]])
    assert len(kv_ix._segments()) == 2
    assert _terms_files(tmp_path / "kv") == {MAGIC}
    kv_writer(kv_ix, compound=False).commit(optimize=True)
    kv_ix = whoosh_index.open_dir(str(tmp_path / "kv"))
    assert len(kv_ix._segments()) == 1
    assert _terms_files(tmp_path / "kv") == {MAGIC}
    assert _contents(kv_ix) == _contents(whoosh_ix)
    assert _terms_reads(kv_ix) == _terms_reads(whoosh_ix)
    whoosh_ix.close()
    kv_ix.close()


def test_compound_segments_read_with_and_without_memory_maps(tmp_path: Path) -> None:
    """A terms file inside a compound segment file is read with ``os.pread`` at its place
    (a search's way: no memory maps) or from the memory map; the same answers."""
    key, docs = _documents(1)
    (tmp_path / "ix").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "ix"), make_schema(key))
    writer = BulkWriter(ix)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    ix.close()
    answers = []
    for mmap, how in ((False, "read_file"), (True, "read_buffer")):
        ix = FileStorage(str(tmp_path / "ix"), supports_mmap=mmap, readonly=True).open_index()
        with ix.reader() as reader:
            tindex = reader._terms._tindex
            assert isinstance(tindex, TermsFileReader)
            assert tindex._read.__name__ == how
        answers.append((_contents(ix), _terms_reads(ix)))
        ix.close()
    assert answers[0] == answers[1]


def test_positional_readers_of_whooshs_files(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    (tmp_path / "f").write_bytes(b"xyz" + data)
    storage = FileStorage(str(tmp_path))
    whole = storage.open_file("f")
    part = whole.subset(3, len(data))  # a part of a compound file, as a search opens it
    in_memory = StructFile(io.BytesIO(data))
    for dbfile, how in ((part, "read_file"), (in_memory, "get")):
        read = positional_reader(dbfile)
        assert read.__name__ == how
        assert [read(pos, 30) for pos in (0, 5, 1000)] == [data[0:30], data[5:35], data[1000:]]
    whole.close()
    with pytest.raises(ValueError, match="closed file"):
        positional_reader(part)(0, 10)


def test_schema_5_segments_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A segment of KvCodec with compact term infos in Whoosh's terms file (schema 5:
    KvCodec's field writer was W3's) reads back term for term like Whoosh's."""
    key, docs = _documents(1)
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    with monkeypatch.context() as m:
        m.setattr(KvCodec, "field_writer", W3Codec.field_writer)
        m.setattr(indexer, "INLINE_LIMIT", 16)  # schema 5's: some terms not inlined
        old_ix = _write(tmp_path / "old", BulkWriter, key, [docs])
    assert _terms_files(tmp_path / "old") == {b"HSH3"}
    with old_ix.reader() as reader:
        assert isinstance(reader._terms, KvTermsReader)
        assert isinstance(reader._terms._tindex, OrderedHashReader)
        assert {raw[0] for raw in reader._terms._tindex.values()} == {TI_POSTINGS, TI_INLINED}
    assert _contents(old_ix) == _contents(whoosh_ix)
    assert _terms_reads(old_ix) == _terms_reads(whoosh_ix)
    whoosh_ix.close()
    old_ix.close()


def _block_counts(ix: Any) -> list[int]:
    """The number of posting blocks of every term whose postings are not inlined."""
    counts = []
    with ix.reader() as reader:
        terms = reader._terms
        for fieldname, btext in reader.all_terms():
            info = terms.term_info(fieldname, btext)
            if info.is_inlined():
                continue
            offset, length = info.extent()
            raw = terms._postfile.get(offset, length)
            pos, n, last = 4, 0, False  # after the 4-byte tag: signed sizes, last negative
            while not last:
                size = int.from_bytes(raw[pos : pos + 4], "big", signed=True)
                last, pos, n = size < 0, pos + 4 + abs(size), n + 1
            assert pos == length
            counts.append(n)
    return counts


def _stored_offsets(ix: Any) -> tuple[bool, list[int], list[int]]:
    """Of the stored documents' column of an index's one segment: whether its offsets
    were read from the file, the offsets, and the lengths."""
    with ix.reader() as reader:
        column = reader._perdoc._cached_reader("_stored", STORED_COLUMN)._child
        return column.had_stored_offsets, list(column._offsets), list(column._lengths)


def test_stored_offsets_are_written_for_small_segments(tmp_path: Path) -> None:
    """A segment's stored documents come with their offsets (read, not computed, when a
    search opens it), unlike Whoosh's below 32,768 documents; they read back the same."""
    key, docs = _documents(1)
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    bulk_ix = _write(tmp_path / "bulk", BulkWriter, key, [docs])
    assert len(docs) > indexer.STORED_OFFSETS_CUTOFF
    read, offsets, lengths = _stored_offsets(bulk_ix)
    assert read
    assert offsets == list(accumulate(lengths, initial=0))[:-1]
    assert len(offsets) == len(docs)
    assert not _stored_offsets(whoosh_ix)[0]
    assert _contents(bulk_ix)[1] == _contents(whoosh_ix)[1]
    whoosh_ix.close()
    bulk_ix.close()


def test_merged_segments_read_like_whooshs(tmp_path: Path) -> None:
    """Three segments merged into one by BulkWriter (postings from readers) hold what one
    segment written by Whoosh holds."""
    key, docs = _documents(4)
    whoosh_ix = _write(tmp_path / "whoosh", SegmentWriter, key, [docs])
    bulk_ix = _write(tmp_path / "bulk", BulkWriter, key, [docs[:50], docs[50:90], docs[90:]])
    assert len(bulk_ix._segments()) == 3
    writer = BulkWriter(bulk_ix)
    writer.commit(optimize=True)
    bulk_ix = whoosh_index.open_dir(str(tmp_path / "bulk"))
    assert len(bulk_ix._segments()) == 1
    assert _contents(bulk_ix) == _contents(whoosh_ix)


# ---------------------------------------------------------------- the parallel build


@pytest.fixture
def messy_corpus(tmp_path: Path) -> Path:
    """The sample in two folders, with a duplicate number, a broken file and a
    Windows-1252 file."""
    src = tmp_path / "src"
    shutil.copytree(SAMPLE_DIR, src / "a")
    files = sorted((src / "a").glob("*.txt"))
    (src / "b").mkdir()
    for path in files[:12]:
        path.rename(src / "b" / path.name)
    (src / "b" / "broken.txt").write_text("Dit is geen Kamervraag.\n", encoding="utf-8")
    dup = src / "b" / "dup.txt"
    dup.write_bytes(files[-1].read_bytes())
    os.utime(dup, (2_000_000_000, 2_000_000_000))
    text = files[-2].read_text(encoding="utf-8")
    files[-2].write_bytes(text.encode("cp1252", errors="replace"))
    return src


def _build(
    src: Path, index: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch, start: str = ""
) -> Any:
    with monkeypatch.context() as m:
        if start:
            m.setattr(indexer, "START_METHOD", start)
        m.setattr(indexer, "PROCS", 2 if parallel else 1)
        m.setattr(indexer, "PARALLEL_MIN", 1)
        m.setattr(indexer, "SEGMENT_DOCS", 7)
        events: list[Progress] = []
        report = build_index(src, index, progress=events.append)
    return report, events


def _results(index: Path) -> list[list[tuple[float, str]]]:
    out = []
    with Searcher(index) as searcher:
        for text in QUERIES:
            result = searcher.search(text, limit=50)
            out.append(sorted((round(-h.score, 6), h.id) for h in result.hits))
    return out


def test_parallel_build_equals_one_process(
    messy_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, _ = _build(messy_corpus, tmp_path / "one", False, monkeypatch)
    parallel, events = _build(messy_corpus, tmp_path / "two", True, monkeypatch)
    assert parallel.indexed == serial.indexed == 36
    assert parallel.questions == serial.questions
    assert [str(s) for s in parallel.skipped] == [str(s) for s in serial.skipped]
    assert len(parallel.skipped) == 2  # the broken file and the older duplicate
    assert [str(w) for w in parallel.warnings] == [str(w) for w in serial.warnings]
    assert len(parallel.warnings) == 1  # Windows-1252

    def records(index: Path) -> list[tuple[Any, ...]]:
        gen = index / store_generation(index)
        return sorted(
            (r.path, r.digest, r.kv_id, r.status, r.questions, r.asked, r.encoding, r.line)
            for r in (read_records(gen) or {}).values()
        )

    assert records(tmp_path / "two") == records(tmp_path / "one")
    gen = tmp_path / "two" / store_generation(tmp_path / "two")
    ix = whoosh_index.open_dir(str(gen))
    assert len(ix._segments()) >= 4  # 36 documents in tasks of 7 at most, plus duplicates
    with ix.reader() as reader:  # every segment in kvsearch's terms file
        for leaf, _offset in reader.leaf_readers():
            assert isinstance(leaf._terms._tindex, TermsFileReader)
    ix.close()
    assert _results(tmp_path / "two") == _results(tmp_path / "one")
    scans = [e.done for e in events if e.phase == "scan" and e.total]
    parses = [e.done for e in events if e.phase == "parse"]
    assert scans == sorted(scans)
    assert scans[-1] == 38
    assert parses == sorted(parses)
    assert parses[-1] == 37  # every file parsed (38 files; the older duplicate is not)


def store_generation(index: Path) -> str:
    return str(read_manifest(index)["generation"])


def test_parallel_build_verifies_the_document_count(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose writer drops a document fails the build; no index is left."""
    real_add = BulkWriter.add_document
    seen: list[str] = []

    def dropping_add(self, **doc):  # type: ignore[no-untyped-def]
        seen.append(doc["id"])
        if doc["id"] != "2024Z01294":
            real_add(self, **doc)

    monkeypatch.setattr(BulkWriter, "add_document", dropping_add)
    with pytest.raises(IndexIntegrityError, match=r"holds 35 Kamervragen but 36 were parsed"):
        _build(sample_copy, tmp_path / "ix", True, monkeypatch)
    assert not (tmp_path / "ix" / "kvsearch-index.json").exists()


def test_parallel_build_with_spawned_workers(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that start afresh (macOS, Windows) load the lexicon from the index."""
    serial, _ = _build(sample_copy, tmp_path / "one", False, monkeypatch)
    spawned, _ = _build(sample_copy, tmp_path / "two", True, monkeypatch, start="spawn")
    assert spawned.indexed == serial.indexed == 36
    assert _results(tmp_path / "two") == _results(tmp_path / "one")
