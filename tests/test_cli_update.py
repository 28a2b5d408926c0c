"""The index, rebuild and status commands on an existing index: exact output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_sample

from kvsearch import store
from kvsearch.analysis import ANALYZER_VERSION
from kvsearch.cli import cli
from kvsearch.indexer import SAMPLE_DIR

SMALL = ["2024Z14717", "2024Z18561", "2024Z18795", "2024Z18888", "2024Z18890", "2024Z18891"]
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+"


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "src", SMALL)


def run(*args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_index_twice_then_update_from_the_stored_source(src: Path, tmp_path: Path) -> None:
    ix = str(tmp_path / "ix")
    first = run("--index", ix, "index", str(src))
    assert first.exit_code == 0
    assert first.stdout.splitlines()[1:] == [f"Index: {ix}"]
    second = run("--index", ix, "index", str(src))
    assert second.exit_code == 0
    assert re.fullmatch(
        rf"Updated the index from {re.escape(str(src))} in \d+\.\d s: 0 added, 0 updated, "
        r"0 removed, 6 unchanged, 0 skipped\.\n"
        rf"Index: {re.escape(ix)} \(6 Kamervragen, 30 questions\)\n",
        second.stdout,
    )
    assert second.stderr == ""  # nothing to parse, nothing to write
    (src / "2024Z18890.txt").unlink()
    third = run("--index", ix, "index")  # no SOURCE_DIR: the stored one
    assert third.exit_code == 0
    assert " 0 added, 0 updated, 1 removed, 5 unchanged, 0 skipped." in third.stdout
    assert third.stderr == "Writing the changes (0 Kamervragen to add or replace)...\n"


def test_index_without_source_and_without_index(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "ix"), "index"])
    assert result.exit_code == 2
    assert result.output.endswith("Error: give either SOURCE_DIR or --sample\n")


def test_index_after_an_analyzer_change_rebuilds_and_says_why(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    manifest = json.loads((ix / store.MANIFEST).read_text())
    manifest["analyzer_version"] = "0"
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    result = run("--index", str(ix), "index", "-q")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Rebuilt the index from scratch: the index was made with analyzer 0, stemmer "
        f"{manifest['stemmer']}, schema {manifest['schema_version']}; this kvsearch uses "
        f"analyzer {ANALYZER_VERSION}, stemmer {manifest['stemmer']}, schema "
        f"{manifest['schema_version']}."
    )
    assert lines[1].startswith(f"Indexed 6 Kamervragen (30 questions) from {src} in ")


def test_rebuild_from_the_stored_source_that_is_gone(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    shutil.rmtree(src)
    result = CliRunner().invoke(cli, ["--index", str(ix), "rebuild"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the index's source folder {src} is gone; give the folder: "
        "`kvsearch index SOURCE_DIR` or `kvsearch rebuild SOURCE_DIR`\n"
    )


def test_status(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    (src / "broken.txt").write_text("Kamervraag 2024Z00001\n", encoding="utf-8")
    run("--index", str(ix), "index", "-q")
    result = run("--index", str(ix), "status")
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        f"Index:       {ix}",
        f"Source:      {src}",
        "Kamervragen: 6 (30 questions)",
        "Asked:       2024-10-01 to 2024-11-20",
        "Skipped:     1 file (listed by `kvsearch index`)",
    ]
    assert re.fullmatch(rf"Built:       {TIME}", lines[5])
    assert re.fullmatch(rf"Updated:     {TIME}", lines[6])
    assert lines[7] == f"Analyzer:    version {ANALYZER_VERSION}, stemmer dutch_porter"
    assert re.fullmatch(r"Size:        \d+\.\d MB", lines[8])
    assert len(lines) == 9


def test_status_check(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    result = run("--index", str(ix), "status", "--check")
    assert result.stdout.splitlines()[-1] == (
        "Changes:     none, the index is up to date (6 files)"
    )
    (src / "2024Z18890.txt").unlink()
    shutil.copyfile(SAMPLE_DIR / "2024Z01294.txt", src / "2024Z01294.txt")
    (src / "loop.txt").symlink_to(src / "loop.txt")
    result = run("--index", str(ix), "status", "--check")
    assert result.stdout.splitlines()[-1] == (
        "Changes:     1 new, 0 changed, 1 removed (5 unchanged); run `kvsearch index` to "
        "update; 1 unreadable"
    )
    data = json.loads(run("--index", str(ix), "status", "--check", "--json").stdout)
    assert data["changes"] == {
        "new": 1,
        "changed": 0,
        "removed": 1,
        "unchanged": 5,
        "unreadable": 1,
    }
    assert data["documents"] == data["documents_in_index"] == 6
    assert {"source", "built", "updated", "asked_from", "asked_to", "size_bytes"} <= set(data)


def test_status_check_without_the_source(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    shutil.rmtree(src)
    result = CliRunner().invoke(cli, ["--index", str(ix), "status", "--check"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the index's source folder {src} is gone; give the folder: "
        "`kvsearch index SOURCE_DIR`\n"
    )


def test_status_of_an_index_made_by_another_analyzer(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("--index", str(ix), "index", "-q", str(src))
    manifest = json.loads((ix / store.MANIFEST).read_text())
    manifest["analyzer_version"] = "0"
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    lines = run("--index", str(ix), "status").stdout.splitlines()
    assert lines[2] == "Kamervragen: 6 (30 questions)"
    assert lines[7] == (
        "Analyzer:    version 0, stemmer dutch_porter "
        "(made by another kvsearch: run `kvsearch rebuild`)"
    )
