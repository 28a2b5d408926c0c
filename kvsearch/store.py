"""The on-disk layout of an index folder: manifest, generations and the writer lock.

An index folder holds::

    kvsearch-index.json   the manifest: which generation is live, its metadata, and the
                          size of every file of that generation (to detect damage)
    gen-<stamp>/          one complete Whoosh index per generation, plus
      kvsearch-files.json   (gzip) the source files it was built from (path, size, times, hash,
                            Kamervraag number): what an incremental update compares against
      kvsearch-files-delta.json  after an update: the records that differ from
                            kvsearch-files.json (then a hard link to the previous one's)
    tmp-<stamp>/          a build in progress (removed when found stale)
    .lock                 the writers' lock (flock; released by the kernel if a writer dies)

A build writes a new generation beside the live one and switches the manifest with an
atomic rename, so readers always see a complete index, old or new, and a build that is
interrupted at any point leaves the previous index serving. An update starts its new
generation as hard links to the live one's files: Whoosh never rewrites a file, it only
adds new ones (segments, a new table of contents), so the live generation stays as it was.
No Whoosh here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from kvsearch.errors import (
    IndexCorruptError,
    IndexNotFoundError,
    IndexWriteError,
    LockError,
    NotAnIndexError,
)

MANIFEST = "kvsearch-index.json"
RECORDS = "kvsearch-files.json"
RECORDS_DELTA = "kvsearch-files-delta.json"
#: The records of an update are written as a delta from the full records file while
#: they differ from it in at most DELTA_MIN rows, or this share of them.
DELTA_MIN = 1000
DELTA_SHARE = 0.1
LOCK = ".lock"
FORMAT = 1
#: Files a fresh, empty index folder may already hold (the repo's index/ has a .gitignore).
_HARMLESS = {".gitignore", ".gitkeep", LOCK, ".DS_Store"}
#: What kvsearch itself creates in an index folder.
_OURS_RE = re.compile(
    r"(?:gen|tmp)-\d{8}T\d{6}-[0-9a-f]{8}|" + re.escape(f".{MANIFEST}.") + r"\d+\.tmp"
)
#: Whoosh's write lock file: never shared between generations.
_WHOOSH_LOCK_SUFFIX = "_WRITELOCK"


def manifest_path(index_dir: Path) -> Path:
    return index_dir / MANIFEST


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of an existing index; a clear error when there is none."""
    path = manifest_path(index_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        ours, foreign = _contents(index_dir)
        if any(name.startswith("gen-") for name in ours):
            raise IndexCorruptError(
                f"the index in {index_dir} has lost its manifest ({MANIFEST}); "
                "run `kvsearch rebuild SOURCE_DIR` to build it again"
            ) from None
        if foreign:
            raise NotAnIndexError(
                f"{index_dir} is not a kvsearch index (it holds {_names(foreign)}); point "
                "--index or KVSEARCH_INDEX at your index folder, or build a new index in an "
                "empty folder: `kvsearch --index NEW_DIR index SOURCE_DIR`"
            ) from None
        raise IndexNotFoundError(
            f"no index in {index_dir}; build one with `kvsearch index SOURCE_DIR` "
            "(or `kvsearch index --sample` for the bundled sample), "
            "or point --index / KVSEARCH_INDEX at an existing index"
        ) from None
    except NotADirectoryError:
        raise NotAnIndexError(
            f"--index {index_dir} is a file, not a kvsearch index folder; point --index or "
            "KVSEARCH_INDEX at your index folder"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"cannot read the index manifest {path} ({exc}); "
            "run `kvsearch rebuild SOURCE_DIR` to build the index again"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "generation" not in data:
        raise IndexCorruptError(
            f"{path} is not a kvsearch {FORMAT} manifest; "
            "run `kvsearch rebuild SOURCE_DIR` to build the index again"
        )
    return data


def generation_dir(index_dir: Path, manifest: dict[str, Any]) -> Path:
    return index_dir / str(manifest["generation"])


def is_index(index_dir: Path) -> bool:
    return manifest_path(index_dir).is_file()


def _contents(index_dir: Path) -> tuple[list[str], list[str]]:
    """The names in ``index_dir``: (made by kvsearch, anything else); harmless ones left out."""
    try:
        names = [p.name for p in index_dir.iterdir()]
    except OSError:
        return [], []
    ours = [n for n in names if n == MANIFEST or _OURS_RE.fullmatch(n)]
    foreign = [n for n in names if n not in _HARMLESS and n not in ours]
    return sorted(ours), sorted(foreign)


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def check_target(index_dir: Path) -> None:
    """Refuse to write into a folder that is neither empty nor a kvsearch index.

    A folder holding only what kvsearch makes (a damaged index that lost its manifest,
    say) is fine: ``kvsearch rebuild`` repairs it.
    """
    if index_dir.exists() and not index_dir.is_dir():
        raise NotAnIndexError(f"--index {index_dir} is a file, not a folder; choose a folder")
    if not index_dir.is_dir() or is_index(index_dir):
        return
    _ours, foreign = _contents(index_dir)
    if foreign:
        raise NotAnIndexError(
            f"{index_dir} is not a kvsearch index and is not empty "
            f"(it holds {_names(foreign)}); "
            "kvsearch will not write into it: choose an empty or new folder with --index"
        )


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to ``wait`` seconds for another writer.

    The lock is an ``flock`` on ``.lock``: the kernel releases it when its holder exits
    or is killed, so a crashed writer never leaves a stale lock behind.
    """
    path = index_dir / LOCK
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexWriteError(write_error_message(index_dir, exc)) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    raise LockError(
                        f"another kvsearch process{holder} is writing the index "
                        f"(lock {path}); waited {wait:g} s. Try again when it is done, "
                        "or wait longer with --wait SECONDS"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def new_stamp() -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{now}-{uuid.uuid4().hex[:8]}"


def new_tmp_dir(index_dir: Path) -> Path:
    path = index_dir / f"tmp-{new_stamp()}"
    path.mkdir(parents=True)
    return path


def publish(index_dir: Path, tmp_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Turn a finished build into the live generation, atomically; return the manifest.

    The files of the new generation are flushed to disk first, and their sizes recorded
    in the manifest, so that a damaged generation is recognised (:func:`check_generation`).
    """
    files = generation_files(tmp_dir)
    fsync_tree(tmp_dir)
    gen = "gen-" + tmp_dir.name.removeprefix("tmp-")
    os.rename(tmp_dir, index_dir / gen)
    pause_point("renamed")
    data = {"format": FORMAT, **manifest, "generation": gen, "files": files}
    tmp_manifest = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        with open(tmp_manifest, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_manifest, manifest_path(index_dir))
    except BaseException:
        _shutil().rmtree(index_dir / gen, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp_manifest.unlink()
        raise
    _fsync_dir(index_dir)
    return data


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale(index_dir: Path, keep: str | None) -> None:
    """Remove generations other than ``keep`` and leftovers of interrupted builds.

    Call only while holding the writer lock. Readers that still have an old generation
    open keep reading it: open files outlive their directory entries.
    """
    for path in index_dir.iterdir():
        name = path.name
        if not _OURS_RE.fullmatch(name):
            continue
        if name.startswith("gen-") and keep is None:
            continue  # the live generation is unknown: keep them all until one is published
        if name.startswith(("gen-", "tmp-")):
            if name != keep and path.is_dir():
                _shutil().rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


# ---------------------------------------------------------------- generations


def generation_files(gen_dir: Path) -> dict[str, int]:
    """The files of a generation and their sizes (Whoosh's write lock left out)."""
    out = {}
    for entry in sorted(os.scandir(gen_dir), key=lambda e: e.name):
        if entry.is_file(follow_symlinks=False) and not entry.name.endswith(_WHOOSH_LOCK_SUFFIX):
            out[entry.name] = entry.stat().st_size
    return out


def check_generation(index_dir: Path, manifest: dict[str, Any]) -> None:
    """Raise :class:`IndexCorruptError` when a file of the live generation is missing or has
    another size than when it was written. Cheap: one ``stat`` per file."""
    gen = generation_dir(index_dir, manifest)
    expected = manifest.get("files")
    problem = ""
    if not gen.is_dir():
        problem = f"its folder {gen.name} is missing"
    elif isinstance(expected, dict):
        for name, size in expected.items():
            try:
                actual = os.stat(gen / name).st_size
            except OSError:
                problem = f"the file {gen.name}/{name} is missing"
                break
            if actual != size:
                problem = f"the file {gen.name}/{name} has {actual} bytes instead of {size}"
                break
    if problem:
        raise IndexCorruptError(
            f"the index in {index_dir} is damaged ({problem}); "
            "run `kvsearch rebuild` to build it again"
        )


def link_generation(src: Path, dst: Path) -> None:
    """Give ``dst`` the files of generation ``src``: hard links, or copies where the file
    system has none. Whoosh never writes into an existing file, so both stay independent."""
    for entry in os.scandir(src):
        if not entry.is_file(follow_symlinks=False) or entry.name.endswith(_WHOOSH_LOCK_SUFFIX):
            continue
        if entry.name == RECORDS_DELTA:
            continue  # written anew (see write_records)
        target = dst / entry.name
        try:
            os.link(entry.path, target)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
                raise
            _shutil().copy2(entry.path, target)


def fsync_tree(path: Path) -> None:
    """Flush every file below ``path``, and the folders, to disk."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


# ---------------------------------------------------------------- file records


class FileRecord(NamedTuple):
    """What a generation knows about one source file.

    ``status`` is "indexed" (its Kamervraag is in the index), "duplicate" (another file
    with the same number is newer) or "failed" (it did not parse: ``line``, ``reason``).
    ``racy``: the file was modified moments before it was read, so its times cannot
    vouch for its content: the next update hashes it again.

    A named tuple, not a dataclass: an update reads and writes one per source file
    (90,000 and more), and a tuple is made and serialised several times faster.
    """

    path: str  # relative to the source folder, with "/"
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str
    kv_id: str
    status: str
    questions: int = 0
    asked: int = 0  # YYYYMMDD
    line: int = 0
    reason: str = ""
    encoding: str = "utf-8"
    racy: bool = False

    @property
    def signature(self) -> tuple[int, int, int, int]:
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode)


_RECORD_FIELDS = list(FileRecord._fields)


class Records(dict[str, FileRecord]):
    """A generation's file records by path, as :func:`read_records` gives them; ``base``
    holds the records of its full records file (before its delta was applied), and
    ``base_size`` that file's size in bytes."""

    base: dict[str, FileRecord] | None = None
    base_size: int = -1


def write_records(
    gen_dir: Path, records: list[FileRecord], previous: Records | None = None
) -> None:
    """Write the records of a generation (JSON: the field names and one row per file).

    ``previous``: the records of the generation that ``gen_dir`` was linked from (see
    :func:`link_generation`), whose full records file it shares. While the records
    differ from that file in at most :data:`DELTA_MIN` rows (or :data:`DELTA_SHARE` of
    them), only the difference is written (:data:`RECORDS_DELTA`): an update of a few
    files in 90,000 then writes a few hundred rows, not 15 MB. Otherwise, and without
    ``previous``, the full file is written (as a new file renamed into place: the shared
    file is never written into).
    """
    full = gen_dir / RECORDS
    base = previous.base if previous is not None else None
    if base is not None and _size(full) == previous.base_size:  # type: ignore[union-attr]
        paths = {r.path for r in records}
        changed = [r for r in records if base.get(r.path) != r]
        removed = [path for path in base if path not in paths]
        if len(changed) + len(removed) <= max(DELTA_MIN, int(len(records) * DELTA_SHARE)):
            delta = {
                "format": FORMAT,
                "fields": _RECORD_FIELDS,
                "base_size": previous.base_size,  # type: ignore[union-attr]
                "files": changed,
                "removed": removed,
            }
            _write_json(gen_dir / RECORDS_DELTA, delta)
            return
    _write_json(full, {"format": FORMAT, "fields": _RECORD_FIELDS, "files": records}, gzip=True)
    with contextlib.suppress(FileNotFoundError):
        (gen_dir / RECORDS_DELTA).unlink()


#: gzip level of the full records file: a quarter of the JSON's bytes at 90,000 files
#: (15 MB), as fast to read back (level 6: 10% smaller, three times the time).
RECORDS_LEVEL = 1
_GZIP_MAGIC = b"\x1f\x8b"


def _write_json(path: Path, data: dict[str, Any], *, gzip: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(tmp, "wb") as f:
        f.write(_gzip().compress(text, RECORDS_LEVEL, mtime=0) if gzip else text)
    os.replace(tmp, path)


def _read_json(f: Any) -> Any:
    """The JSON of an open records file, gzip-compressed (the full file since schema 4)
    or not (a delta, and the full file before)."""
    data = f.read()
    if data[:2] == _GZIP_MAGIC:
        data = _gzip().decompress(data)
    return json.loads(data)


def _shutil() -> Any:
    """``shutil``, imported when a command writes (a search does not need it)."""
    import shutil

    return shutil


def _gzip() -> Any:
    """``gzip``, imported when the records file is read or written."""
    import gzip

    return gzip


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def read_records(gen_dir: Path) -> Records | None:
    """The file records of a generation by path (its full records file with its delta
    applied); None when it has none or they are damaged."""
    try:
        with open(gen_dir / RECORDS, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            base = _rows(_read_json(f))
        if base is None:
            return None
        records = Records(base)
        records.base, records.base_size = base, size
        try:
            with open(gen_dir / RECORDS_DELTA, "rb") as f:
                delta = _read_json(f)
        except FileNotFoundError:
            return records
        changed = _rows(delta)
        removed = delta["removed"]
        if changed is None or delta["base_size"] != size or not isinstance(removed, list):
            return None
        for path in removed:
            del records[path]  # KeyError: not a delta of this file
        records.update(changed)
    except (OSError, EOFError, zlib.error, ValueError, TypeError, KeyError, AttributeError):
        return None
    return records


def _rows(data: dict[str, Any]) -> dict[str, FileRecord] | None:
    """The records of a records file (or delta) by path; None when it is not one."""
    if data.get("format") != FORMAT or data.get("fields") != _RECORD_FIELDS:
        return None
    rows = data["files"]
    if rows and set(map(len, rows)) != {len(_RECORD_FIELDS)}:
        return None
    # tuple.__new__ through map: no Python call per record (90,000 and more).
    made = map(tuple.__new__, repeat(FileRecord), rows)
    records = dict(zip(map(itemgetter(0), rows), made, strict=True))
    if len(records) != len(rows):
        return None  # a path twice: not written by kvsearch
    return records


# ---------------------------------------------------------------- errors and test hooks


def write_error_message(index_dir: Path, exc: OSError) -> str:
    """What to tell the user when writing the index folder fails."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"no space left to write the index in {index_dir} ({reason}); the previous index "
            "was left as it was. Free some space and run the command again"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"cannot write to the index folder {index_dir} ({reason}); the previous index was "
            "left as it was. Make the folder writable, or choose another with --index"
        )
    where = f": {exc.filename}" if exc.filename else ""
    return (
        f"cannot write the index in {index_dir} ({reason}{where}); the previous index was "
        "left as it was. Run the command again when the problem is fixed"
    )


def pause_point(phase: str) -> None:
    """Test hook for the crash tests: when ``KVSEARCH_TEST_PAUSE_AT`` names this phase,
    create the file named by ``KVSEARCH_TEST_PAUSE_FLAG`` and sleep, so that a test can
    kill the process exactly here."""
    if os.environ.get("KVSEARCH_TEST_PAUSE_AT") != phase:
        return
    flag = os.environ.get("KVSEARCH_TEST_PAUSE_FLAG")
    if flag:
        tmp = Path(f"{flag}.{os.getpid()}.tmp")
        tmp.write_text(f"{os.getpid()}\n", encoding="utf-8")
        os.replace(tmp, flag)  # the flag appears complete
    time.sleep(float(os.environ.get("KVSEARCH_TEST_PAUSE_SECONDS", "60")))
