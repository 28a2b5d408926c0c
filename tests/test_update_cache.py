"""What keeps an update of a large index cheap: the file records (read and written once
per update), the stems cached with each generation, and the garbage collector paused
during the bookkeeping. None of it may change what the index holds."""

from __future__ import annotations

import gc
import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import copy_sample

from kvsearch import analysis, indexer, store
from kvsearch.analysis import Lexicon
from kvsearch.errors import SourceError
from kvsearch.indexer import SAMPLE_DIR, STEMS_FILE, build_index, update_index
from kvsearch.schema import LEXICON_FILE
from kvsearch.search import Searcher
from kvsearch.store import FileRecord

SMALL = ["2024Z14717", "2024Z18561", "2024Z18795", "2024Z18888", "2024Z18890"]
NEW_WORDS = "Zwaluwstaartvlinders en klaprozenvelden werden ongekend fotogeniek."


@pytest.fixture(autouse=True)
def fresh_stems() -> None:
    """Each test starts like a new process: no stems cached from other tests."""
    analysis._STEM_CACHE.clear()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "src", SMALL)


def gen_dir(ix: Path) -> Path:
    return store.generation_dir(ix, store.read_manifest(ix))


def stored_stems(ix: Path) -> dict[str, str]:
    with gzip.open(gen_dir(ix) / STEMS_FILE, "rt", encoding="utf-8") as f:
        data = json.load(f)
    assert data["analyzer_version"] == analysis.ANALYZER_VERSION
    assert data["stemmer"] == analysis.STEMMER
    return data["stems"]


def add_words(path: Path, words: str = NEW_WORDS) -> None:
    """Append ``words`` to the last answer of the file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    last = max(i for i, line in enumerate(lines) if line.startswith("  ") and line.strip())
    lines[last] += " " + words
    path.write_text("\n".join(lines), encoding="utf-8")


def hits(ix: Path, query: str) -> list[str]:
    with Searcher(ix) as s:
        return sorted(h.id for h in s.search(query, limit=100).hits)


# ---------------------------------------------------------------- file records


def test_records_round_trip(tmp_path: Path) -> None:
    records = [
        FileRecord("a.txt", 10, 1, 2, 3, "d1", "2024Z00001", "indexed", 4, 20240101),
        FileRecord("sub/b.txt", 11, 5, 6, 7, "d2", "", "failed", line=3, reason="bad", racy=True),
    ]
    store.write_records(tmp_path, records)
    back = store.read_records(tmp_path)
    assert back == {r.path: r for r in records}
    assert all(type(r) is FileRecord for r in back.values())  # type: ignore[union-attr]
    assert back["sub/b.txt"].signature == (11, 5, 6, 7)  # type: ignore[index]


@pytest.mark.parametrize(
    "damage",
    [
        lambda rows: rows[0].pop(),  # a field missing
        lambda rows: rows.append(list(rows[0])),  # a path twice
        lambda rows: rows.__setitem__(0, "a.txt"),  # not a row
    ],
)
def test_damaged_records_are_not_used(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    store.write_records(tmp_path, [FileRecord("a.txt", 10, 1, 2, 3, "d1", "2024Z00001", "indexed")])
    path = tmp_path / store.RECORDS
    data = json.loads(gzip.decompress(path.read_bytes()))
    damage(data["files"])
    path.write_text(json.dumps(data))
    assert store.read_records(tmp_path) is None


def test_records_are_gzipped_and_plain_records_still_read(tmp_path: Path) -> None:
    records = [
        FileRecord(f"{n}.txt", 10 + n, 1, 2, 3, f"d{n}", f"2024Z0000{n}", "indexed")
        for n in range(5)
    ]
    store.write_records(tmp_path, records)
    path = tmp_path / store.RECORDS
    packed = path.read_bytes()
    plain = gzip.decompress(packed)
    assert len(packed) < len(plain)
    assert dict(store.read_records(tmp_path) or {}) == {r.path: r for r in records}
    path.write_bytes(plain)  # the records file of an index written before
    assert dict(store.read_records(tmp_path) or {}) == {r.path: r for r in records}
    path.write_bytes(packed[: len(packed) // 2])  # damaged
    assert store.read_records(tmp_path) is None


# ---------------------------------------------------------------- stems


def test_full_build_stores_the_stem_of_every_lexicon_word(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    lexicon = Lexicon.load(gen_dir(ix) / LEXICON_FILE)
    stems = stored_stems(ix)
    assert set(lexicon.words) <= set(stems)
    assert all(stems[w] == analysis._stem(w) for w in lexicon.words)
    assert STEMS_FILE in store.read_manifest(ix)["files"]  # its size is checked too


def test_update_stems_only_words_the_index_has_not_seen(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    analysis._STEM_CACHE.clear()  # as in a new process
    stemmed: list[str] = []
    real = analysis._stem
    monkeypatch.setattr(analysis, "_stem", lambda w: stemmed.append(w) or real(w))
    # Words of the other files, and so of the index.
    other = (src / "2024Z18890.txt").read_text(encoding="utf-8").split("\n", 3)[2]
    add_words(src / "2024Z18888.txt", other)
    report = update_index(src, ix)
    assert (report.updated, report.full) == (1, False)
    assert stemmed == []
    add_words(src / "2024Z18890.txt")  # words it has not
    update_index(src, ix)
    assert "zwaluwstaartvlinder" in stemmed or "zwaluwstaartvlinders" in stemmed
    assert hits(ix, "zwaluwstaartvlinders") == ["2024Z18890"]


def test_update_rewrites_the_stems_beside_the_live_generation(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    old = gen_dir(ix) / STEMS_FILE
    old_bytes, old_inode = old.read_bytes(), old.stat().st_ino
    keep = tmp_path / "stems-of-the-first-generation"
    os.link(old, keep)  # outlives the generation
    add_words(src / "2024Z18888.txt")
    update_index(src, ix)  # a few new words: the live file is linked, not rewritten
    assert (gen_dir(ix) / STEMS_FILE).stat().st_ino == old_inode
    monkeypatch.setattr(indexer, "_STEMS_REWRITE", 0)
    # Many words the index has not seen (2% of its stems, at least _STEMS_REWRITE).
    many = [f"pimpelmees{a}{b}" for a in "abcdefgh" for b in "klmnoprstv"]
    add_words(src / "2024Z18890.txt", " ".join(many))
    update_index(src, ix)
    new = gen_dir(ix) / STEMS_FILE
    assert new.stat().st_ino != old_inode
    assert set(many) <= set(stored_stems(ix))
    # The file the earlier generations shared was never written into.
    assert keep.read_bytes() == old_bytes


def test_index_without_stems_gets_them_on_its_next_update(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    manifest = store.read_manifest(ix)
    (gen_dir(ix) / STEMS_FILE).unlink()
    del manifest["files"][STEMS_FILE]
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    update_index(src, ix)  # nothing changed: nothing written
    assert not (gen_dir(ix) / STEMS_FILE).exists()
    add_words(src / "2024Z18888.txt")
    report = update_index(src, ix)
    assert not report.full
    lexicon = Lexicon.load(gen_dir(ix) / LEXICON_FILE)
    assert set(lexicon.words) <= set(stored_stems(ix))


def test_unreadable_stems_are_computed_again(src: Path, tmp_path: Path) -> None:
    """A stems file that cannot be read (same size, so the index looks intact) is a cache
    miss, not an error; the next generation gets a good one."""
    ix = tmp_path / "ix"
    build_index(src, ix)
    path = gen_dir(ix) / STEMS_FILE
    size = path.stat().st_size
    path.unlink()  # a new inode: the damage stays in this generation
    path.write_bytes(b"\0" * size)
    assert analysis.load_stems(path) == 0
    add_words(src / "2024Z18888.txt")
    report = update_index(src, ix)
    assert not report.full
    assert hits(ix, "zwaluwstaartvlinders") == ["2024Z18888"]
    assert len(stored_stems(ix)) > 100


def test_stems_of_another_analyzer_are_ignored(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / STEMS_FILE
    analysis.save_stems(path, {"huizen": "wrong"})
    monkeypatch.setattr(analysis, "ANALYZER_VERSION", "999")
    analysis._STEM_CACHE.clear()
    assert analysis.load_stems(path) == 0
    assert analysis.stem("huizen") == analysis._stem("huizen") != "wrong"


# ---------------------------------------------------------------- garbage collector


def test_collector_is_left_as_it_was(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    assert gc.isenabled()
    build_index(src, ix)
    add_words(src / "2024Z18888.txt")
    update_index(src, ix)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    for path in src.iterdir():
        path.unlink()
    with pytest.raises(SourceError):
        update_index(src, ix)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


# ---------------------------------------------------------------- records as a delta


def test_update_writes_only_the_records_that_changed(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    first = gen_dir(ix) / store.RECORDS
    inode = first.stat().st_ino
    add_words(src / "2024Z18888.txt")
    shutil.copyfile(SAMPLE_DIR / "2024Z18891.txt", src / "2024Z18891.txt")
    (src / "2024Z14717.txt").unlink()
    report = update_index(src, ix)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    gen = gen_dir(ix)
    assert (gen / store.RECORDS).stat().st_ino == inode  # shared with the first generation
    delta = json.loads((gen / store.RECORDS_DELTA).read_text())
    assert sorted(row[0] for row in delta["files"]) == ["2024Z18888.txt", "2024Z18891.txt"]
    assert delta["removed"] == ["2024Z14717.txt"]
    records = store.read_records(gen)
    assert records is not None
    assert sorted(records) == sorted(p.name for p in src.iterdir())
    assert records["2024Z18888.txt"].digest == indexer._digest(
        (src / "2024Z18888.txt").read_bytes()
    )
    # The next update's delta is again taken from the full file: it holds both changes.
    add_words(src / "2024Z18890.txt")
    update_index(src, ix)
    gen = gen_dir(ix)
    assert (gen / store.RECORDS).stat().st_ino == inode
    delta = json.loads((gen / store.RECORDS_DELTA).read_text())
    assert sorted(row[0] for row in delta["files"]) == [
        "2024Z18888.txt",
        "2024Z18890.txt",
        "2024Z18891.txt",
    ]
    assert hits(ix, "zwaluwstaartvlinders") == ["2024Z18888", "2024Z18890"]


def test_many_changed_records_are_written_in_full(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    inode = (gen_dir(ix) / store.RECORDS).stat().st_ino
    add_words(src / "2024Z18888.txt")
    update_index(src, ix)
    assert (gen_dir(ix) / store.RECORDS_DELTA).exists()
    monkeypatch.setattr(store, "DELTA_MIN", 0)
    monkeypatch.setattr(store, "DELTA_SHARE", 0.0)
    add_words(src / "2024Z18890.txt")
    update_index(src, ix)
    gen = gen_dir(ix)
    assert (gen / store.RECORDS).stat().st_ino != inode
    assert not (gen / store.RECORDS_DELTA).exists()
    records = store.read_records(gen)
    assert records is not None
    assert records.base == records
    assert sorted(records) == sorted(p.name for p in src.iterdir())


def test_delta_of_another_records_file_is_refused(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    add_words(src / "2024Z18888.txt")
    update_index(src, ix)
    gen = gen_dir(ix)
    delta_path = gen / store.RECORDS_DELTA
    good = delta_path.read_text()
    assert store.read_records(gen) is not None
    for damaged in (
        good.replace('"base_size":', '"base_size":1'),
        good.replace('"removed":[]', '"removed":["nowhere.txt"]'),
        good[:-1],
    ):
        delta_path.write_text(damaged)
        assert store.read_records(gen) is None
    # The index knows its records are damaged (the file's size changed) and rebuilds.
    report = update_index(src, ix)
    assert report.full
    assert "damaged" in report.reason


def test_collector_disabled_by_the_caller_stays_disabled(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    gc.disable()
    try:
        build_index(src, ix)
        add_words(src / "2024Z18888.txt")
        update_index(src, ix)
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
