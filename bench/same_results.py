"""Dump every result of the query mix, to check that a speed-up changes no result.

``python bench/same_results.py INDEX_DIR OUT.json`` runs each query of
``bench/query_mix.txt`` through ``kvsearch.search.Searcher`` of the checkout this script is
in (not an installed kvsearch; with ``--repo DIR`` first, the one in DIR) and writes, per
query: the total, the hits (id, score, best questions with their scores), every facet (all
values, not only the top 10) and the ``count`` facets, for a first page of 10, a second
page of 25, and each sort order. Run it from two checkouts and compare the files:
``python bench/same_results.py --compare A B``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if sys.argv[1:2] == ["--repo"]:  # another checkout's kvsearch: --repo DIR ...
    sys.path.insert(0, sys.argv[2])
    del sys.argv[1:3]
else:
    sys.path.insert(0, str(HERE.parent))  # this checkout's kvsearch first
sys.path.insert(1, str(HERE))

import queries_mix  # noqa: E402
from queries_mix import kvsearch_filters  # noqa: E402

from kvsearch.search import Filters, Searcher  # noqa: E402


def _filters(q: queries_mix.Query) -> Filters:
    return Filters(**kvsearch_filters(q))


def _hits(result: Any) -> list[Any]:
    return [[h.id, h.score, h.rank, [[m.nr, m.score] for m in h.questions]] for h in result.hits]


def dump(index_dir: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with Searcher(index_dir) as s:
        for q in queries_mix.load():
            f = _filters(q)
            one: dict[str, Any] = {}
            r = s.search(q.text, f, limit=10, facets=True, facet_limit=10_000)
            one["total"] = r.total
            one["hits"] = _hits(r)
            one["facets"] = r.facets
            r2 = s.search(q.text, f, limit=25, page=2, facets=["minister", "year"])
            one["page2"] = [r2.total, _hits(r2), r2.facets]
            for sort in ("newest", "answer-time"):
                r3 = s.search(q.text, f, limit=10, sort=sort)
                one[sort] = [r3.total, _hits(r3)]
            c = s.count(q.text, f, facets=True, facet_limit=5)
            one["count"] = [c.total, c.facets]
            out[q.line()] = one
    return out


def main(argv: list[str]) -> int:
    import kvsearch

    print("kvsearch from", kvsearch.__file__, file=sys.stderr)
    if argv[:1] == ["--compare"]:
        a, b = (json.loads(Path(p).read_text()) for p in argv[1:3])
        bad = [k for k in a if a[k] != b.get(k)] + [k for k in b if k not in a]
        for k in bad:
            print("DIFFERENT:", k)
        print(f"{len(a)} queries, {len(bad)} different")
        return 1 if bad else 0
    Path(argv[1]).write_text(json.dumps(dump(argv[0]), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
