"""The on-disk layout of an index folder: manifest, generations and the writer lock.

An index folder holds::

    kvsearch-index.json   the manifest: which generation is live, and its metadata
    gen-<stamp>/          one complete Whoosh index per generation
    tmp-<stamp>/          a build in progress (removed when found stale)
    .lock                 the writers' lock (flock; released by the kernel if a writer dies)

A build writes a new generation beside the live one and switches the manifest with an
atomic rename, so readers always see a complete index, old or new, and a build that is
interrupted at any point leaves the previous index serving. No Whoosh here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kvsearch.errors import IndexCorruptError, IndexNotFoundError, LockError, NotAnIndexError

MANIFEST = "kvsearch-index.json"
LOCK = ".lock"
FORMAT = 1
#: Files a fresh, empty index folder may already hold (the repo's index/ has a .gitignore).
_HARMLESS = {".gitignore", ".gitkeep", LOCK, ".DS_Store"}


def manifest_path(index_dir: Path) -> Path:
    return index_dir / MANIFEST


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of an existing index; a clear error when there is none."""
    path = manifest_path(index_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if index_dir.is_dir() and any(index_dir.glob("gen-*")):
            raise IndexCorruptError(
                f"the index in {index_dir} has lost its manifest ({MANIFEST}); "
                "run `kvsearch rebuild SOURCE_DIR` to build it again"
            ) from None
        raise IndexNotFoundError(
            f"no index in {index_dir}; build one with `kvsearch index SOURCE_DIR` "
            "(or `kvsearch index --sample` for the bundled sample), "
            "or point --index / KVSEARCH_INDEX at an existing index"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"cannot read the index manifest {path} ({exc}); run `kvsearch rebuild`"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "generation" not in data:
        raise IndexCorruptError(
            f"{path} is not a kvsearch {FORMAT} manifest; run `kvsearch rebuild`"
        )
    return data


def generation_dir(index_dir: Path, manifest: dict[str, Any]) -> Path:
    return index_dir / str(manifest["generation"])


def is_index(index_dir: Path) -> bool:
    return manifest_path(index_dir).is_file()


def check_target(index_dir: Path) -> None:
    """Refuse to write into a folder that is neither empty nor a kvsearch index."""
    if index_dir.exists() and not index_dir.is_dir():
        raise NotAnIndexError(f"--index {index_dir} is a file, not a folder; choose a folder")
    if not index_dir.is_dir() or is_index(index_dir):
        return
    foreign = [p.name for p in index_dir.iterdir() if p.name not in _HARMLESS]
    if foreign:
        raise NotAnIndexError(
            f"{index_dir} is not a kvsearch index and is not empty "
            f"(it holds {', '.join(sorted(foreign)[:3])}{', ...' if len(foreign) > 3 else ''}); "
            "kvsearch will not write into it: choose an empty or new folder with --index"
        )


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to ``wait`` seconds for another writer.

    The lock is an ``flock`` on ``.lock``: the kernel releases it when its holder exits
    or is killed, so a crashed writer never leaves a stale lock behind.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
    """Turn a finished build into the live generation, atomically; return the manifest."""
    gen = "gen-" + tmp_dir.name.removeprefix("tmp-")
    os.rename(tmp_dir, index_dir / gen)
    data = {"format": FORMAT, **manifest, "generation": gen}
    tmp_manifest = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    with open(tmp_manifest, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp_manifest, manifest_path(index_dir))
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
        stale_gen = name.startswith("gen-") and name != keep
        if (stale_gen or name.startswith("tmp-")) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(f".{MANIFEST}.") and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total
