"""Query text + filters -> :class:`SearchResult`: ranked Kamervragen with their best questions.

Query syntax (Whoosh's parser, configured for Dutch text and kvsearch's fields):

- words: ``ambtenaren verkiezingen``. Documents with every word rank first, but a
  document missing a word still ranks: a typo or a word the minister did not use never
  empties the result. Write ``AND`` between words to require each of them.
- ``"phrases"``, ``AND`` / ``OR`` / ``NOT``, ``-word`` (exclude), ``+word`` (require),
  ``prefix*``, parentheses.
- field queries: ``minister:``, ``indiener:``, ``partij:``, ``onderwerp:``, ``titel:``,
  ``vraag:``, ``antwoord:``, ``ministerie:``, ``nummer:`` (see :data:`FIELD_ALIASES`).

Malformed input (an unbalanced quote, a lone ``AND``, ``minister:`` with nothing after it)
is read as plain words; what cannot be searched at all raises :class:`QueryError`.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import functools
import heapq
import io
import math
import operator
import os
import pickle
import re
import struct
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, filterfalse, repeat
from operator import add, itemgetter, mul
from pathlib import Path
from typing import Any

import kvsearch.analysis  # noqa: F401 - before Whoosh: it imports Whoosh lean

# isort: split
from whoosh import formats, matching, qparser, query, scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.numeric import byte_to_length

from kvsearch import store
from kvsearch.analysis import (
    EMPTY_LEXICON,
    STOPWORDS,
    Lexicon,
    Stubs,
    analyze,
    fold,
    register,
    stub_terms,
    term_spans,
    token_terms,
)
from kvsearch.errors import (
    IndexCorruptError,
    IndexVersionError,
    KvsearchError,
    NotFoundError,
    QueryError,
)
from kvsearch.model import MONTHS, QA, Kamervraag
from kvsearch.schema import (
    FACET_FIELDS,
    FIELD_ALIASES,
    LEXICON_FILE,
    LIST_FACETS,
    SEARCH_FIELDS,
    TEXT_FIELDS,
    VALUE_SEP,
    CompactPositions,
    date_number,
    decode_positions,
    make_schema,
    unpack,
)
from kvsearch.schema import version_record as current_version

_BM25_K1 = 1.2
_BM25_B = 0.75
_TITLE_WORD_WEIGHT = 0.5
_PASSAGE_WEIGHT = 1.0  # measured on the tuning queries: MRR@10 0.961 -> 0.969
_SUGGEST_MIN_DF = 2
# Plain words of a query: not a field name, not inside a field's value.
_SUGGEST_WORD_RE = re.compile(r"(?<![\w:*?-])\w+(?![\w:*?-])")
_PREFIX_IDF = 1.0
_SNIPPET_CHARS = 160
_QUESTION_CHARS = 240
_MAX_DATE = dt.date(9999, 12, 31)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Fragment:
    """A piece of text with the character spans of matched query terms."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()


class QuestionMatch:
    """A question/answer pair of a hit, scored on that pair alone. The snippet is made
    when it is first asked for (a hit names all its matching pairs; few are shown)."""

    __slots__ = ("_snippet", "nr", "score")

    def __init__(self, nr: int, score: float, snippet: Fragment | Callable[[], Fragment]):
        self.nr = nr
        self.score = score
        self._snippet = snippet

    @property
    def snippet(self) -> Fragment:
        if not isinstance(self._snippet, Fragment):
            self._snippet = self._snippet()
        return self._snippet

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuestionMatch):
            return NotImplemented
        return (self.nr, self.score, self.snippet) == (other.nr, other.score, other.snippet)

    def __hash__(self) -> int:
        return hash((self.nr, self.score))

    def __repr__(self) -> str:
        return f"QuestionMatch(nr={self.nr!r}, score={self.score!r}, snippet={self.snippet!r})"


@dataclass(frozen=True)
class Hit:
    kamervraag: Kamervraag
    score: float
    rank: int
    questions: tuple[QuestionMatch, ...] = ()

    @property
    def id(self) -> str:
        return self.kamervraag.id


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    limit: int
    hits: tuple[Hit, ...]
    facets: dict[str, list[tuple[str, int]]] | None = None
    suggestion: str | None = None

    sort: str = "relevance"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit)) if self.limit else 1


@dataclass(frozen=True)
class QuestionHit:
    """One question/answer pair of a Kamervraag, ranked on its own (``--per-question``)."""

    kamervraag: Kamervraag
    nr: int
    score: float
    rank: int
    question: Fragment
    answer: Fragment | None = None  # None: not answered

    @property
    def id(self) -> str:
        return self.kamervraag.id


@dataclass(frozen=True)
class QuestionResult:
    """Ranked question/answer pairs; ``total`` counts pairs, ``kamervragen`` the matching
    Kamervragen (what the facets count). With a query, the pairs are those of the
    ``pool`` best-matching Kamervragen."""

    query: str
    total: int
    page: int
    limit: int
    hits: tuple[QuestionHit, ...]
    kamervragen: int
    facets: dict[str, list[tuple[str, int]]] | None = None
    sort: str = "relevance"
    pool: int | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit)) if self.limit else 1


@dataclass(frozen=True)
class StatsRow:
    """Answer statistics of a group of Kamervragen (``value`` "" for all of them)."""

    value: str
    count: int
    answered: int
    median_days: float | None
    p90_days: int | None

    @property
    def answered_share(self) -> float:
        return self.answered / self.count if self.count else 0.0


@dataclass(frozen=True)
class Stats:
    query: str
    by: str
    overall: StatsRow
    rows: tuple[StatsRow, ...]


@dataclass(frozen=True)
class Filters:
    """Filters on the metadata; empty tuples and None mean "no filter".

    Text filters are repeatable: the values of one filter are OR-ed, different filters
    AND-ed. Each value matches whole words, or a phrase, within one value of the field
    (one person, one party, one role, one subject), case and accents ignored.
    """

    ministers: tuple[str, ...] = ()
    date_from: dt.date | None = None  # on the date asked, inclusive
    date_to: dt.date | None = None
    ministries: tuple[str, ...] = ()  # role text of an answering minister
    parties: tuple[str, ...] = ()  # party of an answering minister
    submitters: tuple[str, ...] = ()
    submitter_parties: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    answered_from: dt.date | None = None  # on the date answered, inclusive
    answered_to: dt.date | None = None
    answered: bool | None = None  # True: answered only; False: unanswered only
    min_days: int | None = None  # answer time in days, inclusive (answered only)
    max_days: int | None = None
    late: bool = False  # answered after more than LATE_DAYS days


# ---------------------------------------------------------------- dates


def parse_date_range(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day a date stands for: ``2024``, ``2024-01``, ``2024-01-29``,
    ``januari 2024`` or ``29 januari 2024``. Raises :class:`QueryError` with the reason."""
    value = " ".join(text.strip().lower().split())
    try:
        m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value)
        if m:
            year = int(m.group(1))
            if m.group(3):
                day = dt.date(year, int(m.group(2)), int(m.group(3)))
                return day, day
            if m.group(2):
                return _month_range(year, int(m.group(2)))
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        m = re.fullmatch(r"(?:(\d{1,2}) )?([a-z]+) (\d{4})", value)
        if m and m.group(2) in MONTHS:
            month = MONTHS.index(m.group(2)) + 1
            if m.group(1):
                day = dt.date(int(m.group(3)), month, int(m.group(1)))
                return day, day
            return _month_range(int(m.group(3)), month)
    except ValueError as exc:
        raise QueryError(f"{text!r} is not a valid date ({exc})") from None
    raise QueryError(
        f"{text!r} is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or a Dutch date like "
        "'29 januari 2024'"
    )


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not between 1 and 12")
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


# ---------------------------------------------------------------- query parsing


def _parser(schema: Any) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(
        list(SEARCH_FIELDS), schema, fieldboosts=SEARCH_FIELDS, group=qparser.AndGroup
    )
    # "-" excludes only at the start of a word: "Yeşilgöz-Zegerius" and "F-35" are words.
    parser.replace_plugin(qparser.PlusMinusPlugin(minusexpr=r"(?<![^\s(])-(?=\S)"))
    parser.add_plugin(qparser.FieldAliasPlugin(_alias_map()))
    parser.add_plugin(_ExactPhrasePlugin())
    parser.remove_plugin_class(qparser.BoostPlugin)
    return parser


def _has_positions(parser: Any, fieldname: str) -> bool:
    """Whether a field keeps positions (subjects do: a phrase within one subject)."""
    schema = parser.schema
    return fieldname in schema and bool(schema[fieldname].format.supports("positions"))


class _ExactPhrasePlugin(qparser.Plugin):
    """A quoted phrase without a field searches the words as written (the exact field)."""

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        # After field names are attached (100), before the multifield expansion (110).
        return [(self.do_exact, 105)]

    def do_exact(self, parser: Any, group: Any) -> Any:
        for i, node in enumerate(group):
            if isinstance(node, qparser.PhrasePlugin.PhraseNode):
                if node.fieldname is None:
                    node.set_fieldname("exact")
                elif node.fieldname in TEXT_FIELDS and not _has_positions(parser, node.fieldname):
                    # titel:"groene waterstof": the exact phrase, and its words in the title.
                    exact = copy.copy(node)
                    exact.set_fieldname("exact", override=True)
                    words = []
                    for word in node.text.split():
                        word_node = qparser.syntax.WordNode(word)
                        word_node.set_fieldname(node.fieldname)
                        word_node.startchar, word_node.endchar = node.startchar, node.endchar
                        words.append(word_node)
                    group[i] = qparser.syntax.AndGroup([exact, *words])
            elif isinstance(node, qparser.syntax.GroupNode):
                self.do_exact(parser, node)
        return group


def _alias_map() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alias, target in FIELD_ALIASES.items():
        if alias != target:
            out.setdefault(target, []).append(alias)
    return out


_OPERATOR_RE = re.compile(r"(?:^|\s|\()(?:AND|OR|NOT|ANDNOT|ANDMAYBE)(?=\s|\)|$)|(?<![^\s(])[+]")
_SYNTAX_RE = re.compile(r"[\"():*?+\[\]{}^~]|(?<![^\s(])-|\b(?:AND|OR|NOT)\b")
_FIELD_RE = re.compile(r"(\w+):")
# Only words: no quotes, fields, wildcards, groups, boosts or +/- prefixes.
_PLAIN_RE = re.compile(r"(?:[^\W_]|[\s'’.,&/‐‑–-])*")
_SIGN_RE = re.compile(r"(?<!\S)[-+]")
_JOIN_MIN_FREQ = 2
_DANGLING_RE = re.compile(
    r"^(?:\s*(?:AND|OR|ANDNOT|ANDMAYBE)\b)+|(?:\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\s*)+$"
    r"|(?<=\()\s*(?:AND|OR)\b|\b(?:AND|OR|NOT)\s*(?=\))"
)


def _strip_dangling(text: str) -> str:
    """Drop operators with nothing on one side: "AND stikstof", "(boeren OR", "stikstof NOT"."""
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _DANGLING_RE.sub(" ", text).strip()
    return text


def parse_query(text: str, schema: Any, lexicon: Lexicon = EMPTY_LEXICON) -> query.Query | None:
    """The Whoosh query for ``text``; None when it holds no searchable words."""
    text = _strip_dangling(text)
    if not text:
        return None
    _check_fields(text)
    _check_prefixes(text)
    parser = _parser(schema)
    if _PLAIN_RE.fullmatch(text) and not _OPERATOR_RE.search(text) and not _SIGN_RE.search(text):
        q = _plain_words(text.split(), parser, lexicon)
        return None if q is None else _relax(q)
    try:
        q = parser.parse(text)
        q = _normalize(q)
    except Exception:  # noqa: BLE001 - Whoosh's parser has odd corners; use plain words
        q = None
    if q is None or q is query.NullQuery:
        plain = _SYNTAX_RE.sub(" ", text)
        try:
            q = _normalize(parser.parse(plain))
        except Exception:  # noqa: BLE001
            raise QueryError(f"cannot read the query {text!r}; try plain words") from None
    if q is None or q is query.NullQuery:
        return None
    if not _OPERATOR_RE.search(text):
        q = _relax(q)
    return q


def _plain_words(words: list[str], parser: Any, lexicon: Lexicon) -> query.Query | None:
    """Plain words, each searched in every field; two adjacent words that the corpus writes
    as one (``bom honden`` -> *bomhonden*, ``stikstof uitstoot`` -> *stikstofuitstoot*)
    also match that compound."""
    groups: list[query.Query | None] = []
    for word in words:
        q = parser.parse(word)
        groups.append(None if q is query.NullQuery else q)
    for i in range(len(words) - 1):
        if groups[i] is None or groups[i + 1] is None:
            continue
        left, right = fold(words[i]), fold(words[i + 1])
        for joined in (left + right, left + "s" + right):
            if joined.isalpha() and lexicon.words.get(joined, 0) >= _JOIN_MIN_FREQ:
                compound = parser.parse(joined)
                groups[i] = query.Or([groups[i], compound])
                groups[i + 1] = query.Or([groups[i + 1], compound])
                break
    kept = [g for g in groups if g is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else query.And(kept)


def _check_fields(text: str) -> None:
    for m in _FIELD_RE.finditer(text):
        name = m.group(1)
        if name.lower() not in FIELD_ALIASES and not name.startswith(("http", "www")):
            known = ", ".join(sorted({k for k in FIELD_ALIASES if k == FIELD_ALIASES[k]}))
            raise QueryError(f"unknown field {name + ':'!r} in the query; known fields: {known}")


def _check_prefixes(text: str) -> None:
    for m in re.finditer(r"(?<![\w*?])([\w-]*)[*?]", text):
        if len(m.group(1)) < 2:
            raise QueryError(f"the wildcard {m.group(0)!r} needs at least 2 letters before * or ?")


def _normalize(q: query.Query) -> query.Query | None:
    """Fold wildcard text, and turn stray NOTs inside OR groups into real exclusions."""
    q = q.normalize()
    q = _fix_nots(q)
    if isinstance(q, query.Not):
        # Only exclusions: "NOT stikstof" = every Kamervraag without stikstof.
        q = query.AndNot(query.Every(), q.query)
    return q


def _fix_nots(q: query.Query) -> query.Query:
    if isinstance(q, (query.Wildcard, query.Prefix)):
        q.text = fold(q.text)
        return q
    if isinstance(q, query.Not):
        return query.Not(_fix_nots(q.query))
    if isinstance(q, query.BinaryQuery):  # AndNot, AndMaybe, Require (before CompoundQuery)
        return q.__class__(_fix_nots(q.a), _fix_nots(q.b))
    if isinstance(q, query.CompoundQuery):
        subs = [_fix_nots(s) for s in q.subqueries]
        nots = [s.query for s in subs if isinstance(s, query.Not)]
        pos = [s for s in subs if not isinstance(s, query.Not)]
        if isinstance(q, query.Or) and nots and pos:
            base: query.Query = query.Or(pos, boost=q.boost) if len(pos) > 1 else pos[0]
            excl = query.Or(nots) if len(nots) > 1 else nots[0]
            return query.AndNot(base, excl)
        return q.__class__(subs, boost=q.boost)
    return q


def _relax(q: query.Query) -> query.Query:
    """Words without operators: all-words matches first, partial matches after.

    Only the free words (each an OR over the search fields) are relaxed; field queries and
    phrases stay required.
    """
    if isinstance(q, query.AndNot):
        return query.AndNot(_relax(q.a), q.b)
    if isinstance(q, query.And):
        words = [s for s in q.subqueries if isinstance(s, query.Or)]
        strict = [s for s in q.subqueries if not isinstance(s, query.Or)]
        if len(words) > 1:
            relaxed = query.Or([query.And(words), query.Or(words)])
            return query.And([*strict, relaxed]) if strict else relaxed
    return q


@dataclass
class QueryWords:
    """What a query looks for in text, for per-question scores, snippets and suggestions."""

    terms: set[str] = field(default_factory=set)  # stemmed terms of the text fields
    prefixes: tuple[str, ...] = ()
    phrases: list[tuple[str, ...]] = field(default_factory=list)  # stemmed phrases
    exact: set[str] = field(default_factory=set)  # words of quoted phrases, as written
    exact_phrases: list[tuple[str, ...]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.terms or self.prefixes or self.exact)


def query_words(q: query.Query | None) -> QueryWords:
    """The positive terms, prefixes and phrases of the text fields of a query."""
    words = QueryWords()
    prefixes: set[str] = set()

    def walk(node: query.Query) -> None:
        if isinstance(node, query.Not):
            return
        if isinstance(node, query.AndNot):
            walk(node.a)
            return
        name = getattr(node, "fieldname", None)
        exact = name == "exact"
        if name in TEXT_FIELDS or exact:
            if isinstance(node, query.Term):
                (words.exact if exact else words.terms).add(str(node.text))
            elif isinstance(node, query.Prefix) and not exact:
                prefixes.add(str(node.text))
            elif isinstance(node, query.Phrase):
                seq = tuple(str(w) for w in node.words)
                (words.exact if exact else words.terms).update(seq)
                if len(seq) > 1:
                    (words.exact_phrases if exact else words.phrases).append(seq)
        for child in node.children():
            walk(child)

    if q is not None:
        walk(q)
    words.prefixes = tuple(sorted(prefixes))
    return words


# ---------------------------------------------------------------- filters


#: Answers later than this many days are late: three weeks, plus one postponement.
LATE_DAYS = 42
_MAX_DAYS = 10**6
_NO_DAYS = -2  # a value of the days field no document has: a range that matches nothing

#: Text filters: (Filters attribute, index field, command-line option).
TEXT_FILTERS = (
    ("ministers", "minister", "--minister"),
    ("ministries", "ministerie", "--ministry"),
    ("parties", "ministerpartij", "--party"),
    ("submitters", "indiener", "--submitter"),
    ("submitter_parties", "indienerpartij", "--submitter-party"),
    ("subjects", "onderwerp", "--subject"),
)


def filter_query(filters: Filters, schema: Any = None) -> query.Query | None:
    """The Whoosh query selecting what ``filters`` allow; None when they allow everything.

    :meth:`Searcher.search` does not run this query as it is: it runs the text part
    (:func:`text_filter_query`) and checks the numeric ranges (:func:`numeric_ranges`) on
    the index's columns, which selects the same documents much faster than Whoosh's
    ``NumericRange`` (many terms for a wide date range). Tests compare the two.
    """
    parts: list[query.Query] = []
    text = text_filter_query(filters, schema)
    if text is not None:
        parts.append(text)
    # Both bounds always given, on signed fields: Whoosh-Reloaded 2.7.5 mismatches ranges
    # on unsigned numeric fields (an open start matches everything).
    parts += [query.NumericRange(f, lo, hi) for f, lo, hi in numeric_ranges(filters)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def text_filter_query(filters: Filters, schema: Any = None) -> query.Query | None:
    """The Whoosh query of the text filters (names, parties, roles, subjects), or None."""
    schema = schema if schema is not None else _default_schema()
    parts: list[query.Query] = []
    for attr, fieldname, option in TEXT_FILTERS:
        values = getattr(filters, attr)
        if values:
            subs = [_value_query(schema, fieldname, v, option) for v in values]
            parts.append(subs[0] if len(subs) == 1 else query.Or(subs))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def numeric_ranges(filters: Filters) -> list[tuple[str, int, int]]:
    """The inclusive ranges ``(field, lo, hi)`` of the numeric fields the filters ask for.

    Dates are ``YYYYMMDD`` numbers; an unanswered Kamervraag has ``answered`` 0 (below every
    real date) and ``days`` -1 (below every answer time).
    """
    out = []
    if filters.date_from or filters.date_to:
        out.append(_date_range("asked", filters.date_from, filters.date_to))
    if filters.answered_from or filters.answered_to:
        out.append(_date_range("answered", filters.answered_from, filters.answered_to))
    lo, hi = _days_bounds(filters)
    if lo is not None:
        out.append(("days", lo, hi))
    return out


def _date_range(
    fieldname: str, first: dt.date | None, last: dt.date | None
) -> tuple[str, int, int]:
    lo = date_number(first or dt.date(1, 1, 1))
    hi = date_number(last or _MAX_DATE)
    return fieldname, lo, hi


def _days_bounds(filters: Filters) -> tuple[int | None, int]:
    """The range of the ``days`` field (-1 = unanswered) the filters allow; (None, _) = any."""
    lo: int | None = None
    hi = _MAX_DAYS
    if filters.answered is True:
        lo = 0
    if filters.min_days is not None:
        lo = max(lo or 0, filters.min_days)
    if filters.late:
        lo = max(lo or 0, LATE_DAYS + 1)
    if filters.max_days is not None:
        lo = lo or 0
        hi = filters.max_days
    if filters.answered is False:
        # Unanswered, and any answer-time filter as well: nothing can match both.
        return (-1, -1) if lo is None else (_NO_DAYS, _NO_DAYS)
    if lo is not None and lo > hi:
        return _NO_DAYS, _NO_DAYS
    return lo, hi


def _value_query(schema: Any, fieldname: str, text: str, option: str) -> query.Query:
    """Words of ``text`` as the field's analyzer makes them: a term, or a phrase."""
    analyzer = schema[fieldname].analyzer
    words: list[str] = []
    last = None
    for token in analyzer(text, mode="query", positions=True):
        if token.pos != last:  # a compound's parts share its position: keep the word
            words.append(token.text)
            last = token.pos
    if not words:
        raise QueryError(f"{option} {text!r} holds nothing to search for; give a word or a name")
    if len(words) == 1:
        return query.Term(fieldname, words[0])
    return query.Phrase(fieldname, words)


@functools.lru_cache(maxsize=1)
def _default_schema() -> Any:
    return make_schema()


# ---------------------------------------------------------------- the searcher


class Searcher:
    """An open index. Use as a context manager, or call :meth:`close`."""

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir).expanduser()
        self.manifest: dict[str, Any] = {}
        self._ix: Any = None
        self._searcher: WhooshSearcher | None = None
        self._column_cache: dict[str, Any] = {}
        self._bulk_query: _BulkQuery | None = None
        self._parsed: dict[str, query.Query | None] = {}
        self._mask_queries = 0  # facet queries that could use bitmasks (see _FacetTable)
        self.lexicon: Lexicon = EMPTY_LEXICON
        self._open()

    def _open(self) -> None:
        last_error: Exception | None = None
        for _attempt in range(3):  # a writer may switch generations while we open
            manifest = store.read_manifest(self.index_dir)
            _check_version(self.index_dir, manifest)
            gen = store.generation_dir(self.index_dir, manifest)
            try:
                store.check_generation(self.index_dir, manifest)
                lexicon = Lexicon.load(gen / LEXICON_FILE)
                register(lexicon)
                # Plain file reads, no mmap: Whoosh copies each memory-mapped part it
                # opens (postings, terms) into memory, about 1 GB at 90k documents.
                ix = FileStorage(str(gen), supports_mmap=False, readonly=True).open_index()
                searcher = ix.searcher(weighting=scoring.BM25F(B=_BM25_B, K1=_BM25_K1))
            except Exception as exc:  # noqa: BLE001 - any failure here means a damaged index
                last_error = exc
                if store.read_manifest(self.index_dir).get("generation") != manifest["generation"]:
                    continue
                break
            self.manifest, self._ix, self._searcher = manifest, ix, searcher
            self.lexicon = lexicon
            return
        if isinstance(last_error, IndexCorruptError):
            raise last_error
        raise IndexCorruptError(
            f"the index in {self.index_dir} is damaged ({type(last_error).__name__}: "
            f"{last_error}); run `kvsearch rebuild` to build it again"
        )

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    @property
    def _s(self) -> WhooshSearcher:
        if self._searcher is None:
            raise KvsearchError("the searcher is closed")
        return self._searcher

    def doc_count(self) -> int:
        return int(self._s.doc_count())

    def get(self, kv_id: str) -> Kamervraag:
        """One Kamervraag by number (``2024Z01294``, also ``kv-tk-2024Z01294``)."""
        key = normalize_id(kv_id)
        stored = self._s.document(id=key)
        if stored is None:
            raise NotFoundError(
                f"no Kamervraag {kv_id!r} in the index; search for it with `kvsearch search`"
            )
        return unpack(stored["doc"])

    def search(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str | None = None,
        facets: bool | str | Sequence[str] | None = None,
        facet_limit: int = 10,
    ) -> SearchResult:
        """Ranked Kamervragen. ``sort``: relevance (the default with a query), newest (the
        default without), oldest or answer-time (slowest first, unanswered last).
        ``facets``: True for all, or facet names (see :data:`FACETS`)."""
        _check_paging(limit, page)
        q, filters = self._queries(text, filters)
        sort = _sort_order(sort, q)
        names = facet_names(facets)
        wanted = page * limit
        try:
            docs, rows = self._select(q, filters, sort, wanted)
            rows = rows[(page - 1) * limit :]
        except KvsearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a query Whoosh cannot run
            raise QueryError(f"cannot run the query {text!r} ({exc}); try plain words") from None
        total = len(docs)
        counts = None
        if names:
            counts = self._facets(docs, names, facet_limit)
        scorer = _QuestionScorer(self._s, query_words(q), self.lexicon)
        scored = []
        for score, docnum in rows:
            kv = unpack(self._s.stored_fields(docnum)["doc"])
            questions = tuple(scorer.rank(kv))
            value = float(score or 0.0) if q is not None and sort == "relevance" else 0.0
            if value and questions and _PASSAGE_WEIGHT:
                # A Kamervraag whose words meet in one question outranks one where they are
                # spread over many (re-ranks within the page).
                value += _PASSAGE_WEIGHT * questions[0].score
            scored.append((value, kv, questions))
        if q is not None and sort == "relevance":
            scored.sort(key=lambda item: -item[0])
        hits = [
            Hit(kamervraag=kv, score=value, rank=(page - 1) * limit + i + 1, questions=questions)
            for i, (value, kv, questions) in enumerate(scored)
        ]
        suggestion = self.suggest(text) if q is not None else None
        return SearchResult(
            text, total, page, limit, tuple(hits), facets=counts, suggestion=suggestion, sort=sort
        )

    def suggest(self, text: str) -> str | None:
        """The query with each unknown word replaced by the most common word of the index
        within edit distance 2 (1 for short words); None when nothing needs correcting."""
        reader = self._s.reader()
        out = []
        last = 0
        changed = False
        for m in _SUGGEST_WORD_RE.finditer(text):
            word = m.group()
            folded = fold(word)
            if word in ("AND", "OR", "NOT") or folded in STOPWORDS or not folded.isalpha():
                continue
            df = reader.doc_frequency("exact", folded)
            if df >= _SUGGEST_MIN_DF:
                continue
            best, best_df = None, 3 * df  # a replacement must be much more common
            # The nearest words first: one edit, then (for longer words) two.
            for maxdist in (1, 2) if len(folded) >= 6 else (1,):
                for candidate in reader.terms_within("exact", folded, maxdist, prefix=1):
                    cdf = reader.doc_frequency("exact", candidate)
                    if cdf > best_df:
                        best, best_df = candidate, cdf
                if best is not None:
                    break
            if best is not None:
                out.append(text[last : m.start()])
                out.append(best)
                last = m.end()
                changed = True
        if not changed:
            return None
        out.append(text[last:])
        return "".join(out)

    def count(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        facets: bool | str | Sequence[str] | None = True,
        facet_limit: int = 10,
    ) -> SearchResult:
        """Only the number of matching Kamervragen and the facet counts; no hits."""
        q, filters = self._queries(text, filters)
        names = facet_names(facets)
        docs = self._run(text, self._matching, q, filters)
        counts = self._facets(docs, names, facet_limit) if names else None
        return SearchResult(text, len(docs), 1, 0, (), facets=counts, sort=_sort_order(None, q))

    def search_questions(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str | None = None,
        facets: bool | str | Sequence[str] | None = None,
        facet_limit: int = 10,
        pool: int | None = None,
    ) -> QuestionResult:
        """Question/answer pairs instead of whole Kamervragen.

        With a query: the ``pool`` best-matching Kamervragen (after filters) are taken, each
        of their pairs is scored on its own text (BM25 with the index's IDF, plus a phrase
        bonus: the scorer that picks a hit's best questions), and the matching pairs are
        ranked together (ties: the Kamervraag's rank, then the question number). Other
        sorts order the same pairs by their Kamervraag. Without a query: every pair of
        every matching Kamervraag, in Kamervraag order (newest first by default).
        """
        _check_paging(limit, page)
        pool = pool or QUESTION_POOL
        q, filters = self._queries(text, filters)
        sort = _sort_order(sort, q)
        names = facet_names(facets)
        docs = self._run(text, self._matching, q, filters)
        counts = self._facets(docs, names, facet_limit) if names else None
        first = (page - 1) * limit
        if q is None:
            total, picked = self._all_pairs(docs, sort, first, limit)
            used_pool = None
        else:
            pairs = self._pool_pairs(text, q, docs, sort, pool)
            total, picked = len(pairs), pairs[first : first + limit]
            used_pool = pool
        words = query_words(q)
        hits = []
        for offset, (score, kv, nr) in enumerate(picked):
            qa = kv.question(nr)
            assert qa is not None
            question, answer = _pair_fragments(qa, words, self.lexicon)
            hits.append(QuestionHit(kv, nr, score, first + offset + 1, question, answer))
        return QuestionResult(
            text, total, page, limit, tuple(hits), len(docs), counts, sort, used_pool
        )

    def stats(
        self, text: str = "", filters: Filters | None = None, *, by: str = "minister"
    ) -> Stats:
        """How many Kamervragen match, how many were answered and how fast, overall and per
        value of ``by`` (a facet name other than answer-time)."""
        if by not in STATS_BY:
            raise QueryError(f"cannot group by {by!r}; choose one of {', '.join(STATS_BY)}")
        q, filters = self._queries(text, filters)
        docs = self._run(text, self._matching, q, filters)
        key = "year" if by == "year" else by
        return compute_stats(self._pair_counts(key, "days", docs), text, by)

    # -------------------------------------------------------------- internals

    def _queries(self, text: str, filters: Filters | None) -> tuple[query.Query | None, Filters]:
        q = self._parse(text)
        if q is None and text.strip():
            raise QueryError(
                f"nothing to search for in {text!r}: give words, or leave the query out "
                "to list Kamervragen by their filters"
            )
        filters = filters or Filters()
        text_filter_query(filters, self._s.schema)  # bad filter values fail before searching
        return q, filters

    def _parse(self, text: str) -> query.Query | None:
        """:func:`parse_query` of ``text``, kept: parsing plain words costs about 1 ms per
        word. The query objects are shared; nothing changes them after parsing."""
        if text in self._parsed:
            return self._parsed[text]
        q = parse_query(text, self._s.schema, self.lexicon)
        if len(self._parsed) >= _PARSED_CACHE_LIMIT:
            self._parsed.clear()
        self._parsed[text] = q
        return q

    def _run(self, text: str, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except KvsearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a query Whoosh cannot run
            raise QueryError(f"cannot run the query {text!r} ({exc}); try plain words") from None

    def _select(
        self, q: query.Query | None, filters: Filters, sort: str, n: int
    ) -> tuple[Collection[int], list[tuple[float, int]]]:
        """Every match (ascending document numbers, or a set) and the first ``n`` in
        ``sort`` order as (score, docnum); the score is 0.0 unless sorted by relevance."""
        allowed = self._allowed(filters)
        if q is not None and sort == "relevance":
            try:
                found = self._bulk.best(q, n, allowed)
            except _Unsupported:
                pass
            else:
                return found[0], found[1]  # a set: sorted only if needed (see _facets)
        if q is not None and allowed is not None and self._few(allowed):
            # One pass: score every allowed match, take the first n.
            scored = [(score, d) for d, score in self._scored(q, allowed).items()]
            docs = sorted(d for _score, d in scored)
            if sort == "relevance":
                return docs, scored[:n]
        else:
            docs = self._matching(q, filters, allowed)
            if sort == "relevance":
                return docs, self._top(q, docs, n)
        return docs, [(0.0, d) for d in self._ordered(docs, sort, n)]

    def _scored(self, q: query.Query, allowed: list[int]) -> Any:
        """Whoosh results of ``q`` on ``allowed`` only, every match scored."""
        return self._s.search(query.And([q, _DocSet(allowed)]), limit=None)

    def _matching(self, q: query.Query | None, filters: Filters, allowed: Any = False) -> list[int]:
        """The document numbers of every match of the query and the filters, ascending
        (``allowed``: what the filters allow, when already known)."""
        if allowed is False:
            allowed = self._allowed(filters)
        if q is None:
            return self._live() if allowed is None else allowed
        if allowed is None:
            return self._docs(q)
        try:
            return sorted(self._bulk.docs(q, only=allowed))
        except _Unsupported:
            pass
        if self._few(allowed):
            return self._docs(query.And([q, _DocSet(allowed)]))
        allow = set(allowed)
        return [d for d in self._docs(q) if d in allow]

    @property
    def _bulk(self) -> _BulkQuery:
        if self._bulk_query is None:
            self._bulk_query = _BulkQuery(self._s)
        return self._bulk_query

    def _docs(self, q: query.Query) -> list[int]:
        """Every match of ``q``, ascending."""
        try:
            return sorted(self._bulk.docs(q))
        except _Unsupported:
            return sorted(self._s.docs_for_query(q))

    def _bulk_scores(self, q: query.Query, allowed: list[int] | None) -> dict[int, float]:
        """Every match of ``q`` among ``allowed`` (None: all) with its score; raises
        _Unsupported for a query the bulk evaluator does not handle."""
        if allowed is None:
            return self._bulk.scores(q)
        return self._bulk.scores(q, only=allowed)

    def _few(self, docs: list[int]) -> bool:
        """Whether ``docs`` are few enough to run a query on them only (see _DocSet)."""
        return len(docs) < INTERSECT_BELOW * self._s.doc_count_all()

    def _allowed(self, filters: Filters) -> list[int] | None:
        """The document numbers the filters allow, ascending; None when they allow all.

        Text filters run as Whoosh queries; numeric ranges (dates, answer time) are checked
        on the columns of the documents left (see :func:`filter_query`).
        """
        tq = text_filter_query(filters, self._s.schema)
        ranges = numeric_ranges(filters)
        if tq is None and not ranges:
            return None
        docs = self._docs(tq) if tq is not None else None
        schema = self._s.schema
        for fieldname, lo, hi in ranges:
            field = schema[fieldname]
            low, high = field.to_column_value(lo), field.to_column_value(hi)
            if docs is not None and len(docs) < 2000:
                values = self._numbers(fieldname)
                docs = [d for d in docs if low <= values[d] <= high]
            else:
                inside = self._in_range(fieldname, low, high)
                docs = sorted(inside) if docs is None else sorted(set(inside).intersection(docs))
        return docs

    def _in_range(self, fieldname: str, low: int, high: int) -> list[int]:
        """The live documents whose numeric column value is in ``[low, high]``, in the
        column's order (sorting them is 4x faster than sorting a set of them)."""
        cached = self._column_cache.get("sorted:" + fieldname)
        if cached is None:
            values = self._numbers(fieldname)
            live = self._live()
            order = sorted(live, key=values.__getitem__)
            cached = ([values[d] for d in order], order)
            self._column_cache["sorted:" + fieldname] = cached
        keys, order = cached
        lo = bisect.bisect_left(keys, low)
        hi = bisect.bisect_right(keys, high, lo)
        return order[lo:hi]

    def _live(self) -> list[int]:
        """Every document number that is not deleted, ascending."""
        reader = self._s.reader()
        if not reader.has_deletions():
            return list(range(reader.doc_count_all()))
        return sorted(reader.all_doc_ids())

    def _top(self, q: query.Query | None, docs: list[int], n: int) -> list[tuple[float, int]]:
        """The ``n`` best of ``docs`` by relevance: (score, docnum)."""
        if not docs or q is None:
            return []
        try:
            scores = self._bulk_scores(q, docs)
        except _Unsupported:
            pass
        else:
            return _best(scores, n)
        if self._few(docs):
            results = self._s.search(query.And([q, _DocSet(docs)]), limit=n)
        else:
            results = self._s.search(q, filter=set(docs), limit=n)
        return [(hit.score, hit.docnum) for hit in results]

    def _ordered(self, docs: list[int], sort: str, n: int) -> list[int]:
        """The first ``n`` of ``docs`` in a metadata order (ties: index order)."""
        asked = self._numbers("asked")
        if sort == "newest":
            return heapq.nlargest(n, docs, key=asked.__getitem__)
        if sort == "oldest":
            return heapq.nsmallest(n, docs, key=asked.__getitem__)
        days = self._numbers("days")
        return heapq.nlargest(n, docs, key=lambda d: (days[d], asked[d]))

    def _numbers(self, fieldname: str) -> Sequence[int]:
        """A numeric column of the whole index, by document number (sortable form)."""
        cached = self._column_cache.get(fieldname)
        if cached is None:
            values: list[int] = []
            for reader, offset in self._s.reader().leaf_readers():
                values.extend([0] * (offset - len(values)))
                values.extend(_numeric_values(reader, fieldname))
            cached = self._column_cache[fieldname] = values
        return cached

    def _facet_readers(self, name: str) -> list[tuple[int, int, Any]]:
        """``(first docnum, end docnum, FacetColumnReader)`` of each segment for a facet."""
        cached = self._column_cache.get("facet:" + name)
        if cached is None:
            field = FACET_FIELDS[name]
            cached = []
            for reader, offset in self._s.reader().leaf_readers():
                end = offset + reader.doc_count_all()
                if reader.has_column(field):
                    cached.append((offset, end, reader.column_reader(field, translate=False)))
            self._column_cache["facet:" + name] = cached
        return cached

    def _facets(
        self, docs: Collection[int], names: Sequence[str], limit: int
    ) -> dict[str, list[tuple[str, int]]]:
        """The facets of ``docs`` (ascending, or a set), as :func:`facet_counts` of
        :meth:`_counts` makes them. Each column is counted either from its value
        references (fewer documents) or with a bitmask per value (see
        :class:`_FacetTable`); only the values shown are given their spelling. A query
        builds the bitmasks of one column at most, so no query pays for them all."""
        if limit < 1:
            raise QueryError("the facet limit must be at least 1")
        size = self._s.doc_count_all()
        tables = {n: self._facet_table("days" if n == "answer-time" else n) for n in names}
        # Documents to count per column either way: the smaller side of each segment.
        work = min(len(docs), size - len(docs))
        use_masks = {n: t.use_masks(work, size) for n, t in tables.items()}
        if any(use_masks.values()):
            self._mask_queries += 1
            if self._mask_queries < _MASK_AFTER:
                use_masks = dict.fromkeys(use_masks, False)
            building = False
            for name, table in tables.items():
                if use_masks[name] and not table.has_masks:
                    use_masks[name] = not building
                    building = True
        parts = {}
        if not all(use_masks.values()):
            parts = self._segment_parts(docs if isinstance(docs, list) else sorted(docs))
        bits = 0
        if any(use_masks.values()):
            bits = docs.bits() if isinstance(docs, _DocFlags) else _doc_bits(docs, size)
        out: dict[str, list[tuple[str, int]]] = {}
        for name in names:
            table = tables[name]
            if use_masks[name] and name == "answer-time":
                out[name] = _answer_time(table.mask_buckets(bits), limit)
                continue
            if use_masks[name]:
                counts = table.mask_counts(bits, limit if name in LIST_FACETS else None)
            else:
                counts = table.ref_counts(parts)
            out[name] = table.top(name, counts, limit)
        return out

    def _facet_table(self, name: str) -> _FacetTable:
        cached = self._column_cache.get("table:" + name)
        if cached is None:
            readers = self._facet_readers(name)
            cached = _FacetTable(name, readers, split=name in LIST_FACETS)
            self._column_cache["table:" + name] = cached
        return cached

    def _segment_parts(self, docs: list[int]) -> dict[int, tuple[Sequence[int], list[int] | None]]:
        """Per segment (by first document number): the segment-local numbers of ``docs``
        and, when they are more than half the segment, the local numbers of the other
        documents (fewer to count: see :meth:`_counts`)."""
        parts: dict[int, tuple[Sequence[int], list[int] | None]] = {}
        for reader, offset in self._s.reader().leaf_readers():
            size = reader.doc_count_all()
            local = _local_docs(docs, offset, offset + size)
            rest = None
            if 2 * len(local) > size:
                inside = set(local)
                rest = list(filterfalse(inside.__contains__, range(size)))
            parts[offset] = (local, rest)
        return parts

    def _counts(
        self, name: str, docs: list[int], parts: dict[int, Any] | None = None
    ) -> Counter[bytes]:
        """How many of ``docs`` (ascending) have each value of a facet column: the value
        references of the documents counted in C, or those of the other documents
        subtracted from the whole segment's counts when they are fewer."""
        parts = parts or self._segment_parts(docs)
        out: Counter[bytes] = Counter()
        for offset, end, reader in self._facet_readers(name):
            local, rest = parts[offset]
            if not local:
                continue
            refs = reader.refs
            if rest is None:
                counts = Counter(_gather(refs, local))
            else:
                key = f"total:{name}:{offset}"
                total = self._column_cache.get(key)
                if total is None:
                    total = self._column_cache[key] = Counter(refs[: end - offset])
                counts = total.copy()
                for ref, n in Counter(_gather(refs, rest)).items():
                    counts[ref] -= n
            if rest is not None:
                counts = +counts  # without the values no match has
            # Each reference is a distinct value within a segment: map them in C.
            named = dict(zip(map(reader.uniques.__getitem__, counts), counts.values(), strict=True))
            out.update(named)
        return out

    def _pair_counts(
        self, first: str, second: str, docs: list[int]
    ) -> Counter[tuple[bytes, bytes]]:
        """How many of ``docs`` have each pair of values of two facet columns."""
        out: Counter[tuple[bytes, bytes]] = Counter()
        pairs = zip(self._facet_readers(first), self._facet_readers(second), strict=True)
        for (offset, end, a), (_o, _e, b) in pairs:
            local = _local_docs(docs, offset, end)
            if local:
                refs = zip(
                    map(a.refs.__getitem__, local), map(b.refs.__getitem__, local), strict=True
                )
                for (x, y), n in Counter(refs).items():
                    out[a.uniques[x], b.uniques[y]] += n
        return out

    def _values(self, name: str, docs: list[int]) -> list[bytes]:
        """The value of a facet column for each of ``docs`` (ascending)."""
        out: list[bytes] = []
        for offset, end, reader in self._facet_readers(name):
            local = _local_docs(docs, offset, end)
            out += map(reader.__getitem__, local)
        return out

    def _all_pairs(
        self, docs: list[int], sort: str, first: int, limit: int
    ) -> tuple[int, list[tuple[float, Kamervraag, int]]]:
        """Without a query: every pair of ``docs`` in Kamervraag order; one page of them."""
        ordered = self._ordered(docs, sort, len(docs))
        sizes = dict(zip(docs, map(int, self._values("questions", docs)), strict=True))
        total = sum(sizes.values())
        picked: list[tuple[float, Kamervraag, int]] = []
        seen = 0
        for docnum in ordered:
            size = sizes[docnum]
            if seen + size <= first:
                seen += size
                continue
            kv = unpack(self._s.stored_fields(docnum)["doc"])
            for qa in kv.questions:
                if seen >= first and len(picked) < limit:
                    picked.append((0.0, kv, qa.nr))
                seen += 1
            if len(picked) >= limit:
                break
        return total, picked

    def _pool_pairs(
        self, text: str, q: query.Query, docs: list[int], sort: str, pool: int
    ) -> list[tuple[float, Kamervraag, int]]:
        """The matching pairs of the ``pool`` best Kamervragen of ``docs``, in ``sort`` order."""
        top = self._run(text, self._top, q, docs, pool)
        words = query_words(q)
        scorer = _QuestionScorer(self._s, words, self.lexicon)
        rows = []  # (score, kamervraag rank, nr, kv, docnum)
        for rank, (doc_score, docnum) in enumerate(top):
            kv = unpack(self._s.stored_fields(docnum)["doc"])
            if words:
                rows += [(m.score, rank, m.nr, kv, docnum) for m in scorer.rank(kv)]
            else:  # only metadata fields in the query: every pair, in Kamervraag order
                rows += [
                    (round(float(doc_score), 4), rank, qa.nr, kv, docnum) for qa in kv.questions
                ]
        if sort == "relevance":
            rows.sort(key=lambda r: (-r[0], r[1], r[2]))
        else:
            kept = sorted({r[4] for r in rows})
            order = {d: i for i, d in enumerate(self._ordered(kept, sort, len(kept)))}
            rows.sort(key=lambda r: (order[r[4]], r[2]))
        return [(score, kv, nr) for score, _rank, nr, kv, _d in rows]


#: Parsed queries kept per searcher.
_PARSED_CACHE_LIMIT = 256

#: A query runs on a set of documents by intersection (skipping through its postings) when
#: the set holds less than this share of the index; else on all its matches, filtered.
INTERSECT_BELOW = 0.2


class _DocSet(query.Query):
    """Matches the given (top-level, ascending) document numbers and adds 0 to a score.

    ``And([q, _DocSet(docs)])`` runs ``q`` on ``docs`` only: Whoosh intersects the two by
    skipping, so a selective filter makes a broad query cheap.
    """

    def __init__(self, docs: list[int]) -> None:
        self.docs = docs
        self.boost = 1.0

    def __repr__(self) -> str:
        return f"_DocSet({len(self.docs)} documents)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _DocSet) and other.docs == self.docs

    def __hash__(self) -> int:
        return hash((_DocSet, len(self.docs)))

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docs)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        parent = searcher.parent() if searcher.parent is not None else None
        offset = parent._offset_for_subsearcher(searcher) if parent is not None else 0
        local = _local_docs(self.docs, offset, offset + searcher.doc_count_all())
        if not len(local):
            return matching.NullMatcher()
        return _ZeroScoreMatcher(array("I", local))


class _ZeroScoreMatcher(matching.ListMatcher):
    def score(self) -> float:
        return 0.0


#: A column is counted with bitmasks when the documents to count (the smaller side of the
#: match) number more than its masks times the index size over this: one AND and popcount
#: of an index-wide bitmask costs about as much as counting 1/3000 of its documents' refs.
_MASK_COST = 3000
#: Bitmasks are prepared (the documents of each value grouped, one column per query; each
#: value's mask made when first counted) from the second facet query that can use them,
#: not the first: a command-line search, one query per process, never pays for them.
_MASK_AFTER = 2


class _FacetTable:
    """A facet column of the whole index, prepared for counting.

    Every distinct value (each value of a joined list, for the multi-valued facets) has a
    number; each segment maps its value references to the numbers of their values
    (``exp``). Counting ``docs`` either counts their references in C and expands the
    counts per reference (few documents), or ANDs a bitmask of ``docs`` with one bitmask
    per value and counts the bits (many documents; made on first use). A value that
    occurs k times in one document's list has k masks (documents with at least 1, 2, ...
    copies), so both ways count it k times, as :func:`_expand` does.
    """

    def __init__(self, name: str, readers: list[tuple[int, int, Any]], split: bool) -> None:
        self.name = name
        numbers: dict[bytes, int] = {}
        self.segments: list[tuple[int, int, Any, list[tuple[int, ...]]]] = []
        for offset, end, reader in readers:
            exp = []
            for combo in reader.uniques:
                parts = (combo.split(_VALUE_SEP) if combo else []) if split else [combo]
                exp.append(tuple([numbers.setdefault(v, len(numbers)) for v in parts]))
            self.segments.append((offset, end, reader, exp))
        self.values = list(numbers)
        self.texts = [v.decode("utf-8", "replace") for v in self.values]
        keys: dict[str, int] = {}
        self.group = [keys.setdefault(fold(t), len(keys)) for t in self.texts]
        self.keys = list(keys)
        self.members: list[list[int]] = [[] for _ in self.keys]
        for v, g in enumerate(self.group):
            self.members[g].append(v)
        self.bucket = [_bucket(v) for v in self.values] if name == "days" else []
        self._totals: dict[int, Counter[int]] = {}
        # Built on first use by bitmask: the documents of each (value, copy); the values'
        # numbers of copies; the groups by their number of documents, most first.
        self._where: dict[tuple[int, int], array] | None = None
        self._copies: list[list[tuple[int, int]]] = []
        self._groups_by_size: list[tuple[int, int]] = []
        self._masks: dict[tuple[int, int], int] = {}  # made when first counted
        self._bucket_masks: list[tuple[str, int]] | None = None

    @property
    def has_masks(self) -> bool:
        return self._where is not None

    def use_masks(self, work: int, size: int) -> bool:
        """Whether counting ``work`` documents' references costs more than the masks."""
        masks = len(ANSWER_TIME_BUCKETS) + 1 if self.name == "days" else len(self.values)
        return work * _MASK_COST > masks * size

    # ------------------------------------------------------------ by reference

    def ref_counts(self, parts: dict[int, Any]) -> dict[int, int]:
        """Value number -> how many of the documents (see :meth:`Searcher._segment_parts`)
        have it, for values that some have."""
        out: dict[int, int] = {}
        get = out.get
        for offset, end, reader, exp in self.segments:
            local, rest = parts[offset]
            if not len(local):
                continue
            refs = reader.refs
            if rest is None:
                counts = Counter(_gather(refs, local))
            else:
                total = self._totals.get(offset)
                if total is None:
                    total = self._totals[offset] = Counter(refs[: end - offset])
                counts = total.copy()
                for ref, n in Counter(_gather(refs, rest)).items():
                    counts[ref] -= n
            for ref, n in counts.items():
                if n > 0:
                    for v in exp[ref]:
                        out[v] = get(v, 0) + n
        return out

    # ------------------------------------------------------------ by bitmask

    def mask_counts(self, bits: int, limit: int | None = None) -> dict[int, int]:
        """Like :meth:`ref_counts`, for the documents whose bits are set in ``bits``. With
        ``limit``, only for the groups of values (see :meth:`top`) that can be among the
        ``limit`` largest: groups are counted largest first, until the ``limit``-th count
        so far exceeds the size of the next group (the most it can count)."""
        self._prepare()
        out: dict[int, int] = {}
        get = out.get
        largest: list[int] = []  # the limit largest group counts so far (a heap)
        for size, group in self._groups_by_size:
            if limit is not None and len(largest) >= limit and largest[0] > size:
                break
            found = 0
            for v in self.members[group]:
                for key in self._copies[v]:
                    n = (bits & self._mask(key)).bit_count()
                    if n:
                        out[v] = get(v, 0) + n
                        found += n
            if limit is not None and found:
                if len(largest) < limit:
                    heapq.heappush(largest, found)
                else:
                    heapq.heappushpop(largest, found)
        return out

    def mask_buckets(self, bits: int) -> Counter[str]:
        """Answer-time bucket -> how many of the documents in ``bits`` fall in it."""
        if self._bucket_masks is None:
            self._prepare()
            assert self._where is not None
            docs: dict[str, list[int]] = {}
            for (v, _copy), found in self._where.items():
                docs.setdefault(self.bucket[v], []).extend(found)
            self._bucket_masks = [(label, _mask_of(found)) for label, found in docs.items()]
        return Counter({label: (bits & mask).bit_count() for label, mask in self._bucket_masks})

    def _mask(self, key: tuple[int, int]) -> int:
        found = self._masks.get(key)
        if found is None:
            assert self._where is not None
            found = self._masks[key] = _mask_of(self._where[key])
        return found

    def _prepare(self) -> None:
        """The documents of each (value, copy) and the groups by size (see __init__)."""
        if self._where is not None:
            return
        where: dict[tuple[int, int], list[int]] = {}
        for offset, _end, reader, exp in self.segments:
            refs = reader.refs
            order = sorted(range(len(refs)), key=refs.__getitem__)
            ordered = list(map(refs.__getitem__, order))
            lo = 0
            for ref in sorted(set(refs)):
                hi = bisect.bisect_right(ordered, ref, lo)
                copies: dict[int, int] = {}
                for v in exp[ref]:
                    copies[v] = copies.get(v, 0) + 1
                    docs = where.setdefault((v, copies[v]), [])
                    docs.extend(map(add, order[lo:hi], repeat(offset)) if offset else order[lo:hi])
                lo = hi
        self._copies = [[] for _ in self.values]
        sizes = [0] * len(self.keys)
        for key, docs in sorted(where.items()):
            self._copies[key[0]].append(key)
            sizes[self.group[key[0]]] += len(docs)
        self._groups_by_size = sorted(
            ((n, g) for g, n in enumerate(sizes) if n), key=lambda ng: -ng[0]
        )
        self._where = {key: array("I", docs) for key, docs in where.items()}

    # ------------------------------------------------------------ results

    def top(self, name: str, counts: Mapping[int, int], limit: int) -> list[tuple[str, int]]:
        """The facet ``name`` from value counts, as :func:`facet_counts` shows it."""
        if name == "year":
            years = [(self.values[v].decode(), n) for v, n in counts.items() if self.values[v]]
            top = sorted(years, key=lambda kv: (-kv[1], kv[0]))[:limit]
            return sorted(top, reverse=True)
        if name == "answer-time":
            buckets: Counter[str] = Counter()
            for v, n in counts.items():
                buckets[self.bucket[v]] += n
            return _answer_time(buckets, limit)
        groups: dict[int, int] = {}
        for v, n in counts.items():
            g = self.group[v]
            groups[g] = groups.get(g, 0) + n
        keys = self.keys
        best = sorted(groups.items(), key=lambda gn: (-gn[1], keys[gn[0]]))[:limit]
        out = []
        for g, n in best:
            spellings: Counter[str] = Counter()
            for v in self.members[g]:
                if counts.get(v):
                    spellings[self.texts[v]] += counts[v]
            out.append((_spelling(spellings), n))
        return out


def _set_flags(flags: bytearray, docs: Iterable[int]) -> None:
    """``flags[d] = 1`` for each of ``docs``, in C."""
    deque(map(flags.__setitem__, docs, repeat(1)), 0)


def _pack_flags(flags: bytearray) -> int:
    """The int whose bit d is ``flags[d]`` (each 0 or 1): byte k of the slice ``j::8``
    holds flag 8k+j, so shifting that slice's int left by j puts it on bit 8k+j."""
    out = 0
    for j in range(8):
        out |= int.from_bytes(flags[j::8], "little") << j
    return out


class _DocFlags(Collection[int]):
    """Document numbers as a flag per document (1: in the set), from ORs of matches:
    made in C, counted in C, and turned into a bitmask for facets without a set."""

    def __init__(self, flags: bytearray) -> None:
        self.flags = flags
        self._len = flags.count(1)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        """The documents, ascending."""
        return compress(range(len(self.flags)), self.flags)

    def __contains__(self, docnum: object) -> bool:
        return isinstance(docnum, int) and 0 <= docnum < len(self.flags) and self.flags[docnum] == 1

    def bits(self) -> int:
        return _pack_flags(self.flags)


def _mask_of(docs: Sequence[int]) -> int:
    """The bitmask of ``docs``, made from the range of documents they span."""
    first = min(docs) & ~7
    flags = bytearray(max(docs) + 1 - first)
    _set_flags(flags, map(operator.sub, docs, repeat(first)) if first else docs)
    return _pack_flags(flags) << first


def _doc_bits(docs: Sequence[int], size: int) -> int:
    """The bitmask of ``docs`` (document numbers below ``size``)."""
    flags = bytearray(size)
    _set_flags(flags, docs)
    return _pack_flags(flags)


def _check_version(index_dir: Path, manifest: dict[str, Any]) -> None:
    want = current_version()
    have = {k: manifest.get(k) for k in want}
    if have != want:
        raise IndexVersionError(
            f"the index in {index_dir} was built by another kvsearch (analyzer "
            f"{have['analyzer_version']}, stemmer {have['stemmer']}, schema "
            f"{have['schema_version']}); this one uses analyzer {want['analyzer_version']}, "
            f"stemmer {want['stemmer']}, schema {want['schema_version']}. "
            "Run `kvsearch rebuild` to build it again"
        )


def normalize_id(kv_id: str) -> str:
    key = kv_id.strip().upper()
    for prefix in ("KV-TK-", "KV-"):
        key = key.removeprefix(prefix)
    return key


# ---------------------------------------------------------------- per-question scoring


class _QuestionScorer:
    """BM25 over one question+answer pair, with the index's IDF, plus a phrase bonus.

    Words of the title count half: they name the Kamervraag rather than one of its
    questions, and the first question, which often restates the title, would otherwise
    win (measured: question@1 on the tuning queries 0.81 -> 0.92).
    """

    def __init__(self, searcher: WhooshSearcher, words: QueryWords, lexicon: Lexicon) -> None:
        self.words = words
        self.lexicon = lexicon
        # Stem only the words that may match (all of them when stemmed phrases are checked).
        self.stubs = None if words.phrases else Stubs(words.terms, words.prefixes)
        n = max(1, searcher.doc_count())
        self.idf: dict[str, float] = {}
        for term in words.terms:
            df = max(
                searcher.doc_frequency("vragen", term), searcher.doc_frequency("antwoorden", term)
            )
            self.idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for term in words.exact:
            df = searcher.doc_frequency("exact", term)
            self.idf["=" + term] = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _key_idf(self, key: str) -> float:
        return _PREFIX_IDF if key.startswith("*") else self.idf.get(key, 0.0)

    def _key(self, term: str) -> str | None:
        """The scoring key of a stemmed term: itself, or ``*prefix``; None if no match."""
        if term in self.words.terms:
            return term
        for p in self.words.prefixes:
            if term.startswith(p):
                return "*" + p
        return None

    def rank(self, kv: Kamervraag) -> list[QuestionMatch]:
        if not self.words or not kv.questions:
            return []
        exact = bool(self.words.exact)
        pairs = [_PairText(qa, self.lexicon, exact, self.stubs) for qa in kv.questions]
        avg = sum(p.length for p in pairs) / len(pairs) or 1.0
        title = {
            t
            for terms in token_terms(kv.title, lexicon=self.lexicon, stubs=self.stubs)
            for t in terms
        }
        if exact:
            title |= {"=" + t for t, *_ in analyze(kv.title, stem=False, stops=False)}
        out = []
        for pair in pairs:
            score = self._score(pair, avg, title)
            if score > 0:
                snippet = functools.partial(pair.snippet, self._key, self.words.exact)
                out.append(QuestionMatch(pair.qa.nr, round(score, 4), snippet))
        out.sort(key=lambda m: (-m.score, m.nr))
        return out

    def _score(self, pair: _PairText, avg: float, title: set[str]) -> float:
        counts: Counter[str] = Counter()
        for term in pair.terms:
            key = self._key(term)
            if key:
                counts[key] += 1
        for word in pair.exact_words:
            if word in self.words.exact:
                counts["=" + word] += 1
        norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * pair.length / avg)
        score = 0.0
        for key, tf in counts.items():
            idf = self._key_idf(key)
            weight = _TITLE_WORD_WEIGHT if key in title else 1.0
            score += weight * idf * tf * (_BM25_K1 + 1) / (tf + norm)
        for phrase in self.words.phrases:
            if _contains_sequence(pair.sequence, phrase):
                score += sum(self.idf.get(t, 0.0) for t in phrase)
        for phrase in self.words.exact_phrases:
            if _contains_sequence(pair.exact_words, phrase):
                score += sum(self.idf.get("=" + t, 0.0) for t in phrase)
        return score


def _contains_sequence(seq: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(seq[i : i + n]) == phrase for i in range(len(seq) - n + 1))


class _PairText:
    """A question/answer pair, analysed once: its terms, length and word sequences; the
    character spans of matches only when a snippet is made."""

    def __init__(self, qa: QA, lexicon: Lexicon, exact: bool, stubs: Stubs | None) -> None:
        self.qa = qa
        self.lexicon = lexicon
        self.stubs = stubs
        self.sequence: list[str] = []
        if stubs is not None:
            # Only the terms that can be a query term, and the length (no stemmed phrases).
            q_length, self.terms = stub_terms(qa.question, stubs, lexicon=lexicon)
            a_length, a_terms = stub_terms(qa.answer, stubs, lexicon=lexicon)
            self.terms += a_terms
            self.length = q_length + a_length
        else:
            q_terms = token_terms(qa.question, lexicon=lexicon)
            a_terms = token_terms(qa.answer, lexicon=lexicon) if qa.answer else []
            self.terms = [t for terms in q_terms for t in terms] + [
                t for terms in a_terms for t in terms
            ]
            self.length = len(q_terms) + len(a_terms)
            # One term per position (the first), for phrase checks.
            self.sequence = [terms[0] for terms in q_terms] + [terms[0] for terms in a_terms]
        self.exact_words: list[str] = []
        if exact:
            self.exact_words = [
                terms[0] for terms in token_terms(qa.question, stem=False, stops=False)
            ] + [terms[0] for terms in token_terms(qa.answer, stem=False, stops=False)]

    def _spans(self, text: str, key: Any, exact: set[str]) -> list[tuple[int, int]]:
        matches = lambda t: key(t) is not None  # noqa: E731
        found = set(term_spans(text, matches, lexicon=self.lexicon, stubs=self.stubs))
        if exact:
            found.update(term_spans(text, exact.__contains__, stem=False, stops=False))
        return sorted(found)

    def snippet(self, key: Any, exact: set[str]) -> Fragment:
        q_spans = self._spans(self.qa.question, key, exact)
        a_spans = self._spans(self.qa.answer, key, exact) if self.qa.answer else []
        question = _fragment(self.qa.question, q_spans, width=_QUESTION_CHARS)
        if not self.qa.answer:
            return question
        if not a_spans and q_spans:
            answer = _fragment(self.qa.answer, [], width=_SNIPPET_CHARS // 2)
        else:
            answer = _fragment(self.qa.answer, a_spans)
        sep = " — "
        shift = len(question.text) + len(sep)
        return Fragment(
            question.text + sep + answer.text,
            question.highlights + tuple((s + shift, e + shift) for s, e in answer.highlights),
        )


def _fragment(text: str, spans: list[tuple[int, int]], width: int = _SNIPPET_CHARS) -> Fragment:
    """The window of ``text`` of about ``width`` characters with the most matches."""
    text = " ".join(text.split("\n"))
    if len(text) <= width:
        return Fragment(text, tuple(spans))
    start = 0
    if spans:
        best = -1
        for s, _e in spans:
            lo = max(0, s - width // 4)
            n = sum(1 for a, b in spans if a >= lo and b <= lo + width)
            if n > best:
                best, start = n, lo
    end = min(len(text), start + width)
    start = max(0, min(start, len(text) - width))
    # Snap to word boundaries.
    if start > 0:
        nxt = text.find(" ", start)
        start = nxt + 1 if 0 <= nxt < start + 20 else start
    if end < len(text):
        prev = text.rfind(" ", start, end)
        end = prev if prev > start + width // 2 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    piece = prefix + text[start:end] + suffix
    shift = len(prefix) - start
    kept = tuple((s + shift, e + shift) for s, e in spans if s >= start and e <= end)
    return Fragment(piece, kept)


# ---------------------------------------------------------------- facets and statistics
#
# Computed from the ``facets`` column (see kvsearch.schema): one compact record per
# Kamervraag, read for the matching documents only, never the stored documents. Every
# count counts Kamervragen: a record holds each value once.

#: Facet names, in display order.
FACETS = (*LIST_FACETS, "year", "answer-time")
#: What ``stats`` can group by.
STATS_BY = (*LIST_FACETS, "year")
#: Answer-time buckets: (label, lowest days, highest days).
ANSWER_TIME_BUCKETS = (
    ("<=21 days", 0, 21),
    ("22-42 days", 22, LATE_DAYS),
    ("43-90 days", LATE_DAYS + 1, 90),
    (">90 days", 91, _MAX_DAYS),
)
UNANSWERED = "unanswered"
#: Sort orders.
SORTS = ("relevance", "newest", "oldest", "answer-time")
#: --per-question with a query: how many of the best Kamervragen have their pairs ranked.
QUESTION_POOL = 300

_VALUE_SEP = VALUE_SEP.encode()


def _local_docs(docs: list[int], offset: int, end: int) -> Sequence[int]:
    """The segment-local numbers of the ``docs`` (ascending) in ``[offset, end)``."""
    lo = bisect.bisect_left(docs, offset)
    hi = bisect.bisect_left(docs, end, lo)
    if offset == 0:
        return docs[lo:hi] if (lo, hi) != (0, len(docs)) else docs
    return [d - offset for d in docs[lo:hi]]


def _gather(refs: Sequence[int], docs: Sequence[int]) -> Sequence[int]:
    """``[refs[d] for d in docs]``, in C."""
    if len(docs) > 1:
        return itemgetter(*docs)(refs)  # type: ignore[no-any-return]
    return [refs[d] for d in docs]


def _check_paging(limit: int, page: int) -> None:
    if limit < 1:
        raise QueryError("the limit must be at least 1")
    if page < 1:
        raise QueryError("the page number must be at least 1")


def _sort_order(sort: str | None, q: query.Query | None) -> str:
    if sort is None:
        return "relevance" if q is not None else "newest"
    if sort not in SORTS:
        raise QueryError(f"unknown sort order {sort!r}; choose one of {', '.join(SORTS)}")
    if sort == "relevance" and q is None:
        return "newest"  # nothing to rank on
    return sort


def facet_names(facets: bool | str | Sequence[str] | None) -> tuple[str, ...]:
    """The facets asked for: True or "all" for every facet, or names ("minister,year")."""
    if facets is None or facets is False:
        return ()
    if facets is True:
        return FACETS
    items = facets.split(",") if isinstance(facets, str) else list(facets)
    names = [n.strip().lower() for n in items if n.strip()]
    if names == ["all"] or not names:
        return FACETS
    unknown = [n for n in names if n not in FACETS]
    if unknown:
        raise QueryError(
            f"unknown facet {unknown[0]!r}; choose from {', '.join(FACETS)} (comma-separated)"
        )
    return tuple(dict.fromkeys(names))


def _bucket(days: bytes) -> str:
    if not days:
        return UNANSWERED
    n = int(days)
    for label, lo, hi in ANSWER_TIME_BUCKETS:
        if lo <= n <= hi:
            return label
    return ANSWER_TIME_BUCKETS[-1][0]


def _spelling(spellings: Counter[str]) -> str:
    """The spelling to show of a value: the most frequent; on a tie the one with
    diacritics, then one in mixed case ("Mark Rutte", not "MARK RUTTE"), then the first in
    alphabetical order."""
    return min(spellings, key=lambda v: (-spellings[v], v.isascii(), v.isupper() or v.islower(), v))


def _grouped(raw: Mapping[bytes, int]) -> list[tuple[str, int]]:
    """Counts per raw value -> counts per value with case and accents ignored, each shown
    in its most frequent spelling; most frequent first, then alphabetical."""
    groups: dict[str, Counter[str]] = {}
    for value, n in raw.items():
        text = value.decode("utf-8", "replace")
        groups.setdefault(fold(text), Counter())[text] += n
    out = []
    for key, spellings in groups.items():
        out.append((key, _spelling(spellings), sum(spellings.values())))
    out.sort(key=lambda g: (-g[2], g[0]))
    return [(shown, n) for _key, shown, n in out]


def _expand(combos: Mapping[bytes, int]) -> Counter[bytes]:
    """Counts per joined value list ("A\\x1fB") -> counts per value."""
    out: Counter[bytes] = Counter()
    for combo, n in combos.items():
        if combo:
            for value in combo.split(_VALUE_SEP):
                out[value] += n
    return out


def facet_counts(
    counts: Mapping[str, Mapping[bytes, int]], names: Sequence[str], limit: int = 10
) -> dict[str, list[tuple[str, int]]]:
    """Facet values and their counts from the counts of each facet column's values
    (``counts["days"]`` for answer-time): the ``limit`` most frequent values, most frequent
    first; years newest first and answer-time buckets in their order (both chosen by count
    when there are more than ``limit``)."""
    if limit < 1:
        raise QueryError("the facet limit must be at least 1")
    out: dict[str, list[tuple[str, int]]] = {}
    for name in names:
        if name in LIST_FACETS:
            out[name] = _grouped(_expand(counts.get(name, {})))[:limit]
        elif name == "year":
            years = [(y.decode(), n) for y, n in counts.get("year", {}).items() if y and n]
            top = sorted(years, key=lambda kv: (-kv[1], kv[0]))[:limit]
            out[name] = sorted(top, reverse=True)
        elif name == "answer-time":
            buckets: Counter[str] = Counter()
            for days, n in counts.get("days", {}).items():
                buckets[_bucket(days)] += n
            out[name] = _answer_time(buckets, limit)
    return out


def _answer_time(buckets: Counter[str], limit: int) -> list[tuple[str, int]]:
    """The answer-time facet from counts per bucket: the ``limit`` largest, in order."""
    order = [label for label, _lo, _hi in ANSWER_TIME_BUCKETS] + [UNANSWERED]
    top = sorted(((b, n) for b, n in buckets.items() if n), key=lambda kv: -kv[1])
    return sorted(top[:limit], key=lambda kv: order.index(kv[0]))


def _nth(counts: list[tuple[int, int]], index: int) -> int:
    """The value at position ``index`` (0-based) of the sorted values that ``counts``
    (sorted ``(value, how many)`` pairs) stands for."""
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def _stats_row(value: str, days: Counter[int | None]) -> StatsRow:
    """Count, answered, median and 90th percentile (nearest rank: the smallest value with
    at least 90% of the values at or below it) of answer days."""
    counts = sorted((d, n) for d, n in days.items() if d is not None and n > 0)
    answered = sum(n for _d, n in counts)
    median: float | None = None
    p90: int | None = None
    if answered:
        middle = (answered - 1) // 2
        median = (_nth(counts, middle) + _nth(counts, answered // 2)) / 2
        p90 = _nth(counts, max(0, math.ceil(0.9 * answered) - 1))
    return StatsRow(value, sum(days.values()), answered, median, p90)


def compute_stats(
    pairs: Mapping[tuple[bytes, bytes], int], text: str = "", by: str = "minister"
) -> Stats:
    """Answer statistics, overall and per value of ``by``, from the number of Kamervragen
    with each (values of ``by``, answer days) pair."""
    overall: Counter[int | None] = Counter()
    groups: dict[str, Counter[int | None]] = {}
    spellings: dict[str, Counter[str]] = {}
    for (combo, days_value), n in pairs.items():
        days = int(days_value) if days_value else None
        overall[days] += n
        if not combo:
            continue
        for raw in combo.split(_VALUE_SEP):
            value = raw.decode("utf-8", "replace")
            key = fold(value)
            groups.setdefault(key, Counter())[days] += n
            spellings.setdefault(key, Counter())[value] += n
    rows = [_stats_row(_spelling(spellings[key]), days) for key, days in groups.items()]
    if by == "year":
        rows.sort(key=lambda r: r.value, reverse=True)
    else:
        rows.sort(key=lambda r: (-r.count, fold(r.value)))
    return Stats(text, by, _stats_row("", overall), tuple(rows))


def _numeric_values(reader: Any, fieldname: str) -> list[int]:
    """One segment's numeric column in its sortable form, one value per document."""
    n = reader.doc_count_all()
    column = reader.column_reader(fieldname, translate=False)
    try:  # fast path: the column's fixed-size values are one array on disk
        count = min(column._count, n)
        values = list(column._dbfile.get_array(column._basepos, column._typecode, count))
    except (AttributeError, TypeError):
        return [column[i] for i in range(n)]
    if count < n:
        values += [column[i] for i in range(count, n)]
    return values


# ---------------------------------------------------------------- per-question fragments

_QUESTION_FRAGMENT = 320


def _pair_fragments(
    qa: QA, words: QueryWords, lexicon: Lexicon
) -> tuple[Fragment, Fragment | None]:
    """The question (shortened when long) and a snippet of the answer, with the words of
    the query highlighted (stemmed terms, prefixes, and quoted words as written)."""

    def spans(text: str) -> list[tuple[int, int]]:
        found = {
            (s, e)
            for t, _p, s, e in analyze(text, lexicon=lexicon)
            if t in words.terms or (words.prefixes and t.startswith(words.prefixes))
        }
        if words.exact:
            found |= {
                (s, e) for t, _p, s, e in analyze(text, stem=False, stops=False) if t in words.exact
            }
        return sorted(found)

    question = _fragment(qa.question, spans(qa.question), width=_QUESTION_FRAGMENT)
    if not qa.answer:
        return question, None
    return question, _fragment(qa.answer, spans(qa.answer))


# ---------------------------------------------------------------- bulk query evaluation
#
# Whoosh runs a query one document at a time through a tree of Python matcher objects:
# about 50 µs per matching document, seconds for a query that matches most of a 90k index.
# :class:`_BulkQuery` computes the same match sets and the same BM25F scores from whole
# posting lists instead: each term's postings are read block by block (ids and weights as
# arrays), scored with a table of the length normalisation per field, and combined with
# dict and set operations. It handles the queries kvsearch builds (terms, prefixes, phrases,
# And, Or, AndNot, document sets); anything else raises _Unsupported and runs on Whoosh.

#: Decoded postings kept per searcher (ids + scores, 12 bytes each): about 50 MB at most.
_POSTINGS_CACHE_LIMIT = 4_000_000
#: Prefix expansions kept per searcher, per (segment, field, prefix).
_PREFIX_CACHE_LIMIT = 1024


def _best(scores: dict[int, float], n: int) -> list[tuple[float, int]]:
    """The ``n`` best ``(score, docnum)``: highest score first, then lowest docnum (Whoosh's
    order)."""
    if n < len(scores):
        # The n-th highest score; every document scoring at least that is a candidate.
        least = heapq.nlargest(n, scores.values())[-1]
        scores = {d: s for d, s in scores.items() if s >= least}
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:n]
    return [(score, d) for d, score in best]


_INT = struct.Struct("!i")
_W3_MAGIC = b"W3Bl"


class _Unsupported(Exception):
    """A query the bulk evaluator does not handle: run it on Whoosh."""


class _BulkQuery:
    def __init__(self, searcher: WhooshSearcher) -> None:
        self._s = searcher
        self._leaves = list(searcher.reader().leaf_readers())
        self._schema = searcher.schema
        self._postings: dict[tuple[str, bytes], tuple[array, array]] = {}
        self._cached = 0
        self._norms: dict[str, list[list[float]]] = {}
        self._phrases: dict[tuple[str, tuple[str, ...]], dict[int, float]] = {}
        self._prefixes: dict[tuple[int, str, str], list[bytes]] = {}
        self._maxima: dict[tuple[str, bytes], float] = {}
        self._start(None)

    # ------------------------------------------------------------ public

    def scores(self, q: Any, only: Sequence[int] | None = None) -> dict[int, float]:
        """Every match of ``q`` with its score, as Whoosh scores it (BM25F); with ``only``
        (ascending document numbers), the matches among those. The result may be shared:
        do not change it."""
        self._start(only)
        try:
            return self._scored(q)
        finally:
            self._start(None)

    def docs(self, q: Any, only: Sequence[int] | None = None) -> set[int]:
        """Every match of ``q`` (document numbers), or those among ``only``."""
        self._start(only)
        try:
            return self._docset(q)
        finally:
            self._start(None)

    def best(
        self, q: Any, n: int, only: Sequence[int] | None = None
    ) -> tuple[Any, list[tuple[float, int]]]:
        """Every match of ``q`` (among ``only``) and the ``n`` best as (score, docnum).

        Words without operators (see :func:`_relax`) are ``all words OR any word``: a
        document with every word scores the sum of its words' scores twice, one with some
        of them once. When the n-th best document with every word outscores the most a
        document without them all could score (the sum of the words' highest scores but
        the lowest), the best are those with every word, and the "any word" sums need not
        be made: the matches are then the union of the words' matches.
        """
        self._start(only)
        try:
            words = _relaxed_words(q)
            if words is not None:
                found = self._best_relaxed(words, n)
                if found is not None:
                    return found
            scores = self._scored(q)
            return scores, _best(scores, n)
        finally:
            self._start(None)

    def _best_relaxed(self, words: list[Any], n: int) -> tuple[Any, list[tuple[float, int]]] | None:
        per_word = [self._scored(w) for w in words]
        if not all(per_word):
            return None
        full = _intersect(per_word)  # the "all words" scores
        if len(full) < n:
            return None
        # "any word" sums of the documents with every word, added as _sum would add them
        order = sorted(per_word, key=len, reverse=True)
        totals: Any = map(order[0].__getitem__, full)
        for sub in order[1:]:
            totals = map(add, totals, map(sub.__getitem__, full))
        both = dict(zip(full, map(add, full.values(), totals), strict=True))
        best = _best(both, n)
        if not best:
            return None
        # The most a document without every word can score: the words' highest scores
        # summed, but the lowest. A bound of each from its terms' highest scores (never
        # below it) settles most queries; else the highest scores are looked for.
        for exact in (False, True):
            tops = [self._word_top(w, d, exact) for w, d in zip(words, per_word, strict=True)]
            tops.sort(reverse=True)
            bound = sum(tops[:-1])
            if best[-1][0] > bound * (1 + 1e-9):
                break
            if exact:
                return None
        size = self._s.doc_count_all()
        if 16 * sum(map(len, per_word)) < size:  # few: a set (no scan of every document)
            return set().union(*per_word), best
        flags = bytearray(size)
        for scores in per_word:
            _set_flags(flags, scores)
        return _DocFlags(flags), best

    def _word_top(self, word: Any, scores: dict[int, float], exact: bool) -> float:
        """The highest of a word's ``scores``; unless ``exact``, for a term or an OR of
        terms, a bound of it: its terms' highest scores (over the whole index) summed,
        raised by 1e-12 to cover any order of adding them."""
        terms = [word] if type(word) is query.Term else getattr(word, "subqueries", None)
        if exact or terms is None or not all(type(t) is query.Term for t in terms):
            return max(scores.values())
        top = 0.0
        for t in terms:
            term_top = self._term_max(t.fieldname, self._field(t.fieldname).to_bytes(t.text))
            top += term_top * t.boost
        if type(word) is query.Or:
            top *= word.boost
        return top * (1 + 1e-12)

    def _term_max(self, fieldname: str, btext: bytes) -> float:
        """The highest score of a term (kept, also when its postings are dropped)."""
        key = (fieldname, btext)
        found = self._maxima.get(key)
        if found is None:
            scores = self._term_postings(fieldname, btext)[1]
            found = max(scores) if len(scores) else 0.0
            if len(self._maxima) >= _POSTINGS_CACHE_LIMIT // 100:
                self._maxima.clear()
            self._maxima[key] = found
        return found

    def _start(self, only: Sequence[int] | None) -> None:
        self._memo: dict[int, tuple[Any, Any]] = {}
        self._only = None if only is None else set(only)
        self._only_sorted = only

    # ------------------------------------------------------------ evaluation

    def _scored(self, q: Any) -> dict[int, float]:
        # A relaxed query holds each word twice (all words, any word): evaluate it once.
        found = self._memo.get(id(q))
        if found is not None:
            return found[1]
        out = self._scored_node(q)
        self._memo[id(q)] = (q, out)
        return out

    def _scored_node(self, q: Any) -> dict[int, float]:
        cls = type(q)
        if cls is query.Term:
            out = self._term(q.fieldname, q.text)
            return _boosted(out, q.boost)
        if cls is query.Or:
            if self._only is None and all(type(s) is query.Term for s in q.subqueries):
                out = self._sum_terms(q.subqueries)
            else:
                out = self._sum([self._scored(s) for s in q.subqueries])
            return _boosted(out, q.boost)
        if cls is query.And:
            subs = [self._scored(s) for s in q.subqueries]
            out = _intersect(subs)
            return _boosted(out, q.boost)
        if cls is query.AndNot:
            a = self._scored(q.a)
            if not a:
                return a
            b = self._docset(q.b)
            return {d: s for d, s in a.items() if d not in b}
        if cls is query.Prefix:
            return self._prefix(q)
        if cls is query.Phrase:
            return _boosted(self._phrase(q), q.boost)
        if cls is _DocSet:
            return dict.fromkeys(q.docs, 0.0)
        if q is query.NullQuery:
            return {}
        raise _Unsupported(cls.__name__)

    def _docset(self, q: Any) -> set[int]:
        found = self._memo.get(id(q))
        if found is not None:
            return found[1]
        out = self._docset_node(q)
        self._memo[id(q)] = (q, out)
        return out

    def _docset_node(self, q: Any) -> set[int]:
        cls = type(q)
        if cls is query.Term:
            return set(self._term(q.fieldname, q.text))  # (restricted by _term)
        if cls is query.Or or cls is query.Prefix:
            if cls is query.Prefix:
                subs = [
                    set(self._term(q.fieldname, t, text_bytes=True))
                    for t in self._expand(q.fieldname, q.text)
                ]
            else:
                subs = [self._docset(s) for s in q.subqueries]
            if not subs:
                return set()
            subs.sort(key=len, reverse=True)
            out = set(subs[0])
            for sub in subs[1:]:
                out |= sub
            return out
        if cls is query.And:
            subs = sorted((self._docset(s) for s in q.subqueries), key=len)
            out = set(subs[0])
            for sub in subs[1:]:
                out &= sub
            return out
        if cls is query.AndNot:
            return self._docset(q.a) - self._docset(q.b)
        if cls is query.Phrase:
            return set(self._phrase(q))
        if cls is _DocSet:
            return set(q.docs)
        if q is query.NullQuery:
            return set()
        raise _Unsupported(cls.__name__)

    def _sum_terms(self, terms: list[Any]) -> dict[int, float]:
        """``_sum`` of the (boosted) scores of terms, on the whole index: the same sums in
        the same order, added from the postings without a dict per term."""
        lists = []
        for t in terms:
            field = self._field(t.fieldname)
            ids, scores = self._term_postings(t.fieldname, field.to_bytes(t.text))
            if len(ids):
                boosted = scores if t.boost == 1.0 else map(mul, scores, repeat(t.boost))
                lists.append((ids, boosted))
        if not lists:
            return {}
        lists.sort(key=lambda item: len(item[0]), reverse=True)  # stable, as in _sum
        out = dict(zip(lists[0][0], lists[0][1], strict=True))
        get = out.get
        for ids, boosted in lists[1:]:
            # out[d] = out.get(d, 0.0) + s, looped in C.
            out.update(zip(ids, map(add, map(get, ids, repeat(0.0)), boosted), strict=True))
        return out

    @staticmethod
    def _sum(subs: list[dict[int, float]]) -> dict[int, float]:
        subs = sorted((s for s in subs if s), key=len, reverse=True)
        if not subs:
            return {}
        if len(subs) == 1:
            return subs[0]
        out = subs[0].copy()
        get = out.get
        for sub in subs[1:]:
            # out[d] = out.get(d, 0.0) + s, looped in C.
            keys = sub.keys()
            out.update(zip(keys, map(add, map(get, keys, repeat(0.0)), sub.values()), strict=True))
        return out

    # ------------------------------------------------------------ terms

    def _field(self, fieldname: str) -> Any:
        if fieldname not in self._schema:
            raise _Unsupported(fieldname)
        field = self._schema[fieldname]
        if not field.scorable or field.format is None:
            raise _Unsupported(fieldname)
        return field

    def _expand(self, fieldname: str, prefix: str) -> list[bytes]:
        self._field(fieldname)
        found: set[bytes] = set()
        for i, (reader, _offset) in enumerate(self._leaves):
            if fieldname in reader.schema:
                found.update(self._prefix_terms(i, fieldname, prefix))
        return sorted(found)

    def _prefix_terms(self, leaf: int, fieldname: str, prefix: str) -> list[bytes]:
        """The terms of one segment's field that start with ``prefix``, in order (kept:
        reading them from the term file costs about 1 ms per 100 terms)."""
        key = (leaf, fieldname, prefix)
        found = self._prefixes.get(key)
        if found is None:
            found = list(self._leaves[leaf][0].expand_prefix(fieldname, prefix))
            if len(self._prefixes) >= _PREFIX_CACHE_LIMIT:
                self._prefixes.clear()
            self._prefixes[key] = found
        return found

    def _term(self, fieldname: str, text: Any, text_bytes: bool = False) -> dict[int, float]:
        field = self._field(fieldname)
        btext = text if text_bytes else field.to_bytes(text)
        ids, scores = self._term_postings(fieldname, btext)
        return self._restricted(ids, scores)

    def _restricted(self, ids: Sequence[int], scores: Sequence[float]) -> dict[int, float]:
        """``{docnum: score}`` of postings (ascending ids), those in ``only`` if given."""
        only = self._only
        if only is None:
            return dict(zip(ids, scores, strict=True))
        if 16 * len(only) < len(ids):  # few documents: look each one up
            out = {}
            n = len(ids)
            for d in self._only_sorted:  # type: ignore[union-attr]
                i = bisect.bisect_left(ids, d)
                if i < n and ids[i] == d:
                    out[d] = scores[i]
            return out
        return dict(compress(zip(ids, scores, strict=True), map(only.__contains__, ids)))

    def _term_postings(self, fieldname: str, btext: bytes) -> tuple[array, array]:
        key = (fieldname, btext)
        found = self._postings.get(key)
        if found is not None:
            return found
        ids = array("I")
        scores = array("d")
        if any((fieldname, btext) in reader for reader, _o in self._leaves):
            idf = self._s.idf(fieldname, btext)
            norms = self._norm_tables(fieldname)
            k = _BM25_K1 + 1
            for (reader, offset), (lengths, norm) in zip(self._leaves, norms, strict=True):
                if (fieldname, btext) not in reader:
                    continue
                local, weights, _values = _read_postings(reader, fieldname, btext, False)
                scores.extend(
                    [
                        idf * ((w * k) / (w + norm[lengths[d]]))
                        for d, w in zip(local, weights, strict=True)
                    ]
                )
                if offset:
                    ids.extend([d + offset for d in local])
                else:
                    ids.extend(local)
        if self._cached + len(ids) > _POSTINGS_CACHE_LIMIT:
            self._postings.clear()
            self._cached = 0
        self._postings[key] = (ids, scores)
        self._cached += len(ids) + 1
        return ids, scores

    def _norm_tables(self, fieldname: str) -> list[tuple[Any, list[float]]]:
        """Per segment: the field's length bytes by document, and BM25's length
        normalisation by length byte (as Whoosh's ``bm25`` computes it)."""
        found = self._norms.get(fieldname)
        if found is None:
            avgfl = self._s.avg_field_length(fieldname) or 1
            b, k1 = _BM25_B, _BM25_K1
            norm = [k1 * ((1 - b) + b * byte_to_length(i) / avgfl) for i in range(256)]
            found = [(_length_bytes(reader, fieldname), norm) for reader, _o in self._leaves]
            self._norms[fieldname] = found
        return found

    def _prefix(self, q: Any) -> dict[int, float]:
        """A prefix scored as Whoosh scores it, segment by segment: one expansion is that
        term's score (without the boost); several are the boosted sum of their scores, or
        1.0 for every match in a segment of up to 5,000 documents (Whoosh's preloaded,
        unscored union)."""
        self._field(q.fieldname)
        out: dict[int, float] = {}
        for leaf, (reader, offset) in enumerate(self._leaves):
            if q.fieldname not in reader.schema:
                continue
            terms = [t for t in self._prefix_terms(leaf, q.fieldname, q.text) if t]
            if not terms:
                continue
            size = reader.doc_count_all()
            per_term = []
            for term in terms:
                ids, scores = self._term_postings(q.fieldname, term)
                lo = bisect.bisect_left(ids, offset)
                hi = bisect.bisect_left(ids, offset + size, lo)
                per_term.append(self._restricted(ids[lo:hi], scores[lo:hi]))
            if len(terms) == 1:
                out.update(per_term[0])
            elif len(terms) < query.Or.TOO_MANY_CLAUSES and (len(terms) == 2 or size > 5000):
                out.update(_boosted(self._sum(per_term), q.boost))
            else:
                for found in per_term:
                    out.update(dict.fromkeys(found, 1.0))
        return out

    # ------------------------------------------------------------ phrases

    def _phrase(self, q: Any) -> dict[int, float]:
        """Documents with the words in order, next to each other; the score is the sum
        of the words' scores (Whoosh's SpanNear2 over an intersection). Computed for the
        whole index and kept (then restricted to ``only``), unless ``only`` is small."""
        if q.slop != 1 or not q.words:
            raise _Unsupported("phrase with slop")
        field = self._field(q.fieldname)
        if not field.format.supports("positions"):
            raise _Unsupported("phrase without positions")
        words = tuple(field.to_bytes(w) for w in q.words)
        key = (q.fieldname, words)
        only = self._only
        found = self._phrases.get(key)
        if found is None and only is not None and len(only) < 2000:
            return self._phrase_matches(q.fieldname, field, words)
        if found is None:
            self._only, saved = None, self._only_sorted
            try:
                found = self._phrase_matches(q.fieldname, field, words)
            finally:
                self._only, self._only_sorted = only, saved
            if len(self._phrases) > 256:
                self._phrases.clear()
            self._phrases[key] = found
        if only is None:
            return found
        if len(only) < len(found):
            return {d: found[d] for d in only if d in found}
        return {d: s for d, s in found.items() if d in only}

    def _phrase_matches(
        self, fieldname: str, field: Any, words: tuple[bytes, ...]
    ) -> dict[int, float]:
        per_word = [self._term(fieldname, w, text_bytes=True) for w in words]
        both = _intersect(per_word) if len(per_word) > 1 else per_word[0]
        if len(words) > 1 and both:
            keep = self._phrase_docs(fieldname, field, words, both)
            both = {d: s for d, s in both.items() if d in keep}
        return both

    def _phrase_docs(
        self, fieldname: str, field: Any, words: tuple[bytes, ...], candidates: dict[int, float]
    ) -> set[int]:
        decode = field.format.decode_positions
        if type(field.format) is CompactPositions:
            decode = decode_positions
        elif type(field.format) is formats.Positions:
            decode = _decode_positions
        keep: set[int] = set()
        for reader, offset in self._leaves:
            end = offset + reader.doc_count_all()
            local = {d - offset for d in candidates if offset <= d < end}
            if not local:
                continue
            positions: list[dict[int, bytes]] = []
            for word in words:
                ids, _w, values = _read_postings(reader, fieldname, word, True)
                selected = compress(zip(ids, values, strict=True), map(local.__contains__, ids))
                positions.append(dict(selected))
            for d in local:
                starts = set(decode(positions[0][d]))
                for i, per_doc in enumerate(positions[1:], 1):
                    starts.intersection_update(map(add, decode(per_doc[d]), repeat(-i)))
                    if not starts:
                        break
                if starts:
                    keep.add(d + offset)
        return keep


def _decode_positions(value: bytes) -> Any:
    """Whoosh's ``Positions.decode_positions``: a 4-byte count, then the pickled list of
    position deltas (its final ``.`` possibly left out)."""
    data = value[4:] if value.endswith(b".") else value[4:] + b"."
    return accumulate(pickle.loads(data))


def _relaxed_words(q: Any) -> list[Any] | None:
    """The words of ``Or([And(words), Or(words)])`` (plain words, see :func:`_relax`), or
    None for any other query."""
    if type(q) is not query.Or or q.boost != 1.0 or len(q.subqueries) != 2:
        return None
    every, some = q.subqueries
    if type(every) is not query.And or type(some) is not query.Or:
        return None
    if every.boost != 1.0 or some.boost != 1.0:
        return None
    if len(every.subqueries) != len(some.subqueries) or not all(
        a is b for a, b in zip(every.subqueries, some.subqueries, strict=True)
    ):
        return None
    return list(every.subqueries)


def _boosted(scores: dict[int, float], boost: float) -> dict[int, float]:
    if boost == 1.0 or not scores:
        return scores
    return {d: s * boost for d, s in scores.items()}


def _intersect(subs: list[dict[int, float]]) -> dict[int, float]:
    if not all(subs):
        return {}
    order = sorted(range(len(subs)), key=lambda i: len(subs[i]))
    smallest = subs[order[0]]
    keys = set(smallest)
    for i in order[1:]:
        keys &= subs[i].keys()
    totals: Any = map(subs[0].__getitem__, keys)
    for sub in subs[1:]:
        totals = map(add, totals, map(sub.__getitem__, keys))
    return dict(zip(keys, totals, strict=True))


def _read_postings(
    reader: Any, fieldname: str, btext: bytes, values: bool
) -> tuple[Sequence[int], Sequence[float], Sequence[Any]]:
    """A term's postings in one segment: local document numbers, weights and (when asked)
    values, deleted documents left out. Read in one piece and decoded block by block
    (Whoosh's W3 posting format); through Whoosh's matcher when that is not possible."""
    found = _read_w3_postings(reader, fieldname, btext, values)
    if found is None:
        ids: list[int] = []
        weights: list[float] = []
        vals: list[Any] = []
        m = reader.postings(fieldname, btext)
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            if values:
                vals.append(m.value())
            m.next()
        return ids, weights, vals
    ids_, weights_, vals_ = found
    if reader.has_deletions():
        deleted = reader.deleted_docs_set
        keep = [i for i, d in enumerate(ids_) if d not in deleted]
        return (
            [ids_[i] for i in keep],
            [weights_[i] for i in keep],
            [vals_[i] for i in keep] if values else [],
        )
    return ids_, weights_, vals_


def _read_w3_postings(
    reader: Any, fieldname: str, btext: bytes, values: bool
) -> tuple[Any, Any, list[Any]] | None:
    """The postings of a term in Whoosh's W3 format, all deleted documents included; None
    when the segment is not in that format. A posting list is a series of blocks: the
    block's length (negative for the last block), a pickled info tuple (count, last id,
    max weight, compression, min and max length) and the pickled, possibly compressed,
    tuple (id deltas, weights, values), after a 4-byte tag."""
    terms = getattr(reader, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if postfile is None or not hasattr(terms, "term_info"):
        return None
    try:
        info = terms.term_info(fieldname, btext)
    except Exception:  # noqa: BLE001 - an unknown layout: use Whoosh's matcher
        return None
    if info.is_inlined():
        ids, weights, vals = info.inlined_postings()
        return list(ids), list(weights), list(vals) if values else []
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length unpacked
        length = length[0]
    raw = postfile.get(offset, length)
    if raw[:4] != _W3_MAGIC:
        return None
    buf = io.BytesIO(raw)
    ids_out = array("I")
    weights_out = array("d")
    vals_out: list[Any] = []
    pos = 4
    last = False
    while not last and pos < length:
        size = _INT.unpack_from(raw, pos)[0]
        if size < 0:
            last, size = True, -size
        buf.seek(pos + 4)
        count, _maxid, _maxweight, compression, _mnlen, _mxlen = pickle.load(buf)
        data = raw[buf.tell() : pos + 4 + size]
        pos += 4 + size
        if compression:
            data = zlib.decompress(data)
        block_ids, block_weights, block_values = pickle.loads(data)
        ids_out.extend(accumulate(block_ids))
        if block_weights is None:
            weights_out.extend(repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights_out.extend(repeat(block_weights, count))
        else:
            weights_out.extend(block_weights)
        if values:
            vals_out.extend(block_values)
    return ids_out, weights_out, vals_out


def _length_bytes(reader: Any, fieldname: str) -> Any:
    """A segment's length byte of a field for each document (Whoosh's ``_<field>_len``
    column), read in one piece."""
    n = reader.doc_count_all()
    try:
        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    except AttributeError:
        column = None
    if column is None:
        return bytes(n)
    try:
        count = min(column._count, n)
        data = column._dbfile.get_array(column._basepos, column._typecode, count)
    except (AttributeError, TypeError):
        return [column[i] for i in range(n)]
    if count < n:
        data.extend([column[i] for i in range(count, n)])
    return data
