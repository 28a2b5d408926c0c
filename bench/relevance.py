"""Relevance of kvsearch against a plain Whoosh baseline, on real Dutch questions and answers.

    python bench/relevance.py [--work DIR] [--shared PATH] [--queries FILE]

Generates (or reuses) the 3,811-document Belgian corpus with
``make_corpus.py be --out WORK/be``, indexes it with kvsearch and with the baseline (a plain
Whoosh index: ``LanguageAnalyzer("nl")``, one text field with title, questions and answers,
default BM25F, OR-grouped queries), runs every query of ``bench/queries/queries.jsonl`` on
both, and prints per split (tune / held-out) and system:

- MRR@10, success@1, success@10 and nDCG@10 (gain 2^grade - 1) over all queries;
- for the queries aimed at one question: the share where the target Kamervraag is the top
  hit AND the question named first is the target question ("question@1"). The baseline
  names the first question that contains a query term, which is what a plain engine can do.

``--set NAME=VALUE`` overrides a module setting for an experiment, e.g.
``--set analysis.STEMMER=dutch`` (recorded in the output; never used by the product).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def ensure_corpus(shared: Path, work: Path) -> Path:
    corpus = work / "be"
    if corpus.is_dir() and len(list(corpus.glob("*.txt"))) == 3811:
        return corpus
    corpus.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(shared / "corpus" / "make_corpus.py"), "be", "--out", str(corpus)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return corpus


def load_queries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ---------------------------------------------------------------- metrics


def metrics(ranked: list[str], relevant: dict[str, int]) -> dict[str, float]:
    rr = 0.0
    for i, doc in enumerate(ranked[:10], 1):
        if relevant.get(doc, 0) > 0:
            rr = 1.0 / i
            break
    dcg = sum(
        (2 ** relevant.get(doc, 0) - 1) / math.log2(i + 1) for i, doc in enumerate(ranked[:10], 1)
    )
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return {
        "mrr@10": rr,
        "success@1": float(bool(ranked) and relevant.get(ranked[0], 0) > 0),
        "success@10": float(any(relevant.get(d, 0) > 0 for d in ranked[:10])),
        "ndcg@10": dcg / idcg if idcg else 0.0,
    }


def summarize(rows: list[dict]) -> dict[str, float]:
    keys = ["mrr@10", "success@1", "success@10", "ndcg@10"]
    out = {k: sum(r[k] for r in rows) / len(rows) for k in keys} if rows else {}
    qrows = [r for r in rows if "question@1" in r]
    if qrows:
        out["question@1"] = sum(r["question@1"] for r in qrows) / len(qrows)
    out["n"] = len(rows)
    return out


# ---------------------------------------------------------------- systems


def kvsearch_system(
    corpus: Path, index_dir: Path, reuse: bool = False
) -> tuple[Callable, tuple[float, float]]:
    from kvsearch import store
    from kvsearch.indexer import build_index
    from kvsearch.search import Searcher

    started, cpu = time.perf_counter(), time.process_time()
    if not (reuse and store.is_index(index_dir)):
        build_index(corpus, index_dir)
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    searcher = Searcher(index_dir)

    def run(query: str) -> tuple[list[str], dict[str, int]]:
        result = searcher.search(query, limit=10)
        first = {h.id: h.questions[0].nr for h in result.hits if h.questions}
        return [h.id for h in result.hits], first

    return run, seconds


def baseline_system(corpus: Path, index_dir: Path) -> tuple[Callable, tuple[float, float]]:
    from whoosh import fields, index, qparser
    from whoosh.analysis import LanguageAnalyzer

    from kvsearch.parse import parse_file

    analyzer = LanguageAnalyzer("nl")
    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(analyzer=analyzer))
    started, cpu = time.perf_counter(), time.process_time()
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer()
    docs = {}
    for path in sorted(corpus.glob("*.txt")):
        kv = parse_file(path)
        docs[kv.id] = kv
        parts = [kv.title] + [f"{qa.question}\n{qa.answer}" for qa in kv.questions]
        writer.add_document(id=kv.id, text="\n".join(parts))
    writer.commit()
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    searcher = ix.searcher()
    parser = qparser.QueryParser("text", schema, group=qparser.OrGroup)

    def run(query: str) -> tuple[list[str], dict[str, int]]:
        results = searcher.search(parser.parse(query), limit=10)
        ranked = [hit["id"] for hit in results]
        terms = {t.text for t in analyzer(query)}
        first = {}
        for doc in ranked:
            for qa in docs[doc].questions:
                words = {t.text for t in analyzer(f"{qa.question}\n{qa.answer}")}
                if words & terms:
                    first[doc] = qa.nr
                    break
        return ranked, first

    return run, seconds


def evaluate(run: Callable, queries: list[dict]) -> dict[str, list[dict]]:
    by_split: dict[str, list[dict]] = {"tune": [], "heldout": []}
    for q in queries:
        ranked, first = run(q["query"])
        row = {"id": q["id"], "kind": q["kind"], **metrics(ranked, q["relevant"])}
        if q["kind"] == "question":
            row["question@1"] = float(
                bool(ranked) and ranked[0] == q["doc"] and first.get(q["doc"]) == q["nr"]
            )
        row["top"] = ranked[:3]
        by_split[q["split"]].append(row)
    return by_split


def apply_settings(settings: list[str]) -> None:
    for item in settings:
        name, _, value = item.partition("=")
        module_name, _, attr = name.rpartition(".")
        module = importlib.import_module(f"kvsearch.{module_name}")
        current = getattr(module, attr)
        parsed: object = value
        if isinstance(current, bool):
            parsed = value.lower() in {"1", "true", "yes"}
        elif isinstance(current, (int, float)):
            parsed = type(current)(value)
        setattr(module, attr, parsed)
    if settings:
        from kvsearch import analysis

        analysis._STEMMER = analysis.new_stemmer(analysis.STEMMER)
        analysis._STEM_CACHE.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kvsearch-relevance")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--queries", type=Path, default=REPO / "bench" / "queries" / "queries.jsonl")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument(
        "--reuse-index",
        type=Path,
        metavar="DIR",
        help="keep kvsearch's index in DIR and reuse it when present (query-side experiments)",
    )
    ap.add_argument("--per-query", action="store_true", help="print every query's outcome")
    args = ap.parse_args()

    apply_settings(args.set)
    corpus = ensure_corpus(args.shared, args.work)
    queries = load_queries(args.queries)
    systems = {}
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        kv_dir = args.reuse_index or Path(tmp) / "kvsearch"
        run, seconds = kvsearch_system(corpus, kv_dir, reuse=args.reuse_index is not None)
        systems["kvsearch"] = (evaluate(run, queries), seconds)
        if not args.skip_baseline:
            run, seconds = baseline_system(corpus, Path(tmp) / "baseline")
            systems["baseline"] = (evaluate(run, queries), seconds)

    print(f"corpus: {corpus} (3,811 documents); queries: {len(queries)}; settings: {args.set}")
    header = f"{'split':8} {'system':9} {'n':>3} {'MRR@10':>7} {'S@1':>6} {'S@10':>6} "
    header += f"{'nDCG@10':>8} {'Q@1':>6}"
    print(header)
    for split in ("tune", "heldout"):
        for name, (by_split, _s) in systems.items():
            s = summarize(by_split[split])
            print(
                f"{split:8} {name:9} {s['n']:>3} {s['mrr@10']:7.3f} {s['success@1']:6.3f} "
                f"{s['success@10']:6.3f} {s['ndcg@10']:8.3f} {s.get('question@1', 0):6.3f}"
            )
    for name, (_b, seconds) in systems.items():
        print(f"index time {name}: {seconds[0]:.1f} s wall, {seconds[1]:.1f} s CPU")
    if args.per_query:
        for split in ("tune", "heldout"):
            for row in systems["kvsearch"][0][split]:
                base = systems.get("baseline", ({split: []}, 0))[0][split]
                brow = next((b for b in base if b["id"] == row["id"]), None)
                mark = "" if brow is None else f" base rr={brow['mrr@10']:.2f}"
                q = f" q={row['question@1']:.0f}" if "question@1" in row else ""
                print(f"{row['id']} {split:7} {row['kind']:10} rr={row['mrr@10']:.2f}{q}{mark}")


if __name__ == "__main__":
    main()
