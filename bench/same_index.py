"""Build one folder with two checkouts and compare the two indexes byte for byte.

    python bench/same_index.py SOURCE_DIR --repo OLD [--repo NEW] [--procs N] [--segment-docs N]

Each build runs in its own process (``--repo`` decides which kvsearch it imports; the
second defaults to this checkout). The indexes must hold the same segments, in the same
order, each with the same files byte for byte (named without Whoosh's random segment id),
plus the same lexicon and the same documents; the stored source-file records and the
manifest are compared without their times. Exit status 1 when anything differs.

A speed-up of the build must leave this unchanged: the same terms, frequencies,
positions, stored fields and columns, and the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def _build(
    repo: Path, source: Path, out: Path, procs: int | None, segment_docs: int | None
) -> None:
    sys.path.insert(0, str(repo))
    from kvsearch import indexer

    if procs is not None:
        indexer.PROCS = procs
    if segment_docs is not None:
        indexer.SEGMENT_DOCS = segment_docs
    indexer.build_index(source, out)


def _generation(index: Path) -> Path:
    manifest = json.loads((index / "kvsearch-index.json").read_text(encoding="utf-8"))
    return index / manifest["generation"]


def _segments(gen: Path) -> list[dict[str, bytes]]:
    """The segment files of a generation, per segment in table-of-contents order, by
    name without the segment id."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(gen))
    try:
        ids = [seg.segment_id() for seg in ix._segments()]
    finally:
        ix.close()
    out = []
    for seg_id in ids:
        files = {}
        for path in sorted(gen.iterdir()):
            if path.name.startswith(seg_id):
                if path.name.endswith(".seg"):
                    # A compound file: its directory holds names and times; compare
                    # the files inside it.
                    files.update(_compound(path, seg_id))
                else:
                    files[path.name[len(seg_id) :]] = path.read_bytes()
        out.append(files)
    return out


def _compound(path: Path, seg_id: str) -> dict[str, bytes]:
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.structfile import StructFile

    with open(path, "rb") as f:
        storage = CompoundStorage(StructFile(f), use_mmap=False)
        out = {}
        for name in storage.list():
            with storage.open_file(name) as sub:
                out[f"[{name.replace(seg_id, '')}]"] = sub.read()
        return out


def _records(gen: Path) -> list[Any]:
    with gzip.open(gen / "kvsearch-files.json", "rt", encoding="utf-8") as f:
        data = json.load(f)
    return data


def compare(a: Path, b: Path) -> list[str]:
    problems = []
    ga, gb = _generation(a), _generation(b)
    sa, sb = _segments(ga), _segments(gb)
    files = sum(len(f) for f in sa)
    size = sum(len(v) for f in sa for v in f.values())
    print(f"{len(sa)} segments, {files} segment files, {size / 1e6:.1f} MB compared")
    if len(sa) != len(sb):
        problems.append(f"{len(sa)} segments against {len(sb)}")
    for k, (fa, fb) in enumerate(zip(sa, sb, strict=False)):
        if sorted(fa) != sorted(fb):
            problems.append(f"segment {k}: files {sorted(fa)} against {sorted(fb)}")
        for name in sorted(set(fa) & set(fb)):
            if fa[name] != fb[name]:
                problems.append(
                    f"segment {k}: {name} differs ({len(fa[name])} bytes against {len(fb[name])})"
                )
    for name in ("lexicon.json.gz", "stems.json.gz"):
        da, db = (g / name for g in (ga, gb))
        if gzip.decompress(da.read_bytes()) != gzip.decompress(db.read_bytes()):
            problems.append(f"{name} differs")
    ra, rb = _records(ga), _records(gb)
    if _timeless(ra) != _timeless(rb):
        problems.append("the file records differ")
    ma, mb = (json.loads((x / "kvsearch-index.json").read_text()) for x in (a, b))
    if _timeless(ma) != _timeless(mb):
        problems.append("the manifests differ")
    return problems


_TIMES = {"generation", "built", "updated", "files", "racy"}


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--repo", type=Path, action="append", default=[])
    ap.add_argument("--procs", type=int)
    ap.add_argument("--segment-docs", type=int)
    ap.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_into is not None:
        _build(args.repo[0], args.source, args.build_into, args.procs, args.segment_docs)
        return
    repos = args.repo + [HERE.parent.parent] * (2 - len(args.repo))
    if len(repos) != 2:
        ap.error("give one or two --repo")
    work = Path(tempfile.mkdtemp(prefix="kvsearch-same-index-"))
    indexes = []
    for k, repo in enumerate(repos):
        out = work / f"index{k}"
        cmd = [sys.executable, str(HERE), str(args.source), "--repo", str(repo)]
        cmd += ["--build-into", str(out)]
        if args.procs is not None:
            cmd += ["--procs", str(args.procs)]
        if args.segment_docs is not None:
            cmd += ["--segment-docs", str(args.segment_docs)]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run(cmd, check=True, env=env, cwd=work)
        indexes.append(out)
    sys.path.insert(0, str(repos[1]))
    problems = compare(*indexes)
    subprocess.run(["rm", "-rf", str(work)], check=False)
    for problem in problems:
        print(problem)
    print(f"{repos[0]} and {repos[1]}: " + ("DIFFERENT" if problems else "the same index"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
