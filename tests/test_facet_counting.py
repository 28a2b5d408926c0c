"""Facet counting by value references and by bitmasks (kvsearch.search._FacetTable) gives
what the reference path gives: :func:`facet_counts` of :meth:`Searcher._counts`, which
expands the joined value lists per query."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage  # noqa: TID251 - a column's file format

import kvsearch.search
from kvsearch.schema import FacetColumn
from kvsearch.search import FACETS, Searcher, facet_counts

SEP = b"\x1f"


def reference(s: Searcher, docs: list[int], limit: int) -> dict[str, list[tuple[str, int]]]:
    columns = {"days" if n == "answer-time" else n for n in FACETS}
    return facet_counts({c: s._counts(c, docs) for c in columns}, FACETS, limit)


def subsets(size: int, segments: list[tuple[int, int]]) -> list[list[int]]:
    """Empty, one document, all, one segment only, more than half of each segment (the
    complement path), and random sets of several sizes."""
    rng = random.Random(7)
    out: list[list[int]] = [[], [0], [size - 1], list(range(size))]
    for offset, end in segments:
        out.append(list(range(offset, end)))
        out.append([d for d in range(size) if d % 5 or not offset <= d < end])
    for k in (2, size // 3, size // 2 + 1, size - 2):
        out.append(sorted(rng.sample(range(size), max(0, min(k, size)))))
    return out


@pytest.fixture(scope="module", params=["sample", "facets"])
def searcher(
    request: pytest.FixtureRequest, sample_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Searcher:
    if request.param == "sample":
        index_dir = sample_index
    else:
        from kvsearch.indexer import build_index

        index_dir = tmp_path_factory.mktemp("facet-counting") / "index"
        build_index(Path(__file__).parent / "fixtures" / "facets", index_dir)
    with Searcher(index_dir) as s:
        yield s  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["refs", "masks"])
def test_facets_agree_with_the_reference(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    if mode == "masks":  # every column by bitmask, from the first query on
        monkeypatch.setattr(kvsearch.search, "_MASK_COST", 10**9)
        monkeypatch.setattr(kvsearch.search, "_MASK_AFTER", 0)
    else:
        monkeypatch.setattr(kvsearch.search, "_MASK_COST", 0)
    size = searcher._s.doc_count_all()
    segments = [(o, o + r.doc_count_all()) for r, o in searcher._s.reader().leaf_readers()]
    for docs in subsets(size, segments):
        for limit in (5, 10, 1000):
            want = reference(searcher, docs, limit)
            assert searcher._facets(docs, FACETS, limit) == want
            assert searcher._facets(set(docs), FACETS, limit) == want  # as best() gives them
        # Below five answer-time buckets a tie may be cut either way; the rest is exact.
        got, want = searcher._facets(docs, FACETS, 2), reference(searcher, docs, 2)
        assert sorted(n for _b, n in got.pop("answer-time")) == sorted(
            n for _b, n in want.pop("answer-time")
        )
        assert got == want


def test_masks_wait_for_the_second_query(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-query process (the command line) never builds bitmasks."""
    monkeypatch.setattr(kvsearch.search, "_MASK_COST", 10**9)
    monkeypatch.setattr(kvsearch.search, "_MASK_AFTER", 2)
    with Searcher(sample_index) as s:
        docs = list(range(0, s._s.doc_count_all(), 2))
        first = s._facets(docs, ["year"], 10)
        assert not s._facet_table("year").has_masks
        assert s._facets(docs, ["year"], 10) == first
        assert first["year"] == reference(s, docs, 10)["year"]
        assert s._facet_table("year").has_masks
        # The others: one column's bitmasks per query, the rest counted by reference.
        tables = ["days" if n == "answer-time" else n for n in FACETS]
        for built in range(2, len(tables) + 1):
            assert s._facets(docs, FACETS, 10) == reference(s, docs, 10)
            assert sum(s._facet_table(t).has_masks for t in tables) == built


def column(tmp_path: Path, name: str, values: list[bytes]) -> object:
    storage = FileStorage(str(tmp_path))
    out = storage.create_file(name)
    writer = FacetColumn().writer(out)
    for docnum, value in enumerate(values):
        writer.add(docnum, value)
    writer.finish(len(values))
    length = out.tell()
    out.close()
    return FacetColumn().reader(storage.open_file(name), 0, length, len(values))


def expanded(values: list[bytes], docs: list[int]) -> Counter[bytes]:
    """What the reference counts: every part of each joined list, repeats included."""
    out: Counter[bytes] = Counter()
    for d in docs:
        if values[d]:
            out.update(values[d].split(SEP))
    return out


@pytest.mark.parametrize("distinct", [5, 400])  # one-byte and two-byte references
def test_repeated_and_empty_values_count_as_the_reference_does(
    tmp_path: Path, distinct: int
) -> None:
    """Hand-made columns in two segments: a value twice (or three times) in one document's
    list counts twice (three times), an empty part counts as the value b"", an empty list
    counts nothing; by reference and by bitmask alike."""
    rng = random.Random(distinct)
    pool = [b"v%d" % i for i in range(distinct)] + [b"V0", b""]
    segments = []
    all_values: list[bytes] = []
    offset = 0
    for seg, n in enumerate((37, 61)):
        values = []
        for d in range(n):
            k = rng.choice([0, 1, 1, 2, 3])
            parts = [rng.choice(pool) for _ in range(k)]
            if d % 9 == 0 and parts:
                parts.append(parts[0])  # repeated
            values.append(SEP.join(parts))
        reader = column(tmp_path, f"col{seg}", values)
        segments.append((offset, offset + n, reader))
        all_values += values
        offset += n
    size = offset
    table = kvsearch.search._FacetTable("minister", segments, split=True)
    for docs in subsets(size, [(o, e) for o, e, _r in segments]):
        want = expanded(all_values, docs)
        parts = {}
        for o, e, _r in segments:
            local = [d - o for d in docs if o <= d < e]
            rest = (
                [d for d in range(e - o) if d not in set(local)] if 2 * len(local) > e - o else None
            )
            parts[o] = (local, rest)
        by_refs = table.ref_counts(parts)
        bits = kvsearch.search._doc_bits(docs, size)
        by_masks = table.mask_counts(bits)
        assert by_refs == by_masks
        for limit in (1, 2, 5):  # only the groups that can be among the limit largest
            pruned = table.mask_counts(bits, limit)
            assert table.top("minister", pruned, limit) == table.top("minister", by_refs, limit)
        assert {table.values[v]: n for v, n in by_refs.items()} == want
        top = table.top("minister", by_refs, 1000)
        assert (
            top
            == facet_counts({"minister": Counter(all_values[d] for d in docs)}, ["minister"], 1000)[
                "minister"
            ]
        )


def test_doc_bits() -> None:
    docs = [0, 1, 7, 8, 9, 63, 64, 99]
    bits = kvsearch.search._doc_bits(docs, 100)
    assert [d for d in range(100) if bits >> d & 1] == docs
    assert kvsearch.search._doc_bits([], 10) == 0


def test_doc_flags() -> None:
    flags = bytearray(100)
    docs = [0, 3, 8, 64, 99]
    for d in docs:
        flags[d] = 1
    found = kvsearch.search._DocFlags(flags)
    assert len(found) == 5
    assert list(found) == sorted(found) == docs
    assert 64 in found
    assert 65 not in found
    assert 100 not in found
    assert "3" not in found
    assert found.bits() == kvsearch.search._doc_bits(docs, 100)
    assert len(kvsearch.search._DocFlags(bytearray(10))) == 0
