#!/usr/bin/env python3
"""Run `kvsearch ARGS...` in this process and print, at exit, the wall and CPU time spent
in each phase of an index update (kvsearch's functions and Whoosh's writer methods,
wrapped; nested phases are counted in their parents too). Used by `bench/update.py
--phases`; by hand:

    PYTHONPATH=. python bench/update_phases.py --index IX index SRC
"""

from __future__ import annotations

import atexit
import functools
import sys
import time
from typing import Any

from whoosh import writing

from kvsearch import analysis, indexer, store

TIMES: dict[str, list[float]] = {}
#: The writer of documents: kvsearch's bulk writer where there is one.
WRITER = getattr(indexer, "BulkWriter", writing.SegmentWriter)


def wrap(owner: Any, name: str, label: str) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            row = TIMES.setdefault(label, [0.0, 0.0, 0])
            row[0] += time.perf_counter() - t0
            row[1] += time.process_time() - c0
            row[2] += 1

    setattr(owner, name, timed)


PHASES = [
    (indexer, "_usable_base", "check the live generation (below: records, lexicon, stems)"),
    (store, "read_records", "  read the file records"),
    (analysis.Lexicon, "load", "  load the lexicon"),
    (indexer, "load_stems", "  load the stems"),
    (store, "check_generation", "  check the generation's file sizes"),
    (indexer, "_doc_count", "count documents (table of contents)"),
    (indexer, "_find", "find the files (walk)"),
    (indexer, "_scan", "stat the files, hash the changed"),
    (indexer._Plan, "__init__", "plan: group by number"),
    (store, "link_generation", "hard-link the generation"),
    (indexer, "_write", "write (below: parse, Whoosh)"),
    (indexer._Plan, "_parse", "  read and parse files"),
    (WRITER, "add_document", "  add_document (analysis)"),
    (writing.IndexWriter, "delete_by_term", "  Whoosh delete_by_term"),
    (WRITER, "commit", "  commit (Whoosh's, or the bulk writer's)"),
    (indexer._Plan, "records", "plan: the new records"),
    (indexer, "_verify", "verify the document count"),
    (indexer, "_store_stems", "store the stems"),
    (store, "write_records", "write the file records"),
    (store, "publish", "publish (fsync, rename, manifest)"),
    (store, "remove_stale", "remove the old generation"),
]
for owner, name, label in PHASES:
    wrap(owner, name, label)
STARTED = (time.perf_counter(), time.process_time())


@atexit.register
def show() -> None:
    out = sys.stderr
    print(f"{'phase':58} {'wall s':>7} {'CPU s':>7} {'calls':>6}", file=out)
    for _owner, _name, label in PHASES:
        if label in TIMES:
            wall, cpu, n = TIMES[label]
            print(f"{label:58} {wall:7.3f} {cpu:7.3f} {n:6d}", file=out)
    wall, cpu = time.perf_counter() - STARTED[0], time.process_time() - STARTED[1]
    print(f"{'total after imports':58} {wall:7.3f} {cpu:7.3f}", file=out)


if __name__ == "__main__":
    from kvsearch.cli import main

    sys.argv = ["kvsearch", *sys.argv[1:]]
    main()
