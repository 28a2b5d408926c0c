"""Facet cost: the same queries with three filters, timed in-process with and without facets.

``python bench/facets.py INDEX_DIR [--runs N]``

For each query of the fixed set below: one warm-up, then N runs each of
``Searcher.search(text, filters)`` and ``Searcher.search(text, filters, facets=True)`` (all
eight facets), alternating; prints the median time of each and their ratio, then the sums
over the set. Also times a few heavier cases for information (facets over every document,
``count`` without hits, ``stats``, ``search_questions``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kvsearch

from kvsearch.search import Filters, Searcher


def y(year: int, last: bool = False) -> dt.date:
    return dt.date(year, 12, 31) if last else dt.date(year, 1, 1)


#: (query, filters): every entry has three filters (a period counts as one).
QUERIES: list[tuple[str, Filters]] = [
    ("asiel", Filters(ministries=("justitie",), date_from=y(2015), answered=True)),
    ("stikstof", Filters(parties=("VVD",), date_from=y(2019), late=True)),
    ("", Filters(ministers=("rutte",), date_from=y(2012), answered=True)),
    ("zorg kosten", Filters(submitter_parties=("SP",), subjects=("zorg",), date_from=y(2015))),
    ("onderwijs", Filters(ministries=("onderwijs",), submitter_parties=("PVV",), max_days=42)),
    ("politie geweld", Filters(parties=("CDA",), answered_from=y(2018), subjects=("recht",))),
    ("", Filters(submitter_parties=("PvdA",), subjects=("economie",), late=True)),
    (
        "belasting",
        Filters(ministries=("financien",), date_from=y(2010), date_to=y(2020, True), answered=True),
    ),
    ("klimaat energie", Filters(parties=("D66",), date_from=y(2018), min_days=21)),
    ("defensie", Filters(ministries=("defensie",), submitter_parties=("SP",), date_from=y(2012))),
]


def timed(func: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return time.perf_counter() - start, out


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    with Searcher(args.index) as s:
        print(f"index {args.index}: {s.doc_count()} Kamervragen; {args.runs} runs per figure\n")
        print(f"{'query':<18} {'filters':<44} {'hits':>6} {'plain ms':>9} {'facets ms':>9} ratio")
        sum_plain = sum_facets = 0.0
        ratios = []
        for text, filters in QUERIES:
            s.search(text, filters)
            s.search(text, filters, facets=True)
            plain: list[float] = []
            faceted: list[float] = []
            for _ in range(args.runs):
                t, result = timed(s.search, text, filters)
                plain.append(t)
                t, fresult = timed(s.search, text, filters, facets=True)
                faceted.append(t)
            assert [h.id for h in result.hits] == [h.id for h in fresult.hits]
            p, f = median_ms(plain), median_ms(faceted)
            sum_plain += p
            sum_facets += f
            ratios.append(f / p)
            shown = ", ".join(
                f"{k}={v!r}" if not isinstance(v, dt.date) else f"{k}={v.isoformat()}"
                for k, v in vars(filters).items()
                if v not in ((), None, False)
            )
            print(
                f"{text or '(none)':<18} {shown[:44]:<44} {result.total:>6} {p:>9.1f} {f:>9.1f}"
                f" {f / p:.2f}"
            )
        print(
            f"\nsum of medians: {sum_plain:.1f} ms without facets, {sum_facets:.1f} ms with all "
            f"facets: ratio {sum_facets / sum_plain:.2f} (per query: median "
            f"{statistics.median(ratios):.2f}, max {max(ratios):.2f})\n"
        )
        print("for information (median ms):")
        extra = [
            ("search, no query, no filter", lambda: s.search("")),
            ("search, no query, no filter, facets", lambda: s.search("", facets=True)),
            ("facets only (count), no filter", lambda: s.count("")),
            ("search 'zorg', facets", lambda: s.search("zorg", facets=True)),
            ("stats by minister, no filter", lambda: s.stats("")),
            ("search_questions 'asiel opvang'", lambda: s.search_questions("asiel opvang")),
        ]
        for label, func in extra:
            func()
            runs = [timed(func)[0] for _ in range(max(3, args.runs // 2))]
            print(f"  {label:<40} {median_ms(runs):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
