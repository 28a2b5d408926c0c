from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from kvsearch.indexer import SAMPLE_DIR, build_index

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample corpus, indexed once per test session. Do not modify it."""
    index_dir = tmp_path_factory.mktemp("sample") / "index"
    build_index(SAMPLE_DIR, index_dir)
    return index_dir


def copy_sample(folder: Path, stems: list[str]) -> Path:
    """``folder``, created, holding the named sample files (a small source folder)."""
    folder.mkdir()
    for stem in stems:
        shutil.copyfile(SAMPLE_DIR / f"{stem}.txt", folder / f"{stem}.txt")
    return folder


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_DIR, target)
    return target


def add_segments(index_dir: Path, parts: list[list[Path]], delete_id: str) -> None:
    """Add each list of files to a built index as a segment of its own, with Whoosh's
    writer and no merge, then delete the Kamervraag ``delete_id``: an index of several
    segments with a deletion, as updates leave one. The manifest records the changed
    generation's files anew."""
    from whoosh import index as whoosh_index  # noqa: TID251 - to make extra segments

    from kvsearch import store
    from kvsearch.parse import parse_file
    from kvsearch.schema import document

    ix = whoosh_index.open_dir(str(store.generation_dir(index_dir, store.read_manifest(index_dir))))
    for part in parts:
        writer = ix.writer()
        for path in part:
            writer.add_document(**document(parse_file(path)))
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("id", delete_id)
    writer.commit(merge=False)
    ix.close()
    manifest = store.read_manifest(index_dir)
    manifest["files"] = store.generation_files(store.generation_dir(index_dir, manifest))
    (index_dir / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def terminfo_stats(info: Any) -> tuple[Any, ...]:
    """A term info's statistics: weight, document frequency, shortest and longest field
    length, highest weight, first and last document."""
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
    )
