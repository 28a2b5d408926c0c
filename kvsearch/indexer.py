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
import os
import re
import shutil
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from kvsearch import __version__, store
from kvsearch.analysis import (
    Lexicon,
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
from kvsearch.schema import LEXICON_FILE, date_number, document, make_schema, version_record
from kvsearch.store import FileRecord

#: Memory for Whoosh's posting pool, in MB: below what the index needs, Whoosh sorts runs
#: on disk and merges them, which costs more than the memory.
LIMITMB = 1024
#: Processes that analyse and write documents in a full build (Whoosh's multi-process
#: writer); an update always writes with one.
PROCS = 1

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
        with store.writer_lock(target, wait=wait):
            store.pause_point("locked")
            _locked_run(src, target, full, report, report_progress)
    except OSError as exc:
        raise IndexWriteError(store.write_error_message(target, exc)) from None
    report.seconds = time.perf_counter() - started
    return report


def _locked_run(
    src: Path, target: Path, full: bool, report: BuildReport, progress: ProgressCallback
) -> None:
    with _gc_paused():  # bookkeeping of every source file: no cycles to collect
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
        files = _scan(
            src, paths, old, report, progress, retry_failed=_parser_changed(live), lexicon=counter
        )
        lexicon = base.lexicon if base else counter.lexicon()  # type: ignore[union-attr]
        register(lexicon)
        if base is None:
            # Stemmed once here, not by the analysis of each document: the same work, and
            # the writer's processes (forked later) find them in the cache they inherit.
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
        with _gc_paused():
            records = plan.records()
            same = (
                base is not None
                and not written
                and not plan.deletes
                and _same_records(records, base.records, src, base.manifest)
            )
        if same:
            shutil.rmtree(tmp, ignore_errors=True)  # nothing changed: keep the generation
            report.published = False
        else:
            _verify(tmp, plan.indexed)
            _store_stems(tmp, lexicon, base)
            with _gc_paused():
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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: bookkeeping makes a few objects per source
    file (hundreds of thousands at 90,000 files), and every full collection on the way
    would walk them all (a third of the time of reading the file records)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """Collections inside leave alone the objects that exist on entry (the records and
    files of the bookkeeping, which live until the end of the run); they are handed back
    to the collector on exit."""
    gc.freeze()
    try:
        yield
    finally:
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
        for kv_id, group in self.units:
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
            doc = self._parse_file(f, expect)
        finally:
            self.progress(Progress("parse", self.parsed, self.to_parse, str(f.path)))
        return doc

    def _parse_file(self, f: _File, expect: str | None) -> dict[str, Any] | None:
        path = str(f.path)
        try:
            data = _read(f.path)
        except OSError as exc:
            self.report.skipped.append(Skipped(path, 0, _read_problem(exc)))
            return None
        f.digest = _digest(data)
        try:
            text, encoding = decode_bytes(data, path)
            kv = parse_text(text, path)
        except ParseError as exc:
            self.report.skipped.append(Skipped(exc.path, exc.line, exc.reason))
            f.record = _record(f, FAILED, f.kv_id or "", line=exc.line, reason=exc.reason)
            return None
        if expect is not None and kv.id != expect:  # the number changed while we read
            reason = f"its number changed to {kv.id} while it was being indexed; run again"
            self.report.skipped.append(Skipped(path, 1, reason))
            return None
        if encoding == "cp1252":
            self.report.warnings.append(
                FileWarning(path, "read as Windows-1252, not UTF-8 (save it as UTF-8)")
            )
        f.record = _record(
            f,
            INDEXED,
            kv.id,
            questions=len(kv.questions),
            asked=date_number(kv.asked),
            encoding=encoding,
        )
        return document(kv)

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

    A full build creates the index; an update opens the linked copy of the live
    generation (only when there is something to change), adds the new documents and
    deletes the replaced and vanished ones.
    """
    ix = None if update else whoosh_index.create_in(str(tmp), make_schema(lexicon.key))
    writer = None
    count = 0
    try:
        for doc in plan.documents():
            if writer is None:
                ix, writer = _open_writer(tmp, ix, update)
            writer.add_document(**doc)
            count += 1
            if count == 1:
                store.pause_point("writing")
        if plan.deletes and writer is None:
            ix, writer = _open_writer(tmp, ix, update)
        # Deleting after adding is safe: a writer deletes only from the segments that
        # were there when it opened, never from the one it is writing.
        for kv_id in sorted(plan.deletes):
            writer.delete_by_term("id", kv_id)  # type: ignore[union-attr]
        if writer is not None:
            plan.progress(Progress("update" if update else "commit", count, plan.indexed))
            writer.commit()
            writer = None
            store.pause_point("committed")
    finally:
        if writer is not None:
            writer.cancel()
        if ix is not None:
            ix.close()
    return count


def _open_writer(tmp: Path, ix: Any, update: bool) -> tuple[Any, Any]:
    if ix is None:
        ix = whoosh_index.open_dir(str(tmp))
    # Whoosh-Reloaded's multi-process writer can silently drop documents unless every
    # process writes its own segment (multisegment=True); the count is verified after the
    # commit in any case. Its BufferedWriter scrambles sortable columns: not used.
    if PROCS > 1 and not update:
        return ix, ix.writer(limitmb=LIMITMB, procs=PROCS, multisegment=True)
    return ix, ix.writer(limitmb=LIMITMB)


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
