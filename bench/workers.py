"""Query-latency worker: opens one system's index and runs the query mix, in its own process.

``python bench/workers.py SYSTEM INDEX_DIR [--mix FILE] [--passes N] [--limit N]``
SYSTEM is kvsearch, naive or tantivy. Prints one JSON object: the time to open the index,
the first query, and for each pass the latency of every query of the mix (seconds). One
warm-up pass over the mix runs first and is not counted. The process's peak RSS is measured
by the caller (it runs this worker under bench/measure.py).

kvsearch is imported only here, for the kvsearch system; the baselines never import it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import queries_mix
from queries_mix import Query, kvsearch_filters


class KvsearchSearcher:
    """Adapter over kvsearch.search.Searcher; facets are tried and reported n/a if absent."""

    name = "kvsearch"
    supports_filters = True

    def __init__(self, index_dir: str) -> None:
        from kvsearch.errors import KvsearchError
        from kvsearch.search import Filters, Searcher

        self.errors = (KvsearchError, ValueError, LookupError)
        self._filters = Filters
        self._cm = Searcher(index_dir)
        self._s = self._cm.__enter__()
        self.supports_facets = True
        self.facets_note = "ok"

    def _make_filters(self, q: Query) -> Any:
        return self._filters(**kvsearch_filters(q))

    def search(self, q: Query, limit: int = 10) -> tuple[int, list[str]]:
        filters = self._make_filters(q)
        if q.facets and self.supports_facets:
            try:
                result = self._s.search(q.text, filters, limit=limit, facets=True)
                _ = result.facets
            except (TypeError, AttributeError) as exc:
                self.supports_facets = False
                self.facets_note = f"n/a ({type(exc).__name__}: {exc})"[:200]
                result = self._s.search(q.text, filters, limit=limit)
        else:
            result = self._s.search(q.text, filters, limit=limit)
        return result.total, [h.id for h in result.hits]

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


def open_searcher(system: str, index_dir: str) -> Any:
    if system == "kvsearch":
        return KvsearchSearcher(index_dir)
    import baselines

    return baselines.SEARCHERS[system](index_dir)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=["kvsearch", "naive", "tantivy"])
    ap.add_argument("index")
    ap.add_argument("--mix", default=str(queries_mix.MIX_FILE))
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args(argv)

    mix = queries_mix.load(args.mix)
    t0 = time.perf_counter()
    s = open_searcher(args.system, args.index)
    open_s = time.perf_counter() - t0
    errors: dict[str, str] = {}
    totals: list[int] = []

    def one(q: Query) -> float:
        t = time.perf_counter()
        try:
            total, _ids = s.search(q, args.limit)
        except s.errors as exc:  # a failing query is reported, not fatal
            errors.setdefault(q.line(), f"{type(exc).__name__}: {exc}"[:200])
            total = -1
        dt_ = time.perf_counter() - t
        if len(totals) < len(mix):
            totals.append(total)
        return dt_

    first_s = one(mix[0])
    for q in mix[1:]:  # the rest of the warm-up pass
        one(q)
    passes = [[one(q) for q in mix] for _ in range(args.passes)]
    s.close()
    out = {
        "system": args.system,
        "open_s": open_s,
        "first_query_s": first_s,
        "passes": passes,
        "queries": [q.line() for q in mix],
        "totals": totals,
        "errors": errors,
        "failed": sorted(i for i, q in enumerate(mix) if q.line() in errors),
        "filters": "applied" if s.supports_filters else "ignored (no such fields)",
        "facets": getattr(s, "facets_note", "ok" if s.supports_facets else "n/a (none)"),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
