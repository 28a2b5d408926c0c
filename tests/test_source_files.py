"""Files that cannot be indexed are reported and skipped; the rest is indexed.

Windows-1252 files are read, with a warning.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_sample

from kvsearch import indexer
from kvsearch.cli import cli
from kvsearch.indexer import build_index, update_index
from kvsearch.search import Searcher

SMALL = ["2024Z14717", "2024Z18561", "2024Z18795", "2024Z18888", "2024Z18890", "2024Z18891"]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "src", SMALL)


def kamervraag(nr: str, title: str) -> str:
    return (
        f"Kamervraag {nr}\n\n{title}\n\nIngediend 2 december 2024\n"
        "Indiener Daniëlle Jansen (CDA)\n • Vraag 1\n  Wat vindt u van café’s en reünies?\n"
    )


def reasons(report: indexer.BuildReport) -> dict[str, str]:
    return {Path(s.path).name: f"{s.line}: {s.reason}" for s in report.skipped}


def test_windows_1252_is_read_and_said(src: Path, tmp_path: Path) -> None:
    path = src / "oud.txt"
    path.write_bytes(kamervraag("2024Z90001", "Reünie in het café").encode("cp1252"))
    report = build_index(src, tmp_path / "ix")
    assert report.skipped == []
    assert [str(w) for w in report.warnings] == [
        f"{path}: read as Windows-1252, not UTF-8 (save it as UTF-8)"
    ]
    with Searcher(tmp_path / "ix") as s:
        kv = s.get("2024Z90001")
        assert kv.title == "Reünie in het café"
        assert kv.submitters[0].name == "Daniëlle Jansen"
        assert kv.questions[0].question == "Wat vindt u van café’s en reünies?"
        assert [h.id for h in s.search("reunie").hits] == ["2024Z90001"]


def test_unreadable_files_are_skipped_and_the_rest_indexed(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = kamervraag("2024Z90002", "Een titel met één woord")
    (src / "damaged-utf8.txt").write_bytes(good.encode().replace(b"Een titel", b"Een tit\xe9l"))
    (src / "utf16.txt").write_bytes(good.encode("utf-16"))
    (src / "shift-jis.txt").write_bytes(
        "Kamervraag 2024Z90003\n\n日本語のタイトル\n\nIngediend 2 december 2024\n"
        "Indiener Jansen (CDA)\nVraag 1\n  質問\n".encode("shift_jis")
    )
    with open(src / "huge.txt", "wb") as f:  # 50 MB, sparse
        f.write(good.encode())
        f.truncate(50 * 1024 * 1024)
    (src / "loop-a.txt").symlink_to(src / "loop-b.txt")
    (src / "loop-b.txt").symlink_to(src / "loop-a.txt")
    (src / "dangling.txt").symlink_to(src / "nowhere.txt")
    (src / "sub").mkdir()
    (src / "sub" / "up").symlink_to(src)  # a folder loop: not followed
    os.mkfifo(src / "pipe.txt")
    (src / "secret.txt").write_text(kamervraag("2024Z90004", "Geheim"), encoding="utf-8")
    real_read = indexer._read

    def read(path: str) -> bytes:
        if Path(path).name == "secret.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(indexer, "_read", read)
    report = build_index(src, tmp_path / "ix")
    assert report.indexed == len(SMALL)
    assert reasons(report) == {
        "damaged-utf8.txt": "3: not UTF-8 text (invalid byte 0xe9 at line 3); save the file "
        "as UTF-8",
        "utf16.txt": "1: UTF-16 text, expected UTF-8; save the file as UTF-8",
        "shift-jis.txt": "3: not UTF-8 text (invalid byte 0x93 at line 3); save the file as UTF-8",
        "huge.txt": "0: too large for a Kamervraag file (52.4 MB; the limit is 10 MB)",
        "loop-a.txt": "0: cannot read the file (a symbolic link loop)",
        "loop-b.txt": "0: cannot read the file (a symbolic link loop)",
        "dangling.txt": "0: cannot read the file (it vanished, or is a broken symbolic link)",
        "pipe.txt": "0: not a regular file",
        "secret.txt": "0: cannot read the file (Permission denied)",
    }
    # An update reports them again, and indexes what became readable.
    monkeypatch.setattr(indexer, "_read", real_read)
    report = update_index(src, tmp_path / "ix")
    assert (report.added, report.unchanged) == (1, len(SMALL))
    assert "secret.txt" not in reasons(report)
    assert len(report.skipped) == 8


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_permission_denied_for_real(src: Path, tmp_path: Path) -> None:
    secret = src / "secret.txt"
    secret.write_text(kamervraag("2024Z90004", "Geheim"), encoding="utf-8")
    secret.chmod(0)
    report = build_index(src, tmp_path / "ix")
    assert reasons(report) == {"secret.txt": "0: cannot read the file (Permission denied)"}


def test_cli_lists_skipped_files_and_warnings(src: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    CliRunner().invoke(cli, ["--index", str(ix), "index", "-q", str(src)])
    (src / "oud.txt").write_bytes(kamervraag("2024Z90001", "Reünie").encode("cp1252"))
    (src / "loop.txt").symlink_to(src / "loop.txt")
    (src / "2024Z18890.txt").unlink()
    result = CliRunner().invoke(cli, ["--index", str(ix), "index", "-q", str(src)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert re.fullmatch(
        rf"Updated the index from {re.escape(str(src))} in \d+\.\d s: 1 added, 0 updated, "
        r"1 removed, 5 unchanged, 1 skipped\.",
        lines[0],
    )
    assert lines[1:] == [
        f"Index: {ix} (6 Kamervragen, 29 questions)",
        "Skipped 1 file:",
        f"  {src / 'loop.txt'}: cannot read the file (a symbolic link loop)",
        "Warnings (1):",
        f"  {src / 'oud.txt'}: read as Windows-1252, not UTF-8 (save it as UTF-8)",
    ]
