"""The fast search paths give exactly what the slow ones give.

- Bulk query evaluation (:class:`kvsearch.search._BulkQuery`) against Whoosh scoring every
  match itself: the same matches, the same scores (to rounding), the same best hits; on one
  segment and on several segments with a deleted document.
- Per-question scores and snippets with and without stemming only the words that can
  match (:class:`kvsearch.analysis.Stubs`).
- The bulk analysis helpers against :func:`kvsearch.analysis.analyze`.
- The lexicon's pickled copy and its word counts (:class:`kvsearch.analysis.WordCounts`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pickle
import shutil
from array import array
from pathlib import Path
from typing import Any

import pytest
from conftest import add_segments
from hypothesis import given
from hypothesis import strategies as st

import kvsearch.search as ks
from kvsearch.analysis import (
    STEM_OVERRIDES,
    Lexicon,
    Stubs,
    WordCounts,
    analyze,
    fast_path,
    stub_terms,
    term_spans,
    token_terms,
)
from kvsearch.indexer import SAMPLE_DIR, build_index
from kvsearch.search import Filters, Searcher

FIXTURES = Path(__file__).parent / "fixtures"

QUERIES = [
    "ambtenaren",
    "neutraliteit ambtenaren",
    "verkiezingsuitslag",
    "stikstof boeren natuur",
    "bom honden",
    '"politiek neutraal"',
    '"de minister"',
    "ambt*",
    "ver*",
    "minister:yesilgoz",
    'titel:"ambtenaren"',
    "ambtenaren -verkiezingen",
    "ambtenaren AND verkiezingen",
    "ambtenaren OR onderwijs",
    "NOT ambtenaren",
    "F-35",
    "2024Z01294",
    "onderwijs kosten leraren",
    "schoolbestuurders belonen",
    "kinderen",
    "yesilgoz stikstof",
]

FILTERS = [
    Filters(),
    Filters(date_from=ks.parse_date_range("2024-06")[0]),
    Filters(ministers=("de jonge",)),
    Filters(answered=True, max_days=42),
]


def _whoosh_all(s: Searcher, q: Any, allowed: list[int] | None) -> list[tuple[float, int]]:
    """Every match as Whoosh scores it, best first (ties: lower document number)."""
    wq = q if allowed is None else ks.query.And([q, ks._DocSet(allowed)])
    hits = [(h.score, h.docnum) for h in s._s.search(wq, limit=None)]
    return sorted(hits, key=lambda hit: (-hit[0], hit[1]))


def _check_bulk(index: Path) -> int:
    checked = 0
    with Searcher(index) as s:
        for text in QUERIES:
            for filters in FILTERS:
                q, filters = s._queries(text, filters)
                assert q is not None
                allowed = s._allowed(filters)
                found, rows = s._select(q, filters, "relevance", 5)
                docs = sorted(found)  # a set or a dict when from the bulk evaluator
                assert len(docs) == len(found)
                expected = _whoosh_all(s, q, allowed)
                assert docs == sorted(d for _s, d in expected), text
                assert [d for _s, d in rows] == [d for _s, d in expected[:5]], text
                for (got, _d), (want, _e) in zip(rows, expected, strict=False):
                    assert got == pytest.approx(want, rel=1e-12), text
                assert s._matching(q, filters) == docs
                checked += len(docs)
    return checked


def test_bulk_evaluation_matches_whoosh(sample_index: Path) -> None:
    assert _check_bulk(sample_index) > 100


def test_bulk_evaluation_several_segments(tmp_path: Path) -> None:
    """Three segments of a few documents (where Whoosh scores a prefix of several terms as
    1.0 per document) and a deleted document."""
    files = sorted(SAMPLE_DIR.rglob("*.txt"))
    first = tmp_path / "first"
    first.mkdir()
    for path in files[:12]:
        shutil.copy(path, first)
    index = tmp_path / "segmented"
    build_index(first, index)
    add_segments(index, [files[12:24], files[24:]], files[0].stem)
    with Searcher(index) as s:
        assert len(s._s.reader().leaf_readers()) == 3
        assert s._s.reader().has_deletions()
    assert _check_bulk(index) > 100


def test_unsupported_query_runs_on_whoosh(sample_index: Path) -> None:
    with Searcher(sample_index) as s:
        result = s.search("amb?enar*")  # a wildcard: not a bulk query
        assert result.total > 0
        q, _f = s._queries("amb?enar*", None)
        with pytest.raises(ks._Unsupported):
            s._bulk.scores(q)


def _pairs(s: Searcher, text: str) -> list[Any]:
    out: list[Any] = []
    for hit in s.search(text, limit=10).hits:
        out.append([(m.nr, m.score, m.snippet.text, m.snippet.highlights) for m in hit.questions])
    for qhit in s.search_questions(text, limit=10).hits:
        out.append((qhit.id, qhit.nr, qhit.score, qhit.question, qhit.answer))
    return out


def test_stubs_change_no_question_score(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [*QUERIES, "leden", "kamerleden", "steden", "bedrijven", "jaar", "lid*"]
    with Searcher(sample_index) as s:
        fast = [_pairs(s, text) for text in queries]
    monkeypatch.setattr(ks, "Stubs", lambda *args, **kwargs: None)
    with Searcher(sample_index) as s:
        slow = [_pairs(s, text) for text in queries]
    assert fast == slow
    assert any(fast)


def _lexicon() -> Lexicon:
    data = json.loads((FIXTURES / "lexicon_be.json").read_text(encoding="utf-8"))
    return Lexicon(data["words"], ["Hugo de Jonge", "Dilan Yeşilgöz-Zegerius"])


def test_every_term_starts_with_a_stub_of_the_word() -> None:
    """What :class:`Stubs` relies on: a word's terms begin with two letters found in the
    folded word, or the word is an irregular form of STEM_OVERRIDES."""
    lexicon = _lexicon()
    words = [*lexicon.words, *STEM_OVERRIDES, "kamerleden", "jaar", "bedrijven", "f-35"]
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLE_DIR.rglob("*.txt")))
    words += sorted({w for w in text.split() if w.isalpha()})[:3000]
    for word in words:
        plain = lexicon.token_terms(word, False, True, True)
        for term in lexicon.token_terms(word, True, True, True):
            assert plain, word
            assert Stubs([term]).search(plain[0]), (word, term)
            assert Stubs([], [term[:3]]).search(plain[0]), (word, term)


@given(st.text(alphabet="abcdeéfghijklmnopqrstuvwxyz -'\n.,0123456789", max_size=200))
def test_bulk_analysis_matches_analyze(text: str) -> None:
    lexicon = _lexicon()
    tokens = list(analyze(text, lexicon=lexicon))
    grouped: dict[int, list[str]] = {}
    for term, pos, _s, _e in tokens:
        grouped.setdefault(pos, []).append(term)
    assert [tuple(v) for v in grouped.values()] == token_terms(text, lexicon=lexicon)
    wanted = {t for t, *_ in tokens[::3]}
    spans = sorted({(s, e) for t, _p, s, e in tokens if t in wanted})
    assert term_spans(text, wanted.__contains__, lexicon=lexicon) == spans
    stubs = Stubs(wanted)
    assert term_spans(text, wanted.__contains__, lexicon=lexicon, stubs=stubs) == spans
    with_stubs = token_terms(text, lexicon=lexicon, stubs=stubs)
    assert len(with_stubs) == len(grouped)
    for got, want in zip(with_stubs, grouped.values(), strict=True):
        assert (set(got) & wanted) == (set(want) & wanted)
    positions, terms = stub_terms(text, stubs, lexicon=lexicon)
    assert positions == len(grouped)
    assert sorted(t for t in terms if t in wanted) == sorted(t for t, *_ in tokens if t in wanted)


def test_lexicon_pickled_copy(tmp_path: Path) -> None:
    lexicon = _lexicon()
    path = tmp_path / "lexicon.json.gz"
    lexicon.save(path)
    assert fast_path(path).is_file()
    loaded = Lexicon.load(path)
    assert (loaded.words, loaded.names, loaded.key) == (lexicon.words, lexicon.names, lexicon.key)
    # A copy that belongs to another JSON file is ignored.
    other = Lexicon({"stikstof": 3}, ["Mark Rutte"])
    copy = fast_path(path).read_bytes()
    other.save(path)
    fast_path(path).write_bytes(copy)
    loaded = Lexicon.load(path)
    assert (loaded.words, loaded.key) == (other.words, other.key)
    # So is a damaged or missing copy.
    fast_path(path).write_bytes(b"not a pickle")
    assert Lexicon.load(path).key == other.key
    fast_path(path).unlink()
    assert Lexicon.load(path).key == other.key


def test_loaded_word_counts_answer_like_the_dict(tmp_path: Path) -> None:
    words = {"stikstof": 5, "stik": 2, "stof": 9, "a": 1, "zzz": 3, "uitstoot": 2**33}
    path = tmp_path / "lexicon.json.gz"
    Lexicon(words, ["Mark Rutte"]).save(path)
    loaded = Lexicon.load(path).words
    assert isinstance(loaded, WordCounts)
    assert len(loaded) == len(words)
    assert list(loaded) == sorted(words)
    expected = {**words, "uitstoot": 2**32 - 1}  # counts are capped at 32 bits
    for word in [*words, "", "st", "stikstoff", "b", "zzzz", "0", "\uffff"]:
        assert loaded.get(word) == expected.get(word), word
        assert loaded.get(word, 0) == expected.get(word, 0), word
        assert (word in loaded) == (word in expected), word
    assert loaded["stof"] == 9
    with pytest.raises(KeyError):
        loaded["stoffen"]
    assert loaded == expected
    # A copy in the earlier form (a pickled dict) is still read.
    raw = path.read_bytes()
    old = {"source": hashlib.sha1(raw).hexdigest(), "key": "k", "names": [], "words": {"a": 1}}
    fast_path(path).write_bytes(pickle.dumps(old))
    reread = Lexicon.load(path)
    assert (reread.words, reread.key) == ({"a": 1}, "k")
    # One in neither form is not: the JSON is read.
    fast_path(path).write_bytes(pickle.dumps({**old, "words": None}))
    reread = Lexicon.load(path)
    assert (reread.words, reread.key) == (words, Lexicon(words, ["Mark Rutte"]).key)


def test_word_counts_in_many_blocks(tmp_path: Path) -> None:
    """A lexicon of several blocks of words answers every word like the dict, and so does
    a copy written before the blocks (all words in one string)."""
    words = {f"{a}{b}{c}": n for n, (a, b, c) in enumerate(itertools.product("abcdefg", repeat=3))}
    path = tmp_path / "lexicon.json.gz"
    Lexicon(words).save(path)
    loaded = Lexicon.load(path).words
    assert isinstance(loaded, WordCounts)
    assert len(loaded) == len(words) > 4 * 64
    probes = [*words, "", "a", "aaaa", "ab", "gggg", "h", "cde" + "z", "0"]
    assert [loaded.get(w) for w in probes] == [words.get(w) for w in probes]
    assert list(loaded) == sorted(words)
    fast = pickle.loads(fast_path(path).read_bytes())
    older = {k: v for k, v in fast.items() if k != "word_blocks"}
    older["word_list"] = "\n".join(sorted(words))
    fast_path(path).write_bytes(pickle.dumps(older))
    reread = Lexicon.load(path).words
    assert isinstance(reread, WordCounts)
    assert [reread.get(w) for w in probes] == [words.get(w) for w in probes]
    # A copy whose words and counts disagree is not used: the JSON is read.
    fast_path(path).write_bytes(pickle.dumps({**fast, "word_counts": b""}))
    assert Lexicon.load(path).words == words


def test_word_counts_must_be_sorted() -> None:
    with pytest.raises(ValueError, match="sorted"):
        WordCounts(["b", "a"], array("I", [1, 2]))
    with pytest.raises(ValueError, match="one count each"):
        WordCounts(["a"], array("I", [1, 2]))


@pytest.mark.parametrize("limit", [1, 1024])
def test_prefix_expansions_are_kept_without_changing_results(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Prefix expansions are kept per searcher (and dropped when too many): the same
    results each time, and the same as a searcher that never kept any."""
    with Searcher(sample_index) as fresh:
        want = {t: fresh.search(t, limit=50) for t in ("ambt*", "ver*", "ambt* ver*")}
    monkeypatch.setattr(ks, "_PREFIX_CACHE_LIMIT", limit)
    with Searcher(sample_index) as s:
        for _ in range(2):
            for text, result in want.items():
                got = s.search(text, limit=50)
                assert (got.total, got.hits) == (result.total, result.hits), text
        assert 0 < len(s._bulk._prefixes) <= limit


@pytest.mark.parametrize("limit", [1, 256])
def test_parsed_queries_are_kept_without_changing_results(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A query text is parsed once per searcher; running its query again (whole, on a few
    documents, with facets, per question) gives what a new searcher gives."""
    texts = ["neutraliteit ambtenaren", '"politiek neutraal" OR ambt*', "ambtenaren -verkiezingen"]
    filters = Filters(date_from=ks.parse_date_range("2024-06")[0])

    def run(s: Searcher, text: str) -> object:
        a = s.search(text, facets=True)
        b = s.search(text, filters, limit=3)
        c = s.search_questions(text, limit=5)
        return (a.total, a.hits, a.facets, b.total, b.hits, c.total, c.hits)

    with Searcher(sample_index) as fresh:
        want = {t: run(fresh, t) for t in texts}
    monkeypatch.setattr(ks, "_PARSED_CACHE_LIMIT", limit)
    with Searcher(sample_index) as s:
        for _ in range(2):
            for text in texts:
                assert run(s, text) == want[text], text
        assert 0 < len(s._parsed) <= limit
        if limit > 1:
            assert s._parse(texts[0]) is s._parse(texts[0])


def _ors_of_terms(node: Any) -> list[Any]:
    found = []
    if type(node) is ks.query.Or and all(type(t) is ks.query.Term for t in node.subqueries):
        found.append(node)
    for child in node.children():
        found += _ors_of_terms(child)
    return found


def test_or_of_terms_sums_exactly_as_term_by_term(sample_index: Path) -> None:
    """The straight-from-postings sum of an OR of terms equals, bit for bit, the sum of
    the terms' own scores (boosts, terms without postings and single terms included)."""
    with Searcher(sample_index) as s:
        bulk = s._bulk
        for text in ["ambtenaren", "neutraliteit ambtenaren", "kinderen", "zzzgeenwoord", "f-35"]:
            q = s._parse(text)
            assert q is not None
            ors = _ors_of_terms(q)
            assert ors, text
            for node in ors:
                assert any(t.boost != 1.0 for t in node.subqueries)
                bulk._start(None)
                fast = bulk._sum_terms(node.subqueries)
                slow = bulk._sum([bulk._scored(t) for t in node.subqueries])
                bulk._start(None)
                assert sorted(fast) == sorted(slow), text
                assert all(fast[d].hex() == slow[d].hex() for d in slow), text


@pytest.mark.parametrize(
    "text",
    ["neutraliteit ambtenaren", "stikstof boeren natuur", "onderwijs kosten leraren", "bom honden"],
)
def test_relaxed_bound_from_term_maxima(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """A word's bound from its terms' highest scores is never below its highest score, and
    the best hits are the same whether the bound or the exact highest scores decide."""
    with Searcher(sample_index) as s:
        q = s._parse(text)
        words = ks._relaxed_words(q)
        assert words is not None
        bulk = s._bulk
        bulk._start(None)
        for word in words:
            scores = bulk._scored(word)
            if scores:
                assert bulk._word_top(word, scores, False) >= max(scores.values())
        bulk._start(None)
        found = bulk.best(q, 3)
        monkeypatch.setattr(
            ks._BulkQuery, "_word_top", lambda self, w, scores, exact: max(scores.values())
        )
        assert bulk.best(q, 3) == found
