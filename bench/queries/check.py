#!/usr/bin/env python3
"""Validate bench/queries/queries.jsonl against a corpus folder (stdlib only).

usage: python3 check.py [--queries FILE] --corpus DIR
Checks: valid JSON per line, unique ids, known kinds, required fields, every
judged doc exists as DIR/<id>.txt, every `nr` exists as ' • Vraag <nr>' in its
doc, grades in {1,2}, known-item/question have exactly {doc: 2}, and that per
kind the held-out share is one third (rounded). Prints counts per kind/split.
"""

import argparse
import collections
import json
import os
import re
import sys

KINDS = {"known-item", "question", "topic"}
SPLITS = {"tune", "heldout"}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", default=os.path.join(here, "queries.jsonl"))
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    errs = []
    recs = []
    with open(a.queries, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                recs.append((ln, json.loads(line)))
            except json.JSONDecodeError as e:
                errs.append(f"line {ln}: bad JSON: {e}")
    ids = collections.Counter(r.get("id") for _, r in recs)
    for i, c in ids.items():
        if c > 1:
            errs.append(f"duplicate id {i}")
    nrs_cache = {}

    def nrs(doc):
        if doc not in nrs_cache:
            p = os.path.join(a.corpus, doc + ".txt")
            if not os.path.exists(p):
                nrs_cache[doc] = None
            else:
                with open(p, encoding="utf-8") as f:
                    t = f.read()
                nrs_cache[doc] = {int(m) for m in re.findall(r"^ • Vraag (\d+)", t, re.M)}
        return nrs_cache[doc]

    counts = collections.Counter()
    for ln, r in recs:
        rid = r.get("id", f"line {ln}")
        for fld in ("id", "query", "kind", "relevant", "split", "note"):
            if fld not in r:
                errs.append(f"{rid}: missing field {fld}")
        kind, split = r.get("kind"), r.get("split")
        if kind not in KINDS:
            errs.append(f"{rid}: unknown kind {kind!r}")
        if split not in SPLITS:
            errs.append(f"{rid}: unknown split {split!r}")
        q = r.get("query", "")
        if not isinstance(q, str) or not q.strip():
            errs.append(f"{rid}: empty query")
        rel = r.get("relevant") or {}
        if not isinstance(rel, dict) or not rel:
            errs.append(f"{rid}: relevant must be a non-empty object")
            rel = {}
        for d, g in rel.items():
            if g not in (1, 2):
                errs.append(f"{rid}: grade {g!r} for {d} not in (1, 2)")
            if nrs(d) is None:
                errs.append(f"{rid}: doc {d} not in corpus")
        if kind in ("known-item", "question"):
            d = r.get("doc")
            if rel != {d: 2}:
                errs.append(f"{rid}: relevant must be {{doc: 2}}")
        if kind == "question":
            d, nr = r.get("doc"), r.get("nr")
            ns = nrs(d) if d else None
            if not isinstance(nr, int):
                errs.append(f"{rid}: question needs integer nr")
            elif ns is not None and nr not in ns:
                errs.append(f"{rid}: Vraag {nr} not in {d}")
            if ns is not None and len(ns) < 3:
                errs.append(f"{rid}: {d} has fewer than 3 questions")
        if kind == "topic" and ("doc" in r or "nr" in r):
            errs.append(f"{rid}: topic must not have doc/nr")
        counts[(kind, split)] += 1
    kinds = sorted({k for k, _ in counts})
    print(f"{'kind':<12}{'tune':>6}{'heldout':>9}{'total':>7}")
    for k in kinds:
        t, h = counts[(k, "tune")], counts[(k, "heldout")]
        print(f"{k:<12}{t:>6}{h:>9}{t + h:>7}")
        if h != round((t + h) / 3):
            errs.append(f"{k}: {h} heldout of {t + h}, expected {round((t + h) / 3)}")
    tot = sum(counts.values())
    print(
        f"{'all':<12}{sum(v for (k, s), v in counts.items() if s == 'tune'):>6}"
        f"{sum(v for (k, s), v in counts.items() if s == 'heldout'):>9}{tot:>7}"
    )
    topic_sizes = [len(r["relevant"]) for _, r in recs if r.get("kind") == "topic"]
    if topic_sizes:
        print(
            f"topic judgments: {sum(topic_sizes)} "
            f"(min {min(topic_sizes)}, max {max(topic_sizes)} per topic)"
        )
    if errs:
        print(f"\n{len(errs)} error(s):", file=sys.stderr)
        for e in errs:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
