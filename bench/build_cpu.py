"""Time one full kvsearch build in this process: wall and CPU seconds, peak RSS.

    python bench/build_cpu.py SOURCE_DIR [--repo PATH] [--procs N] [--segment-docs N]

``--repo`` imports kvsearch from another checkout (e.g. a worktree of an older commit), so
two versions can be compared back to back on the same machine. CPU time is less sensitive
than wall time to other processes on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--segment-docs", type=int)
    ap.add_argument("--procs", type=int)
    args = ap.parse_args()
    sys.path.insert(0, str(args.repo))
    import kvsearch
    from kvsearch import indexer

    if args.segment_docs is not None:
        indexer.SEGMENT_DOCS = args.segment_docs
    if args.procs is not None:
        indexer.PROCS = args.procs
    out = Path(tempfile.mkdtemp(prefix="kvsearch-build-"))
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = indexer.build_index(args.source, out / "index")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        shutil.rmtree(out, ignore_errors=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_rss = children.ru_maxrss / 1024
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{kvsearch.__file__}: {report.indexed} documents, wall {wall:.1f} s, CPU {cpu:.1f} s "
        f"(+ {children.ru_utime + children.ru_stime:.1f} s in child processes), "
        f"peak RSS {rss:.0f} MB (largest child {child_rss:.0f} MB)"
    )


if __name__ == "__main__":
    main()
