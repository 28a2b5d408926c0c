"""Incremental updates: added, changed, removed, unchanged and duplicate files; status."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kvsearch import indexer, store
from kvsearch.errors import SourceError
from kvsearch.indexer import SAMPLE_DIR, build_index, index_status, update_index
from kvsearch.search import Searcher

SMALL = ["2024Z14717", "2024Z18561", "2024Z18795", "2024Z18888", "2024Z18890", "2024Z18891"]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """Six small sample Kamervragen, one of them in a subfolder."""
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    for i, stem in enumerate(SMALL):
        target = folder / ("sub" if i == 0 else "") / f"{stem}.txt"
        shutil.copyfile(SAMPLE_DIR / f"{stem}.txt", target)
    return folder


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the indexer parses, in order."""
    calls: list[str] = []
    real = indexer.parse_text

    def spy(text: str, path: str = "<text>"):  # type: ignore[no-untyped-def]
        calls.append(Path(path).name)
        return real(text, path)

    monkeypatch.setattr(indexer, "parse_text", spy)
    return calls


def ids(index_dir: Path) -> list[str]:
    with Searcher(index_dir) as s:
        return sorted(h.id for h in s.search("", limit=1000).hits)


def title(index_dir: Path, kv_id: str) -> str:
    with Searcher(index_dir) as s:
        return s.get(kv_id).title


def renumber(path: Path, new_id: str, target: Path | None = None) -> Path:
    """Write ``path`` with another Kamervraag number to ``target`` (default: in place)."""
    text = path.read_text(encoding="utf-8")
    _first, rest = text.split("\n", 1)
    target = target or path
    target.write_text(f"Kamervraag {new_id}\n{rest}", encoding="utf-8")
    return target


def retitle(path: Path, new_title: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = new_title
    path.write_text("\n".join(lines), encoding="utf-8")


def test_first_update_is_a_full_build(src: Path, tmp_path: Path) -> None:
    report = update_index(src, tmp_path / "ix")
    assert report.full
    assert report.reason == ""
    assert (report.indexed, report.added, report.skipped) == (6, 6, [])
    assert ids(tmp_path / "ix") == SMALL


def test_added_changed_removed_and_unchanged(src: Path, tmp_path: Path, parsed: list[str]) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    parsed.clear()
    renumber(src / "2024Z18888.txt", "2025Z00001", src / "new.txt")  # added
    retitle(src / "2024Z18891.txt", "Een nieuwe titel over escortbureaus")  # changed
    (src / "2024Z18561.txt").unlink()  # removed
    (src / "sub" / "2024Z14717.txt").rename(src / "2024Z14717.txt")  # moved: remove + add
    report = update_index(src, ix)
    assert not report.full
    assert (report.added, report.updated, report.removed, report.unchanged) == (2, 1, 2, 3)
    assert report.skipped == []
    assert report.indexed == 6
    assert sorted(parsed) == ["2024Z14717.txt", "2024Z18891.txt", "new.txt"]
    assert ids(ix) == [*(s for s in SMALL if s != "2024Z18561"), "2025Z00001"]
    assert title(ix, "2024Z18891") == "Een nieuwe titel over escortbureaus"
    with Searcher(ix) as s:
        assert [h.id for h in s.search("escortbureaus").hits] == ["2024Z18891"]
        assert s.search("NAVO-verplichtingen").total == 0
        assert s.doc_count() == 6
    manifest = store.read_manifest(ix)
    assert manifest["documents"] == 6
    assert manifest["last_run"] == {
        "full": False,
        "added": 2,
        "updated": 1,
        "removed": 2,
        "unchanged": 3,
        "skipped": 0,
    }
    # Exactly one generation, no leftovers.
    assert sorted(p.name for p in ix.iterdir() if p.is_dir()) == [manifest["generation"]]


def test_nothing_changed_keeps_the_generation(src: Path, tmp_path: Path, parsed: list[str]) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    before = store.read_manifest(ix)
    parsed.clear()
    report = update_index(src, ix)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 6)
    assert not report.published
    assert parsed == []
    assert store.read_manifest(ix) == before


def test_touched_file_is_hashed_not_reindexed(src: Path, tmp_path: Path, parsed: list[str]) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    parsed.clear()
    os.utime(src / "2024Z18888.txt", (2_000_000_000, 2_000_000_000))
    report = update_index(src, ix)
    assert (report.updated, report.unchanged) == (0, 6)
    assert parsed == []


def test_edit_that_keeps_size_and_mtime_is_seen(src: Path, tmp_path: Path) -> None:
    """Content hash, not only mtime: a same-size edit with the old mtime put back."""
    ix = tmp_path / "ix"
    path = src / "2024Z18888.txt"
    os.utime(path, (1_500_000_000, 1_500_000_000))
    build_index(src, ix)
    st = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Oeigoeren", b"Oejgoeren", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    report = update_index(src, ix)
    assert (report.updated, report.unchanged) == (1, 5)
    assert title(ix, "2024Z18888") == "De situatie van Oejgoeren in Thailand"


def test_update_from_the_stored_source(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    (src / "2024Z18890.txt").unlink()
    report = update_index(None, ix)
    assert report.source == str(src)
    assert (report.removed, report.indexed) == (1, 5)


def test_stored_source_gone(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    shutil.rmtree(src)
    with pytest.raises(SourceError) as info:
        update_index(None, ix)
    assert str(info.value) == (
        f"the index's source folder {src} is gone; give the folder: "
        "`kvsearch index SOURCE_DIR` or `kvsearch rebuild SOURCE_DIR`"
    )


def test_emptied_folder_is_refused_and_the_index_kept(src: Path, tmp_path: Path) -> None:
    """An unmounted or emptied folder must not wipe the index."""
    ix = tmp_path / "ix"
    build_index(src, ix)
    for path in src.rglob("*.txt"):
        path.unlink()
    with pytest.raises(SourceError, match=r"^no \.txt files found in "):
        update_index(src, ix)
    assert ids(ix) == SMALL


def test_number_changed_in_a_file(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    renumber(src / "2024Z18888.txt", "2024Z99999")
    report = update_index(src, ix)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert "2024Z18888" not in ids(ix)
    assert "2024Z99999" in ids(ix)


def test_file_that_breaks_and_is_fixed(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    path = src / "2024Z18888.txt"
    good = path.read_bytes()
    path.write_bytes(good.replace(b"Ingediend", b"Ingedient", 1))
    report = update_index(src, ix)
    assert (report.removed, report.indexed) == (1, 5)
    assert [(s.path, s.line) for s in report.skipped] == [(str(path), 5)]
    # Unchanged and still broken: reported again, not parsed again.
    report = update_index(src, ix)
    assert [str(s) for s in report.skipped] == [
        f'{path}:5: unexpected line before the first "Vraag": "Ingedient 20 november 2024"'
    ]
    assert report.unchanged == 5
    path.write_bytes(good)
    report = update_index(src, ix)
    assert (report.added, report.indexed, report.skipped) == (1, 6, [])


# ---------------------------------------------------------------- duplicates


def test_duplicate_added_later_wins_and_the_older_is_reported(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    original = src / "2024Z18888.txt"
    os.utime(original, (1_600_000_000, 1_600_000_000))
    build_index(src, ix)
    copy = src / "sub" / "oeigoeren-v2.txt"
    shutil.copyfile(original, copy)
    retitle(copy, "De situatie van Oeigoeren in Thailand (herzien)")
    report = update_index(src, ix)
    assert [str(s) for s in report.skipped] == [
        f"{original}:1: duplicate of Kamervraag 2024Z18888; {copy} is newer and was indexed"
    ]
    assert (report.added, report.removed, report.indexed) == (1, 1, 6)
    assert title(ix, "2024Z18888").endswith("(herzien)")
    # Next update: nothing changed, the duplicate is still reported.
    report = update_index(src, ix)
    assert [s.path for s in report.skipped] == [str(original)]
    assert report.unchanged == 6
    assert not report.published
    # The newer file goes away: the older one is indexed again.
    copy.unlink()
    report = update_index(src, ix)
    assert (report.added, report.removed, report.skipped) == (1, 1, [])
    assert title(ix, "2024Z18888") == "De situatie van Oeigoeren in Thailand"


def test_duplicate_that_does_not_parse_leaves_the_older(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    original = src / "2024Z18888.txt"
    os.utime(original, (1_600_000_000, 1_600_000_000))
    build_index(src, ix)
    broken = src / "broken-copy.txt"
    broken.write_text("Kamervraag 2024Z18888\n\nEen titel\n", encoding="utf-8")
    report = update_index(src, ix)
    assert [s.path for s in report.skipped] == [str(broken)]
    assert "missing" in report.skipped[0].reason
    assert (report.unchanged, report.indexed) == (6, 6)
    assert title(ix, "2024Z18888") == "De situatie van Oeigoeren in Thailand"


def test_duplicates_in_a_full_build_and_in_an_update_agree(src: Path, tmp_path: Path) -> None:
    a, b = src / "2024Z18888.txt", src / "sub" / "later.txt"
    shutil.copyfile(a, b)
    os.utime(a, (1_600_000_000, 1_600_000_000))
    full = build_index(src, tmp_path / "full")
    build_index(src, tmp_path / "upd")
    upd = update_index(src, tmp_path / "upd")
    message = f"{a}:1: duplicate of Kamervraag 2024Z18888; {b} is newer and was indexed"
    assert [str(s) for s in full.skipped] == [str(s) for s in upd.skipped] == [message]


# ---------------------------------------------------------------- fallbacks to a full build


def test_other_analyzer_version_means_a_full_build(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    path = ix / store.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["analyzer_version"] = "0"
    path.write_text(json.dumps(manifest))
    report = update_index(src, ix)
    assert report.full
    assert report.reason.startswith("the index was made with analyzer 0, stemmer ")
    assert ids(ix) == SMALL


def test_index_without_file_records_means_a_full_build(src: Path, tmp_path: Path) -> None:
    """An index made before records existed (or with records lost)."""
    ix = tmp_path / "ix"
    build_index(src, ix)
    manifest = store.read_manifest(ix)
    (store.generation_dir(ix, manifest) / store.RECORDS).unlink()
    del manifest["files"][store.RECORDS]
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    report = update_index(src, ix)
    assert report.full
    assert report.reason.startswith("the index has no record of its source files")
    assert store.read_records(store.generation_dir(ix, store.read_manifest(ix))) is not None


def test_failed_files_are_retried_by_another_kvsearch_version(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    (src / "odd.txt").write_text("Kamervraag 2024Z00001\n", encoding="utf-8")
    build_index(src, ix)
    monkeypatch.setattr(indexer, "__version__", "99.0")
    called: list[str] = []
    real = indexer.parse_text
    monkeypatch.setattr(
        indexer, "parse_text", lambda t, p: called.append(Path(p).name) or real(t, p)
    )
    update_index(src, ix)
    assert called == ["odd.txt"]


# ---------------------------------------------------------------- status


def test_status_and_check(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(src, ix)
    status = index_status(ix)
    assert (status.documents, status.source, status.changes) == (6, str(src), None)
    assert (status.asked_from, status.asked_to) == ("2024-10-01", "2024-11-20")
    assert status.built == status.updated
    assert status.size_bytes > 0
    assert index_status(ix, check=True).changes == indexer.SourceChanges(unchanged=6)
    os.utime(src / "2024Z18888.txt", (2_000_000_000, 2_000_000_000))  # touched only
    (src / "2024Z18890.txt").unlink()
    retitle(src / "2024Z18891.txt", "Anders")
    shutil.copyfile(src / "2024Z18795.txt", src / "sub" / "copy.txt")
    changes = index_status(ix, check=True).changes
    assert changes == indexer.SourceChanges(new=1, changed=1, removed=1, unchanged=4)
    update_index(src, ix)
    after = index_status(ix, check=True)
    assert after.changes == indexer.SourceChanges(unchanged=6)
    assert after.built == status.built
    assert after.updated is not None
    assert after.updated >= status.updated
