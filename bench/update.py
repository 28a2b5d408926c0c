#!/usr/bin/env python3
"""Time an incremental `kvsearch index` after a fixed change set: N files changed, N added,
N removed (default 100 each), against the index of the unchanged folder.

    python bench/update.py /tmp/tk90 --work /tmp/kvsearch-update --runs 5
    python bench/update.py /tmp/tk90 --work /tmp/kvsearch-update --index /tmp/tk90-ix --runs 5
    python bench/update.py /tmp/tk90 --work /tmp/kvsearch-update --profile /tmp/update.prof

The corpus is copied once to WORK/src (never modified in place: the change set is applied
to the copy and undone after every run). The starting index WORK/base is built once with
`kvsearch index WORK/src` (that build is timed and reported as the full build) or copied
from `--index DIR` (an index of a folder with the same files; the first update after the
copy hashes every file once, so the script runs a settling update before timing). Each
run then:

1. copies WORK/base to WORK/ix (the index as it was before the change set),
2. applies the change set to WORK/src: N answered files get a sentence appended to their
   last answer, N copies of other answered files are added under new numbers
   2099Z0NNNN (first line and file name), N other files are removed; which files is fixed
   by ``--seed`` (the corpus files sorted by path, shuffled with that seed),
3. runs `kvsearch --index WORK/ix index WORK/src` in a fresh process and takes its wall
   time, its CPU time (user + system, from wait4) and its summary line, which must say
   "N added, N updated, N removed",
4. undoes the change set (original bytes and mtimes back, added files removed).

It also times an update with nothing changed (the same scan and checks, no writing).
Figures: median, min and max over the runs; the load average before and after.
`--phases` adds one run through bench/update_phases.py: wall and CPU time per phase.
`--rebuild` adds one `kvsearch rebuild` of the same folder, for the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXTRA = " Dit antwoord is voor de benchmark aangevuld met een extra zin."


@dataclass
class ChangeSet:
    """What was changed in the folder, and how to undo it."""

    changed: dict[Path, tuple[bytes, int]] = field(default_factory=dict)  # path: (bytes, mtime)
    added: list[Path] = field(default_factory=list)
    removed: dict[Path, tuple[bytes, int]] = field(default_factory=dict)

    def undo(self) -> None:
        for p in self.added:
            p.unlink(missing_ok=True)
        for p, (data, mtime) in {**self.changed, **self.removed}.items():
            p.write_bytes(data)
            os.utime(p, ns=(mtime, mtime))


def pick(src: Path, n: int, seed: int) -> tuple[list[Path], list[Path], list[Path]]:
    """The files to change, to copy (as added files) and to remove: reproducible."""
    files = sorted(src.rglob("*.txt"))
    rng = random.Random(seed)
    rng.shuffle(files)
    answered, others = [], []
    for p in files:
        if p.stem.startswith("2099Z"):
            continue  # left over from an interrupted run
        if "\nBeantwoord " in p.read_text(encoding="utf-8"):
            if len(answered) < 2 * n:
                answered.append(p)
        elif len(others) < n:
            others.append(p)
        if len(answered) >= 2 * n and len(others) >= n:
            break
    if len(answered) < 2 * n or len(others) < n:
        sys.exit(f"the corpus is too small for a change set of {n}")
    return answered[:n], answered[n:], others


def apply_changes(src: Path, n: int, seed: int) -> ChangeSet:
    change, copy_from, remove = pick(src, n, seed)
    cs = ChangeSet()
    for p in change:
        data = p.read_bytes()
        cs.changed[p] = (data, p.stat().st_mtime_ns)
        lines = data.decode("utf-8").split("\n")
        last = max(i for i, ln in enumerate(lines) if ln.startswith("  ") and ln.strip())
        lines[last] += EXTRA
        p.write_text("\n".join(lines), encoding="utf-8")
    for i, p in enumerate(copy_from):
        new = f"2099Z{i:05d}"
        target = p.parent / f"{new}.txt"
        cs.added.append(target)
        target.write_text(p.read_text(encoding="utf-8").replace(p.stem, new), encoding="utf-8")
    for p in remove:
        cs.removed[p] = (p.read_bytes(), p.stat().st_mtime_ns)
        p.unlink()
    return cs


@dataclass
class Timed:
    wall: float
    cpu: float
    rc: int
    out: str


def run_kvsearch(
    pythonpath: Path, *cmd: str, profile: str | None = None, phases: bool = False
) -> Timed:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    prof = ["-m", "cProfile", "-o", profile] if profile else []
    main = [str(Path(__file__).with_name("update_phases.py"))] if phases else ["-m", "kvsearch"]
    argv = [sys.executable, *prof, *main, *cmd]
    t0 = time.perf_counter()
    # cwd: not a checkout, or `python -m kvsearch` would import the kvsearch found there.
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tempfile.gettempdir()
    )
    out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return Timed(wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status), out)


def summary(out: str) -> str:
    for line in out.splitlines():
        if line.startswith(("Updated", "Indexed", "Error", "The index")):
            return line.strip()
    return out.strip().splitlines()[-1] if out.strip() else ""


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def fmt(values: list[float]) -> str:
    s = stats(values)
    return f"{s['median']:.2f} s (min {s['min']:.2f}, max {s['max']:.2f})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def copy_index(base: Path, ix: Path) -> None:
    shutil.rmtree(ix, ignore_errors=True)
    shutil.copytree(base, ix, symlinks=True)
    os.sync()  # the copy must not leave the update's fsync hundreds of MB to write


def settle(pythonpath: Path, base: Path, src: Path) -> None:
    """Update the base index so that it knows the folder's files exactly as they are now
    (undoing a change set gives the restored files new times and inodes)."""
    t = run_kvsearch(pythonpath, "--index", str(base), "index", str(src))
    print(f"  settling update of {base.name}: {t.wall:.2f} s: {summary(t.out)}", flush=True)
    if t.rc:
        sys.exit(t.out)


def changed_run(
    pythonpath: Path, base: Path, ix: Path, src: Path, args: argparse.Namespace, **kw: Any
) -> Timed:
    """The update after the change set, on a fresh copy of ``base``; the set is undone."""
    settle(pythonpath, base, src)
    copy_index(base, ix)
    cs = apply_changes(src, args.n, args.seed)
    try:
        return run_kvsearch(pythonpath, "--index", str(ix), "index", str(src), **kw)
    finally:
        cs.undo()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("corpus", type=Path, help="the corpus folder (not modified)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/kvsearch-update"))
    ap.add_argument("--index", type=Path, help="an index of the corpus to start from")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=100, help="files changed, added and removed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--pythonpath",
        type=Path,
        action="append",
        help="where kvsearch is imported from (default: this checkout); give it twice or "
        "more to compare versions, run by run in turn, each on its own copy of the index",
    )
    ap.add_argument("--profile", help="also run once under cProfile, writing this file")
    ap.add_argument("--phases", action="store_true", help="also one run timed per phase")
    ap.add_argument("--rebuild", action="store_true", help="also time `kvsearch rebuild`")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    versions: list[Path] = args.pythonpath or [REPO]

    work = args.work.resolve()
    src, base, ix = work / "src", work / "base", work / "ix"
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"load_start": load(), "n": args.n, "seed": args.seed}
    print(f"load average {res['load_start']}", flush=True)
    if not src.is_dir():
        print(f"copying {args.corpus} to {src}", flush=True)
        shutil.copytree(args.corpus, src, symlinks=True)
    for leftover in src.rglob("2099Z*.txt"):
        leftover.unlink()
    if not base.is_dir():
        if args.index:
            print(f"copying the index {args.index} to {base}", flush=True)
            copy_index(args.index, base)
        else:
            print(f"building {base} (full build)", flush=True)
            t = run_kvsearch(versions[0], "--index", str(base), "index", "-q", str(src))
            print(f"full build: {t.wall:.1f} s wall, {t.cpu:.1f} s CPU: {summary(t.out)}")
            if t.rc:
                sys.exit(t.out)
            res["full_build"] = {"wall": t.wall, "cpu": t.cpu}
    # One base per version: versions may write the index differently.
    bases = [base] if len(versions) == 1 else [work / f"base-{i}" for i in range(len(versions))]
    for b in bases:
        if not b.is_dir():
            copy_index(base, b)

    expect = re.compile(rf"{args.n} added, {args.n} updated, {args.n} removed")
    figures: dict[str, dict[str, list[float]]] = {
        str(v): {"wall": [], "cpu": [], "noop_wall": [], "noop_cpu": []} for v in versions
    }
    for i in range(args.runs):
        for version, vbase in zip(versions, bases, strict=True):
            fig = figures[str(version)]
            settle(version, vbase, src)
            copy_index(vbase, ix)
            t = run_kvsearch(version, "--index", str(ix), "index", str(src))
            if t.rc or "0 added, 0 updated, 0 removed" not in t.out:
                sys.exit(f"no-op update failed: {t.out}")
            fig["noop_wall"].append(t.wall)
            fig["noop_cpu"].append(t.cpu)
            t = changed_run(version, vbase, ix, src, args)
            line = summary(t.out)
            print(
                f"run {i + 1}/{args.runs} {version}: {t.wall:.2f} s wall, {t.cpu:.2f} s CPU "
                f"(no change: {fig['noop_wall'][-1]:.2f} s wall, {fig['noop_cpu'][-1]:.2f} s "
                f"CPU); {line}",
                flush=True,
            )
            if t.rc or not expect.search(t.out):
                sys.exit(f"unexpected output: {t.out}")
            fig["wall"].append(t.wall)
            fig["cpu"].append(t.cpu)
            res["summary"] = line
    if args.profile:
        t = changed_run(versions[-1], bases[-1], ix, src, args, profile=args.profile)
        print(f"profiled run: {t.wall:.2f} s wall (under cProfile) -> {args.profile}")
    if args.phases:
        for version, vbase in zip(versions, bases, strict=True):
            t = changed_run(version, vbase, ix, src, args, phases=True)
            print(
                f"\n{version}: where the time goes (one more run, {t.wall:.2f} s wall, "
                f"{t.cpu:.2f} s CPU):"
            )
            print("\n".join(ln for ln in t.out.splitlines() if "  " in ln or "phase" in ln))
    if args.rebuild:
        settle(versions[-1], bases[-1], src)
        copy_index(bases[-1], ix)
        t = run_kvsearch(versions[-1], "--index", str(ix), "rebuild", "-q", str(src))
        print(f"rebuild: {t.wall:.1f} s wall, {t.cpu:.1f} s CPU: {summary(t.out)}")
        res["rebuild"] = {"wall": t.wall, "cpu": t.cpu}
    shutil.rmtree(ix, ignore_errors=True)
    res["load_end"] = load()
    res["runs"] = args.runs
    res["versions"] = {v: {k: stats(x) for k, x in f.items()} for v, f in figures.items()}
    print(f"\nupdate ({args.n} changed, {args.n} added, {args.n} removed), {args.runs} runs:")
    for version, fig in figures.items():
        if len(versions) > 1:
            print(f"{version}:")
        print(f"  wall {fmt(fig['wall'])}")
        print(f"  CPU  {fmt(fig['cpu'])}")
        print(f"  no change: wall {fmt(fig['noop_wall'])}; CPU {fmt(fig['noop_cpu'])}")
        if "rebuild" in res and version == str(versions[-1]):
            full = res["rebuild"]["wall"]
            print(f"  update / rebuild = {statistics.median(fig['wall']) / full:.1%}")
    print(f"load average {res['load_start']} at start, {res['load_end']} at end")
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
