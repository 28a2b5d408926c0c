"""The query layer on the indexed sample corpus: ranking, syntax, filters, errors."""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvsearch import store
from kvsearch.errors import (
    IndexCorruptError,
    IndexNotFoundError,
    IndexVersionError,
    KvsearchError,
    NotFoundError,
    QueryError,
)
from kvsearch.search import Filters, Searcher, parse_date_range


@pytest.fixture(scope="module")
def searcher(sample_index: Path) -> Searcher:
    with Searcher(sample_index) as s:
        yield s  # type: ignore[misc]


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.id for h in result.hits]


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize(
    ("query", "doc", "nr"),
    [
        # A phrase from one question of one document: that document first, that question named.
        ('"wisseling van de ambtenaren"', "2024Z01294", 8),
        ("FUREC-project bindende doelstelling groene waterstof", "2024Z11074", 1),
        ("cao schoolbestuurders funderend onderwijs arbeidscontracten", "2024Z18892", 4),
    ],
)
def test_known_phrase_finds_document_and_question(
    searcher: Searcher, query: str, doc: str, nr: int
) -> None:
    result = searcher.search(query)
    assert result.hits[0].id == doc
    assert result.hits[0].questions[0].nr == nr


def test_ranked_hits_carry_metadata_and_snippets(searcher: Searcher) -> None:
    result = searcher.search("ambtenaren verkiezingen")
    assert result.total == 3
    top = result.hits[0]
    assert top.id == "2024Z01294"
    assert top.rank == 1
    assert top.score > result.hits[1].score > 0
    assert top.kamervraag.answered == dt.date(2024, 2, 16)
    assert [m.score for m in top.questions] == sorted(
        (m.score for m in top.questions), reverse=True
    )
    for match in top.questions:
        highlighted = {match.snippet.text[s:e].lower() for s, e in match.snippet.highlights}
        assert highlighted
        assert highlighted <= {"ambtenaren", "verkiezingen", "verkiezingsuitslag"}


def test_missing_word_does_not_empty_the_result(searcher: Searcher) -> None:
    full = searcher.search("schoolbestuurders cao")
    assert ids(full)[0] == "2024Z18892"
    typo = searcher.search("schoolbestuurders cao xyzzyqq")
    assert ids(typo)[0] == "2024Z18892"


def test_all_words_rank_before_some_words(searcher: Searcher) -> None:
    result = searcher.search("ambtenaren verkiezingen")
    assert ids(result)[0] == "2024Z01294"  # the only one with both words
    strict = searcher.search("ambtenaren AND verkiezingen")
    assert ids(strict) == ["2024Z01294"]


def test_two_words_also_find_the_compound_the_corpus_writes(searcher: Searcher) -> None:
    """``data kwaliteit`` also matches *datakwaliteit*, one word in 2024Z14247 only (the
    lexicon knows it and does not split it): the two words are joined when the corpus
    writes them as one."""
    result = searcher.search("data kwaliteit")
    assert ids(result)[0] == "2024Z14247"
    assert "2024Z14247" not in ids(searcher.search("data AND kwaliteit"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("waterstof -afval", []),
        ("waterstof NOT afval", []),
        ("waterstof", ["2024Z11074"]),
        ("minister:hermans", ["2024Z11074"]),
        ('minister:"de jonge"', ["2024Z01294"]),
        ("indiener:kisteman", ["2024Z18892"]),
        ("indieners:Kisteman", ["2024Z18892"]),
        ("titel:schoolbestuurders", ["2024Z18892"]),
        ("onderwerp:rijksoverheid", ["2024Z01294"]),
        ("2024Z01294", ["2024Z01294"]),
        ("kv-tk-2024Z01294", ["2024Z01294"]),
        ("ah-tk-20232024-1065", ["2024Z01294"]),
        ("yesilgoz", ["2024Z01294"]),
        ("Yeşilgöz-Zegerius", ["2024Z01294"]),
        ("zegerius", ["2024Z01294"]),
        ("schoolbestuur*", ["2024Z18892"]),
    ],
)
def test_query_syntax(searcher: Searcher, query: str, expected: list[str]) -> None:
    assert ids(searcher.search(query, limit=50)) == expected


def test_or_and_not(searcher: Searcher) -> None:
    either = set(ids(searcher.search("waterstof OR schoolbestuurders", limit=50)))
    assert either == {"2024Z11074", "2024Z18892"}
    everything_else = searcher.search("NOT waterstof", limit=50)
    assert everything_else.total == 35
    assert "2024Z11074" not in ids(everything_else)


def test_vraag_and_antwoord_fields(searcher: Searcher) -> None:
    in_answers = set(ids(searcher.search("antwoord:RFNBO", limit=50)))
    in_questions = set(ids(searcher.search("vraag:RFNBO", limit=50)))
    assert in_answers == {"2024Z11074"}
    assert in_questions == set()


@pytest.mark.parametrize(
    "query",
    ['"unbalanced quote', "(waterstof OR", "waterstof AND", "OR OR waterstof", "minister:"],
)
def test_malformed_queries_still_give_results(searcher: Searcher, query: str) -> None:
    assert searcher.search(query).total >= 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("AND", "nothing to search for in 'AND'"),
        ("-", "nothing to search for in '-'"),
        (
            "foo:bar",
            "unknown field 'foo:' in the query; known fields: antwoorden, exact, indiener,",
        ),
        ("a*", "the wildcard 'a*' needs at least 2 letters before * or ?"),
    ],
)
def test_query_errors(searcher: Searcher, query: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        searcher.search(query)
    assert str(info.value).startswith(message)


# ---------------------------------------------------------------- filters


def test_minister_filter_is_accent_and_case_insensitive(searcher: Searcher) -> None:
    for name in ("yesilgoz", "Yeşilgöz", "YESILGOZ-ZEGERIUS", "zegerius", "dilan yesilgoz"):
        assert ids(searcher.search("", Filters(ministers=(name,)))) == ["2024Z01294"], name


def test_minister_filter_is_repeatable_or(searcher: Searcher) -> None:
    result = searcher.search("", Filters(ministers=("de jonge", "hermans")))
    assert set(ids(result)) == {"2024Z01294", "2024Z11074"}


def test_minister_filter_does_not_join_two_people(searcher: Searcher) -> None:
    # "Hugo de Jonge" and "Mark Rutte" both answered 2024Z01294, but nobody is "Jonge Mark".
    assert searcher.search("", Filters(ministers=("jonge mark",))).total == 0


def test_minister_filter_agrees_with_field_query(searcher: Searcher) -> None:
    assert ids(searcher.search("minister:hermans")) == ids(
        searcher.search("", Filters(ministers=("hermans",)))
    )


def test_filters_combine_with_query(searcher: Searcher) -> None:
    result = searcher.search("ambtenaren", Filters(ministers=("rutte",)))
    assert ids(result) == ["2024Z01294"]


@pytest.mark.parametrize(
    ("date_from", "date_to", "count"),
    [
        ("2024-01-29", "2024-01-29", 1),
        ("2024-01", "2024-01", 1),
        ("2024", "2024", 36),
        ("2024-11-19", "2024-11-19", 5),
        ("2024-11-20", None, 6),
        (None, "2024-06", 3),
        ("2025", None, 0),
    ],
)
def test_date_filters_are_inclusive(
    searcher: Searcher, date_from: str | None, date_to: str | None, count: int
) -> None:
    filters = Filters(
        date_from=parse_date_range(date_from)[0] if date_from else None,
        date_to=parse_date_range(date_to)[1] if date_to else None,
    )
    result = searcher.search("", filters, limit=100)
    assert result.total == count
    for hit in result.hits:
        if filters.date_from:
            assert hit.kamervraag.asked >= filters.date_from
        if filters.date_to:
            assert hit.kamervraag.asked <= filters.date_to


def test_empty_query_lists_newest_first(searcher: Searcher) -> None:
    result = searcher.search("", limit=100)
    asked = [h.kamervraag.asked for h in result.hits]
    assert result.total == 36
    assert asked == sorted(asked, reverse=True)
    assert all(h.questions == () for h in result.hits)


def test_paging(searcher: Searcher) -> None:
    everything = ids(searcher.search("", limit=100))
    pages = [ids(searcher.search("", limit=10, page=p)) for p in (1, 2, 3, 4, 5)]
    assert functools.reduce(operator.iadd, pages, []) == everything
    assert pages[4] == []
    assert searcher.search("", limit=10, page=2).hits[0].rank == 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("2024-02", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("2023-12", (dt.date(2023, 12, 1), dt.date(2023, 12, 31))),
        ("2024-01-29", (dt.date(2024, 1, 29), dt.date(2024, 1, 29))),
        ("29 januari 2024", (dt.date(2024, 1, 29), dt.date(2024, 1, 29))),
        ("Februari 2024", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
    ],
)
def test_parse_date_range(text: str, expected: tuple[dt.date, dt.date]) -> None:
    assert parse_date_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-13", "'2024-13' is not a valid date (month 13 is not between 1 and 12)"),
        ("2024-02-30", "'2024-02-30' is not a valid date (day is out of range for month)"),
        ("gisteren", "'gisteren' is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or a Dutch date"),
        ("24", "'24' is not a date"),
    ],
)
def test_parse_date_range_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_date_range(text)
    assert str(info.value).startswith(message)


# ---------------------------------------------------------------- show / open errors


def test_get(searcher: Searcher) -> None:
    assert searcher.get("2024z01294").id == "2024Z01294"
    assert searcher.get("kv-tk-2024Z01294").question(9).answer == "Ja."  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match=r"no Kamervraag '2099Z00001' in the index"):
        searcher.get("2099Z00001")


def test_no_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match=r"build one with `kvsearch index SOURCE_DIR`"):
        Searcher(tmp_path / "nothing-here")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("analyzer_version", "0"),
        # schema 3: Whoosh's positions and stored fields, before CompactPositions and the
        # stored documents' preset dictionary
        ("schema_version", "3"),
        # schema 5: Whoosh's terms file, before kvsearch's (kvsearch.termsfile)
        ("schema_version", "5"),
    ],
)
def test_other_analyzer_or_schema_version_asks_for_rebuild(
    sample_index: Path, tmp_path: Path, key: str, value: str
) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(sample_index, copy)
    manifest = json.loads((copy / store.MANIFEST).read_text())
    assert manifest[key] != value
    manifest[key] = value
    (copy / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionError, match=r"Run `kvsearch rebuild`"):
        Searcher(copy)


def test_damaged_index_asks_for_rebuild(sample_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(sample_index, copy)
    gen = store.generation_dir(copy, store.read_manifest(copy))
    for toc in gen.glob("*.toc"):
        toc.write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match=r"run `kvsearch rebuild`"):
        Searcher(copy)


# ---------------------------------------------------------------- properties


QUERY_ALPHABET = st.sampled_from(
    [
        *list('abcdeghikmnorstuvwyzëöş0123456789 "()*?:-+^~[]{}/\\'),
        "AND",
        "OR",
        "NOT",
        "minister:",
        "titel:",
        "vraag:",
        "waterstof",
        " ",
        "'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(QUERY_ALPHABET, max_size=12).map("".join))
def test_any_query_gives_a_result_or_a_clear_error(sample_index: Path, text: str) -> None:
    with Searcher(sample_index) as s:
        try:
            result = s.search(text, limit=5)
        except QueryError as exc:
            assert str(exc)
        else:
            assert result.total >= len(result.hits)
            for hit in result.hits:
                for match in hit.questions:
                    for start, end in match.snippet.highlights:
                        assert 0 <= start < end <= len(match.snippet.text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_any_unicode_query_is_safe(sample_index: Path, text: str) -> None:
    with Searcher(sample_index) as s:
        try:
            s.search(text, limit=3)
        except KvsearchError as exc:
            assert isinstance(exc, QueryError)
