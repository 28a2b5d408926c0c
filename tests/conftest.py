from __future__ import annotations

import os
import shutil
from pathlib import Path

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
