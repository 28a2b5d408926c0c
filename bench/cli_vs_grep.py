"""kvsearch's search command against ``grep -rli``, interleaved: each round runs every word
once with each, so that both see the same machine (on a shared machine, a separate run of
each drifts apart).

    python bench/cli_vs_grep.py INDEX_DIR CORPUS_DIR [--kvsearch-cmd CMD] [--rounds N]

The words are the harness's CLI words (``bench/run.py``, section 3). Times are wall
seconds of a fresh process each (``measure.run_quick``); grep's page cache is warmed first.
Prints the medians, the ratio, and the ratio of each round's medians (min/median/max).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import queries_mix  # noqa: E402
from run import CLI_WORDS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--kvsearch-cmd", default=f"{sys.executable} -m kvsearch")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    mix = queries_mix.load()
    words = [q for q in mix if q.kind == "single" and not q.filtered and not q.facets]
    words = words[:CLI_WORDS]
    kv = shlex.split(args.kvsearch_cmd)

    def kvsearch(q: queries_mix.Query) -> list[str]:
        return [*kv, "--index", str(args.index), "search", *q.cli_args()]

    for q in words:  # warm the page cache for both
        measure.run_quick(["grep", "-rli", q.text, str(args.corpus)])
        measure.run_quick(kvsearch(q))
    kv_all: list[float] = []
    grep_all: list[float] = []
    ratios = []
    for _ in range(args.rounds):
        kv_round, grep_round = [], []
        for q in words:
            wall, rc, err = measure.run_quick(
                [*kv, "--index", str(args.index), "search", *q.cli_args()]
            )
            if rc != 0:
                sys.exit(f"kvsearch failed: {err}")
            kv_round.append(wall)
            wall, rc, err = measure.run_quick(["grep", "-rli", q.text, str(args.corpus)])
            if rc not in (0, 1):
                sys.exit(f"grep failed: {err}")
            grep_round.append(wall)
        kv_all += kv_round
        grep_all += grep_round
        ratios.append(statistics.median(grep_round) / statistics.median(kv_round))
    kv_med, grep_med = statistics.median(kv_all), statistics.median(grep_all)
    print(f"{len(words)} words x {args.rounds} rounds, interleaved")
    rows = (("kvsearch search", kv_med, kv_all), ("grep -rli", grep_med, grep_all))
    for name, med, walls in rows:
        print(f"{name + ':':16} median {med:.3f} s (min {min(walls):.3f}, max {max(walls):.3f})")
    print(
        f"grep/kvsearch {grep_med / kv_med:.2f}x; per round "
        f"{min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f}x (min/median/max)"
    )


if __name__ == "__main__":
    main()
