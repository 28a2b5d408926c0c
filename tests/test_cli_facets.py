"""The command line of filters, facets, sorting, per-question results and stats: exact
output and exit codes, on the hand-counted fixture of tests/fixtures/facets/."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvsearch.cli import cli
from kvsearch.indexer import build_index

FIXTURE = Path(__file__).parent / "fixtures" / "facets"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("cli-facets") / "index"
    build_index(FIXTURE, index_dir)
    return index_dir


def run(index: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--index", str(index), *args])
    assert result.exit_code == code, result.output
    return result.output


# ---------------------------------------------------------------- search


def test_search_with_filters_and_facets(index: Path) -> None:
    out = run(index, "search", "--minister", "de jonge", "--facets", "party,answer-time", "-n", "1")
    assert out == (
        "3 Kamervragen found (showing 1)\n"
        "\n"
        "1. 2024Z00006  Bijeenkomsten met ambtenaren na de verkiezingen\n"
        "   asked 2024-01-29 · answered 2024-02-16 (18 days)\n"
        "   by Joost Eerdmans (EénNL)\n"
        "   to Kajsa Ollongren (D66), Hugo de Jonge (CDA), Hanke Bruins Slot (CDA) and 9 more\n"
        "\n"
        "Facets (Kamervragen per value):\n"
        "\n"
        "Minister's party\n"
        "  CDA  3\n"
        "  VVD  2\n"
        "  CU   1\n"
        "  D66  1\n"
        "\n"
        "Answer time\n"
        "  <=21 days   1\n"
        "  22-42 days  1\n"
        "  43-90 days  1\n"
        "\n"
        "Page 1 of 3; next: --page 2\n"
    )


def test_search_every_filter_option(index: Path) -> None:
    args = [
        "search",
        "--minister",
        "yesilgoz",
        "--minister",
        "van der burg",
        "--ministry",
        "justitie",
        "--party",
        "VVD",
        "--submitter",
        "pietersen",
        "--submitter-party",
        "cda",
        "--subject",
        "migratie",
        "--from",
        "2023",
        "--to",
        "december 2023",
        "--answered-from",
        "2023-12-05",
        "--answered-to",
        "5 december 2023",
        "--answered",
        "--min-days",
        "91",
        "--max-days",
        "91",
        "--late",
        "--json",
    ]
    data = json.loads(run(index, *args))
    assert [h["id"] for h in data["hits"]] == ["2023Z00004"]
    # One filter more, and nothing is left.
    data = json.loads(run(index, *args, "--subject", "recht", "--max-days", "90"))
    assert data["total"] == 0


def test_search_sort(index: Path) -> None:
    out = run(index, "search", "asiel", "--sort", "oldest", "--questions", "0")
    assert out == (
        "2 Kamervragen found for: asiel (showing 1-2)\n"
        "\n"
        "1. 2023Z00005  Het kabinetsberaad over asiel\n"
        "   asked 2023-11-20 · not answered\n"
        "   by Anna Bakker (Groenlinks)\n"
        "   to Mark Rutte (VVD)\n"
        "\n"
        "2. 2024Z00009  Asiel en het Europese migratiepact\n"
        "   asked 2024-07-01 · answered 2024-07-22 (21 days)\n"
        "   by Jan Jansen (SP)\n"
        "   to MARK RUTTE (VVD)\n"
    )
    data = json.loads(run(index, "search", "--sort", "answer-time", "-n", "3", "--json"))
    assert [(h["id"], h["days"]) for h in data["hits"]] == [
        ("2024Z00008", 110),
        ("2023Z00004", 91),
        ("2022Z00003", 43),
    ]


def test_search_json_facets(index: Path) -> None:
    data = json.loads(run(index, "search", "--unanswered", "--facets", "--json"))
    assert data["total"] == 2
    assert list(data["facets"]) == [
        "minister",
        "party",
        "ministry",
        "submitter",
        "submitter-party",
        "subject",
        "year",
        "answer-time",
    ]
    assert data["facets"]["submitter-party"] == [
        {"value": "Groenlinks", "count": 1},  # the one spelling among these two
        {"value": "SP", "count": 1},
    ]
    assert data["facets"]["answer-time"] == [{"value": "unanswered", "count": 2}]
    assert data["facets"]["year"] == [{"value": "2024", "count": 1}, {"value": "2023", "count": 1}]
    plain = json.loads(run(index, "search", "--unanswered", "--json"))
    assert "facets" not in plain


def test_search_no_match_with_facets(index: Path) -> None:
    assert run(index, "search", "xyzzyqq", "--facets") == "No Kamervragen found for: xyzzyqq\n"


# ---------------------------------------------------------------- per question


def test_per_question_output(index: Path) -> None:
    out = run(index, "search", "wachttijden jeugdzorg", "--per-question", "-n", "1")
    assert out == (
        "2 questions found for: wachttijden jeugdzorg (in 1 Kamervraag; showing 1)\n"
        "\n"
        "1. 2022Z00002 Vraag 1  Wachttijden in de jeugdzorg\n"
        "   asked 2022-03-15 · answered 2022-04-26 (42 days) · score 1.99\n"
        "   by Jan Jansen (SP), Piet Pietersen (CDA)\n"
        "   to Dilan Yesilgoz-Zegerius (VVD), H.M. de Jonge (CDA)\n"
        "   Vraag: Hoe lang zijn de wachttijden in de jeugdzorg?\n"
        "   Antwoord: Gemiddeld twaalf weken.\n"
        "\n"
        "Page 1 of 2; next: --page 2\n"
    )


def test_per_question_unanswered_with_facets(index: Path) -> None:
    out = run(index, "search", "--unanswered", "--per-question", "-n", "1", "--facets", "submitter")
    assert out == (
        "3 questions found (in 2 Kamervragen; showing 1)\n"
        "\n"
        "1. 2024Z00007 Vraag 1  Geweld tegen agenten\n"
        "   asked 2024-04-03 · not answered\n"
        "   by Jan Jansen (SP)\n"
        "   Vraag: Hoe vaak werden agenten dit jaar bedreigd?\n"
        "   Antwoord: (not answered)\n"
        "\n"
        "Facets (Kamervragen per value):\n"
        "\n"
        "Submitter\n"
        "  Anna Bakker  1\n"
        "  Jan Jansen   1\n"
        "\n"
        "Page 1 of 3; next: --page 2\n"
    )


def test_per_question_json(index: Path) -> None:
    data = json.loads(run(index, "search", "opvang", "--per-question", "--json"))
    assert set(data) == {"query", "total", "kamervragen", "pool", "page", "pages", "limit", "hits"}
    assert (data["total"], data["kamervragen"], data["pool"]) == (2, 2, 300)
    hit = data["hits"][0]
    assert set(hit) == {
        "id",
        "nr",
        "title",
        "asked",
        "answered",
        "days",
        "submitters",
        "ministers",
        "subjects",
        "score",
        "url",
        "question",
        "question_highlights",
        "answer",
        "answer_highlights",
    }
    assert sorted((h["id"], h["nr"]) for h in data["hits"]) == [
        ("2022Z00001", 2),
        ("2023Z00004", 2),
    ]
    for h in data["hits"]:
        spans = h["question_highlights"] + h["answer_highlights"]
        assert spans
        texts = [h["question"][s:e] for s, e in h["question_highlights"]]
        texts += [h["answer"][s:e] for s, e in h["answer_highlights"]]
        assert {t.lower() for t in texts} == {"opvang"}


def test_per_question_no_match(index: Path) -> None:
    assert run(index, "search", "xyzzyqq", "--per-question") == "No questions found for: xyzzyqq\n"


# ---------------------------------------------------------------- facets command


def test_facets_command(index: Path) -> None:
    assert run(index, "facets", "--facets", "party,year", "--from", "2022") == (
        "10 Kamervragen\n"
        "\n"
        "Minister's party\n"
        "  VVD  6\n"
        "  CDA  3\n"
        "  D66  2\n"
        "  CU   1\n"
        "  NSC  1\n"
        "\n"
        "Year asked\n"
        "  2024  5\n"
        "  2023  2\n"
        "  2022  3\n"
    )


def test_facets_command_query_limit_and_empty_facet(index: Path) -> None:
    assert run(index, "facets", "asiel", "--facet-limit", "1", "--facets", "subject,minister") == (
        "2 Kamervragen for: asiel\n"
        "\n"
        "Subject\n"
        "  bestuur rijksoverheid  1\n"
        "\n"
        "Minister\n"
        "  Mark Rutte  2\n"
    )
    assert run(index, "facets", "--facets", "minister", "--unanswered", "--ministry", "x") == (
        "0 Kamervragen\n"
    )
    out = run(index, "facets", "--facets", "minister", "--minister", "bruins", "--subject", "x")
    assert out == "0 Kamervragen\n"
    out = run(index, "facets", "--facets", "subject", "--minister", "mark rutte", "--late")
    assert out == "0 Kamervragen\n"
    assert run(
        index, "facets", "--facets", "subject", "--minister", "rutte", "--to", "2024-07"
    ) == ("3 Kamervragen\n\nSubject\n  bestuur rijksoverheid  2\n")
    assert run(
        index, "facets", "--facets", "subject", "--submitter", "jan jansen", "--answered"
    ) == (
        "3 Kamervragen\n\nSubject\n  recht                   2\n  migratie en integratie  1\n"
        "  zorg en gezondheid      1\n"
    )
    out = run(index, "facets", "--facets", "subject", "--minister", "rutte", "--unanswered")
    assert out == "1 Kamervraag\n\nSubject\n  bestuur rijksoverheid  1\n"
    out = run(
        index, "facets", "--facets", "subject", "--minister", "weyenberg", "--from", "2024-10"
    )
    assert out == "1 Kamervraag\n\nSubject\n  financiën  1\n"
    out = run(index, "facets", "--facets", "subject", "--minister", "rutte", "--answered")
    assert out == "2 Kamervragen\n\nSubject\n  bestuur rijksoverheid  1\n"


def test_facets_command_json(index: Path) -> None:
    data = json.loads(run(index, "facets", "--facets", "minister", "--facet-limit", "2", "--json"))
    assert data == {
        "query": "",
        "total": 10,
        "facets": {
            "minister": [
                {"value": "Dilan Yeşilgöz-Zegerius", "count": 3},
                {"value": "Mark Rutte", "count": 3},
            ]
        },
    }


# ---------------------------------------------------------------- stats command


def test_stats_table(index: Path) -> None:
    assert run(index, "stats", "--by", "party") == (
        "10 Kamervragen · 8 answered (80%) · median 31.5 days · 90th percentile 110 days\n"
        "\n"
        "Minister's party  Kamervragen  Answered  Median days  P90 days\n"
        "VVD                         6   5 (83%)           21        91\n"
        "CDA                         3  3 (100%)           42        43\n"
        "D66                         2  2 (100%)         11.5        18\n"
        "CU                          1  1 (100%)           18        18\n"
        "NSC                         1  1 (100%)          110       110\n"
    )


def test_stats_default_by_minister_with_limit(index: Path) -> None:
    assert run(index, "stats", "--minister", "rutte", "-n", "2") == (
        "3 Kamervragen · 2 answered (67%) · median 19.5 days · 90th percentile 21 days\n"
        "\n"
        "Minister      Kamervragen  Answered  Median days  P90 days\n"
        "Mark Rutte              3   2 (67%)         19.5        21\n"
        "Conny Helder            1  1 (100%)           18        18\n"
        "... and 10 more; show them with --limit 12\n"
    )


def test_stats_csv_and_json(index: Path) -> None:
    rows = list(csv.reader(io.StringIO(run(index, "stats", "--by", "year", "--csv"))))
    assert rows == [
        ["group", "value", "kamervragen", "answered", "answered_share", "median_days", "p90_days"],
        ["all", "", "10", "8", "0.8", "31.5", "110"],
        ["year", "2024", "5", "4", "0.8", "19.5", "110"],
        ["year", "2023", "2", "1", "0.5", "91", "91"],
        ["year", "2022", "3", "3", "1.0", "42", "43"],
    ]
    data = json.loads(run(index, "stats", "--unanswered", "--by", "submitter-party", "--json"))
    assert data == {
        "query": "",
        "by": "submitter-party",
        "total": {
            "kamervragen": 2,
            "answered": 0,
            "answered_share": 0.0,
            "median_days": None,
            "p90_days": None,
        },
        "groups": [
            {
                "value": "Groenlinks",
                "kamervragen": 1,
                "answered": 0,
                "answered_share": 0.0,
                "median_days": None,
                "p90_days": None,
            },
            {
                "value": "SP",
                "kamervragen": 1,
                "answered": 0,
                "answered_share": 0.0,
                "median_days": None,
                "p90_days": None,
            },
        ],
        "more_groups": 0,
    }


def test_stats_no_match(index: Path) -> None:
    assert run(index, "stats", "xyzzyqq") == "No Kamervragen found for: xyzzyqq\n"


# ---------------------------------------------------------------- errors and exit codes


@pytest.mark.parametrize("command", ["search", "facets", "stats"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2024-13"],
            "Error: Invalid value for '--from': '2024-13' is not a valid date "
            "(month 13 is not between 1 and 12)",
        ),
        (
            ["--answered-to", "morgen"],
            "Error: Invalid value for '--answered-to': 'morgen' is not a date: use YYYY, "
            "YYYY-MM, YYYY-MM-DD or a Dutch date like '29 januari 2024'",
        ),
        (
            ["--answered-from", "30 februari 2024"],
            "Error: Invalid value for '--answered-from': '30 februari 2024' is not a valid "
            "date (day is out of range for month)",
        ),
        (
            ["--answered", "--unanswered"],
            "Error: --answered and --unanswered exclude each other; give one",
        ),
        (
            ["--max-days", "-1"],
            "Error: Invalid value for '--max-days': -1 is not in the range x>=0.",
        ),
        (
            ["--min-days", "many"],
            "Error: Invalid value for '--min-days': 'many' is not a valid integer range.",
        ),
    ],
)
def test_usage_errors_exit_2(index: Path, command: str, args: list[str], message: str) -> None:
    out = run(index, command, *args, code=2)
    assert out.splitlines()[-1] == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["search", "--facets", "ministers"],
            "Error: Invalid value for '--facets': unknown facet 'ministers'; choose from "
            "minister, party, ministry, submitter, submitter-party, subject, year, answer-time "
            "(comma-separated); to search for 'ministers', put the query before --facets",
        ),
        (
            ["facets", "--facets", "party,bogus"],
            "Error: Invalid value for '--facets': unknown facet 'bogus'; choose from "
            "minister, party, ministry, submitter, submitter-party, subject, year, answer-time "
            "(comma-separated)",
        ),
        (
            ["search", "--sort", "fast"],
            "Error: Invalid value for '--sort': 'fast' is not one of 'relevance', 'newest', "
            "'oldest', 'answer-time'.",
        ),
        (
            ["search", "--facet-limit", "0"],
            "Error: Invalid value for '--facet-limit': 0 is not in the range x>=1.",
        ),
        (
            ["stats", "--by", "answer-time"],
            "Error: Invalid value for '--by': 'answer-time' is not one of 'minister', 'party', "
            "'ministry', 'year', 'submitter', 'submitter-party', 'subject'.",
        ),
        (["stats", "--json", "--csv"], "Error: --json and --csv exclude each other; give one"),
    ],
)
def test_option_errors_exit_2(index: Path, args: list[str], message: str) -> None:
    assert run(index, *args, code=2).splitlines()[-1] == message


@pytest.mark.parametrize("command", ["search", "facets", "stats"])
def test_filter_without_words_exits_1(index: Path, command: str) -> None:
    assert run(index, command, "--party", "()", code=1) == (
        "Error: --party '()' holds nothing to search for; give a word or a name\n"
    )


@pytest.mark.parametrize("command", ["facets", "stats"])
def test_no_index_exits_1(tmp_path: Path, command: str) -> None:
    out = run(tmp_path / "none", command, code=1)
    assert out.startswith(f"Error: no index in {tmp_path / 'none'}; build one with")


def test_facets_follow_an_incremental_update(tmp_path: Path) -> None:
    import shutil

    source = tmp_path / "src"
    shutil.copytree(FIXTURE, source)
    index = tmp_path / "ix"
    run(index, "index", "-q", str(source))
    path = source / "2022Z00002.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "(minister volksgezondheid, welzijn en sport) (CDA)",
            "(minister volksgezondheid, welzijn en sport) (BBB)",
        ),
        encoding="utf-8",
    )
    (source / "2024Z00010.txt").unlink()
    run(index, "index", "-q", str(source))
    assert run(index, "facets", "--facets", "party") == (
        "9 Kamervragen\n"
        "\n"
        "Minister's party\n"
        "  VVD  6\n"
        "  CDA  2\n"
        "  BBB  1\n"
        "  CU   1\n"
        "  D66  1\n"
        "  NSC  1\n"
    )
    data = json.loads(run(index, "search", "--party", "bbb", "--json"))
    assert [h["id"] for h in data["hits"]] == ["2022Z00002"]
