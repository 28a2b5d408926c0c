#!/usr/bin/env python3
"""kvsearch performance benchmark: kvsearch against naive Whoosh, tantivy and grep.

    python bench/run.py --sizes 2000 --runs 1          # smoke run, about a minute
    python bench/run.py                                # full: 43k and 90k, 3 runs each

See bench/README.md for what each section measures and which targets it checks.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import measure
import queries_mix

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SECTIONS = ("build", "query", "cli", "update", "startup")
BASELINES = ("naive", "tantivy", "grep")
SIZES = {"43k": (42994, False), "90k": (90000, True)}
CLI_WORDS = 8  # the first N single-word, unfiltered queries of the mix are used for the CLI
MB = 1024 * 1024


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    section: str
    system: str
    size: str
    metric: str
    unit: str
    median: float | None
    min: float | None = None
    max: float | None = None
    runs: int = 1
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)

    def add(self, section, system, size, metric, unit, values, note="") -> None:
        values = [v for v in values if v is not None]
        if not values:
            self.rows.append(Row(section, system, size, metric, unit, None, note=note))
            return
        s = measure.summary(values)
        self.rows.append(
            Row(
                section,
                system,
                size,
                metric,
                unit,
                s["median"],
                s["min"],
                s["max"],
                len(values),
                note,
            )
        )

    def na(self, section, system, size, metric, note) -> None:
        self.rows.append(Row(section, system, size, metric, "", None, note=note))

    def get(self, section, system, size, metric) -> float | None:
        for r in self.rows:
            if (r.section, r.system, r.size, r.metric) == (section, system, size, metric):
                return r.median
        return None


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.1f}ms" if value < 1 else f"{value:.2f}s"
    if unit == "MB":
        return f"{value:.0f}MB" if value >= 10 else f"{value:.1f}MB"
    if unit in ("docs/s", "bytes", "count"):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def print_table(res: Results, out=sys.stdout) -> None:
    head = ("section", "system", "size", "metric", "median", "min", "max", "n", "note")
    lines = [head]
    for r in res.rows:
        lines.append(
            (
                r.section,
                r.system,
                r.size,
                r.metric,
                fmt(r.median, r.unit),
                fmt(r.min, r.unit),
                fmt(r.max, r.unit),
                str(r.runs) if r.median is not None else "-",
                r.note[:70],
            )
        )
    widths = [max(len(x[i]) for x in lines) for i in range(len(head) - 1)]
    for ln in lines:
        print("  ".join(c.ljust(w) for c, w in zip(ln[:-1], widths, strict=True)), ln[-1], file=out)


# --------------------------------------------------------------------------- setup


@dataclass
class Ctx:
    args: argparse.Namespace
    work: Path
    shared: Path
    res: Results
    env: dict[str, str]
    kv_cmd: list[str]
    log: list[str] = field(default_factory=list)

    def say(self, msg: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {msg}", file=sys.stderr, flush=True)

    def enabled(self, system: str) -> bool:
        return system not in self.args.skip


def parse_sizes(text: str) -> list[tuple[str, int, bool]]:
    out = []
    for item in text.split(","):
        item = item.strip()
        if item in SIZES:
            out.append((item, *SIZES[item]))
        elif item.isdigit():
            out.append((item, int(item), False))
        else:
            raise SystemExit(f"--sizes: {item!r} is neither 43k, 90k nor a document count")
    return out


def ensure_corpus(ctx: Ctx, label: str, count: int, nested: bool) -> Path:
    target = ctx.work / f"tk-{label}"
    if target.is_dir():
        return target
    tmp = ctx.work / f"tk-{label}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    script = ctx.shared / "corpus" / "make_corpus.py"
    cmd = [sys.executable, str(script), "tk", "--out", str(tmp), "--count", str(count)]
    if nested:
        cmd.append("--nested")
    ctx.say(f"generating corpus {label}: {' '.join(cmd)}")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    tmp.rename(target)
    return target


def kvsearch_command(args: argparse.Namespace) -> list[str]:
    if args.kvsearch_cmd:
        return args.kvsearch_cmd.split()
    return [sys.executable, "-m", "kvsearch"]


def compile_bytecode(package: Path) -> None:
    """Compile the bytecode of the kvsearch imported from a checkout, as pip does when it
    installs a package. Without it every CLI process compiles the sources again where
    PYTHONDONTWRITEBYTECODE is set (as on the benchmark machine): 0.1 s a command."""
    if package.is_dir():
        compileall.compile_dir(str(package), quiet=1)


def kvsearch_present(ctx: Ctx, module: str = "kvsearch.indexer") -> str | None:
    """None if module imports in the benchmark's environment, else the reason."""
    code = f"import {module}"
    p = subprocess.run([sys.executable, "-c", code], env=ctx.env, capture_output=True, text=True)
    if p.returncode == 0:
        return None
    return (p.stderr.strip().splitlines() or ["?"])[-1][:120]


# --------------------------------------------------------------------------- 1. build


def build_cmd(ctx: Ctx, system: str, src: Path, idx: Path) -> list[str]:
    if system == "kvsearch":
        return [*ctx.kv_cmd, "--index", str(idx), "index", str(src)]
    return [sys.executable, str(BENCH / "baselines.py"), "build", system, str(src), str(idx)]


def index_dir(ctx: Ctx, system: str, label: str) -> Path:
    return ctx.work / f"idx-{system}-{label}"


def do_build(ctx: Ctx, system: str, src: Path, idx: Path) -> measure.Measured:
    shutil.rmtree(idx, ignore_errors=True)
    marker = idx.with_name(idx.name + ".ok")
    marker.unlink(missing_ok=True)
    m = measure.run_measured(build_cmd(ctx, system, src, idx), env=ctx.env)
    if m.ok:
        marker.write_text(json.dumps({"wall": m.wall}))
    return m


def section_build(ctx: Ctx, label: str, src: Path, ndocs: int, corpus_bytes: int) -> None:
    for system in ("kvsearch", "naive", "tantivy"):
        if not ctx.enabled(system):
            continue
        if system == "kvsearch" and (why := kvsearch_present(ctx)):
            ctx.res.na("build", system, label, "wall", f"kvsearch not available: {why}")
            continue
        runs = ctx.args.runs
        if system == "naive" and ndocs > 50000:
            runs = 1  # pure-Python Whoosh at 90k takes a long time: once is enough
        walls, peaks, maxrss, sizes, errs = [], [], [], [], []
        for i in range(runs):
            ctx.say(f"build {system} {label} run {i + 1}/{runs}")
            m = do_build(ctx, system, src, index_dir(ctx, system, label))
            if not m.ok:
                errs.append(m.error())
                ctx.say(f"  failed: {m.error()}")
                continue
            walls.append(m.wall)
            peaks.append(m.peak_tree_rss / MB)
            maxrss.append(m.ru_maxrss / MB)
            sizes.append(measure.dir_bytes(str(index_dir(ctx, system, label))))
            ctx.say(f"  {m.wall:.1f}s, peak tree RSS {m.peak_tree_rss / MB:.0f}MB")
        note = errs[0] if errs else ""
        r = ctx.res
        r.add("build", system, label, "wall", "s", walls, note)
        r.add("build", system, label, "docs/s", "docs/s", [ndocs / w for w in walls])
        r.add("build", system, label, "peak tree RSS", "MB", peaks, "sampled every 50 ms")
        r.add("build", system, label, "child ru_maxrss", "MB", maxrss)
        r.add("build", system, label, "index size", "MB", [s / MB for s in sizes])
        r.add(
            "build",
            system,
            label,
            "index/corpus",
            "x",
            [s / corpus_bytes for s in sizes],
            f"corpus {corpus_bytes / MB:.0f}MB",
        )


# --------------------------------------------------------------------------- 2. query


def ensure_index(ctx: Ctx, system: str, label: str, src: Path) -> Path | None:
    idx = index_dir(ctx, system, label)
    if idx.with_name(idx.name + ".ok").exists() and idx.is_dir():
        return idx
    ctx.say(f"building {system} {label} for the query sections")
    m = do_build(ctx, system, src, idx)
    return idx if m.ok else None


def section_query(ctx: Ctx, label: str, src: Path) -> None:
    mix = queries_mix.load(ctx.args.mix)
    is_facet = [q.facets for q in mix]
    for system in ("kvsearch", "naive", "tantivy"):
        if not ctx.enabled(system):
            continue
        if system == "kvsearch" and (why := kvsearch_present(ctx, "kvsearch.search")):
            ctx.res.na("query", system, label, "p95 all", f"kvsearch not available: {why}")
            continue
        idx = ensure_index(ctx, system, label, src)
        if idx is None:
            ctx.res.na("query", system, label, "p95 all", "index build failed")
            continue
        ctx.say(f"query mix {system} {label}: {len(mix)} queries x {ctx.args.runs} passes")
        cmd = [
            sys.executable,
            str(BENCH / "workers.py"),
            system,
            str(idx),
            "--mix",
            str(ctx.args.mix),
            "--passes",
            str(ctx.args.runs),
        ]
        m = measure.run_measured(cmd, env=ctx.env)
        if not m.ok:
            ctx.res.na("query", system, label, "p95 all", m.error())
            continue
        data = json.loads(m.stdout.strip().splitlines()[-1])
        note = f"filters {data['filters']}; facets {data['facets']}"
        if data["errors"]:
            first = next(iter(data["errors"].values()))
            note = f"{len(data['errors'])}/{len(mix)} queries FAILED, not timed: {first}; {note}"
        failed = set(data.get("failed", []))  # failed queries are left out of the latencies
        facets_ok = data["facets"] == "ok"
        subsets = {
            "all": lambda i: True,
            "no facets": lambda i: not is_facet[i],
            "with facets": lambda i: is_facet[i],
        }
        for name, keep in subsets.items():
            if name == "with facets" and not facets_ok:
                ctx.res.na("query", system, label, f"p95 {name}", f"facets {data['facets']}")
                continue
            per_pass = [
                [t for i, t in enumerate(p) if keep(i) and i not in failed] for p in data["passes"]
            ]
            if not per_pass or not per_pass[0]:
                ctx.res.na("query", system, label, f"p95 {name}", "every query failed")
                continue
            ctx.res.add(
                "query",
                system,
                label,
                f"median {name}",
                "s",
                [statistics.median(p) for p in per_pass],
            )
            ctx.res.add(
                "query",
                system,
                label,
                f"p95 {name}",
                "s",
                [measure.percentile(p, 95) for p in per_pass],
                note if name == "all" else "",
            )
            ctx.res.add("query", system, label, f"max {name}", "s", [max(p) for p in per_pass])
        ctx.res.add("query", system, label, "open index", "s", [data["open_s"]])
        ctx.res.add("query", system, label, "first query", "s", [data["first_query_s"]])
        ctx.res.add("query", system, label, "process peak RSS", "MB", [m.peak_tree_rss / MB])


# --------------------------------------------------------------------------- 3. CLI


def cli_queries(ctx: Ctx) -> list[queries_mix.Query]:
    mix = queries_mix.load(ctx.args.mix)
    words = [q for q in mix if q.kind == "single" and not q.filtered and not q.facets]
    return words[:CLI_WORDS]


def section_cli(ctx: Ctx, label: str, src: Path) -> None:
    """kvsearch's search command (human and --json output) and grep, run in turn word by
    word, so that both see the same machine (on a shared machine its speed drifts)."""
    words = cli_queries(ctx)
    modes = (("human", []), ("json", ["--json"]))
    kv = ctx.enabled("kvsearch")
    idx = None
    if kv:
        why = kvsearch_present(ctx, "kvsearch.search")
        idx = None if why else ensure_index(ctx, "kvsearch", label, src)
        if why or idx is None:
            for mode, _extra in modes:
                ctx.res.na(
                    "cli",
                    "kvsearch",
                    label,
                    f"search {mode}",
                    f"kvsearch not available: {why or 'index build failed'}",
                )
            kv = False
    grep = ctx.enabled("grep")
    if not kv and not grep:
        return
    if grep:
        for q in words:  # warm the page cache
            measure.run_quick(["grep", "-rli", q.text, str(src)])
    walls: dict[str, list[float]] = {mode: [] for mode, _extra in modes}
    peaks: dict[str, list[float]] = {mode: [] for mode, _extra in modes}
    errs: dict[str, list[str]] = {mode: [] for mode, _extra in modes}
    grep_walls: list[float] = []
    systems = " and ".join(name for name, on in (("kvsearch", kv), ("grep", grep)) if on)
    ctx.say(f"cli {systems} {label}, in turn word by word")
    for _ in range(ctx.args.runs):
        for q in words:
            if kv:
                for mode, extra in modes:
                    cmd = [*ctx.kv_cmd, "--index", str(idx), "search", *q.cli_args(), *extra]
                    # One process: its peak RSS is the kernel's (wait4), and no sampling
                    # thread competes with it for the two cores (grep is not sampled).
                    m = measure.run_measured(cmd, env=ctx.env, sample=False)
                    if m.ok:
                        walls[mode].append(m.wall)
                        peaks[mode].append(m.peak_tree_rss / MB)
                    else:
                        errs[mode].append(m.error())
            if grep:
                wall, rc, _err = measure.run_quick(["grep", "-rli", q.text, str(src)])
                if rc in (0, 1):
                    grep_walls.append(wall)
    if kv:
        note = f"{len(words)} words x {ctx.args.runs}; fresh process each; in turn with grep"
        for mode, _extra in modes:
            first = errs[mode][0] if errs[mode] else note
            ctx.res.add("cli", "kvsearch", label, f"search {mode}", "s", walls[mode], first)
            ctx.res.add("cli", "kvsearch", label, f"search {mode} peak RSS", "MB", peaks[mode])
    if grep:
        ctx.res.add(
            "cli",
            "grep",
            label,
            "search human",
            "s",
            grep_walls,
            f"grep -rli WORD, warm cache, {len(words)} words",
        )


# --------------------------------------------------------------------------- 4. update


def mutate_corpus(src: Path, n: int = 100, seed: int = 7) -> dict[str, int]:
    """Change n answered files (answer text), add n copies with new ids, remove n files."""
    files = sorted(p for p in src.rglob("*.txt"))
    rng = random.Random(seed)
    rng.shuffle(files)
    answered, others = [], []
    for p in files:
        (answered if "\nBeantwoord " in p.read_text(encoding="utf-8") else others).append(p)
        if len(answered) >= 2 * n and len(others) >= n:
            break
    change, copy_from = answered[:n], answered[n : 2 * n]
    remove = [p for p in files if p not in set(answered[: 2 * n])][:n]
    for p in change:
        lines = p.read_text(encoding="utf-8").split("\n")
        last = max(i for i, ln in enumerate(lines) if ln.startswith("  ") and ln.strip())
        lines[last] += " Dit antwoord is voor de benchmark aangevuld met een extra zin."
        p.write_text("\n".join(lines), encoding="utf-8")
    for i, p in enumerate(copy_from):
        old = p.stem
        new = f"2099Z{i:05d}"
        text = p.read_text(encoding="utf-8").replace(old, new)
        (p.parent / f"{new}.txt").write_text(text, encoding="utf-8")
    for p in remove:
        p.unlink()
    return {"changed": len(change), "added": len(copy_from), "removed": len(remove)}


def section_update(ctx: Ctx, label: str, src: Path) -> None:
    if not ctx.enabled("kvsearch"):
        return
    if why := kvsearch_present(ctx):
        ctx.res.na("update", "kvsearch", label, "re-index", f"kvsearch not available: {why}")
        return
    full, incr, errs, notes = [], [], [], ""
    for i in range(ctx.args.runs):
        ctx.say(f"update {label} run {i + 1}/{ctx.args.runs}: copy, build, mutate, re-index")
        copy = ctx.work / f"upd-src-{label}"
        idx = ctx.work / f"upd-idx-{label}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(idx, ignore_errors=True)
        shutil.copytree(src, copy)
        m = measure.run_measured(build_cmd(ctx, "kvsearch", copy, idx), env=ctx.env)
        if not m.ok:
            errs.append("full build: " + m.error())
            break
        full.append(m.wall)
        counts = mutate_corpus(copy)
        m = measure.run_measured(build_cmd(ctx, "kvsearch", copy, idx), env=ctx.env)
        if not m.ok:
            errs.append("re-index: " + m.error())
            continue
        incr.append(m.wall)
        notes = f"{counts}; output: " + " ".join(m.stdout.split())[:120]
    shutil.rmtree(ctx.work / f"upd-src-{label}", ignore_errors=True)
    shutil.rmtree(ctx.work / f"upd-idx-{label}", ignore_errors=True)
    ctx.res.add("update", "kvsearch", label, "full build", "s", full)
    ctx.res.add("update", "kvsearch", label, "re-index", "s", incr, errs[0] if errs else notes)
    if full and incr:
        ctx.res.add(
            "update",
            "kvsearch",
            label,
            "re-index/full",
            "x",
            [statistics.median(incr) / statistics.median(full)],
        )


# --------------------------------------------------------------------------- 5. start-up

FIRST_SEARCH = """
import json, sys, time
t0 = time.perf_counter()
from kvsearch.search import Filters, Searcher
t1 = time.perf_counter()
with Searcher(sys.argv[1]) as s:
    t2 = time.perf_counter()
    r = s.search(sys.argv[2], Filters(), limit=10)
    t3 = time.perf_counter()
    r = s.search(sys.argv[3], Filters(), limit=10)
    t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "first": t3 - t2, "second": t4 - t3}))
"""


def section_startup(ctx: Ctx, label: str, src: Path) -> None:
    if not ctx.enabled("kvsearch"):
        return
    if why := kvsearch_present(ctx, "kvsearch.search"):
        ctx.res.na("startup", "kvsearch", label, "--help", f"kvsearch not available: {why}")
        return
    ctx.say("startup: kvsearch --help")
    helps = []
    for _ in range(ctx.args.runs):
        wall, rc, err = measure.run_quick([*ctx.kv_cmd, "--help"], env=ctx.env)
        if rc == 0:
            helps.append(wall)
    ctx.res.add("startup", "kvsearch", "-", "--help", "s", helps, err if not helps else "")
    wall, _rc, _err = measure.run_quick([sys.executable, "-c", "pass"])
    ctx.res.add("startup", "python", "-", "bare interpreter", "s", [wall])
    idx = ensure_index(ctx, "kvsearch", label, src)
    if idx is None:
        ctx.res.na("startup", "kvsearch", label, "first search", "index build failed")
        return
    words = cli_queries(ctx)
    parts: dict[str, list[float]] = {"import": [], "open": [], "first": [], "second": []}
    totals, errs = [], []
    for i in range(ctx.args.runs):
        q1, q2 = words[i % len(words)].text, words[(i + 1) % len(words)].text
        cmd = [sys.executable, "-c", FIRST_SEARCH, str(idx), q1, q2]
        m = measure.run_measured(cmd, env=ctx.env)
        if not m.ok:
            errs.append(m.error())
            continue
        totals.append(m.wall)
        for k, v in json.loads(m.stdout.strip().splitlines()[-1]).items():
            parts[k].append(v)
    ctx.res.add(
        "startup",
        "kvsearch",
        label,
        "first search: process",
        "s",
        totals,
        errs[0] if errs else "process start to result, in-process API",
    )
    for k, v in parts.items():
        ctx.res.add("startup", "kvsearch", label, f"first search: {k}", "s", v)


# --------------------------------------------------------------------------- ratios, targets


def ratios(res: Results) -> list[dict]:
    out = []
    pairs = [
        ("build", "wall"),
        ("build", "peak tree RSS"),
        ("build", "index size"),
        ("query", "median all"),
        ("query", "p95 all"),
        ("query", "p95 with facets"),
        ("cli", "search human"),
        ("cli", "search json"),
    ]
    sizes = sorted({r.size for r in res.rows})
    for section, metric in pairs:
        for size in sizes:
            kv = res.get(section, "kvsearch", size, metric)
            for base in BASELINES:
                bmetric = metric
                if base == "naive" and metric == "p95 with facets":
                    bmetric = "p95 all"
                if section == "cli" and base == "grep":
                    bmetric = "search human"
                b = res.get(section, base, size, bmetric)
                if kv is not None and b:
                    out.append(
                        {
                            "what": f"{section} {metric}",
                            "size": size,
                            "baseline": base,
                            "kvsearch/baseline": kv / b,
                        }
                    )
    return out


def targets(res: Results) -> list[dict]:
    out: list[dict] = []

    def check(name, value, ok_if, limit, size):
        if value is None:
            out.append({"target": name, "size": size, "value": None, "result": "n/a"})
        else:
            ok = value <= limit if ok_if == "<=" else value >= limit
            out.append(
                {"target": name, "size": size, "value": value, "result": "PASS" if ok else "MISS"}
            )

    def ratio(a, b):
        return a / b if a is not None and b else None

    sizes = sorted({r.size for r in res.rows if r.size != "-"})
    for s in sizes:
        kvb = res.get("build", "kvsearch", s, "wall")
        if res.get("build", "naive", s, "wall") is not None or kvb is not None:
            check(
                "build >= 3x faster than naive (naive/kv)",
                ratio(res.get("build", "naive", s, "wall"), kvb),
                ">=",
                3,
                s,
            )
            check(
                "build within 6x of tantivy (kv/tantivy)",
                ratio(kvb, res.get("build", "tantivy", s, "wall")),
                "<=",
                6,
                s,
            )
            check(
                "build peak RSS < 1.5 GB (MB)",
                res.get("build", "kvsearch", s, "peak tree RSS"),
                "<=",
                1536,
                s,
            )
            check(
                "index size < 0.6x corpus",
                res.get("build", "kvsearch", s, "index/corpus"),
                "<=",
                0.6,
                s,
            )
        kvq = res.get("query", "kvsearch", s, "p95 with facets")
        if res.get("query", "naive", s, "p95 all") is not None or kvq is not None:
            check(
                "query p95 with facets >= 3x lower than naive (naive/kv)",
                ratio(res.get("query", "naive", s, "p95 all"), kvq),
                ">=",
                3,
                s,
            )
        kvrss = res.get("query", "kvsearch", s, "process peak RSS")
        if kvrss is not None:
            check("search process < 300 MB (MB)", kvrss, "<=", 300, s)
        if s == "90k":
            check("query p95 with facets <= 30 ms at 90k (s)", kvq, "<=", 0.030, s)
        kvc = res.get("cli", "kvsearch", s, "search human")
        if kvc is not None or res.get("cli", "grep", s, "search human") is not None:
            check(
                "CLI median >= 4x faster than grep (grep/kv)",
                ratio(res.get("cli", "grep", s, "search human"), kvc),
                ">=",
                4,
                s,
            )
            check("CLI median < 0.3 s (s)", kvc, "<=", 0.3, s)
            check(
                "CLI search process < 300 MB (MB)",
                res.get("cli", "kvsearch", s, "search human peak RSS"),
                "<=",
                300,
                s,
            )
    if "43k" in sizes and "90k" in sizes:
        check(
            "90k build within 2.2x of 43k (90k/43k)",
            ratio(
                res.get("build", "kvsearch", "90k", "wall"),
                res.get("build", "kvsearch", "43k", "wall"),
            ),
            "<=",
            2.2,
            "90k/43k",
        )
    return out


# --------------------------------------------------------------------------- main


def versions() -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
    for mod in ("whoosh", "tantivy", "psutil"):
        try:
            from importlib.metadata import version

            name = {"whoosh": "Whoosh-Reloaded"}.get(mod, mod)
            out[mod] = version(name)
        except ImportError:  # importlib.metadata.PackageNotFoundError is one
            out[mod] = "?"
    with contextlib.suppress(OSError):
        out["kvsearch git"] = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default="43k,90k", help="comma list of 43k, 90k or a document count (e.g. 2000)"
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--skip", default="", help="systems to leave out: kvsearch,naive,tantivy,grep")
    ap.add_argument(
        "--only", default=",".join(SECTIONS), help="sections to run: " + ",".join(SECTIONS)
    )
    ap.add_argument("--work", default="/tmp/kvsearch-bench", help="corpus and index cache")
    ap.add_argument(
        "--shared",
        default=str(REPO.parent / "shared"),
        help="the shared/ folder holding corpus/make_corpus.py",
    )
    ap.add_argument("--mix", default=str(queries_mix.MIX_FILE), help="query mix file")
    ap.add_argument("--json-out", help="write all results as JSON to this file")
    ap.add_argument(
        "--kvsearch-cmd",
        default="",
        help="command that runs the kvsearch CLI (default: python -m kvsearch)",
    )
    ap.add_argument(
        "--pythonpath",
        default=str(REPO),
        help="where kvsearch is imported from (default: this repo)",
    )
    args = ap.parse_args(argv)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    if bad := [s for s in args.only if s not in SECTIONS]:
        ap.error(f"--only: unknown section(s) {bad}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (args.pythonpath, str(BENCH), env.get("PYTHONPATH", "")) if p
    )
    ctx = Ctx(args, work, Path(args.shared), Results(), env, kvsearch_command(args))
    compile_bytecode(Path(args.pythonpath) / "kvsearch")
    started = dt.datetime.now()
    load_start = os.getloadavg()
    sizes = parse_sizes(args.sizes)
    for label, count, nested in sizes:
        src = ensure_corpus(ctx, label, count, nested)
        files = list(src.rglob("*.txt"))
        corpus_bytes = sum(p.stat().st_size for p in files)
        ctx.res.add("corpus", "-", label, "documents", "count", [len(files)])
        ctx.res.add("corpus", "-", label, "size", "MB", [corpus_bytes / MB])
        if "build" in args.only:
            section_build(ctx, label, src, len(files), corpus_bytes)
        if "query" in args.only:
            section_query(ctx, label, src)
        if "cli" in args.only:
            section_cli(ctx, label, src)
    first_label, first_count, first_nested = sizes[0]
    first_src = ensure_corpus(ctx, first_label, first_count, first_nested)
    if "update" in args.only:
        section_update(ctx, first_label, first_src)
    if "startup" in args.only:
        section_startup(ctx, first_label, first_src)

    print(f"\nkvsearch benchmark, {started:%Y-%m-%d %H:%M}, runs={args.runs}, sizes={args.sizes}")
    load_end = os.getloadavg()
    print(
        f"load average (1/5/15 min) at start {load_start[0]:.1f}/{load_start[1]:.1f}/"
        f"{load_start[2]:.1f}, at end {load_end[0]:.1f}/{load_end[1]:.1f}/{load_end[2]:.1f} "
        f"on {os.cpu_count()} CPUs: other load skews the figures"
    )
    print_table(ctx.res)
    rat = ratios(ctx.res)
    if rat:
        print("\nratios (kvsearch time over baseline time; < 1 means kvsearch is faster)")
        for r in rat:
            print(
                f"  {r['what']:<28} {r['size']:<6} vs {r['baseline']:<8} "
                f"{r['kvsearch/baseline']:.3f}"
            )
    tg = targets(ctx.res)
    print("\ntargets")
    for t in tg:
        v = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        print(f"  {t['result']:<4}  {t['target']:<58} {t['size']:<8} {v}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "started": started.isoformat(timespec="seconds"),
                    "args": {
                        k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()
                    },
                    "versions": versions(),
                    "loadavg": {"start": load_start, "end": load_end},
                    "rows": [asdict(r) for r in ctx.res.rows],
                    "ratios": rat,
                    "targets": tg,
                },
                fh,
                indent=1,
                ensure_ascii=False,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
