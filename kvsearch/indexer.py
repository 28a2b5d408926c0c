"""Build, update and inspect an index of a folder of Kamervragen text files.

Every run writes a new generation of the index and switches the manifest over only when
that generation holds exactly the documents it should (see :mod:`kvsearch.store`):

- :func:`build_index` builds from scratch (``kvsearch rebuild``, and the first
  ``kvsearch index``).
- :func:`update_index` brings an existing index up to date with its folder (``kvsearch
  index``): the new generation starts as hard links to the live one, Kamervragen of new
  and changed files are added, those of changed and vanished files deleted, and unchanged
  files are neither read nor parsed. It falls back to a full build, and says why, when
  the index was made by another analyzer or schema, or is damaged.
- :func:`index_status` reports what the index holds, and with ``check`` whether the
  source folder changed since.

The corpus lexicon (word frequencies and names, see :class:`kvsearch.analysis.Lexicon`)
is counted during a full build, while the files are read for hashing, and stored in the
generation. An update analyses new documents with the live generation's lexicon, so the
index and the queries keep using one lexicon; ``kvsearch rebuild`` counts it afresh.

Change detection: every generation keeps a record per source file (size, modification
and change times, inode, BLAKE2 hash of the content). A file whose size and times are
unchanged is taken as unchanged without reading it (like git: rewriting a file, or setting
its mtime back, changes its ctime); any other file is hashed, and only a different hash
makes it "changed". A touched file is therefore not re-indexed, and an edit is always seen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gc
import hashlib
import io
import multiprocessing
import os
import pickle
import re
import shutil
import stat
import struct
import sys
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from hashlib import md5
from itertools import accumulate, chain
from operator import itemgetter, methodcaller, sub
from pathlib import Path
from queue import Empty
from typing import Any

import kvsearch.analysis  # noqa: F401 - before Whoosh: it imports Whoosh lean

# isort: split
from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC
from whoosh.columns import WrappedColumnWriter
from whoosh.compat import dumps
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.writing import SegmentWriter

from kvsearch import __version__, store
from kvsearch.analysis import (
    Lexicon,
    add_stems,
    is_registered,
    known_stems,
    load_stems,
    register,
    save_stems,
    stemmed_count,
    stems_of,
)
from kvsearch.errors import (
    IndexCorruptError,
    IndexIntegrityError,
    IndexWriteError,
    KvsearchError,
    NotAnIndexError,
    ParseError,
    SourceError,
)
from kvsearch.parse import decode_bytes, parse_text
from kvsearch.schema import (
    LEXICON_FILE,
    VALUES_BYTES,
    VALUES_FREQUENCY,
    VALUES_NONE,
    CompactPositions,
    KvCodec,
    date_number,
    document,
    encode_terminfo,
    make_schema,
    version_record,
)
from kvsearch.store import FileRecord
from kvsearch.termsfile import TermsFileWriter

#: The stems of the corpus's words, in each generation folder (a cache for updates).
STEMS_FILE = "stems.json.gz"

#: An update writes a new STEMS_FILE (instead of linking the live one) when it stemmed at
#: least this many words (or 2%) more than the file holds.
_STEMS_REWRITE = 1000

#: The bundled sample corpus: 36 real Kamervragen of 2024.
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"

#: Larger files are skipped unread: real Kamervragen files are a few kilobytes (the
#: longest known, with its answers, under 200 kB).
MAX_FILE_BYTES = 10_000_000

INDEXED, DUPLICATE, FAILED = "indexed", "duplicate", "failed"

#: A file modified less than this long before it was read is hashed again next time.
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Progress:
    """A progress report: ``phase`` is "scan", "parse", "commit" (a full build writes
    ``done`` Kamervragen) or "update" (an update writes ``done`` Kamervragen)."""

    phase: str
    done: int
    total: int
    path: str = ""


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.reason}"
            if self.line
            else f"{self.path}: {self.reason}"
        )


@dataclass(frozen=True)
class FileWarning:
    """A file that was indexed, with something the user should know about it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class BuildReport:
    """What a build or update did. ``indexed`` and ``questions`` count what the index
    holds afterwards; ``added`` ... ``unchanged`` count files (a full build adds all)."""

    source: str
    index_dir: str
    indexed: int = 0
    questions: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    seconds: float = 0.0
    full: bool = True
    reason: str = ""  # why an update was done as a full build
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    published: bool = True  # False when nothing changed and the generation was kept


ProgressCallback = Callable[[Progress], None]


def _no_progress(_event: Progress) -> None:
    return None


def find_files(source: Path) -> list[Path]:
    """Every ``*.txt`` below ``source``, sorted; symlinked folders are not followed."""
    return [Path(p) for p in _find(source)]


def _find(source: Path) -> list[str]:
    """:func:`find_files` as strings (pathlib is slow for 100,000 files)."""
    found: list[str] = []
    for root, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(".txt") and not name.startswith("."):
                found.append(os.path.join(root, name))
    return found


# ---------------------------------------------------------------- entry points


def build_index(
    source: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    wait: float = 30.0,
) -> BuildReport:
    """Index every Kamervraag below ``source`` from scratch into a new generation.

    Files that cannot be read or parsed are reported in ``BuildReport.skipped`` and left
    out. Raises :class:`SourceError` when nothing could be indexed,
    :class:`IndexIntegrityError` when the index does not hold every parsed document, and
    :class:`IndexWriteError` when the index folder cannot be written; in every case the
    index that was there is left as it was.
    """
    return _run(source, index_dir, full=True, progress=progress, wait=wait)


def update_index(
    source: str | os.PathLike[str] | None,
    index_dir: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    wait: float = 30.0,
) -> BuildReport:
    """Bring the index up to date with ``source`` (None: the source stored in the index).

    Without a usable index this is a full build; ``BuildReport.reason`` says why when
    there was an index. Raises like :func:`build_index`.
    """
    if source is None:
        source = stored_source(index_dir)
    return _run(source, index_dir, full=False, progress=progress, wait=wait)


def stored_source(index_dir: str | os.PathLike[str]) -> Path:
    """The source folder an index was built from."""
    target = Path(index_dir).expanduser()
    try:
        manifest = store.read_manifest(target)
    except (IndexCorruptError, NotAnIndexError) as exc:
        reason = str(exc).split("; run")[0]
        raise SourceError(
            f"the source folder of the index is unknown ({reason}); give it: "
            "`kvsearch rebuild SOURCE_DIR`"
        ) from None
    source = Path(str(manifest.get("source", "")))
    if not source.is_dir():
        raise SourceError(
            f"the index's source folder {source} is gone; give the folder: "
            "`kvsearch index SOURCE_DIR` or `kvsearch rebuild SOURCE_DIR`"
        )
    return source


# ---------------------------------------------------------------- the run


@dataclass
class _Base:
    """The live generation an update starts from."""

    manifest: dict[str, Any]
    gen_dir: Path
    records: store.Records
    lexicon: Lexicon
    stems: int = 0  # stems loaded from its STEMS_FILE
    stemmed: int = 0  # stemmed_count() when they were loaded


@dataclass(slots=True)
class _File:
    rel: str
    path: str
    sig: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
    old: FileRecord | None
    same: bool = False  # content as recorded in ``old``
    digest: str = ""
    kv_id: str | None = None
    record: FileRecord | None = None  # for the new generation


def _run(
    source: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    full: bool,
    progress: ProgressCallback | None,
    wait: float,
) -> BuildReport:
    started = time.perf_counter()
    report_progress = progress or _no_progress
    src = Path(source).expanduser()
    if not src.is_dir():
        raise SourceError(f"source folder {src} does not exist or is not a folder")
    src = src.resolve()
    target = Path(index_dir).expanduser()
    store.check_target(target)
    report = BuildReport(source=str(src), index_dir=str(target))
    try:
        with store.writer_lock(target, wait=wait), _gc_paused():
            store.pause_point("locked")
            _locked_run(src, target, full, report, report_progress)
    except OSError as exc:
        raise IndexWriteError(store.write_error_message(target, exc)) from None
    report.seconds = time.perf_counter() - started
    return report


def _locked_run(
    src: Path, target: Path, full: bool, report: BuildReport, progress: ProgressCallback
) -> None:
    live = _live_manifest(target)
    store.remove_stale(target, keep=str(live["generation"]) if live else None)
    base = None
    if not full and live is not None:
        base, report.reason = _usable_base(target, live)
    report.full = base is None
    progress(Progress("scan", 0, 0, str(src)))
    paths = _find(src)
    if not paths:
        raise SourceError(
            f"no .txt files found in {src}; point kvsearch at a folder of Kamervragen"
        )
    old = base.records if base else {}
    counter = None if base else LexiconCounter()
    if counter is not None and PROCS > 1 and len(paths) >= _parallel_min():
        files = _scan_in_workers(src, paths, report, progress, counter)
    else:
        files = _scan(
            src, paths, old, report, progress, retry_failed=_parser_changed(live), lexicon=counter
        )
    lexicon = base.lexicon if base else counter.lexicon()  # type: ignore[union-attr]
    counter = None  # every word of the corpus: not to be copied into the worker processes
    register(lexicon)
    if base is None:
        # A build analyses every document (an update a few: not worth 0.16 s at 90k).
        lexicon.prepare_bulk()  # before the workers fork: they inherit it
        # Stemmed once here, not by the analysis of each document: the same work, and
        # the writer's processes (forked later) find them in the cache they inherit.
        if PROCS > 1 and len(paths) >= _parallel_min():
            _stem_in_workers(sorted(lexicon.words))
        else:
            stems_of(lexicon.words)
    plan = _Plan(files, base, report, progress)
    tmp = store.new_tmp_dir(target)
    try:
        if base is not None:
            store.link_generation(base.gen_dir, tmp)
        else:
            lexicon.save(tmp / LEXICON_FILE)
        store.pause_point("linked")
        with _gc_frozen():
            written = _write(tmp, plan, base is not None, lexicon)
        if plan.indexed == 0:
            raise SourceError(
                f"none of the {len(report.skipped)} files in {src} could be indexed "
                f"(first problem: {report.skipped[0]}); the index was not changed"
            )
        records = plan.records()
        if (
            base is not None
            and not written
            and not plan.deletes
            and _same_records(records, base.records, src, base.manifest)
        ):
            shutil.rmtree(tmp, ignore_errors=True)  # nothing changed: keep the generation
            report.published = False
        else:
            _verify(tmp, plan.indexed)
            _store_stems(tmp, lexicon, base)
            store.write_records(tmp, records, base.records if base else None)
            store.pause_point("verified")
            manifest = _manifest(src, records, base, report)
            published = store.publish(target, tmp, manifest)
            store.pause_point("published")
            store.remove_stale(target, keep=published["generation"])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.indexed = plan.indexed
    report.questions = sum(r.questions for r in records if r.status == INDEXED)


#: Whether the garbage collector was enabled when the run paused it (see _gc_paused).
_GC_WAS_ENABLED = [True]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a run, except while writing (:func:`_gc_frozen`):
    the bookkeeping makes a few objects per source file (hundreds of thousands at 90,000
    files) and no cycles, and every full collection on the way would walk them all (a
    third of the time of reading the file records)."""
    enabled = gc.isenabled()
    _GC_WAS_ENABLED.append(enabled)
    gc.disable()
    try:
        yield
    finally:
        _GC_WAS_ENABLED.pop()
        if enabled:
            gc.enable()


#: The collector's thresholds while documents are written (Python's: 700, 10, 10). The
#: analysis makes millions of short-lived containers and few cycles: collecting every 700
#: allocations, and the whole heap every 70,000, took 6% of a worker's time; this 2%.
WRITE_GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """The collector as it was before the run (writing documents may make cycles), but
    leaving alone the objects that exist on entry (the records and files of the
    bookkeeping, which live until the end of the run); they are handed back on exit.
    Collections are rarer meanwhile (:data:`WRITE_GC_THRESHOLDS`; worker processes
    forked for writing inherit them)."""
    enabled = gc.isenabled()
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*WRITE_GC_THRESHOLDS)
    if _GC_WAS_ENABLED[-1]:
        gc.enable()
    try:
        yield
    finally:
        if not enabled:
            gc.disable()
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _live_manifest(target: Path) -> dict[str, Any] | None:
    try:
        return store.read_manifest(target)
    except KvsearchError:
        return None


def _parser_changed(live: dict[str, Any] | None) -> bool:
    """Files that failed to parse are tried again when another kvsearch made the index."""
    return live is not None and live.get("kvsearch_version") != __version__


def _usable_base(target: Path, live: dict[str, Any]) -> tuple[_Base | None, str]:
    """The live generation if an update can start from it; else None and the reason."""
    want = version_record()
    have = {k: live.get(k) for k in want}
    if have != want:
        return None, (
            f"the index was made with analyzer {have['analyzer_version']}, stemmer "
            f"{have['stemmer']}, schema {have['schema_version']}; this kvsearch uses "
            f"analyzer {want['analyzer_version']}, stemmer {want['stemmer']}, "
            f"schema {want['schema_version']}"
        )
    gen_dir = store.generation_dir(target, live)
    try:
        store.check_generation(target, live)
    except IndexCorruptError as exc:
        return None, str(exc).split("; run")[0]
    records = store.read_records(gen_dir)
    if records is None or not isinstance(live.get("files"), dict):
        return None, (
            f"the index has no record of its source files (made by kvsearch "
            f"{live.get('kvsearch_version', '?')})"
        )
    try:
        lexicon = Lexicon.load(gen_dir / LEXICON_FILE)
    except Exception as exc:  # noqa: BLE001 - a missing or damaged file
        return None, f"the index's lexicon cannot be read ({type(exc).__name__}: {exc})"
    indexed = {r.kv_id for r in records.values() if r.status == INDEXED}
    n_indexed = sum(1 for r in records.values() if r.status == INDEXED)
    try:
        count = _doc_count(gen_dir)
    except Exception as exc:  # noqa: BLE001 - Whoosh fails in many ways on damaged files
        return None, f"the index is damaged ({type(exc).__name__}: {exc})"
    if not count == n_indexed == len(indexed) == live.get("documents"):
        return None, (f"the index holds {count} Kamervragen but its file records list {n_indexed}")
    stems = load_stems(gen_dir / STEMS_FILE)
    return _Base(live, gen_dir, records, lexicon, stems, stemmed_count()), ""


def _store_stems(tmp: Path, lexicon: Lexicon, base: _Base | None) -> None:
    """Keep the stems of the corpus's words with the generation, so that an update
    analyses the few documents it adds without stemming words the corpus already had.

    A full build stores the stems it computed: those of every lexicon word (computed
    before the documents are written) and those of the other words it analysed in this
    process. An update keeps the live generation's file (a hard link) unless it stemmed
    many words that file lacks; an index without the file gets one on its first update
    that changes something.
    """
    if base is not None and base.stems:
        new = stemmed_count() - base.stemmed
        if new < max(_STEMS_REWRITE, base.stems // 50):
            return
    elif base is not None:
        stems_of(lexicon.words)  # an index without stems: once (seconds at 90,000 files)
    save_stems(tmp / STEMS_FILE, dict(known_stems()))


# ---------------------------------------------------------------- scanning


def _scan(
    src: Path,
    paths: list[str],
    old: dict[str, FileRecord],
    report: BuildReport,
    progress: ProgressCallback,
    *,
    retry_failed: bool,
    lexicon: LexiconCounter | None = None,
) -> list[_File]:
    """Stat every file; read and hash those that are new or whose stat changed (and count
    their words into ``lexicon``)."""
    out: list[_File] = []
    total = len(paths)
    known = old.get
    for done, (path, rel) in enumerate(zip(paths, _relative(src, paths), strict=True), 1):
        if not done % 1000 or done == total:
            progress(Progress("scan", done, total, path))
        try:
            st = os.stat(path)
        except OSError as exc:
            report.skipped.append(Skipped(path, 0, _read_problem(exc)))
            continue
        if st.st_size > MAX_FILE_BYTES or not stat.S_ISREG(st.st_mode):
            report.skipped.append(Skipped(path, 0, _stat_problem(st)))
            continue
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        rec = known(rel)
        reuse = rec is not None and not (retry_failed and rec.status == FAILED)
        # rec[1:5] is rec.signature, without a Python call: this loop runs once per file.
        if reuse and rec is not None and rec[1:5] == sig and not rec.racy:
            out.append(_File(rel, path, sig, rec, True, rec.digest, rec.kv_id))
            continue
        f = _File(rel, path, sig, rec)
        try:
            data = _read(path)
        except OSError as exc:
            report.skipped.append(Skipped(path, 0, _read_problem(exc)))
            continue
        f.digest = _digest(data)
        if lexicon is not None:
            lexicon.add(data.decode("utf-8", "replace"))
        if reuse and rec is not None and rec.digest == f.digest:
            f.same, f.kv_id = True, rec.kv_id
        else:
            f.kv_id = first_line_id(data)
        out.append(f)
    return out


def _relative(src: Path, paths: list[str]) -> list[str]:
    """The paths relative to ``src``, with "/"."""
    prefix = os.path.join(str(src), "")
    out = []
    for path in paths:
        rel = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, src)
        out.append(rel if os.sep == "/" else rel.replace(os.sep, "/"))
    return out


def _check_file(path: str) -> tuple[str, tuple[int, int, int, int]]:
    """Why the file cannot be indexed ("" if it can), and its signature."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return _read_problem(exc), (0, 0, 0, 0)
    if st.st_size > MAX_FILE_BYTES or not stat.S_ISREG(st.st_mode):
        return _stat_problem(st), (0, 0, 0, 0)
    return "", (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _stat_problem(st: os.stat_result) -> str:
    """Why a file with this stat is not read."""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    return (
        f"too large for a Kamervraag file ({st.st_size / 1e6:.1f} MB; "
        f"the limit is {MAX_FILE_BYTES / 1e6:g} MB)"
    )


def _read_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "cannot read the file (a symbolic link loop)"
    if exc.errno == errno.ENOENT and exc.filename:
        return "cannot read the file (it vanished, or is a broken symbolic link)"
    return f"cannot read the file ({exc.strerror or exc})"


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(0, f"it grew beyond {MAX_FILE_BYTES / 1e6:g} MB while being read")
    return data


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_FIRST_LINE_RE = re.compile(r"kamervraag\b\s*(.*)", re.IGNORECASE)
_ID_RE = re.compile(r"([0-9]{4})[Zz]([0-9]{5})")


def first_line_id(data: bytes) -> str | None:
    """The Kamervraag number on the first non-blank line, as the parser reads it."""
    text = data[:4096].decode("utf-8", "replace").removeprefix("\ufeff")
    for line in text.replace("\r", "\n").split("\n"):
        if line.strip():
            m = _FIRST_LINE_RE.fullmatch(line.strip())
            idm = _ID_RE.fullmatch(m.group(1).strip()) if m else None
            return f"{idm.group(1)}Z{idm.group(2)}" if idm else None
    return None


# ---------------------------------------------------------------- the corpus lexicon


_WORD_RE = re.compile(r"\w+")
_PEOPLE_LINE_RE = re.compile(
    r"^(?:Indieners?|Beantwoord door)[ \t]+(.*)$", re.MULTILINE | re.IGNORECASE
)
_PARENS_RE = re.compile(r"\([^)]*\)")


class LexiconCounter:
    """Counts the corpus lexicon over file texts: word frequencies, and the personal
    names of the metadata that the text nearly always capitalises (so "Rutte" is a name,
    "Helder" is not)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.name_words: set[str] = set()

    def add(self, text: str) -> None:
        self.counts.update(_WORD_RE.findall(text))
        for line in _PEOPLE_LINE_RE.findall(text):
            self.name_words.update(_WORD_RE.findall(_PARENS_RE.sub(" ", line)))

    def lexicon(self) -> Lexicon:
        lowered: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        for word, n in self.counts.items():
            low = word.lower()
            lowered[low] += n
            if word[:1].isupper():
                capitalised[low] += n
        names = {
            w.lower()
            for w in self.name_words
            if len(w) > 2 and capitalised[w.lower()] >= 0.9 * lowered[w.lower()]
        }
        return Lexicon.from_counts(lowered, names)


def scan_lexicon(files: list[Path], progress: ProgressCallback) -> Lexicon:
    """The corpus lexicon of ``files`` (see :class:`LexiconCounter`)."""
    counter = LexiconCounter()
    total = len(files)
    for done, path in enumerate(files, 1):
        try:
            counter.add(path.read_bytes().decode("utf-8", "replace"))
        except OSError:
            continue
        if done % 1000 == 0 or done == total:
            progress(Progress("scan", done, total, str(path)))
    return counter.lexicon()


# ---------------------------------------------------------------- deciding and parsing


class _Plan:
    """Which file's Kamervraag goes into the index, for every number; parses lazily.

    Files are grouped by Kamervraag number. In each group the newest file (by mtime; on
    a tie the last path) that parses wins; the older ones are reported as duplicates.
    Iterating :meth:`documents` parses the winners that are not in the index yet and
    yields their documents, in path order.
    """

    def __init__(
        self,
        files: list[_File],
        base: _Base | None,
        report: BuildReport,
        progress: ProgressCallback,
    ) -> None:
        self.files = files
        self.report = report
        self.progress = progress
        self.base_records = base.records if base else {}
        self.old_ids = {r.kv_id for r in self.base_records.values() if r.status == INDEXED}
        self.kept: set[str] = set()  # numbers whose document stays as it is
        self.deletes: set[str] = set()
        self.indexed = 0
        self.parsed = 0
        self.delegated: dict[int, _Outcome] = {}
        # Work units in path order: a group of files sharing a number, or a lone file
        # whose number could not be read (it is parsed for the error message).
        groups: dict[str, list[_File]] = {}
        self.units: list[tuple[str | None, list[_File]]] = []
        for f in files:
            if f.same and f.old is not None and f.old.status == FAILED:
                f.record = _refreshed(f.old, f)
                report.skipped.append(Skipped(str(f.path), f.old.line, f.old.reason))
            elif f.kv_id is None:
                self.units.append((None, [f]))
            elif f.kv_id in groups:
                groups[f.kv_id].append(f)
            else:
                groups[f.kv_id] = [f]
                self.units.append((f.kv_id, groups[f.kv_id]))
        # A number whose only file is unchanged keeps its document: settled here, so that
        # the passes over the units below see only what changed (an update of a few files
        # in 90,000 would otherwise walk 90,000 units).
        units = []
        for unit in self.units:
            kv_id, group = unit
            f = group[0]
            if len(group) == 1 and f.same and f.old is not None and f.old.status == INDEXED:
                f.record = _refreshed(f.old, f)
                self.kept.add(kv_id)  # type: ignore[arg-type]
                self.indexed += 1
            else:
                units.append(unit)
        self.units = units
        self.to_parse = sum(1 for kv_id, g in self.units if _needs_parse(kv_id, g))

    def documents(self) -> Iterator[dict[str, Any]]:
        """The documents to write, in unit order; the outcomes of delegated units (see
        :meth:`take`) are recorded in their place, and yield nothing."""
        for unit, (kv_id, group) in enumerate(self.units):
            outcome = self.delegated.pop(unit, None)
            if outcome is not None:  # parsed and counted by a worker
                self._apply(group[0], outcome)
                if outcome.kv_id:
                    self.indexed += 1
                continue
            if kv_id is None:
                self._parse(group[0])  # fails: a number is required
                continue
            yield from self._resolve(kv_id, group)
        self.deletes = self.old_ids - self.kept

    def _resolve(self, kv_id: str, group: list[_File]) -> Iterator[dict[str, Any]]:
        ranked = group if len(group) == 1 else sorted(group, key=_age, reverse=True)
        winner: _File | None = None
        for f in ranked:
            if winner is not None:
                f.record = _record(f, DUPLICATE, kv_id)
                self.report.skipped.append(
                    Skipped(
                        str(f.path),
                        1,
                        f"duplicate of Kamervraag {kv_id}; {winner.path} is newer and was indexed",
                    )
                )
                continue
            if f.same and f.old is not None and f.old.status == INDEXED:
                f.record = _refreshed(f.old, f)
                winner = f
                self.kept.add(kv_id)
                self.indexed += 1
                continue
            doc = self._parse(f, expect=kv_id)
            if doc is not None:
                winner = f
                self.indexed += 1
                yield doc

    def _parse(self, f: _File, expect: str | None = None) -> dict[str, Any] | None:
        self.parsed += 1
        self.to_parse = max(self.to_parse, self.parsed)
        try:
            outcome = _parse_one(str(f.path), expect)
            self._apply(f, outcome)
        finally:
            self.progress(Progress("parse", self.parsed, self.to_parse, str(f.path)))
        return outcome.doc

    def _apply(self, f: _File, outcome: _Outcome) -> None:
        """Record what parsing ``f`` gave: its record, a skip or a warning."""
        if outcome.digest:
            f.digest = outcome.digest
        if outcome.skipped is not None:
            self.report.skipped.append(outcome.skipped)
        if outcome.failed is not None:
            line, reason = outcome.failed
            f.record = _record(f, FAILED, f.kv_id or "", line=line, reason=reason)
        if outcome.warning:
            self.report.warnings.append(FileWarning(str(f.path), outcome.warning))
        if outcome.kv_id:
            f.record = _record(
                f,
                INDEXED,
                outcome.kv_id,
                questions=outcome.questions,
                asked=outcome.asked,
                encoding=outcome.encoding,
            )

    def delegable(self) -> list[tuple[int, str, str]]:
        """``(unit, path, number)`` of the units that a worker process can parse and write
        on its own: one file with a number, which is not kept from the live index."""
        out = []
        for unit, (kv_id, group) in enumerate(self.units):
            if kv_id is not None and len(group) == 1:
                f = group[0]
                if not (f.same and f.old is not None and f.old.status == INDEXED):
                    out.append((unit, str(f.path), kv_id))
        return out

    def take(self, unit: int, outcome: _Outcome) -> None:
        """The outcome of a delegated unit, written by a worker (see :meth:`delegable`)."""
        self.delegated[unit] = outcome

    def records(self) -> list[FileRecord]:
        """The records of the new generation; also counts the changes into the report."""
        report = self.report
        out = []
        for f in self.files:
            now_indexed = f.record is not None and f.record.status == INDEXED
            was_indexed = f.old is not None and f.old.status == INDEXED
            if now_indexed and was_indexed and f.same:
                report.unchanged += 1
            elif now_indexed and was_indexed:
                report.updated += 1
            elif now_indexed:
                report.added += 1
            elif was_indexed:
                report.removed += 1
            if f.record is not None:
                out.append(f.record)
        present = {f.rel for f in self.files}
        report.removed += sum(
            1 for r in self.base_records.values() if r.path not in present and r.status == INDEXED
        )
        return out


@dataclass
class _Outcome:
    """What parsing one file gave (see :func:`_parse_one`); ``kv_id`` is set when its
    document was made."""

    digest: str = ""
    doc: dict[str, Any] | None = None
    skipped: Skipped | None = None
    failed: tuple[int, str] | None = None  # (line, reason): a file that does not parse
    warning: str = ""
    kv_id: str = ""
    questions: int = 0
    asked: int = 0
    encoding: str = ""


def _parse_one(path: str, expect: str | None) -> _Outcome:
    """Read and parse one file into its document, or say why not. Reports nothing, so a
    worker process can run it."""
    try:
        data = _read(path)
    except OSError as exc:
        return _Outcome(skipped=Skipped(path, 0, _read_problem(exc)))
    out = _Outcome(digest=_digest(data))
    try:
        text, encoding = decode_bytes(data, path)
        kv = parse_text(text, path)
    except ParseError as exc:
        out.skipped = Skipped(exc.path, exc.line, exc.reason)
        out.failed = (exc.line, exc.reason)
        return out
    if expect is not None and kv.id != expect:  # the number changed while we read
        reason = f"its number changed to {kv.id} while it was being indexed; run again"
        out.skipped = Skipped(path, 1, reason)
        return out
    if encoding == "cp1252":
        out.warning = "read as Windows-1252, not UTF-8 (save it as UTF-8)"
    out.doc = document(kv)
    out.kv_id = kv.id
    out.questions = len(kv.questions)
    out.asked = date_number(kv.asked)
    out.encoding = encoding
    return out


def _age(f: _File) -> tuple[int, str]:
    """Sort key: the newest file (by mtime; on a tie the last path) is the largest."""
    return (f.sig[1], f.rel)


def _refreshed(old: FileRecord, f: _File) -> FileRecord:
    """``old`` with the file's current size and times (``old`` itself when unchanged)."""
    if old[1:5] == f.sig and not old.racy:  # old.signature, without a Python call
        return old
    return old._replace(**_sig_fields(f))


def _needs_parse(kv_id: str | None, group: list[_File]) -> bool:
    if kv_id is None:
        return True
    newest = max(group, key=_age)
    return not (newest.same and newest.old is not None and newest.old.status == INDEXED)


def _sig_fields(f: _File) -> dict[str, Any]:
    size, mtime_ns, ctime_ns, inode = f.sig
    return {
        "size": size,
        "mtime_ns": mtime_ns,
        "ctime_ns": ctime_ns,
        "inode": inode,
        "racy": time.time_ns() - mtime_ns < _RACY_NS,
    }


def _record(f: _File, status: str, kv_id: str, **extra: Any) -> FileRecord:
    return FileRecord(
        path=f.rel, digest=f.digest, kv_id=kv_id, status=status, **_sig_fields(f), **extra
    )


# ---------------------------------------------------------------- writing


def _write(tmp: Path, plan: _Plan, update: bool, lexicon: Lexicon) -> int:
    """Write the plan's documents into the generation in ``tmp``; return how many.

    A full build creates the index; with :data:`PROCS` worker processes and at least
    :data:`PARALLEL_MIN` files, the workers parse and write segments of their own, and
    this process writes what is left (files sharing a number). An update opens the linked
    copy of the live generation (only when there is something to change), adds the new
    documents and deletes the replaced and vanished ones.
    """
    ix = None if update else whoosh_index.create_in(str(tmp), make_schema(lexicon.key))
    writer = None
    count = 0
    segments: list[Any] = []
    try:
        if not update:
            ix, writer = _open_writer(tmp, ix)
            delegable = plan.delegable()
            if PROCS > 1 and len(delegable) >= _parallel_min():
                segments, count = _write_in_workers(tmp, plan, delegable, lexicon)
        for doc in plan.documents():
            if writer is None:
                ix, writer = _open_writer(tmp, ix)
            writer.add_document(**doc)
            count += 1
            if count == 1:
                store.pause_point("writing")
        if plan.deletes and writer is None:
            ix, writer = _open_writer(tmp, ix)
        # Deleting after adding is safe: a writer deletes only from the segments that
        # were there when it opened, never from the one it is writing.
        for kv_id in sorted(plan.deletes):
            writer.delete_by_term("id", kv_id)  # type: ignore[union-attr]
        if writer is not None:
            plan.progress(Progress("update" if update else "commit", count, plan.indexed))
            if segments:
                _commit_with(writer, segments)
            else:
                writer.commit()
            writer = None
            store.pause_point("committed")
    finally:
        if writer is not None:
            writer.cancel()
        if ix is not None:
            ix.close()
    return count


def _open_writer(tmp: Path, ix: Any) -> tuple[Any, Any]:
    if ix is None:
        # Without memory mapping: Whoosh would copy the mapped terms and postings of the
        # whole index into memory to delete the replaced documents (0.7 s at 90,000).
        ix = FileStorage(str(tmp), supports_mmap=False).open_index()
    return ix, BulkWriter(ix)


def _commit_with(writer: Any, segments: list[Any]) -> None:
    """Commit a new index of the workers' ``segments`` plus the writer's own (if any).
    The index is new: there is nothing to merge."""
    final = list(segments)
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final)
    writer._finish()


# ---------------------------------------------------------------- worker processes
#
# A full build of many files runs in PROCS worker processes, twice: reading and hashing
# the files while counting the corpus lexicon, then parsing and writing. Each writing task
# is a contiguous run of files that becomes one segment of the index (at most
# SEGMENT_DOCS documents, which bounds a worker's memory); this process then commits the
# segments together, and the document count is verified as after every build.

#: Worker processes of a full build.
PROCS = 2
#: A full build of fewer files runs in this process (starting workers costs more).
PARALLEL_MIN = 2_000
#: The most documents one worker writes into one segment.
SEGMENT_DOCS = 25_000
#: How worker processes start: "fork" where there is one (instant, and the workers share
#: this process's caches), else "spawn".
START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
#: Progress is reported every this many files.
_PROGRESS_EVERY = 200


def _parallel_min() -> int:
    """:data:`PARALLEL_MIN`; the crash tests lower it (``KVSEARCH_TEST_PARALLEL_MIN``) to
    kill builds of a few files while their workers run."""
    return int(os.environ.get("KVSEARCH_TEST_PARALLEL_MIN", PARALLEL_MIN))


_worker_queue: Any = None
_worker_parent = 0


def _pool(lexicon: Lexicon | None, folder: Path) -> tuple[ProcessPoolExecutor, Any]:
    context = multiprocessing.get_context(START_METHOD)
    queue = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=PROCS,
        mp_context=context,
        initializer=_init_worker,
        initargs=(
            queue,
            os.getpid(),
            None if lexicon is None else lexicon.key,
            str(folder / LEXICON_FILE),
        ),
    )
    return pool, queue


def _init_worker(queue: Any, parent: int, lexicon_key: str | None, lexicon_file: str) -> None:
    global _worker_queue, _worker_parent
    _worker_queue, _worker_parent = queue, parent
    # A worker whose build was killed (SIGKILL included) ends within a second, even one
    # waiting for a task that will never come.
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if lexicon_key is not None and not is_registered(lexicon_key):  # not inherited by fork
        lexicon = Lexicon.load(Path(lexicon_file))
        lexicon.prepare_bulk()
        register(lexicon)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_progress(done: int, path: str) -> None:
    if os.getppid() != _worker_parent:  # the build was killed: stop
        raise SystemExit(1)
    _worker_queue.put((done, path))


def _run_tasks(
    pool: ProcessPoolExecutor,
    queue: Any,
    fn: Callable[..., Any],
    tasks: list[tuple[Any, ...]],
    on_progress: Callable[[int, str], None],
) -> list[Any]:
    """Run ``fn(*task)`` for every task in the pool; results in task order. Progress
    messages of the workers go to ``on_progress`` as they come."""
    with pool:
        futures = [pool.submit(fn, *task) for task in tasks]
        store.pause_point(f"workers-{fn.__name__.strip('_')}")
        pending = set(futures)
        try:
            while pending:
                _done, pending = wait(pending, timeout=0.2)
                _drain(queue, on_progress, 0)
            results = [f.result() for f in futures]
            _drain(queue, on_progress, 0.1)  # what the workers put just before they ended
            return results
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            queue.close()


def _drain(queue: Any, on_progress: Callable[[int, str], None], timeout: float) -> None:
    while True:
        try:
            n, path = queue.get(timeout=timeout) if timeout else queue.get_nowait()
        except Empty:
            return
        on_progress(n, path)


def _parts(items: list[Any], count: int) -> list[list[Any]]:
    """``items`` in ``count`` contiguous parts of (nearly) equal size."""
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for k in range(count):
        end = start + size + (k < extra)
        out.append(items[start:end])
        start = end
    return [part for part in out if part]


def _scan_in_workers(
    src: Path,
    paths: list[str],
    report: BuildReport,
    progress: ProgressCallback,
    counter: LexiconCounter,
) -> list[_File]:
    """:func:`_scan` of a full build (no records to compare with) in worker processes."""
    pool, queue = _pool(None, src)
    total = len(paths)
    done = 0

    def on_progress(n: int, path: str) -> None:
        nonlocal done
        done += n
        progress(Progress("scan", done, total, path))

    parts = _parts(paths, PROCS * 4)
    results = _run_tasks(pool, queue, _hash_files, [(part,) for part in parts], on_progress)
    out: list[_File] = []
    rels = iter(_relative(src, paths))
    for part, (found, counts, names) in zip(parts, results, strict=True):
        counter.counts.update(counts)
        counter.name_words.update(names)
        for path, (problem, sig, digest, kv_id) in zip(part, found, strict=True):
            rel = next(rels)
            if problem:
                report.skipped.append(Skipped(path, 0, problem))
                continue
            f = _File(rel, path, sig, None)
            f.digest, f.kv_id = digest, kv_id
            out.append(f)
    progress(Progress("scan", total, total, paths[-1]))
    return out


def _hash_files(
    paths: list[str],
) -> tuple[list[tuple[str, tuple[int, int, int, int], str, str | None]], Counter[str], set[str]]:
    """Worker: stat, read and hash files and count their words (see :func:`_scan`)."""
    counter = LexiconCounter()
    found = []
    for k, path in enumerate(paths, 1):
        if k % _PROGRESS_EVERY == 0:
            _worker_progress(_PROGRESS_EVERY, path)
        problem, sig = _check_file(path)
        if problem:
            found.append((problem, sig, "", None))
            continue
        try:
            data = _read(path)
        except OSError as exc:
            found.append((_read_problem(exc), sig, "", None))
            continue
        counter.add(data.decode("utf-8", "replace"))
        found.append(("", sig, _digest(data), first_line_id(data)))
    _worker_progress(len(paths) % _PROGRESS_EVERY, paths[-1])
    return found, counter.counts, counter.name_words


def _stem_in_workers(words: list[str]) -> None:
    """Stem ``words`` in worker processes into this process's stem cache."""
    pool, queue = _pool(None, Path("."))
    parts = _parts(words, PROCS)
    for stems in _run_tasks(pool, queue, stems_of, [(part,) for part in parts], _no_step):
        add_stems(stems)


def _no_step(_n: int, _path: str) -> None:
    return None


def _write_in_workers(
    tmp: Path, plan: _Plan, delegable: list[tuple[int, str, str]], lexicon: Lexicon
) -> tuple[list[Any], int]:
    """Parse and write the ``delegable`` units of the plan in worker processes, one
    segment per task; return the segments and the number of documents written."""
    pool, queue = _pool(lexicon, tmp)
    tasks = -(-len(delegable) // (PROCS * SEGMENT_DOCS)) * PROCS

    def on_progress(n: int, path: str) -> None:
        plan.parsed += n
        plan.progress(Progress("parse", plan.parsed, plan.to_parse, path))

    parts = _parts(delegable, tasks)
    results = _run_tasks(pool, queue, _write_segment, [(str(tmp), p) for p in parts], on_progress)
    segments, count = [], 0
    for segment, outcomes in results:
        if segment is not None:
            segments.append(segment)
        for unit, outcome in outcomes:
            plan.take(unit, outcome)
            count += bool(outcome.kv_id)
    return segments, count


def _write_segment(
    tmp: str, units: list[tuple[int, str, str]]
) -> tuple[Any, list[tuple[int, _Outcome]]]:
    """Worker: parse the files of ``units`` and write their documents into a new segment
    of the index in ``tmp``; the segment (None if empty) and every file's outcome."""
    gc.set_threshold(*WRITE_GC_THRESHOLDS)  # inherited when forked, not when spawned
    ix = whoosh_index.open_dir(tmp)
    try:
        writer = BulkWriter(ix, _lk=False)
        outcomes = []
        for k, (unit, path, expect) in enumerate(units, 1):
            if k % _PROGRESS_EVERY == 0:
                _worker_progress(_PROGRESS_EVERY, path)
            outcome = _parse_one(path, expect)
            if outcome.doc is not None:
                writer.add_document(**outcome.doc)
                outcome.doc = None
            outcomes.append((unit, outcome))
        _worker_progress(len(units) % _PROGRESS_EVERY, units[-1][1])
        if writer._added:
            segment = writer._finalize_segment()
        else:
            writer._close_segment()
            segment = None
        return segment, outcomes
    finally:
        ix.close()


def _doc_count(gen_dir: Path) -> int:
    """The undeleted documents of the index in ``gen_dir``, from its table of contents.

    This is the count a reader reports (the sum over the segments), without opening the
    segments: a reader of a 90,000-document index takes 0.6 s and 900 MB. Damaged segment
    files are found by :func:`store.check_generation` instead.
    """
    ix = whoosh_index.open_dir(str(gen_dir))
    try:
        return sum(int(seg.doc_count()) for seg in ix._segments())
    finally:
        ix.close()


def _verify(tmp: Path, expected: int) -> None:
    stored = _doc_count(tmp)
    if stored != expected:
        raise IndexIntegrityError(
            f"the new index holds {stored} Kamervragen but {expected} were parsed; "
            "it was discarded and the previous index left in place. Run the command again; "
            "if it persists, report it as a bug"
        )


def _same_records(
    records: list[FileRecord],
    old: dict[str, FileRecord],
    src: Path,
    manifest: dict[str, Any],
) -> bool:
    return (
        manifest.get("source") == str(src)
        and manifest.get("kvsearch_version") == __version__
        and len(records) == len(old)
        and all(old.get(r.path) == r for r in records)
    )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _manifest(
    src: Path, records: list[FileRecord], base: _Base | None, report: BuildReport
) -> dict[str, Any]:
    indexed = [r for r in records if r.status == INDEXED]
    asked = [r.asked for r in indexed if r.asked]
    now = _now()
    return {
        **version_record(),
        "kvsearch_version": __version__,
        "source": str(src),
        "built": str(base.manifest.get("built", now)) if base else now,
        "updated": now,
        "documents": len(indexed),
        "questions": sum(r.questions for r in indexed),
        "asked_from": _iso(min(asked)) if asked else None,
        "asked_to": _iso(max(asked)) if asked else None,
        "skipped": len(report.skipped),
        "last_run": {
            "full": base is None,
            "added": report.added,
            "updated": report.updated,
            "removed": report.removed,
            "unchanged": report.unchanged,
            "skipped": len(report.skipped),
        },
    }


def _iso(number: int) -> str:
    return f"{number // 10000:04d}-{number // 100 % 100:02d}-{number % 100:02d}"


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class SourceChanges:
    """How the source folder differs from what the index was made from."""

    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    unreadable: int = 0

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.removed)


@dataclass(frozen=True)
class IndexStatus:
    index_dir: str
    source: str
    documents: int
    questions: int
    asked_from: str | None
    asked_to: str | None
    built: str | None
    updated: str | None
    analyzer_version: str
    stemmer: str
    schema_version: str
    kvsearch_version: str
    size_bytes: int
    skipped: int
    generation: str
    version_ok: bool
    changes: SourceChanges | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "changes"}
        out["changes"] = None if self.changes is None else dict(self.changes.__dict__)
        return out


def index_status(index_dir: str | os.PathLike[str], *, check: bool = False) -> IndexStatus:
    """What the index holds and where it came from; with ``check``, whether its source
    folder changed since (a quick scan: a stat per file, and a hash of those whose size or
    times changed; nothing is parsed). Raises :class:`IndexCorruptError` for a damaged
    index."""
    target = Path(index_dir).expanduser()
    manifest = store.read_manifest(target)
    store.check_generation(target, manifest)
    gen_dir = store.generation_dir(target, manifest)
    want = version_record()
    version_ok = all(manifest.get(k) == v for k, v in want.items())
    count = int(manifest.get("documents") or 0)
    if version_ok:  # another kvsearch's index may not even open: the manifest must do
        try:
            count = _doc_count(gen_dir)
        except Exception as exc:  # noqa: BLE001 - Whoosh fails in many ways on damaged files
            raise IndexCorruptError(
                f"the index in {target} is damaged ({type(exc).__name__}: {exc}); "
                "run `kvsearch rebuild` to build it again"
            ) from None
        if count != manifest.get("documents"):
            raise IndexCorruptError(
                f"the index in {target} holds {count} Kamervragen but was written with "
                f"{manifest.get('documents')}; run `kvsearch rebuild` to build it again"
            )
    changes = None
    if check:
        changes = _source_changes(Path(str(manifest.get("source", ""))), gen_dir)
    return IndexStatus(
        index_dir=str(target),
        source=str(manifest.get("source", "")),
        documents=count,
        questions=int(manifest.get("questions") or 0),
        asked_from=manifest.get("asked_from"),
        asked_to=manifest.get("asked_to"),
        built=manifest.get("built"),
        updated=manifest.get("updated", manifest.get("built")),
        analyzer_version=str(manifest.get("analyzer_version")),
        stemmer=str(manifest.get("stemmer")),
        schema_version=str(manifest.get("schema_version")),
        kvsearch_version=str(manifest.get("kvsearch_version")),
        size_bytes=store.dir_size(gen_dir),
        skipped=int(manifest.get("skipped") or 0),
        generation=str(manifest["generation"]),
        version_ok=version_ok,
        changes=changes,
    )


def _source_changes(src: Path, gen_dir: Path) -> SourceChanges:
    if not src.is_dir():
        raise SourceError(
            f"the index's source folder {src} is gone; give the folder: `kvsearch index SOURCE_DIR`"
        )
    records = store.read_records(gen_dir)
    if records is None:
        raise SourceError(
            "the index has no record of its source files (it was made by an older kvsearch); "
            "run `kvsearch rebuild` once to add them"
        )
    scratch = BuildReport(source=str(src), index_dir="")
    paths = _find(src)
    files = _scan(src, paths, records, scratch, _no_progress, retry_failed=False)
    present = set(_relative(src, paths))
    return SourceChanges(
        new=sum(1 for f in files if f.old is None),
        changed=sum(1 for f in files if f.old is not None and not f.same),
        removed=sum(1 for path in records if path not in present),
        unchanged=sum(1 for f in files if f.same),
        unreadable=len(scratch.skipped),
    )


# ---------------------------------------------------------------- the bulk writer
#
# Whoosh's SegmentWriter puts one tuple per posting into a sorting pool, sorts them, and
# writes them one by one, looking up each document's field length on the way: about ten
# microseconds of Python per posting, and a 90,000-document index has some 40 million
# postings. BulkWriter keeps the postings per term in arrays as the documents come
# (already in document order), and writes each term's posting blocks with C-level array
# operations. The segment files are those of Whoosh's own writer: tests/test_bulkwriter.py
# reads both back and compares every term, posting, length and stored field.

#: Postings per block (Whoosh's writer: 128). The query evaluator reads postings whole, so
#: longer blocks cost no skipping: 512 makes the postings 11% smaller at 10,000 documents
#: (256: 8%; 1,024: 12%), with the same build CPU (docs/benchmarks.md, session 6).
BLOCK_LIMIT = 512
#: Postings of a term in fewer documents are kept in its term info (Whoosh's writer: 1,
#: never). Most terms occur in one or two documents. A posting list in the postings file
#: costs its term info's pointer, a block header and an info tuple. 64 since kvsearch's
#: terms file (schema 6), whose entries cost 8 bytes beside their data: the index 3.4%
#: smaller than with 16 at 10,000 documents (8: +3.7%, 32: -2.1%, 128: -1.8%), and those
#: terms' postings read 9-11% faster (docs/benchmarks.md, session 6).
INLINE_LIMIT = 64
#: Posting blocks of fewer bytes are not compressed (Whoosh's writer: 0, always): zlib
#: makes small blocks larger, and costs more time than anything else per block.
COMPRESS_MIN = 100
#: Pickle protocol of the posting blocks and inlined postings (Whoosh's writer: 2, which
#: stores every bytes value as a call of ``_codecs.encode``, about 16 bytes of overhead).
#: Above 2: protocol 3 without the memo (bytes values take two bytes more than their data)
#: and integral weights as ints (2 bytes instead of a 9-byte float). Whoosh reads either.
PICKLE_PROTOCOL = 3
#: zlib level of the blocks (Whoosh's writer: 3): 6 is another 3% smaller; with the longer
#: blocks, the build takes no more CPU than with 128 and level 3.
BLOCK_LEVEL = 6
#: Segments of more documents get the offsets of their stored documents written (Whoosh's
#: writer: 32,768). Without them every search that opens a segment adds up the lengths of
#: all its documents in Python: 15-20 ms per segment of 22,500 documents.
STORED_OFFSETS_CUTOFF = 0
#: zlib level of the stored fields (Whoosh's writer: 3). The stored document is compressed
#: already (``kvsearch.schema.pack``); Whoosh's reader decompresses either.
STORED_LEVEL = 0
_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo's header
#: Term infos in kvsearch's compact form (kvsearch.schema.encode_terminfo) in kvsearch's
#: terms file (kvsearch.termsfile), KvCodec's; False writes Whoosh's term infos with
#: Whoosh's codec, so Whoosh's terms file (the byte-for-byte comparisons with Whoosh's
#: writer).
COMPACT_TERM_INFOS = True
#: BulkWriter keeps the analysis of at most this many short field values.
_ANALYSED_LIMIT = 20_000
_BIG_ENDIAN = sys.byteorder == "big"


class _TermPool:
    """The postings of a segment being written, per field and term.

    ``freqs[field][term]``: docnums and frequencies, interleaved, of a frequency field;
    ``positions[field][term]``: (docnums and frequencies interleaved, the positions);
    ``generic[field][btext]``: (docnum, weight, vbytes) tuples of any other posting (and of
    the postings merged from other segments).
    """

    def __init__(self) -> None:
        self.freqs: dict[str, dict[str, array[int]]] = {}
        self.positions: dict[str, dict[str, tuple[array[int], array[int]]]] = {}
        self.generic: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        """One posting, as Whoosh's pool takes it (merges from other segments)."""
        fieldname, btext, docnum, weight, vbytes = item
        self.fieldnames.add(fieldname)
        terms = self.generic.setdefault(fieldname, {})
        found = terms.get(btext)
        if found is None:
            terms[btext] = [(docnum, weight, vbytes)]
        else:
            found.append((docnum, weight, vbytes))

    def add_frequencies(self, fieldname: str, docnum: int, counts: dict[str, int]) -> None:
        terms = self.freqs.get(fieldname)
        if terms is None:
            terms = self.freqs[fieldname] = {}
            self.fieldnames.add(fieldname)
        get = terms.get
        for term, n in counts.items():
            found = get(term)
            if found is None:
                terms[term] = array("I", (docnum, n))
            else:
                found.append(docnum)
                found.append(n)

    def add_positions(self, fieldname: str, docnum: int, positions: dict[str, list[int]]) -> None:
        terms = self.positions.get(fieldname)
        if terms is None:
            terms = self.positions[fieldname] = {}
            self.fieldnames.add(fieldname)
        get = terms.get
        for term, poses in positions.items():
            found = get(term)
            if found is None:
                terms[term] = (array("I", (docnum, len(poses))), array("I", poses))
            else:
                found[0].append(docnum)
                found[0].append(len(poses))
                found[1].extend(poses)

    def cleanup(self) -> None:
        self.freqs.clear()
        self.positions.clear()
        self.generic.clear()

    def write(self, fieldwriter: Any, schema: Any, lengths: Any) -> None:
        """Write every posting list through ``fieldwriter`` (a W3FieldWriter), fields and
        terms in byte order as Whoosh's writer does. ``lengths(fieldname)`` is the field's
        length byte per document."""
        postfile = fieldwriter._postfile
        tindex = fieldwriter._tindex
        pickler = _Pickler(PICKLE_PROTOCOL)
        for fieldname in sorted(self.fieldnames):
            fieldobj = schema[fieldname]
            fmt = fieldobj.format
            fixedsize = fmt.fixed_value_size()
            lbytes = lengths(fieldname)
            fieldwriter.start_field(fieldname, fieldobj)
            prefix = pack_ushort(fieldwriter._fieldid)
            freqs = self.freqs.get(fieldname, {})
            positions = self.positions.get(fieldname, {})
            generic = self.generic.get(fieldname, {})
            table: dict[bytes, list[Any]] = {}
            for term, data in freqs.items():
                table[term.encode("utf-8")] = [data, None, None]
            for term, pdata in positions.items():
                table.setdefault(term.encode("utf-8"), [None, None, None])[1] = pdata
            for btext, gdata in generic.items():
                table.setdefault(btext, [None, None, None])[2] = gdata
            keys = []
            infos = []
            for btext in sorted(table):
                fdata, pdata, gdata = table[btext]
                if pdata is None and gdata is None:
                    ids, weights, values = _from_freqs(fdata, fmt, fixedsize)
                elif fdata is None and gdata is None:
                    ids, weights, values = _from_positions(pdata, fmt)
                else:
                    ids, weights, values = _merged(fdata, pdata, gdata, fmt)
                keys.append(prefix + btext)
                infos.append(
                    _write_postings(postfile, ids, weights, values, fixedsize, lbytes, pickler)
                )
            _add_terms(tindex, keys, infos)
            fieldwriter.finish_field()


_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # before each key and value in a hash file


def _add_terms(tindex: Any, keys: list[bytes], infos: list[bytes]) -> None:
    """``tindex.add(key, info)`` for every term of a field (keys in increasing order), in
    one write: kvsearch's terms file (KvCodec's) or Whoosh's OrderedHashWriter (Whoosh's
    codec), the same bytes, hashes and key index as one ``add`` at a time."""
    if not keys:
        return
    if isinstance(tindex, TermsFileWriter):
        tindex.add_all(keys, infos)
        return
    if tindex.hashfn is not md5_hash or keys[0] <= tindex.lastkey:
        for key, info in zip(keys, infos, strict=True):
            tindex.add(key, info)
        return
    dbfile = tindex.dbfile
    start = dbfile.tell()
    pack = _KEY_VALUE_LENGTHS.pack
    sizes = [8 + len(key) + len(info) for key, info in zip(keys, infos, strict=True)]
    positions = list(accumulate(sizes, initial=start))[:-1]
    buckets = tindex.buckets
    for key, pos in zip(keys, positions, strict=True):
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")
        buckets[h & 255].append((h, pos))
    index = tindex.index
    for pos in positions:
        index.append(pos)
    dbfile.write(
        b"".join(
            chain.from_iterable(
                zip(map(pack, map(len, keys), map(len, infos)), keys, infos, strict=True)
            )
        )
    )
    tindex.lastkey = keys[-1]


def _from_freqs(
    data: array[int], fmt: Any, fixedsize: int | None
) -> tuple[array[int], array[float], list[bytes] | bytes]:
    """A frequency field's docnums, weights and values (big-endian uints)."""
    ids = data[0::2]
    ns = data[1::2]
    boost = fmt.field_boost
    weights = array("f", ns) if boost == 1.0 else array("f", (n * boost for n in ns))
    if fixedsize == 4 and ns.itemsize == 4:
        if not _BIG_ENDIAN:
            ns.byteswap()
        return ids, weights, ns.tobytes()
    return ids, weights, [pack_uint(n) for n in data[1::2]]


def _from_positions(
    data: tuple[array[int], array[int]], fmt: Any
) -> tuple[array[int], array[float], list[bytes]]:
    """A positions field's docnums, weights and encoded positions."""
    docs, poses = data
    ids = docs[0::2]
    ns = docs[1::2]
    boost = fmt.field_boost
    weights = array("f", ns) if boost == 1.0 else array("f", (n * boost for n in ns))
    if type(fmt) is CompactPositions:
        compact = _compact_values(ns, poses)
        if compact is not None:
            return ids, weights, compact
    if type(fmt) is not formats.Positions:
        encode = fmt.encode
        values = []
        start = 0
        for n in ns:
            values.append(encode(poses[start : start + n]))
            start += n
        return ids, weights, values
    # Positions.encode, faster: the count, then the pickled list of position deltas.
    values = []
    start = 0
    for n in ns:
        if n == 1:
            values.append(_ONE_POSITION + dumps([poses[start]], 2))
        else:
            chunk = poses[start : start + n]
            values.append(pack_uint(n) + dumps(list(map(sub, chunk, chain((0,), chunk))), 2))
        start += n
    return ids, weights, values


_ONE_POSITION = pack_uint(1)
_ENCODE_UTF8 = methodcaller("encode", "utf-8", "surrogatepass")


def _compact_values(ns: array[int], poses: array[int]) -> list[bytes] | None:
    """CompactPositions.encode of every posting of a term at once (None when a posting
    cannot be encoded so: a gap beyond U+10FFFF, or no positions): the gaps of all
    postings as one string, each posting's first gap being its first position, cut
    into the postings' values."""
    if len(ns) == len(poses):  # one position per posting: the gap is the position
        try:
            text = "".join(map(chr, poses))
        except (ValueError, OverflowError):
            return None
        return list(map(_ENCODE_UTF8, text))
    if 0 in ns:
        return None
    gaps = array("q", map(sub, poses, chain((0,), poses)))
    ends = list(accumulate(ns))
    starts = [0, *ends[:-1]]
    for start in starts:
        gaps[start] = poses[start]
    try:
        text = "".join(map(chr, gaps))
    except (ValueError, OverflowError):
        return None
    return list(map(_ENCODE_UTF8, map(text.__getitem__, map(slice, starts, ends))))


def _merged(
    freqs: array[int] | None,
    positions: tuple[array[int], array[int]] | None,
    generic: list[tuple[int, float, bytes]] | None,
    fmt: Any,
) -> tuple[array[int], array[float], list[bytes]]:
    """Postings of one term from several sources, in document order."""
    postings: list[tuple[int, float, bytes]] = list(generic or ())
    if freqs is not None:
        ids, weights, values = _from_freqs(freqs, fmt, None)
        postings.extend(zip(ids, weights, values, strict=True))  # type: ignore[arg-type]
    if positions is not None:
        ids, weights, values = _from_positions(positions, fmt)
        postings.extend(zip(ids, weights, values, strict=True))
    postings.sort(key=itemgetter(0))
    return (
        array("I", (p[0] for p in postings)),
        array("f", (p[1] for p in postings)),
        [p[2] for p in postings],
    )


def _write_postings(
    postfile: Any,
    ids: array[int],
    weights: array[float],
    values: list[bytes] | bytes,
    fixedsize: int | None,
    lbytes: bytes | None,
    pickler: _Pickler,
) -> bytes:
    """Write one term's posting blocks as W3PostingsWriter does; return its term info.

    Postings of a term in fewer than :data:`INLINE_LIMIT` documents are kept in the term
    info itself, and blocks whose data is under :data:`COMPRESS_MIN` bytes are stored
    without compression: both are parts of Whoosh's format that its reader takes, and
    both make the index smaller and faster to write (see docs/benchmarks.md)."""
    dumps = pickler.dumps
    integral = pickler.integral
    count = len(ids)
    if count == 1 and INLINE_LIMIT > 1:
        # A term in one document, the commonest: the next branch, for one posting.
        docnum = ids[0]
        weight = weights[0]
        length = 0 if lbytes is None else lbytes[docnum]
        if fixedsize == 0:
            inline_values = ()
        elif fixedsize and fixedsize > 0 and isinstance(values, bytes):
            inline_values = (values[:fixedsize],)
        else:
            inline_values = (values[0],) if values[0] else ()
        top = weight if weight > 0 else 0
        if COMPACT_TERM_INFOS:
            compact = _compact_inlined(
                weight, length, length, top, ids[:1], weights[:1], inline_values, fixedsize
            )
            if compact is not None:
                return compact
        whole = int(weight)
        inline_weights = (whole,) if whole == weight and pickler.protocol > 2 else (weight,)
        head = _TERMINFO.pack(1, weight, 1, length, length, top, docnum, docnum)
        return head + dumps(((docnum,), inline_weights, inline_values))
    if count < INLINE_LIMIT:
        minlength, maxlength = _length_range(lbytes, ids)
        top = max(weights)
        if fixedsize == 0:
            inline_values: tuple[bytes, ...] = ()
        elif fixedsize and fixedsize > 0 and isinstance(values, bytes):
            inline_values = tuple(
                values[k : k + fixedsize] for k in range(0, len(values), fixedsize)
            )
        else:
            inline_values = tuple(filter(None, values))
        top = top if top > 0 else 0
        if COMPACT_TERM_INFOS:
            compact = _compact_inlined(
                sum(weights), minlength, maxlength, top, ids, weights, inline_values, fixedsize
            )
            if compact is not None:
                return compact
        head = _TERMINFO.pack(1, sum(weights), count, minlength, maxlength, top, ids[0], ids[-1])
        return head + dumps((tuple(ids), integral(weights), inline_values))
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    total = 0.0
    maxweight: float = 0
    minlength = 0
    maxlength = 0
    for first in range(0, count, BLOCK_LIMIT):
        end = min(first + BLOCK_LIMIT, count)
        bids = ids[first:end]
        bweights = weights[first:end]
        n = end - first
        if bweights.count(1.0) == n:
            mini_weights: Any = None
        elif bweights.count(bweights[0]) == n:
            mini_weights = bweights[0]
        else:
            mini_weights = integral(bweights)
        if fixedsize is None or fixedsize < 0:
            mini_values: Any = tuple(filter(None, values[first:end]))
        elif fixedsize == 0:
            mini_values = None
        elif isinstance(values, bytes):
            mini_values = values[first * fixedsize : end * fixedsize]
        else:
            mini_values = b"".join(values[first:end])
        deltas = tuple(map(sub, bids, chain((0,), bids)))
        data = dumps((deltas, mini_weights, mini_values))
        if len(data) >= COMPRESS_MIN:
            data = zlib.compress(data, BLOCK_LEVEL)
            compression = BLOCK_LEVEL
        else:
            compression = 0
        block_max = max(bweights)
        block_maxweight = block_max if block_max > 0 else 0
        block_min, block_maxlen = _length_range(lbytes, bids)
        info = dumps((n, bids[-1], block_maxweight, compression, block_min, block_maxlen))
        size = len(info) + len(data)
        postfile.write_int(-size if end == count else size)
        postfile.write(info)
        postfile.write(data)
        total += sum(bweights)
        if block_maxweight > maxweight:
            maxweight = block_maxweight
        if first == 0 or (block_min and (not minlength or block_min < minlength)):
            minlength = block_min
        if block_maxlen > maxlength:
            maxlength = block_maxlen
    length = postfile.tell() - start
    if COMPACT_TERM_INFOS:
        compact = encode_terminfo(
            total, count, minlength, maxlength, maxweight, ids[0], ids[-1], extent=(start, length)
        )
        if compact is not None:
            return compact
    head = _TERMINFO.pack(0, total, count, minlength, maxlength, maxweight, ids[0], ids[-1])
    return head + pack_long(start) + pack_int(length)


def _compact_inlined(
    weight: float,
    minlength: int,
    maxlength: int,
    top: float,
    ids: Sequence[int],
    weights: Sequence[float],
    values: tuple[bytes, ...],
    fixedsize: int | None,
) -> bytes | None:
    """The compact term info of inlined postings (see encode_terminfo), or None."""
    if not values:
        kind = VALUES_NONE
    elif fixedsize == 4:
        kind = VALUES_FREQUENCY  # the 4-byte frequencies: the weights, as ints
    else:
        kind = VALUES_BYTES
    return encode_terminfo(
        weight,
        len(ids),
        minlength,
        maxlength,
        top,
        ids[0],
        ids[-1],
        inlined=(ids, weights, values, kind),
    )


class _Pickler:
    """``dumps(obj)``: ``pickle.dumps(obj, protocol)``; above protocol 2 without the memo
    (one reused Pickler in fast mode: the posting tuples are flat, nothing repeats).
    ``integral(weights)``: the weights as a tuple, of ints when above protocol 2 and all
    of them are whole numbers (term frequencies, mostly)."""

    def __init__(self, protocol: int) -> None:
        self.protocol = protocol
        if protocol <= 2:
            return
        self._buffer = io.BytesIO()
        self._pickler = pickle.Pickler(self._buffer, protocol)
        self._pickler.fast = True  # no memo

    def dumps(self, obj: Any) -> bytes:
        if self.protocol <= 2:
            return dumps(obj, self.protocol)
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._pickler.dump(obj)
        return buffer.getvalue()

    def integral(self, weights: array[float]) -> tuple[float, ...] | tuple[int, ...]:
        floats = tuple(weights)
        if self.protocol <= 2:
            return floats
        ints = tuple(map(int, weights))
        return ints if ints == floats else floats


def _length_range(lbytes: bytes | None, ids: array[int]) -> tuple[int, int]:
    """The smallest non-zero and the largest length byte of the documents ``ids`` (0, 0
    for a field without lengths), as W3PostingsWriter records them."""
    if lbytes is None:
        return 0, 0
    lens = bytes(map(lbytes.__getitem__, ids))
    top = max(lens)
    return (min(lens.replace(b"\x00", b"")) if top else 0), top


class BulkWriter(SegmentWriter):
    """Whoosh's SegmentWriter with a :class:`_TermPool`: the same segment, written in bulk.

    Dutch text fields (:class:`~kvsearch.schema.DutchText`) hand over their terms with
    frequencies or positions in one dict per document; any other field, and postings merged
    from other segments, go in as Whoosh's writer would take them.
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        if COMPACT_TERM_INFOS:
            kwargs.setdefault("codec", KvCodec())
        super().__init__(ix, **kwargs)
        self.pool = _TermPool()
        self._analysed: dict[tuple[str, float, Any], tuple[str, Any, int]] = {}
        # The stored fields' column: PickleColumn(CompressedBytesColumn()) as Whoosh
        # reads it, written with PICKLE_PROTOCOL and STORED_LEVEL, and with its offsets
        # from STORED_OFFSETS_CUTOFF documents on (VarBytesColumn's writer's cutoff).
        columns = self.perdocwriter._colwriters
        compressed = columns["_stored"]._child
        compressed._level = STORED_LEVEL
        compressed.cutoff = STORED_OFFSETS_CUTOFF
        columns["_stored"] = _StoredFieldsWriter(compressed, PICKLE_PROTOCOL)
        for name, fieldobj in self.schema.items():
            if fieldobj.vector or fieldobj.separate_spelling():
                self.cancel()
                raise TypeError(f"BulkWriter cannot write vectors or spelling ({name})")

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        analysed = self._analysed
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    # Short values repeat (names, parties, roles, dates): analysed once.
                    key = (
                        (fieldname, fieldboost, value)
                        if type(value) is int or (type(value) is str and len(value) <= 200)
                        else None
                    )
                    found = analysed.get(key) if key is not None else None
                    if found is None:
                        found = self._analyse(field, value, fieldboost)
                        # Generic postings share their value objects when reused, which a
                        # pickle with a memo (protocol 2) would write as references.
                        if key is not None and (found[0] != "generic" or PICKLE_PROTOCOL > 2):
                            if len(analysed) >= _ANALYSED_LIMIT:
                                analysed.clear()
                            analysed[key] = found
                    kind, postings, length = found
                    if kind == "positions":
                        pool.add_positions(fieldname, docnum, postings)
                    elif kind == "freqs":
                        pool.add_frequencies(fieldname, docnum, postings)
                    else:
                        for tbytes, weight, vbytes in postings:
                            pool.add((fieldname, tbytes, docnum, weight, vbytes))
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(
                    fieldname, field, customval if field.stored else None, length
                )
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(
                        fieldname, column, field.to_column_value(customval)
                    )
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    @staticmethod
    def _analyse(field: Any, value: Any, fieldboost: float) -> tuple[str, Any, int]:
        """``(kind, postings, length)`` of a field value: kind "positions" or "freqs" with
        the postings of :meth:`DutchText.bulk_postings`, or "generic" with a list of
        ``(term bytes, weight, value bytes)``; length is the field length (0 for a field
        that is not scorable). The caller must not change what it gets."""
        bulk_postings = getattr(field, "bulk_postings", None)
        bulk = bulk_postings(value) if bulk_postings and fieldboost == 1.0 else None
        scorable = field.scorable
        if bulk is not None:
            kind, postings = bulk
            length = 0
            if scorable:
                if kind == "positions":
                    length = sum(map(len, postings.values()))
                else:
                    length = sum(postings.values())
            return kind, postings, length
        items = []
        length = 0
        for tbytes, freq, weight, vbytes in field.index(value):
            if scorable:
                length += freq
            items.append((tbytes, weight * fieldboost, vbytes))
        return "generic", items, length

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader()
        try:
            self.pool.write(self.fieldwriter, self.schema, _length_bytes(pdr))
        finally:
            pdr.close()
        self.fieldwriter.close()


class _StoredFieldsWriter(WrappedColumnWriter):
    """Whoosh's PickleColumn writer with another pickle protocol (Whoosh's: 2, which
    stores bytes as latin-1 text, re-encoded as UTF-8: 1.5 times the bytes of a
    compressed document)."""

    def __init__(self, child: Any, protocol: int) -> None:
        super().__init__(child)
        self._protocol = protocol

    def add(self, docnum: int, value: Any) -> None:
        self._child.add(docnum, b"" if value is None else dumps(value, self._protocol))


def _length_bytes(pdr: Any) -> Callable[[str], bytes | None]:
    """``lengths(fieldname)``: the field's length byte of every document of the segment
    being written (None for a field without lengths)."""

    def lengths(fieldname: str) -> bytes | None:
        name = f"_{fieldname}_len"
        if not pdr.has_column(name):
            return None
        reader = pdr.column_reader(name, LENGTHS_COLUMN)
        return bytes(reader[d] for d in range(pdr.doc_count_all()))

    return lengths
