"""Build and rebuild an index from a folder of Kamervragen text files.

A build never touches the live index: it writes a new generation in a temporary folder
inside the index folder, checks that it holds exactly the documents that were parsed,
and only then switches the manifest over (see :mod:`kvsearch.store`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from kvsearch import __version__, store
from kvsearch.analysis import Lexicon, register
from kvsearch.errors import IndexIntegrityError, KvsearchError, ParseError, SourceError
from kvsearch.parse import parse_file
from kvsearch.schema import LEXICON_FILE, document, make_schema, version_record

#: Memory for Whoosh's posting pool, in MB: below what the index needs, Whoosh sorts runs
#: on disk and merges them, which costs more than the memory.
LIMITMB = 1024
#: Processes that analyse and write documents (Whoosh's multi-process writer).
PROCS = 1

#: The bundled sample corpus: 36 real Kamervragen of 2024.
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


@dataclass(frozen=True)
class Progress:
    """A progress report: ``phase`` is "scan", "parse" or "commit"."""

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


@dataclass
class BuildReport:
    source: str
    index_dir: str
    indexed: int = 0
    questions: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


ProgressCallback = Callable[[Progress], None]


def _no_progress(_event: Progress) -> None:
    return None


def find_files(source: Path) -> list[Path]:
    """Every ``*.txt`` below ``source``, sorted; symlinked folders are not followed."""
    found: list[Path] = []
    for root, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(".txt") and not name.startswith("."):
                found.append(Path(root) / name)
    return found


def _first_line_id(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.readline(200)
    except OSError:
        return None
    text = head.decode("utf-8", "replace").lstrip("\ufeff").strip()
    if text.startswith("Kamervraag "):
        return text.split(None, 1)[1].strip().upper() or None
    return None


def _choose_files(files: list[Path], skipped: list[Skipped]) -> list[Path]:
    """Drop the older file of two with the same Kamervraag number, and report it."""
    owner: dict[str, Path] = {}
    for path in files:
        kv_id = _first_line_id(path)
        if kv_id is None:
            continue
        other = owner.get(kv_id)
        if other is None:
            owner[kv_id] = path
            continue
        newer, older = (path, other) if _mtime(path) >= _mtime(other) else (other, path)
        owner[kv_id] = newer
        skipped.append(
            Skipped(
                str(older), 1, f"duplicate of Kamervraag {kv_id}; {newer} is newer and was indexed"
            )
        )
    losers = {s.path for s in skipped}
    return [p for p in files if str(p) not in losers]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def build_index(
    source: str | os.PathLike[str],
    index_dir: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    wait: float = 30.0,
) -> BuildReport:
    """Index every Kamervraag below ``source`` into a new generation of ``index_dir``.

    Files that fail to parse are reported in ``BuildReport.skipped`` and left out. Raises
    :class:`SourceError` when nothing could be indexed, and
    :class:`IndexIntegrityError` when the index does not hold every parsed document; in
    both cases the index that was there is left as it was.
    """
    started = time.perf_counter()
    report_progress = progress or _no_progress
    src = Path(source).expanduser()
    if not src.is_dir():
        raise SourceError(f"source folder {src} does not exist or is not a folder")
    src = src.resolve()
    target = Path(index_dir).expanduser()
    store.check_target(target)
    report = BuildReport(source=str(src), index_dir=str(target))
    with store.writer_lock(target, wait=wait):
        store.remove_stale(target, keep=_live_generation(target))
        report_progress(Progress("scan", 0, 0, str(src)))
        files = find_files(src)
        if not files:
            raise SourceError(
                f"no .txt files found in {src}; point kvsearch at a folder of Kamervragen"
            )
        files = _choose_files(files, report.skipped)
        tmp = store.new_tmp_dir(target)
        try:
            count = _write(tmp, files, report, report_progress)
            if count == 0:
                raise SourceError(
                    f"none of the {len(report.skipped)} files in {src} could be indexed "
                    f"(first problem: {report.skipped[0]}); the index was not changed"
                )
            report_progress(Progress("commit", count, count))
            _verify(tmp, count)
            report.indexed = count
            report.seconds = time.perf_counter() - started
            manifest = {
                **version_record(),
                "kvsearch_version": __version__,
                "source": str(src),
                "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "documents": count,
                "questions": report.questions,
                "skipped": len(report.skipped),
            }
            published = store.publish(target, tmp, manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        store.remove_stale(target, keep=published["generation"])
    report.seconds = time.perf_counter() - started
    return report


def _live_generation(target: Path) -> str | None:
    try:
        return str(store.read_manifest(target)["generation"])
    except KvsearchError:
        return None


def _parsed(files: list[Path], report: BuildReport, progress: ProgressCallback) -> Iterator[dict]:
    total = len(files)
    for done, path in enumerate(files, 1):
        try:
            kv = parse_file(path)
        except ParseError as exc:
            report.skipped.append(Skipped(exc.path, exc.line, exc.reason))
        except OSError as exc:
            report.skipped.append(Skipped(str(path), 0, f"cannot read: {exc.strerror or exc}"))
        else:
            report.questions += len(kv.questions)
            yield document(kv)
        progress(Progress("parse", done, total, str(path)))


_WORD_RE = re.compile(r"\w+")
_PEOPLE_LINE_RE = re.compile(
    r"^(?:Indieners?|Beantwoord door)[ \t]+(.*)$", re.MULTILINE | re.IGNORECASE
)
_PARENS_RE = re.compile(r"\([^)]*\)")


def scan_lexicon(files: list[Path], progress: ProgressCallback) -> Lexicon:
    """The corpus lexicon: word frequencies, and the personal names of the metadata that
    the text nearly always capitalises (so "Rutte" is a name, "Helder" is not)."""
    counts: Counter[str] = Counter()
    name_words: set[str] = set()
    total = len(files)
    for done, path in enumerate(files, 1):
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        counts.update(_WORD_RE.findall(text))
        for line in _PEOPLE_LINE_RE.findall(text):
            name_words.update(_WORD_RE.findall(_PARENS_RE.sub(" ", line)))
        if done % 1000 == 0 or done == total:
            progress(Progress("scan", done, total, str(path)))
    lowered: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for word, n in counts.items():
        low = word.lower()
        lowered[low] += n
        if word[:1].isupper():
            capitalised[low] += n
    names = {
        w.lower()
        for w in name_words
        if len(w) > 2 and capitalised[w.lower()] >= 0.9 * lowered[w.lower()]
    }
    return Lexicon.from_counts(lowered, names)


def _write(tmp: Path, files: list[Path], report: BuildReport, progress: ProgressCallback) -> int:
    lexicon = scan_lexicon(files, progress)
    lexicon.save(tmp / LEXICON_FILE)
    register(lexicon)
    ix = whoosh_index.create_in(str(tmp), make_schema(lexicon.key))
    # Whoosh-Reloaded's multi-process writer can silently drop documents unless every
    # process writes its own segment (multisegment=True); the count is verified after the
    # commit in any case. Its BufferedWriter scrambles sortable columns: not used.
    if PROCS > 1:
        writer = ix.writer(limitmb=LIMITMB, procs=PROCS, multisegment=True)
    else:
        writer = ix.writer(limitmb=LIMITMB)
    count = 0
    try:
        for doc in _parsed(files, report, progress):
            writer.add_document(**doc)
            count += 1
    except BaseException:
        writer.cancel()
        raise
    if count:
        writer.commit()
    else:
        writer.cancel()
    ix.close()
    return count


def _verify(tmp: Path, expected: int) -> None:
    ix = whoosh_index.open_dir(str(tmp))
    try:
        stored = ix.doc_count()
    finally:
        ix.close()
    if stored != expected:
        raise IndexIntegrityError(
            f"the new index holds {stored} Kamervragen but {expected} were parsed; "
            "it was discarded and the previous index left in place. Run the command again; "
            "if it persists, report it as a bug"
        )
