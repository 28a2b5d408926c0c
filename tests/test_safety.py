"""Crash safety, concurrent searches, the writer lock, damaged indexes, full disks.

The kill tests run ``kvsearch`` in a subprocess that pauses at a named point of a build
(``KVSEARCH_TEST_PAUSE_AT``, see ``store.pause_point``), SIGKILL it there, and check that
the previous index still serves and that the next run completes the work.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_sample

import kvsearch
from kvsearch import indexer, store
from kvsearch.cli import cli
from kvsearch.errors import IndexCorruptError, IndexWriteError, LockError, NotAnIndexError
from kvsearch.indexer import build_index, update_index
from kvsearch.search import Searcher

SMALL = ["2024Z14717", "2024Z18561", "2024Z18795", "2024Z18888", "2024Z18890", "2024Z18891"]
PACKAGE_ROOT = str(Path(kvsearch.__file__).resolve().parent.parent)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "src", SMALL)


@pytest.fixture
def ix(src: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "ix"
    build_index(src, index_dir)
    return index_dir


def ids(index_dir: Path) -> list[str]:
    with Searcher(index_dir) as s:
        assert s.search("navo").total >= 1
        return sorted(h.id for h in s.search("", limit=1000).hits)


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir())


def change(src: Path) -> list[str]:
    """Add one Kamervraag, change one, remove one; return the ids afterwards."""
    text = (src / "2024Z18888.txt").read_text(encoding="utf-8")
    (src / "new.txt").write_text(text.replace("2024Z18888", "2025Z00001", 1), encoding="utf-8")
    path = src / "2024Z18891.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (src / "2024Z18561.txt").unlink()
    return sorted([*(s for s in SMALL if s != "2024Z18561"), "2025Z00001"])


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


# ---------------------------------------------------------------- killed at any moment


def start_paused(
    index_dir: Path, args: list[str], phase: str, flag: Path, **extra_env: str
) -> subprocess.Popen:
    env = {
        **os.environ,
        **extra_env,
        "PYTHONPATH": PACKAGE_ROOT,
        "KVSEARCH_TEST_PAUSE_AT": phase,
        "KVSEARCH_TEST_PAUSE_FLAG": str(flag),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kvsearch", "--index", str(index_dir), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"kvsearch ended before {phase}: {out!r} {err!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"kvsearch did not reach {phase}")
        time.sleep(0.02)
    return proc


UPDATE_PHASES = ["locked", "linked", "writing", "committed", "verified", "renamed", "published"]
REBUILD_PHASES = ["writing", "renamed", "published"]


@pytest.mark.parametrize(
    ("command", "phase"),
    [("index", p) for p in UPDATE_PHASES] + [("rebuild", p) for p in REBUILD_PHASES],
)
def test_killed_run_leaves_the_index_serving_and_the_next_run_completes(
    src: Path, ix: Path, tmp_path: Path, command: str, phase: str
) -> None:
    before = ids(ix)
    after = change(src)
    flag = tmp_path / "paused"
    proc = start_paused(ix, [command, "-q", str(src)], phase, flag)
    assert int(flag.read_text()) == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    # The index serves: the old one, or the new one once the manifest was switched.
    assert ids(ix) == (after if phase == "published" else before)
    # The lock died with the process: the next run gets it at once and does the work.
    report = update_index(src, ix, wait=0)
    assert ids(ix) == after
    assert report.indexed == len(after)
    assert generations(ix) == [store.read_manifest(ix)["generation"]]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat_line.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("phase", ["workers-hash_files", "workers-write_segment"])
def test_killed_parallel_build_stops_its_workers(
    src: Path, ix: Path, tmp_path: Path, phase: str
) -> None:
    """A rebuild in worker processes killed while they work: the workers end, the index
    serves as before, and the next run completes."""
    before = ids(ix)
    after = change(src)
    flag = tmp_path / "paused"
    proc = start_paused(
        ix, ["rebuild", "-q", str(src)], phase, flag, KVSEARCH_TEST_PARALLEL_MIN="1"
    )
    workers = _children(proc.pid)
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # orphaned workers would hold its output open
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert ids(ix) == before
    update_index(src, ix, wait=0)
    assert ids(ix) == after
    assert generations(ix) == [store.read_manifest(ix)["generation"]]


def test_stale_lock_of_a_killed_writer_is_cleared(src: Path, ix: Path, tmp_path: Path) -> None:
    proc = start_paused(ix, ["index", "-q", str(src)], "locked", tmp_path / "flag")
    assert (ix / store.LOCK).read_text() == f"{proc.pid}\n"
    proc.kill()
    proc.communicate()
    with store.writer_lock(ix, wait=0):
        assert (ix / store.LOCK).read_text() == f"{os.getpid()}\n"


# ---------------------------------------------------------------- concurrent searches


READER = """
import json, sys, time
from pathlib import Path
from kvsearch.search import Searcher

index_dir, stop, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
seen, errors, searches = {}, [], 0
while not stop.exists() or searches < 10:
    if searches == 1:
        ready.touch()
    try:
        with Searcher(index_dir) as s:
            total = s.doc_count()
            navo = {h.id for h in s.search("navo verplichtingen").hits}
            moved = s.search("Oeigoeren").total
            s.get("2024Z18891")
        if total not in (5, 6) or moved != total - 5 or not navo >= {"2024Z18561", "2024Z14717"}:
            errors.append(f"inconsistent: {total} documents, {moved}, {sorted(navo)}")
        seen[total] = seen.get(total, 0) + 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    searches += 1
print(json.dumps({"searches": searches, "seen": seen, "errors": errors[:5]}))
"""


def test_searches_during_updates_and_rebuilds_see_old_or_new(
    src: Path, ix: Path, tmp_path: Path
) -> None:
    """Another process searches in a loop while this one updates and rebuilds 8 times."""
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(ix), str(stop), str(ready)],
        env={**os.environ, "PYTHONPATH": PACKAGE_ROOT},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    moved = src / "2024Z18888.txt"
    parked = src.parent / "parked.txt"
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for i in range(8):
            if i % 2 == 0:
                moved.rename(parked)
            else:
                parked.rename(moved)
            (build_index if i % 4 == 3 else update_index)(src, ix)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["errors"] == []
    assert result["searches"] >= 10
    assert set(result["seen"]) == {"5", "6"}
    print(f"{result['searches']} searches; documents seen: {result['seen']}")
    assert ids(ix) == SMALL
    assert generations(ix) == [store.read_manifest(ix)["generation"]]


# ---------------------------------------------------------------- two writers


def test_second_writer_waits_then_names_the_lock(src: Path, ix: Path) -> None:
    with store.writer_lock(ix, wait=0):
        started = time.monotonic()
        result = invoke("--index", str(ix), "index", "-q", "--wait", "0.3", str(src))
        waited = time.monotonic() - started
    assert result.exit_code == 1
    assert result.output == (
        f"Error: another kvsearch process (pid {os.getpid()}) is writing the index "
        f"(lock {ix / '.lock'}); waited 0.3 s. Try again when it is done, or wait longer "
        "with --wait SECONDS\n"
    )
    assert waited >= 0.3
    with pytest.raises(LockError), store.writer_lock(ix, wait=0):
        build_index(src, ix, wait=0)


def test_second_writer_goes_ahead_when_the_first_is_done(src: Path, ix: Path) -> None:
    release = threading.Event()

    def hold() -> None:
        with store.writer_lock(ix, wait=0):
            release.wait(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    result = invoke("--index", str(ix), "rebuild", "-q", "--wait", "20", str(src))
    holder.join()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 6 Kamervragen")


# ---------------------------------------------------------------- damaged indexes


def live_files(index_dir: Path) -> tuple[Path, list[Path]]:
    gen = store.generation_dir(index_dir, store.read_manifest(index_dir))
    return gen, sorted(gen.glob("*.seg"))


def test_missing_segment_file(src: Path, ix: Path) -> None:
    gen, segments = live_files(ix)
    segments[0].unlink()
    message = (
        f"Error: the index in {ix} is damaged (the file {gen.name}/{segments[0].name} "
        "is missing); run `kvsearch rebuild` to build it again\n"
    )
    for args in (["search", "navo"], ["show", "2024Z18888"], ["status"]):
        result = invoke("--index", str(ix), *args)
        assert (result.exit_code, result.output) == (1, message)
    result = invoke("--index", str(ix), "rebuild", "-q")
    assert result.exit_code == 0
    assert ids(ix) == SMALL


def test_truncated_segment_file_and_repair_by_index(src: Path, ix: Path) -> None:
    gen, segments = live_files(ix)
    size = segments[0].stat().st_size
    os.truncate(segments[0], size // 2)
    result = invoke("--index", str(ix), "search", "navo")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the index in {ix} is damaged (the file {gen.name}/{segments[0].name} has "
        f"{size // 2} bytes instead of {size}); run `kvsearch rebuild` to build it again\n"
    )
    # `kvsearch index` sees the damage too, and rebuilds from scratch.
    result = invoke("--index", str(ix), "index", "-q")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        f"Rebuilt the index from scratch: the index in {ix} is damaged (the file "
        f"{gen.name}/{segments[0].name} has {size // 2} bytes instead of {size})."
    )
    assert ids(ix) == SMALL


def test_damage_found_by_whoosh_itself(ix: Path) -> None:
    """Without the recorded sizes (an index of an older kvsearch) Whoosh's own failure
    is reported the same way."""
    manifest = store.read_manifest(ix)
    del manifest["files"]
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    _gen, segments = live_files(ix)
    os.truncate(segments[0], segments[0].stat().st_size // 2)
    with pytest.raises(IndexCorruptError, match=r"is damaged \(.*\); run `kvsearch rebuild`"):
        Searcher(ix)


def test_lost_manifest(src: Path, ix: Path) -> None:
    (ix / store.MANIFEST).unlink()
    result = invoke("--index", str(ix), "search", "navo")
    assert result.output == (
        f"Error: the index in {ix} has lost its manifest (kvsearch-index.json); "
        "run `kvsearch rebuild SOURCE_DIR` to build it again\n"
    )
    result = invoke("--index", str(ix), "rebuild", "-q")
    assert result.exit_code == 1
    assert "give it" in result.output
    result = invoke("--index", str(ix), "rebuild", "-q", str(src))
    assert result.exit_code == 0, result.output
    assert ids(ix) == SMALL
    assert len(generations(ix)) == 1


def test_unreadable_manifest(src: Path, ix: Path) -> None:
    (ix / store.MANIFEST).write_text("{not json")
    result = invoke("--index", str(ix), "status")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot read the index manifest {ix / store.MANIFEST}")
    assert result.output.endswith("run `kvsearch rebuild SOURCE_DIR` to build the index again\n")
    assert invoke("--index", str(ix), "rebuild", "-q", str(src)).exit_code == 0
    assert ids(ix) == SMALL


def test_foreign_folder_is_never_touched(src: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    (foreign / "gen-2019").mkdir(parents=True)
    (foreign / "gen-2019" / "beach.jpg").write_bytes(b"\xff\xd8")
    (foreign / "notes.txt").write_text("mine")
    before = sorted(str(p) for p in foreign.rglob("*"))
    result = invoke("--index", str(foreign), "search", "navo")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {foreign} is not a kvsearch index (it holds gen-2019, notes.txt); point "
        "--index or KVSEARCH_INDEX at your index folder, or build a new index in an empty "
        "folder: `kvsearch --index NEW_DIR index SOURCE_DIR`\n"
    )
    for args in (["index", "-q", str(src)], ["rebuild", "-q", str(src)]):
        result = invoke("--index", str(foreign), *args)
        assert result.exit_code == 1
        assert result.output == (
            f"Error: {foreign} is not a kvsearch index and is not empty (it holds gen-2019, "
            "notes.txt); kvsearch will not write into it: choose an empty or new folder "
            "with --index\n"
        )
    assert sorted(str(p) for p in foreign.rglob("*")) == before
    with pytest.raises(NotAnIndexError):
        update_index(src, foreign)


def test_index_that_is_a_file(src: Path, tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    result = invoke("--index", str(path), "status")
    assert result.output == (
        f"Error: --index {path} is a file, not a kvsearch index folder; point --index or "
        "KVSEARCH_INDEX at your index folder\n"
    )
    assert invoke("--index", str(path), "index", str(src)).exit_code == 1
    assert path.read_text() == "x"


# ---------------------------------------------------------------- full disk, read-only folder


class FailingWriter:
    """A Whoosh writer whose commit fails as on a full disk."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    def commit(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


@pytest.mark.parametrize("command", ["index", "rebuild"])
def test_disk_full(src: Path, ix: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    before = ids(ix)
    manifest = store.read_manifest(ix)
    change(src)
    real = indexer._open_writer

    def open_failing(tmp, ix_):  # type: ignore[no-untyped-def]
        ix_, writer = real(tmp, ix_)
        return ix_, FailingWriter(writer)

    monkeypatch.setattr(indexer, "_open_writer", open_failing)
    result = invoke("--index", str(ix), command, "-q", str(src))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no space left to write the index in {ix} (No space left on device); the "
        "previous index was left as it was. Free some space and run the command again\n"
    )
    assert store.read_manifest(ix) == manifest
    assert ids(ix) == before
    assert generations(ix) == [manifest["generation"]]


def test_disk_full_while_writing_the_records(
    src: Path, ix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = store.read_manifest(ix)
    change(src)

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_records", full)
    with pytest.raises(IndexWriteError, match=r"^no space left to write the index in "):
        update_index(src, ix)
    assert store.read_manifest(ix) == manifest
    assert generations(ix) == [manifest["generation"]]


def test_read_only_index_folder(src: Path, ix: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = ids(ix)
    change(src)

    def read_only(index_dir: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(index_dir / "tmp-x"))

    monkeypatch.setattr(store, "new_tmp_dir", read_only)
    result = invoke("--index", str(ix), "index", "-q", str(src))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: cannot write to the index folder {ix} (Permission denied); the previous "
        "index was left as it was. Make the folder writable, or choose another with --index\n"
    )
    assert ids(ix) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_index_folder_for_real(src: Path, ix: Path) -> None:
    before = ids(ix)
    change(src)
    ix.chmod(0o555)
    try:
        result = invoke("--index", str(ix), "index", "-q", str(src))
    finally:
        ix.chmod(0o755)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write to the index folder {ix} (")
    assert ids(ix) == before


def test_update_of_an_index_without_recorded_sizes_rebuilds(src: Path, ix: Path) -> None:
    """Without the sizes a truncated segment could go unnoticed: never build on it."""
    manifest = store.read_manifest(ix)
    del manifest["files"]
    (ix / store.MANIFEST).write_text(json.dumps(manifest))
    _gen, segments = live_files(ix)
    os.truncate(segments[0], segments[0].stat().st_size // 2)
    report = update_index(src, ix)
    assert report.full
    assert report.reason.startswith("the index has no record of its source files")
    assert ids(ix) == SMALL
