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

import copy
import datetime as dt
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import qparser, query, scoring
from whoosh.searching import Searcher as WhooshSearcher

from kvsearch import store
from kvsearch.analysis import (
    EMPTY_LEXICON,
    STOPWORDS,
    DutchAnalyzer,
    Lexicon,
    analyze,
    fold,
    register,
)
from kvsearch.errors import (
    IndexCorruptError,
    IndexVersionError,
    KvsearchError,
    NotFoundError,
    QueryError,
)
from kvsearch.model import QA, Kamervraag
from kvsearch.schema import (
    FIELD_ALIASES,
    LEXICON_FILE,
    SEARCH_FIELDS,
    TEXT_FIELDS,
    date_number,
    unpack,
)
from kvsearch.schema import version_record as current_version

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]

_NAME_ANALYZER = DutchAnalyzer(stem=False)
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


@dataclass(frozen=True)
class QuestionMatch:
    """A question/answer pair of a hit, scored on that pair alone."""

    nr: int
    score: float
    snippet: Fragment


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

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit)) if self.limit else 1


@dataclass(frozen=True)
class Filters:
    """Filters on the metadata; empty tuples and None mean "no filter"."""

    ministers: tuple[str, ...] = ()
    date_from: dt.date | None = None  # on the date asked, inclusive
    date_to: dt.date | None = None


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
                elif node.fieldname in TEXT_FIELDS:
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


def filter_query(filters: Filters) -> query.Query | None:
    parts: list[query.Query] = []
    if filters.ministers:
        parts.append(
            query.Or([_name_query("minister", n, "--minister") for n in filters.ministers])
        )
    if filters.date_from or filters.date_to:
        lo = date_number(filters.date_from or dt.date(1, 1, 1))
        hi = date_number(filters.date_to or _MAX_DATE)
        # Both bounds always given, on signed fields: Whoosh-Reloaded 2.7.5 mismatches ranges
        # on unsigned numeric fields (an open start matches everything).
        parts.append(query.NumericRange("asked", lo, hi))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def _name_query(fieldname: str, text: str, option: str) -> query.Query:
    words = [t.text for t in _NAME_ANALYZER(text, mode="query")]
    if not words:
        raise QueryError(f"{option} {text!r} holds no name to search for")
    if len(words) == 1:
        return query.Term(fieldname, words[0])
    return query.Phrase(fieldname, words)


# ---------------------------------------------------------------- the searcher


class Searcher:
    """An open index. Use as a context manager, or call :meth:`close`."""

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir).expanduser()
        self.manifest: dict[str, Any] = {}
        self._ix: Any = None
        self._searcher: WhooshSearcher | None = None
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
                ix = whoosh_index.open_dir(str(gen))
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
    ) -> SearchResult:
        if limit < 1:
            raise QueryError("the limit must be at least 1")
        if page < 1:
            raise QueryError("the page number must be at least 1")
        filters = filters or Filters()
        q = parse_query(text, self._s.schema, self.lexicon)
        if q is None and text.strip():
            raise QueryError(
                f"nothing to search for in {text!r}: give words, or leave the query out "
                "to list Kamervragen by their filters"
            )
        fq = filter_query(filters)
        wanted = page * limit
        try:
            if q is None:
                results = self._s.search(
                    query.Every(), filter=fq, limit=wanted, sortedby="asked", reverse=True
                )
            else:
                results = self._s.search(q, filter=fq, limit=wanted)
            total = len(results)
            rows = [(hit.score, hit["doc"]) for hit in results[(page - 1) * limit : wanted]]
        except KvsearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a query Whoosh cannot run
            raise QueryError(f"cannot run the query {text!r} ({exc}); try plain words") from None
        scorer = _QuestionScorer(self._s, query_words(q), self.lexicon)
        scored = []
        for score, blob in rows:
            kv = unpack(blob)
            questions = tuple(scorer.rank(kv))
            value = float(score or 0.0) if q is not None else 0.0
            if q is not None and questions and _PASSAGE_WEIGHT:
                # A Kamervraag whose words meet in one question outranks one where they are
                # spread over many (re-ranks within the page).
                value += _PASSAGE_WEIGHT * questions[0].score
            scored.append((value, kv, questions))
        if q is not None:
            scored.sort(key=lambda item: -item[0])
        hits = [
            Hit(kamervraag=kv, score=value, rank=(page - 1) * limit + i + 1, questions=questions)
            for i, (value, kv, questions) in enumerate(scored)
        ]
        suggestion = self.suggest(text) if q is not None else None
        return SearchResult(text, total, page, limit, tuple(hits), suggestion=suggestion)

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
        pairs = [_PairText(qa, self.lexicon, exact) for qa in kv.questions]
        avg = sum(p.length for p in pairs) / len(pairs) or 1.0
        title = {t for t, *_ in analyze(kv.title, lexicon=self.lexicon)}
        if exact:
            title |= {"=" + t for t, *_ in analyze(kv.title, stem=False, stops=False)}
        out = []
        for pair in pairs:
            score = self._score(pair, avg, title)
            if score > 0:
                snippet = pair.snippet(self._key, self.words.exact)
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
    """A question/answer pair, analysed once: terms, positions and character spans."""

    def __init__(self, qa: QA, lexicon: Lexicon, exact: bool) -> None:
        self.qa = qa
        self.q_tokens = list(analyze(qa.question, lexicon=lexicon))
        self.a_tokens = list(analyze(qa.answer, lexicon=lexicon)) if qa.answer else []
        self.terms = [t for t, *_ in self.q_tokens] + [t for t, *_ in self.a_tokens]
        self.length = len({p for _t, p, *_ in self.q_tokens}) + len(
            {p for _t, p, *_ in self.a_tokens}
        )
        self.sequence = _position_sequence(self.q_tokens) + _position_sequence(self.a_tokens)
        self.q_exact: list[tuple[str, int, int, int]] = []
        self.a_exact: list[tuple[str, int, int, int]] = []
        if exact:
            self.q_exact = list(analyze(qa.question, stem=False, stops=False))
            self.a_exact = list(analyze(qa.answer, stem=False, stops=False))
        self.exact_words = _position_sequence(self.q_exact) + _position_sequence(self.a_exact)

    def snippet(self, key: Any, exact: set[str]) -> Fragment:
        q_spans = sorted(
            set(_spans(self.q_tokens, key)) | set(_spans(self.q_exact, exact.__contains__))
        )
        a_spans = sorted(
            set(_spans(self.a_tokens, key)) | set(_spans(self.a_exact, exact.__contains__))
        )
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


def _position_sequence(tokens: list[tuple[str, int, int, int]]) -> list[str]:
    """One term per position (the first), for phrase checks."""
    seq: list[str] = []
    last = None
    for term, pos, _s, _e in tokens:
        if pos != last:
            seq.append(term)
            last = pos
    return seq


def _spans(tokens: list[tuple[str, int, int, int]], matches: Any) -> list[tuple[int, int]]:
    spans = sorted({(s, e) for term, _p, s, e in tokens if matches(term)})
    return spans


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
