"""Filters, facets, sorting, per-question results and statistics, on a hand-counted fixture.

The fixture (tests/fixtures/facets/, counted in its README) has ten Kamervragen: one with
twelve ministers, one with the same minister twice, spelling variants with and without
diacritics and in capitals, unanswered ones, and answer times on both sides of every
bucket boundary.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from conftest import add_segments
from whoosh.filedb.filestore import FileStorage  # noqa: TID251 - a column's file format

from kvsearch.errors import QueryError
from kvsearch.indexer import build_index
from kvsearch.schema import facet_values, ministry_of, person_terms
from kvsearch.search import (
    FACETS,
    Filters,
    Searcher,
    StatsRow,
    compute_stats,
    facet_counts,
    facet_names,
    parse_date_range,
)

FIXTURE = Path(__file__).parent / "fixtures" / "facets"


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    index_dir = tmp_path_factory.mktemp("facets") / "index"
    report = build_index(FIXTURE, index_dir)
    assert report.indexed == 10
    with Searcher(index_dir) as s:
        yield s  # type: ignore[misc]


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.id for h in result.hits]


def found(searcher: Searcher, text: str = "", **filters: object) -> list[str]:
    """The matching ids, in index (= id) order."""
    return sorted(ids(searcher.search(text, Filters(**filters), limit=100)))  # type: ignore[arg-type]


def days(text: str) -> tuple[dt.date, dt.date]:
    return parse_date_range(text)


def kv(*numbers: int) -> list[str]:
    names = {
        1: "2022Z00001",
        2: "2022Z00002",
        3: "2022Z00003",
        4: "2023Z00004",
        5: "2023Z00005",
        6: "2024Z00006",
        7: "2024Z00007",
        8: "2024Z00008",
        9: "2024Z00009",
        10: "2024Z00010",
    }
    return sorted(names[n] for n in numbers)


# ---------------------------------------------------------------- text filters


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # Ministers: part of a name, case and accents ignored, initials forms.
        ({"ministers": ("yesilgoz",)}, kv(1, 2, 6)),
        ({"ministers": ("Yeşilgöz-Zegerius",)}, kv(1, 2, 6)),
        ({"ministers": ("DILAN YESILGOZ",)}, kv(1, 2, 6)),
        ({"ministers": ("de jonge",)}, kv(2, 3, 6)),
        ({"ministers": ("h. de jonge",)}, kv(2, 3, 6)),
        ({"ministers": ("H.M. de Jonge",)}, kv(2, 3, 6)),
        ({"ministers": ("hm de jonge",)}, []),  # "hm" is not written as initials
        ({"ministers": ("hugo de jonge",)}, kv(3, 6)),  # a full first name is exact
        ({"ministers": ("rutte",)}, kv(5, 6, 9)),  # "MARK RUTTE" too
        ({"ministers": ("m. rutte",)}, kv(5, 6, 9)),
        ({"ministers": ("weyenberg", "bruins")}, kv(6, 8, 10)),  # OR; "Bruins Slot" too
        ({"ministers": ("zegerius mark",)}, []),  # never across two people
        ({"ministers": ("nobody",)}, []),
        # Ministry: the role text of any answering minister.
        ({"ministries": ("justitie",)}, kv(1, 2, 4, 6)),
        ({"ministries": ("justitie en veiligheid",)}, kv(1, 2, 4, 6)),
        ({"ministries": ("veiligheid en justitie",)}, []),  # a phrase keeps its order
        ({"ministries": ("algemene zaken",)}, kv(5, 6, 9)),
        ({"ministries": ("staatssecretaris",)}, kv(4)),
        ({"ministries": ("volkshuisvesting", "defensie")}, kv(3, 6)),
        # Parties: of a minister, of a submitter.
        ({"parties": ("vvd",)}, kv(1, 2, 4, 5, 6, 9)),
        ({"parties": ("cda", "NSC")}, kv(2, 3, 6, 8)),
        ({"parties": ("sp",)}, []),  # SP only asked
        ({"submitter_parties": ("sp",)}, kv(1, 2, 7, 9)),
        ({"submitter_parties": ("groenlinks",)}, kv(3, 5)),
        ({"submitter_parties": ("eennl",)}, kv(6)),
        ({"submitter_parties": ("vvd",)}, []),
        # Submitters.
        ({"submitters": ("jansen",)}, kv(1, 2, 7, 8, 9)),
        ({"submitters": ("jan jansen",)}, kv(1, 2, 7, 9)),
        ({"submitters": ("danielle",)}, kv(8)),
        ({"submitters": ("j. jansen",)}, kv(1, 2, 7, 9)),
        ({"submitters": ("pietersen jansen",)}, []),
        # Subjects.
        ({"subjects": ("recht",)}, kv(1, 2, 7)),
        ({"subjects": ("zorg",)}, kv(2, 3)),
        ({"subjects": ("financien",)}, kv(10)),
        ({"subjects": ("gezondheid recht",)}, []),  # two subjects, not one phrase
        # AND across filters, OR within one.
        ({"ministers": ("rutte",), "submitter_parties": ("sp",)}, kv(9)),
        ({"parties": ("vvd",), "subjects": ("recht", "financien")}, kv(1, 2)),
    ],
)
def test_text_filters(searcher: Searcher, filters: dict, expected: list[str]) -> None:
    assert found(searcher, **filters) == expected


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("minister:rutte", {"ministers": ("rutte",)}),
        ('minister:"h. de jonge"', {"ministers": ("h. de jonge",)}),
        ('minister:"hugo de jonge"', {"ministers": ("hugo de jonge",)}),
        ("ministerie:justitie", {"ministries": ("justitie",)}),
        ('ministerie:"algemene zaken"', {"ministries": ("algemene zaken",)}),
        ("ministerpartij:vvd", {"parties": ("vvd",)}),
        ("indiener:jansen", {"submitters": ("jansen",)}),
        ("indienerpartij:groenlinks", {"submitter_parties": ("groenlinks",)}),
        ("onderwerp:zorg", {"subjects": ("zorg",)}),
    ],
)
def test_query_fields_agree_with_filters(searcher: Searcher, query: str, filters: dict) -> None:
    by_filter = found(searcher, **filters)
    assert by_filter
    assert sorted(ids(searcher.search(query, limit=100))) == by_filter


def test_filter_without_words_is_an_error(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match=r"--ministry '\.\.\.' holds nothing to search for"):
        searcher.search("", Filters(ministries=("...",)))


# ---------------------------------------------------------------- dates and answer time


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"date_from": days("2023")[0]}, kv(4, 5, 6, 7, 8, 9, 10)),
        ({"date_from": days("2023")[0], "date_to": days("2023")[1]}, kv(4, 5)),
        ({"date_to": days("2022-03")[1]}, kv(1, 2)),
        ({"date_from": days("1 juli 2024")[0], "date_to": days("1 juli 2024")[1]}, kv(9)),
        # Answered dates: an unanswered Kamervraag has none, so never matches.
        ({"answered_from": days("2024")[0]}, kv(6, 8, 9, 10)),
        ({"answered_to": days("2022-04")[1]}, kv(1, 2)),
        ({"answered_from": days("2023-12")[0], "answered_to": days("2024-02")[1]}, kv(4, 6)),
        ({"answered": True}, kv(1, 2, 3, 4, 6, 8, 9, 10)),
        ({"answered": False}, kv(5, 7)),
        ({"answered": False, "date_from": days("2024")[0]}, kv(7)),
        ({"answered": False, "ministers": ("rutte",)}, kv(5)),
        ({"answered": False, "answered_from": days("2020")[0]}, []),
        # Answer time: answered Kamervragen only.
        ({"max_days": 21}, kv(1, 6, 9, 10)),
        ({"max_days": 0}, []),
        ({"min_days": 42}, kv(2, 3, 4, 8)),
        ({"min_days": 43, "max_days": 43}, kv(3)),
        ({"min_days": 50, "max_days": 10}, []),
        ({"late": True}, kv(3, 4, 8)),
        ({"late": True, "max_days": 100}, kv(3, 4)),
        ({"late": True, "min_days": 100}, kv(8)),
        ({"late": True, "answered": False}, []),
        ({"max_days": 30, "answered": False}, []),
        ({"late": True, "answered": True, "parties": ("vvd",)}, kv(4)),
    ],
)
def test_date_and_answer_time_filters(
    searcher: Searcher, filters: dict, expected: list[str]
) -> None:
    assert found(searcher, **filters) == expected


# ---------------------------------------------------------------- facets

ALL_COUNTS = {
    "minister": [
        ("Dilan Yeşilgöz-Zegerius", 3),
        ("Mark Rutte", 3),
        ("Hugo de Jonge", 2),
        ("Steven van Weyenberg", 2),
        ("Conny Helder", 1),
        ("Eppo Bruins", 1),
        ("Eric van der Burg", 1),
        ("H.M. de Jonge", 1),
        ("Hanke Bruins Slot", 1),
        ("Kajsa Ollongren", 1),
        ("Karien van Gennip", 1),
        ("Mark Harbers", 1),
        ("Micky Adriaansens", 1),
        ("Piet Adema", 1),
        ("Robbert Dijkgraaf", 1),
    ],
    "party": [("VVD", 6), ("CDA", 3), ("D66", 2), ("CU", 1), ("NSC", 1)],
    "ministry": [
        ("justitie en veiligheid", 4),
        ("algemene zaken", 3),
        ("volksgezondheid, welzijn en sport", 3),
        ("onderwijs, cultuur en wetenschap", 2),
        ("binnenlandse zaken en koninkrijksrelaties", 1),
        ("defensie", 1),
        ("economische zaken", 1),
        ("infrastructuur en waterstaat", 1),
        ("landbouw, natuur en voedselkwaliteit", 1),
        ("sociale zaken en werkgelegenheid", 1),
        ("volkshuisvesting en ruimtelijke ordening", 1),
    ],
    "submitter": [
        ("Jan Jansen", 4),
        ("Piet Pietersen", 3),
        ("Anna Bakker", 2),
        ("Daniëlle Jansen", 1),
        ("Joost Eerdmans", 1),
    ],
    "submitter-party": [("SP", 4), ("CDA", 3), ("GroenLinks", 2), ("D66", 1), ("EénNL", 1)],
    "subject": [
        ("recht", 3),
        ("bestuur rijksoverheid", 2),
        ("migratie en integratie", 2),
        ("zorg en gezondheid", 2),
        ("financiën", 1),
        ("huisvesting", 1),
        ("onderwijs en wetenschap", 1),
    ],
    "year": [("2024", 5), ("2023", 2), ("2022", 3)],
    "answer-time": [
        ("<=21 days", 4),
        ("22-42 days", 1),
        ("43-90 days", 1),
        (">90 days", 2),
        ("unanswered", 2),
    ],
}


def test_facet_counts_match_the_hand_count(searcher: Searcher) -> None:
    result = searcher.search("", facets=True, facet_limit=50)
    assert result.total == 10
    assert result.facets == ALL_COUNTS
    assert list(result.facets) == list(FACETS)


def test_facet_limit_keeps_the_most_frequent(searcher: Searcher) -> None:
    facets = searcher.count(facets="minister,year,answer-time", facet_limit=2).facets
    assert facets == {
        "minister": [("Dilan Yeşilgöz-Zegerius", 3), ("Mark Rutte", 3)],
        "year": [("2024", 5), ("2022", 3)],  # chosen by count, shown newest first
        "answer-time": [("<=21 days", 4), (">90 days", 2)],  # chosen by count, bucket order
    }


def test_facets_honour_query_and_filters(searcher: Searcher) -> None:
    # "asiel" is in the titles of 5 and 9; the filter leaves the answered one.
    result = searcher.search("asiel", Filters(answered=True), facets=True)
    assert ids(result) == ["2024Z00009"]
    assert result.facets is not None
    assert result.facets["minister"] == [("MARK RUTTE", 1)]  # the one spelling there is
    assert result.facets["answer-time"] == [("<=21 days", 1)]
    # The twelve-minister Kamervraag counts once per minister and once per party.
    facets = searcher.count(filters=Filters(ministers=("ollongren",)), facet_limit=20).facets
    assert facets is not None
    assert len(facets["minister"]) == 12
    assert all(count == 1 for _name, count in facets["minister"])
    assert facets["party"] == [("CDA", 1), ("CU", 1), ("D66", 1), ("VVD", 1)]
    assert facets["ministry"][0] == ("algemene zaken", 1)


def test_same_minister_twice_counts_once(searcher: Searcher) -> None:
    facets = searcher.count(filters=Filters(subjects=("huisvesting",))).facets
    assert facets is not None
    assert facets["minister"] == [("Hugo de Jonge", 1)]
    assert facets["party"] == [("CDA", 1)]
    assert facets["ministry"] == [
        ("volksgezondheid, welzijn en sport", 1),
        ("volkshuisvesting en ruimtelijke ordening", 1),
    ]


def test_facets_of_no_match(searcher: Searcher) -> None:
    result = searcher.search("xyzzyqq", facets=True)
    assert result.total == 0
    assert result.facets == {name: [] for name in FACETS}


def test_facets_with_paging_and_relevance_agree_with_plain_search(searcher: Searcher) -> None:
    plain = searcher.search("asiel opvang", limit=2, page=2)
    faceted = searcher.search("asiel opvang", limit=2, page=2, facets=["year"])
    assert (faceted.total, ids(faceted)) == (plain.total, ids(plain))
    assert [h.score for h in faceted.hits] == [h.score for h in plain.hits]
    assert sum(c for _y, c in faceted.facets["year"]) == plain.total  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, FACETS),
        ("all", FACETS),
        ("minister, YEAR", ("minister", "year")),
        (["party", "party"], ("party",)),
        (None, ()),
        (False, ()),
    ],
)
def test_facet_names(value: object, expected: tuple[str, ...]) -> None:
    assert facet_names(value) == expected  # type: ignore[arg-type]


def test_unknown_facet_name() -> None:
    with pytest.raises(QueryError, match=r"unknown facet 'ministers'; choose from minister,"):
        facet_names("ministers")


def test_facet_counts_from_column_counts() -> None:
    counts = {
        "party": Counter({b"VVD\x1fCDA": 2, b"vvd": 1, b"": 4}),
        "days": Counter({b"": 2, b"21": 1, b"22": 1, b"42": 1, b"43": 1, b"90": 1, b"91": 1}),
        "year": Counter({b"2023": 1, b"2024": 1, b"2019": 2}),
    }
    assert facet_counts(counts, ["party", "answer-time", "year"]) == {
        "party": [("VVD", 3), ("CDA", 2)],
        "answer-time": [
            ("<=21 days", 1),
            ("22-42 days", 2),
            ("43-90 days", 2),
            (">90 days", 1),
            ("unanswered", 2),
        ],
        "year": [("2024", 1), ("2023", 1), ("2019", 2)],
    }
    assert facet_counts({}, ["minister", "year", "answer-time"]) == {
        "minister": [],
        "year": [],
        "answer-time": [],
    }
    with pytest.raises(QueryError, match="the facet limit must be at least 1"):
        facet_counts(counts, ["party"], 0)


def _kamervraag():  # type: ignore[no-untyped-def]
    from kvsearch.model import QA, Kamervraag, Person

    return Kamervraag(
        id="2024Z99999",
        title="t",
        asked=dt.date(2024, 1, 2),
        submitters=(Person("A B", "SP"),),
        questions=(QA(1, "q"), QA(2, "r")),
        ministers=(Person("C D", "VVD", "minister financiën"), Person("c  d\x1e", "vvd")),
        subjects=("zorg", "Zorg"),
    )


def test_facet_values_deduplicate_case_and_accent_variants() -> None:
    assert facet_values(_kamervraag()) == {
        "minister": b"C D",
        "party": b"VVD",
        "ministry": "financiën".encode(),
        "submitter": b"A B",
        "submitter-party": b"SP",
        "subject": b"zorg",
        "year": b"2024",
        "days": b"",
        "questions": b"2",
    }


@pytest.mark.parametrize("distinct", [3, 300, 70_000])
def test_facet_column_round_trip(tmp_path: Path, distinct: int) -> None:
    from kvsearch.schema import FacetColumn

    values = [b"v%d" % (i % distinct) if i % 7 else b"" for i in range(distinct * 2)]
    column = FacetColumn()
    storage = FileStorage(str(tmp_path))
    out = storage.create_file("col")
    writer = column.writer(out)
    for docnum, value in enumerate(values):
        if value:  # documents without a value are filled in
            writer.add(docnum, value)
    writer.finish(len(values) + 2)
    length = out.tell()
    out.close()
    reader = column.reader(storage.open_file("col"), 0, length, len(values) + 2)
    assert list(reader) == [*values, b"", b""]
    assert reader[5] == values[5]
    assert len(reader) == len(values) + 2


@pytest.mark.parametrize(
    ("role", "ministries"),
    [
        ("minister justitie en veiligheid", ["justitie en veiligheid"]),
        ("minister-president, minister algemene zaken", ["algemene zaken"]),
        (
            "minister zonder portefeuille volksgezondheid, welzijn en sport",
            ["volksgezondheid, welzijn en sport"],
        ),
        ("minister voor medische zorg", ["medische zorg"]),
        ("staatssecretaris financiën", ["financiën"]),
        ("", []),
    ],
)
def test_ministry_of(role: str, ministries: list[str]) -> None:
    assert ministry_of(role) == ministries


def test_person_terms_initials() -> None:
    assert [t for t, *_ in person_terms("H.M. de Jonge")] == ["h", "de", "jonge"]
    assert [(t, p) for t, p, *_ in person_terms("Hugo de Jonge")] == [
        ("hugo", 0),
        ("h", 0),
        ("de", 1),
        ("jonge", 2),
    ]
    assert [t for t, *_ in person_terms("Hugo de Jonge", query=True)] == ["hugo", "de", "jonge"]
    second = [p for t, p, *_ in person_terms("Rutte\nMark Rutte") if t == "mark"]
    assert second[0] > 100  # the next person is VALUE_GAP positions on


# ---------------------------------------------------------------- sorting


def test_sort_orders(searcher: Searcher) -> None:
    newest = ids(searcher.search("", limit=20))
    assert newest == kv(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)[::-1]
    assert ids(searcher.search("", sort="oldest", limit=20)) == newest[::-1]
    assert ids(searcher.search("", sort="relevance", limit=20)) == newest  # no query: newest
    assert ids(searcher.search("", sort="answer-time", limit=20)) == [
        "2024Z00008",  # 110 days
        "2023Z00004",  # 91
        "2022Z00003",  # 43
        "2022Z00002",  # 42
        "2024Z00009",  # 21
        "2024Z00006",  # 18
        "2022Z00001",  # 10
        "2024Z00010",  # 5
        "2024Z00007",  # unanswered, newest first
        "2023Z00005",
    ]


def test_sort_with_a_query_and_paging(searcher: Searcher) -> None:
    relevance = searcher.search("asiel")
    assert relevance.sort == "relevance"
    assert set(ids(relevance)) == {"2023Z00005", "2024Z00009"}
    newest = searcher.search("asiel", sort="newest")
    assert ids(newest) == ["2024Z00009", "2023Z00005"]
    assert all(h.score == 0.0 for h in newest.hits)
    oldest = searcher.search("asiel", sort="oldest", limit=1, page=2)
    assert (oldest.total, ids(oldest), oldest.hits[0].rank) == (2, ["2024Z00009"], 2)


def test_unknown_sort(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match=r"unknown sort order 'fast'; choose one of relevance"):
        searcher.search("", sort="fast")


# ---------------------------------------------------------------- per question


def test_per_question_ranks_pairs(searcher: Searcher) -> None:
    result = searcher.search_questions("wachttijden jeugdzorg")
    assert [(h.id, h.nr) for h in result.hits] == [("2022Z00002", 1), ("2022Z00002", 2)]
    assert (result.total, result.kamervragen, result.pool) == (2, 1, 300)
    top = result.hits[0]
    assert top.rank == 1
    assert top.score > result.hits[1].score > 0
    assert top.question.text == "Hoe lang zijn de wachttijden in de jeugdzorg?"
    marked = [top.question.text[s:e] for s, e in top.question.highlights]
    assert marked == ["wachttijden", "jeugdzorg"]
    assert top.answer is not None
    assert top.answer.text == "Gemiddeld twaalf weken."


def test_per_question_across_kamervragen_with_filters_and_facets(searcher: Searcher) -> None:
    result = searcher.search_questions("opvang", facets=["minister"])
    assert sorted((h.id, h.nr) for h in result.hits) == [("2022Z00001", 2), ("2023Z00004", 2)]
    assert result.facets == {"minister": [("Dilan Yeşilgöz-Zegerius", 1), ("Eric van der Burg", 1)]}
    narrowed = searcher.search_questions("opvang", Filters(ministers=("yesilgoz",)))
    assert [(h.id, h.nr) for h in narrowed.hits] == [("2022Z00001", 2)]
    newest = searcher.search_questions("opvang", sort="newest")
    assert [(h.id, h.nr) for h in newest.hits] == [("2023Z00004", 2), ("2022Z00001", 2)]


def test_per_question_without_query_lists_every_pair(searcher: Searcher) -> None:
    result = searcher.search_questions("", Filters(ministers=("de jonge",)), limit=3, page=2)
    # 2024Z00006 (2 questions), 2022Z00003 (2), 2022Z00002 (2), newest first.
    assert (result.total, result.kamervragen, result.pool) == (6, 3, None)
    assert [(h.id, h.nr, h.rank) for h in result.hits] == [
        ("2022Z00003", 2, 4),
        ("2022Z00002", 1, 5),
        ("2022Z00002", 2, 6),
    ]
    unanswered = searcher.search_questions("", Filters(answered=False))
    assert [(h.id, h.nr) for h in unanswered.hits] == [
        ("2024Z00007", 1),
        ("2023Z00005", 1),
        ("2023Z00005", 2),
    ]
    assert all(h.answer is None for h in unanswered.hits)


def test_per_question_metadata_query_lists_pairs_of_matching_kamervragen(
    searcher: Searcher,
) -> None:
    result = searcher.search_questions("minister:weyenberg", Filters(late=False))
    assert sorted((h.id, h.nr) for h in result.hits) == [
        ("2024Z00006", 1),
        ("2024Z00006", 2),
        ("2024Z00010", 1),
    ]


def test_per_question_no_match(searcher: Searcher) -> None:
    result = searcher.search_questions("xyzzyqq", facets=True)
    assert (result.total, result.kamervragen, result.hits) == (0, 0, ())
    assert result.facets == {name: [] for name in FACETS}


# ---------------------------------------------------------------- statistics


def test_stats_overall_and_by_party(searcher: Searcher) -> None:
    stats = searcher.stats(by="party")
    overall = stats.overall
    assert (overall.count, overall.answered, overall.median_days, overall.p90_days) == (
        10,
        8,
        31.5,
        110,
    )
    assert overall.answered_share == 0.8
    assert [(r.value, r.count, r.answered, r.median_days, r.p90_days) for r in stats.rows] == [
        ("VVD", 6, 5, 21.0, 91),
        ("CDA", 3, 3, 42.0, 43),
        ("D66", 2, 2, 11.5, 18),
        ("CU", 1, 1, 18.0, 18),
        ("NSC", 1, 1, 110.0, 110),
    ]


def test_stats_by_year_and_minister(searcher: Searcher) -> None:
    by_year = searcher.stats(by="year").rows
    assert [(r.value, r.count, r.answered, r.median_days, r.p90_days) for r in by_year] == [
        ("2024", 5, 4, 19.5, 110),
        ("2023", 2, 1, 91.0, 91),
        ("2022", 3, 3, 42.0, 43),
    ]
    by_minister = searcher.stats("", Filters(ministers=("rutte",))).rows  # default: by minister
    rutte = by_minister[0]
    assert (rutte.value, rutte.count, rutte.answered, rutte.median_days) == (
        "Mark Rutte",
        3,
        2,
        19.5,
    )
    assert len(by_minister) == 12  # Rutte and the eleven others of 2024Z00006


def test_stats_of_no_match_and_unanswered(searcher: Searcher) -> None:
    empty = searcher.stats("xyzzyqq")
    assert (empty.overall.count, empty.overall.median_days, empty.rows) == (0, None, ())
    open_ones = searcher.stats(filters=Filters(answered=False), by="submitter")
    assert open_ones.overall.answered_share == 0.0
    assert [(r.value, r.count, r.p90_days) for r in open_ones.rows] == [
        ("Anna Bakker", 1, None),
        ("Jan Jansen", 1, None),
    ]


def test_stats_unknown_group(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match=r"cannot group by 'answer-time'"):
        searcher.stats(by="answer-time")


def test_compute_stats_from_pair_counts() -> None:
    assert compute_stats({}, by="minister").overall.count == 0
    pairs = Counter({(b"A\x1fB", b"10"): 2, (b"a", b""): 1, (b"", b"30"): 1, (b"B", b"31"): 1})
    stats = compute_stats(pairs, by="minister")
    assert stats.overall == StatsRow("", 5, 4, 20.0, 31)  # 10, 10, 30, 31
    assert stats.rows == (
        StatsRow("A", 3, 2, 10.0, 10),
        StatsRow("B", 3, 3, 10.0, 31),
    )


# ---------------------------------------------------------------- columns = Whoosh ranges


@pytest.mark.parametrize(
    "filters",
    [
        Filters(date_from=days("2023")[0]),
        Filters(date_to=days("2022-03")[1]),
        Filters(answered_from=days("2024")[0]),
        Filters(answered_to=days("2023")[1], parties=("vvd",)),
        Filters(answered=True),
        Filters(answered=False),
        Filters(max_days=21),
        Filters(min_days=42, max_days=91),
        Filters(late=True, submitter_parties=("cda", "d66")),
        Filters(late=True, answered=False),
        Filters(min_days=50, max_days=10),
    ],
)
def test_column_ranges_select_what_whoosh_ranges_select(
    searcher: Searcher, filters: Filters
) -> None:
    from kvsearch.search import filter_query

    whoosh = sorted(searcher._s.docs_for_query(filter_query(filters, searcher._s.schema)))
    assert searcher._allowed(filters) == whoosh


def test_filter_that_matches_nothing_gives_no_total(searcher: Searcher) -> None:
    # Whoosh counts every match of the query when a filter allows no document at all.
    for filters in (Filters(ministers=("nobody",)), Filters(date_from=days("2030")[0])):
        result = searcher.search("asiel", filters)
        assert (result.total, result.hits) == (0, ())


# ---------------------------------------------------------------- several segments


@pytest.mark.parametrize("intersect_below", [0.0, 2.0])
def test_segments_and_deletions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, intersect_below: float
) -> None:
    """Facets, sorting, filters and stats over three segments with a deleted document agree
    with a one-segment index of the same documents, whether queries run on filtered
    documents by intersection or not."""
    import shutil

    import kvsearch.search

    files = sorted(FIXTURE.glob("*.txt"))
    first, rest = tmp_path / "first", tmp_path / "all-but-one"
    first.mkdir()
    rest.mkdir()
    for path in files[:6]:
        shutil.copy(path, first)
    for path in files[1:]:
        shutil.copy(path, rest)
    segmented, single = tmp_path / "segmented", tmp_path / "single"
    build_index(first, segmented)
    build_index(rest, single)
    add_segments(segmented, [files[6:]], files[0].stem)

    def summary(s: Searcher) -> object:
        filters = Filters(answered=True, date_from=days("2022-06")[0])
        return (
            ids(s.search("", limit=20)),
            ids(s.search("", sort="answer-time", limit=20)),
            s.search("", facets=True, facet_limit=50).facets,
            s.search("asiel", filters, facets=["year", "minister"]).facets,
            s.stats("", filters, by="party"),
            [(h.id, h.nr) for h in s.search_questions("", limit=50).hits],
        )

    with Searcher(segmented) as a, Searcher(single) as b:
        assert a._s.reader().is_atomic() is False
        expected = summary(b)
        monkeypatch.setattr(kvsearch.search, "INTERSECT_BELOW", intersect_below)
        assert summary(a) == expected
        assert "2022Z00001" not in ids(a.search("", limit=20))


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("asiel opvang", Filters(answered=True)),
        ("asiel OR jeugdzorg OR woningbouw", Filters(parties=("vvd", "cda"))),
        ("minister:rutte", Filters(date_from=days("2023")[0])),
        ("opvang", Filters()),
    ],
)
def test_intersection_gives_the_same_ranking(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch, text: str, filters: Filters
) -> None:
    import kvsearch.search

    def run() -> list[tuple[str, float]]:
        result = searcher.search(text, filters, facets=["year"])
        assert result.facets is not None
        assert sum(n for _y, n in result.facets["year"]) == result.total
        return [(h.id, h.score) for h in result.hits]

    monkeypatch.setattr(kvsearch.search, "INTERSECT_BELOW", 0.0)
    filtered = run()
    monkeypatch.setattr(kvsearch.search, "INTERSECT_BELOW", 2.0)
    assert run() == filtered
    assert filtered
