"""Baseline search engines for the benchmark: naive Whoosh and tantivy.

Both read the corpus with bench/reader.py (never kvsearch) and index the same documents.

naive  whoosh.analysis.LanguageAnalyzer("nl"); schema id (ID, stored) + body (TEXT: title +
       questions + answers); one ``index.create_in`` writer with default settings. Queries go
       through ``QueryParser("body", schema, group=OrGroup)``. It has no minister or date
       fields, so it ignores filters; it has no facets either (it runs the text query only).
tantivy  the ``tantivy`` Python package; body analysed by simple tokenizer -> remove_long(40)
       -> lowercase -> Dutch snowball stemmer; plus minister names (text, for the filter),
       minister names (raw, fast, for facets), date asked (date, fast) and year (fast).
       Filters are applied; facets are terms aggregations on minister and year. Prefix terms
       (``stikst*``), which its query parser does not take, become regex queries.

Run as a script to build an index in a fresh process (so its time and memory are measured
alone): ``python bench/baselines.py build naive|tantivy SOURCE INDEX_DIR``; it prints JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from typing import Any

import reader
from queries_mix import Query, date_bound

# --------------------------------------------------------------------------- naive Whoosh


def naive_schema():
    from whoosh.analysis import LanguageAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    return Schema(id=ID(stored=True, unique=True), body=TEXT(analyzer=LanguageAnalyzer("nl")))


def build_naive(source: str, index_dir: str) -> int:
    from whoosh import index

    os.makedirs(index_dir, exist_ok=True)
    ix = index.create_in(index_dir, naive_schema())
    writer = ix.writer()
    n = 0
    for doc in reader.iter_docs(source):
        writer.add_document(id=doc.id, body=doc.body)
        n += 1
    writer.commit()
    return n


class NaiveSearcher:
    name = "naive"
    errors = (ValueError, LookupError, TypeError)
    supports_filters = False
    supports_facets = False

    def __init__(self, index_dir: str) -> None:
        from whoosh import index
        from whoosh.qparser import OrGroup, QueryParser

        self.ix = index.open_dir(index_dir)
        self.searcher = self.ix.searcher()
        self.parser = QueryParser("body", self.ix.schema, group=OrGroup)

    def search(self, q: Query, limit: int = 10) -> tuple[int, list[str]]:
        parsed = self.parser.parse(q.text)
        results = self.searcher.search(parsed, limit=limit)
        ids = [hit["id"] for hit in results]
        return len(results), ids

    def close(self) -> None:
        self.searcher.close()


# --------------------------------------------------------------------------- tantivy

_PREFIX = re.compile(r"^(\w+)\*$")


def tantivy_analyzer():
    import tantivy

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("dutch"))
        .build()
    )


def tantivy_schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("body", tokenizer_name="nl_stem")
    sb.add_text_field("minister", tokenizer_name="default")
    sb.add_text_field("minister_facet", tokenizer_name="raw", fast=True)
    sb.add_date_field("asked", indexed=True, fast=True)
    sb.add_unsigned_field("year", indexed=True, fast=True)
    return sb.build()


def _open_tantivy(index_dir: str, create: bool):
    import tantivy

    if create:
        os.makedirs(index_dir, exist_ok=True)
        ix = tantivy.Index(tantivy_schema(), path=index_dir)
    else:
        ix = tantivy.Index.open(index_dir)
    ix.register_tokenizer("nl_stem", tantivy_analyzer())
    return ix


def build_tantivy(source: str, index_dir: str) -> int:
    import tantivy

    ix = _open_tantivy(index_dir, create=True)
    writer = ix.writer()
    n = 0
    for doc in reader.iter_docs(source):
        d = tantivy.Document()
        d.add_text("id", doc.id)
        d.add_text("body", doc.body)
        for name in doc.ministers:
            d.add_text("minister", name)
            d.add_text("minister_facet", name)
        if doc.asked:
            d.add_date("asked", dt.datetime(doc.asked.year, doc.asked.month, doc.asked.day))
            d.add_unsigned("year", doc.asked.year)
        writer.add_document(d)
        n += 1
    writer.commit()
    writer.wait_merging_threads()
    return n


class TantivySearcher:
    name = "tantivy"
    errors = (ValueError,)
    supports_filters = True
    supports_facets = True

    def __init__(self, index_dir: str) -> None:
        self.ix = _open_tantivy(index_dir, create=False)
        self.schema = self.ix.schema
        self.searcher = self.ix.searcher()
        self.analyzer = tantivy_analyzer()

    def _query(self, q: Query):
        import tantivy

        words, prefixes = [], []
        for tok in q.text.split() if not q.text.startswith('"') else [q.text]:
            m = _PREFIX.match(tok)
            if m:
                prefixes.append(m.group(1).lower())
            else:
                words.append(tok)
        parts = []
        if words:
            parts.append((tantivy.Occur.Should, self.ix.parse_query(" ".join(words), ["body"])))
        for p in prefixes:
            # the index holds stems only, and the Dutch stemmer also strips "ge-": match
            # terms that start with the prefix as typed or with the prefix's own stem
            stems = {p, *self.analyzer.analyze(p)}
            for stem in sorted(stems):
                rq = tantivy.Query.regex_query(self.schema, "body", re.escape(stem) + ".*")
                parts.append((tantivy.Occur.Should, rq))
        text_q = parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)
        must = [(tantivy.Occur.Must, text_q)]
        if q.minister:
            tq = tantivy.Query.term_query(self.schema, "minister", q.minister.lower())
            must.append((tantivy.Occur.Must, tq))
        lo, hi = date_bound(q.date_from, False), date_bound(q.date_to, True)
        if lo or hi:
            rq = tantivy.Query.range_query(
                self.schema,
                "asked",
                tantivy.FieldType.Date,
                dt.datetime(lo.year, lo.month, lo.day) if lo else None,
                dt.datetime(hi.year, hi.month, hi.day) if hi else None,
            )
            must.append((tantivy.Occur.Must, rq))
        return text_q if len(must) == 1 else tantivy.Query.boolean_query(must)

    def search(self, q: Query, limit: int = 10) -> tuple[int, list[str]]:
        query = self._query(q)
        res = self.searcher.search(query, limit)
        ids = [self.searcher.doc(addr)["id"][0] for _score, addr in res.hits]
        if q.facets:
            self.searcher.aggregate(
                query,
                {
                    "ministers": {"terms": {"field": "minister_facet", "size": 20}},
                    "years": {"terms": {"field": "year", "size": 100}},
                },
            )
        return res.count, ids

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- entry point

BUILDERS: dict[str, Any] = {"naive": build_naive, "tantivy": build_tantivy}
SEARCHERS: dict[str, Any] = {"naive": NaiveSearcher, "tantivy": TantivySearcher}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "build" or argv[1] not in BUILDERS:
        print("usage: baselines.py build naive|tantivy SOURCE INDEX_DIR", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    n = BUILDERS[argv[1]](argv[2], argv[3])
    print(json.dumps({"docs": n, "seconds": time.perf_counter() - t0}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
