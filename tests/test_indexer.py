"""Building an index: counts, skipped files, atomic swap, refusal of foreign folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kvsearch import indexer, store
from kvsearch.errors import IndexIntegrityError, NotAnIndexError, SourceError
from kvsearch.indexer import SAMPLE_DIR, build_index
from kvsearch.search import Searcher

SAMPLE_FILES = 36
SAMPLE_QUESTIONS = 416


def test_sample_corpus_is_complete() -> None:
    assert len(indexer.find_files(SAMPLE_DIR)) == SAMPLE_FILES


def test_build_counts_documents_and_questions(sample_index: Path) -> None:
    manifest = store.read_manifest(sample_index)
    assert manifest["documents"] == SAMPLE_FILES
    assert manifest["questions"] == SAMPLE_QUESTIONS
    assert manifest["source"] == str(SAMPLE_DIR)
    with Searcher(sample_index) as s:
        assert s.doc_count() == SAMPLE_FILES


def test_nested_folders_and_bad_files(sample_copy: Path, tmp_path: Path) -> None:
    nested = sample_copy / "2024" / "november"
    nested.mkdir(parents=True)
    (sample_copy / "2024Z18892.txt").rename(nested / "2024Z18892.txt")
    (sample_copy / "notes.txt").write_text("Dit is geen Kamervraag.\n", encoding="utf-8")
    (sample_copy / "empty.txt").write_bytes(b"")
    (sample_copy / "README.md").write_text("not a .txt file, ignored", encoding="utf-8")
    progress: list[indexer.Progress] = []
    report = build_index(sample_copy, tmp_path / "ix", progress=progress.append)
    assert report.indexed == SAMPLE_FILES
    assert sorted((Path(s.path).name, s.line) for s in report.skipped) == [
        ("empty.txt", 1),
        ("notes.txt", 1),
    ]
    assert [str(s) for s in report.skipped if s.path.endswith("notes.txt")] == [
        f"{sample_copy / 'notes.txt'}:1: "
        'expected "Kamervraag <number>" on the first line, found "Dit is geen Kamervraag."'
    ]
    parse_events = [e for e in progress if e.phase == "parse"]
    assert len(parse_events) == SAMPLE_FILES + 2
    assert parse_events[-1].done == parse_events[-1].total == SAMPLE_FILES + 2
    assert progress[-1].phase == "commit"


def test_duplicate_numbers_keep_the_newer_file(sample_copy: Path, tmp_path: Path) -> None:
    original = sample_copy / "2024Z01294.txt"
    copy = sample_copy / "sub" / "copy-of-2024Z01294.txt"
    copy.parent.mkdir()
    copy.write_text(
        original.read_text(encoding="utf-8").replace("Bijeenkomsten met", "Nieuwe titel:"),
        encoding="utf-8",
    )
    os.utime(original, (1_000_000, 1_000_000))
    report = build_index(sample_copy, tmp_path / "ix")
    assert report.indexed == SAMPLE_FILES
    assert [str(s) for s in report.skipped] == [
        f"{original}:1: duplicate of Kamervraag 2024Z01294; {copy} is newer and was indexed"
    ]
    with Searcher(tmp_path / "ix") as s:
        assert s.get("2024Z01294").title.startswith("Nieuwe titel:")


def test_rebuild_swaps_generations_and_cleans_up(sample_copy: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index(sample_copy, ix)
    first = store.read_manifest(ix)["generation"]
    (sample_copy / "2024Z18892.txt").unlink()
    report = build_index(sample_copy, ix)
    second = store.read_manifest(ix)["generation"]
    assert report.indexed == SAMPLE_FILES - 1
    assert first != second
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith(("gen-", "tmp-"))) == [second]


def test_failed_build_leaves_the_old_index(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    build_index(sample_copy, ix)
    before = store.read_manifest(ix)

    def lose_one(tmp: Path, expected: int) -> None:
        raise IndexIntegrityError(f"simulated: {expected - 1} of {expected}")

    monkeypatch.setattr(indexer, "_verify", lose_one)
    with pytest.raises(IndexIntegrityError):
        build_index(sample_copy, ix)
    assert store.read_manifest(ix) == before
    assert not [p for p in ix.iterdir() if p.name.startswith("tmp-")]
    with Searcher(ix) as s:
        assert s.search("ambtenaren").total > 0


def test_document_count_is_verified(
    sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that silently drops a document makes the build fail loudly."""
    real_add = indexer.BulkWriter.add_document
    calls = []

    def dropping_add(self, **doc):  # type: ignore[no-untyped-def]
        calls.append(doc["id"])
        if len(calls) != 5:  # drop one silently, as Whoosh-Reloaded's known bugs can
            real_add(self, **doc)

    monkeypatch.setattr(indexer.BulkWriter, "add_document", dropping_add)
    with pytest.raises(IndexIntegrityError, match=r"holds 35 Kamervragen but 36 were parsed"):
        build_index(sample_copy, tmp_path / "ix")
    assert not store.is_index(tmp_path / "ix")


def test_refuses_a_foreign_folder(sample_copy: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(NotAnIndexError, match=r"is not a kvsearch index and is not empty"):
        build_index(sample_copy, foreign)
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]


def test_empty_folder_with_gitignore_is_a_fine_target(sample_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "index"
    target.mkdir()
    (target / ".gitignore").write_text("*\n!.gitignore\n")
    build_index(sample_copy, target)
    assert (target / ".gitignore").exists()
    assert store.is_index(target)


def test_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"does not exist or is not a folder"):
        build_index(tmp_path / "missing", tmp_path / "ix")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"no \.txt files found"):
        build_index(tmp_path / "empty", tmp_path / "ix")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.txt").write_text("nope\n")
    with pytest.raises(SourceError, match=r"none of the 1 files .* could be indexed"):
        build_index(tmp_path / "bad", tmp_path / "ix")
    assert not store.is_index(tmp_path / "ix")


def test_manifest_records_versions(sample_index: Path) -> None:
    data = json.loads((sample_index / store.MANIFEST).read_text())
    assert {"analyzer_version", "stemmer", "schema_version", "generation"} <= set(data)
