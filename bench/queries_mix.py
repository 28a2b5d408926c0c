"""The fixed query mix of the benchmark: generator, reader and per-system translation.

The mix is written once by this module (``python bench/queries_mix.py``) into the committed
file ``bench/query_mix.txt``; the benchmark reads that file, so every run and every system
gets the same queries in the same order. The generator is deterministic (fixed lists, fixed
seed), so re-running it rewrites the identical file.

Words come from the ``tk`` corpus of ``shared/corpus/make_corpus.py``: titles are real Tweede
Kamer titles, question/answer text is Dutch parliamentary prose. Every word and phrase below
occurs in that corpus (checked with grep on the 42,994-document set).

Mix (128 lines): 64 base queries -- 24 single words, 20 queries of 2-5 words, 12 quoted
phrases, 8 prefix queries (``stikst*``) -- each used twice: once without and once with
facets. The filter of each line cycles none / minister / date range / minister + date range.

Line format (tab-separated): ``QUERY [minister=NAME] [from=YYYY[-MM[-DD]]] [to=...] [facets]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIX_FILE = Path(__file__).resolve().parent / "query_mix.txt"
SEED = 20240501

SINGLE = [
    "bericht",
    "politie",
    "kinderen",
    "asielzoekers",
    "onderwijs",
    "gemeenten",
    "rapport",
    "belastingdienst",
    "jeugdzorg",
    "ziekenhuizen",
    "schiphol",
    "groningen",
    "vluchtelingen",
    "subsidie",
    "woningen",
    "studenten",
    "maatregelen",
    "veiligheid",
    "samenwerking",
    "bevoegdheid",
    "werknemers",
    "gegevens",
    "evaluatie",
    "wetgeving",
]
MULTI = [
    "sluiting ziekenhuis",
    "federale politie",
    "sociale zekerheid",
    "asielzoekers gemeenten",
    "toezicht belastingdienst",
    "europese commissie",
    "kinderen jeugdzorg",
    "veiligheid openbare orde",
    "onderzoek misstanden",
    "financiering onderwijs",
    "medische behandeling patiënten",
    "illegale verkoop",
    "bezuinigingen op defensie",
    "werknemers sociale zekerheid evaluatie",
    "maatregelen genomen tegen fraude",
    "samenwerking tussen lokale politie",
    "europese landen gegevens bescherming",
    "hoeveel personen werden geregistreerd",
    "financiële gevolgen voor gemeenten",
    "studenten universiteit kosten",
]
PHRASE = [
    '"sociale zekerheid"',
    '"federale politie"',
    '"europese commissie"',
    '"koninklijk besluit"',
    '"processen verbaal"',
    '"lokale politie"',
    '"verenigde staten"',
    '"eerste minister"',
    '"andere landen"',
    '"maatregelen genomen"',
    '"hoeveel personen"',
    '"federale overheid"',
]
PREFIX = [
    "stikst*",
    "belasting*",
    "asiel*",
    "ziekenh*",
    "gemeent*",
    "vluchtel*",
    "energ*",
    "jeugdz*",
]
MINISTERS = [
    "rutte",
    "schippers",
    "opstelten",
    "blok",
    "kamp",
    "hoekstra",
    "asscher",
    "grapperhaus",
    "ollongren",
    "wiebes",
    "plasterk",
    "verhagen",
]
DATE_RANGES = [
    ("2010", "2012"),
    ("2015", None),
    (None, "2011-06"),
    ("2017-01", "2017-12"),
    ("2019-03-15", "2021-09-30"),
    ("2008", "2008"),
    ("2013", "2016"),
    (None, "2014-12-31"),
    ("2020", None),
    ("2012-07", "2013-06"),
]


@dataclass(frozen=True)
class Query:
    text: str
    minister: str | None = None
    date_from: str | None = None  # as given: YYYY, YYYY-MM or YYYY-MM-DD
    date_to: str | None = None
    facets: bool = False

    @property
    def kind(self) -> str:
        if self.text.startswith('"'):
            return "phrase"
        if self.text.endswith("*"):
            return "prefix"
        return "single" if " " not in self.text else "multi"

    @property
    def filtered(self) -> bool:
        return bool(self.minister or self.date_from or self.date_to)

    def line(self) -> str:
        parts = [self.text]
        if self.minister:
            parts.append(f"minister={self.minister}")
        if self.date_from:
            parts.append(f"from={self.date_from}")
        if self.date_to:
            parts.append(f"to={self.date_to}")
        if self.facets:
            parts.append("facets")
        return "\t".join(parts)

    def cli_args(self) -> list[str]:
        args = [self.text]
        if self.minister:
            args += ["--minister", self.minister]
        if self.date_from:
            args += ["--from", self.date_from]
        if self.date_to:
            args += ["--to", self.date_to]
        return args


def date_bound(value: str | None, end: bool) -> dt.date | None:
    """YYYY / YYYY-MM / YYYY-MM-DD as the first (or, with end, the last) day it covers."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        y, m = parts
        if not end:
            return dt.date(y, m, 1)
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31) if end else dt.date(parts[0], 1, 1)


def kvsearch_filters(q: Query) -> dict[str, Any]:
    """The keyword arguments of ``kvsearch.search.Filters`` for a query's filters."""
    kw: dict[str, Any] = {}
    if q.minister:
        kw["ministers"] = (q.minister,)
    if q.date_from:
        kw["date_from"] = date_bound(q.date_from, False)
    if q.date_to:
        kw["date_to"] = date_bound(q.date_to, True)
    return kw


def generate() -> list[Query]:
    rng = random.Random(SEED)
    base = SINGLE + MULTI + PHRASE + PREFIX
    out: list[Query] = []
    for facets in (False, True):
        for i, text in enumerate(base):
            variant = (i + facets) % 4
            minister = rng.choice(MINISTERS) if variant in (1, 3) else None
            date_from = date_to = None
            if variant in (2, 3):
                date_from, date_to = rng.choice(DATE_RANGES)
            out.append(Query(text, minister, date_from, date_to, facets))
    return out


def parse_line(line: str) -> Query:
    fields = line.rstrip("\n").split("\t")
    opts: dict[str, str] = {}
    facets = False
    for f in fields[1:]:
        if f == "facets":
            facets = True
        elif "=" in f:
            k, v = f.split("=", 1)
            opts[k] = v
        else:
            raise ValueError(f"bad field {f!r} in query line {line!r}")
    return Query(fields[0], opts.get("minister"), opts.get("from"), opts.get("to"), facets)


def load(path: Path | str = MIX_FILE) -> list[Query]:
    with open(path, encoding="utf-8") as fh:
        return [parse_line(line) for line in fh if line.strip() and not line.startswith("#")]


def write(path: Path | str = MIX_FILE) -> None:
    header = (
        "# kvsearch benchmark query mix. Generated by bench/queries_mix.py (do not edit).\n"
        "# QUERY<TAB>[minister=NAME]<TAB>[from=DATE]<TAB>[to=DATE]<TAB>[facets]\n"
    )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(header)
        for q in generate():
            fh.write(q.line() + "\n")


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else MIX_FILE)
    print(f"wrote {len(generate())} queries to {sys.argv[1] if len(sys.argv) > 1 else MIX_FILE}")
