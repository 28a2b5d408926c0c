"""The command line: exact output, exit codes, help, JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kvsearch import __version__
from kvsearch.cli import cli
from kvsearch.indexer import SAMPLE_DIR


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


# ---------------------------------------------------------------- help and version


def all_commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("command", [None, *all_commands()])
def test_every_command_has_help_with_an_example(runner: CliRunner, command: str | None) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = run(runner, *args)  # type: ignore[arg-type]
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "kvsearch " in result.output


def test_commands_are_the_documented_ones() -> None:
    assert all_commands() == ["facets", "index", "rebuild", "search", "show", "stats", "status"]


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.output == f"kvsearch, version {__version__}\n"


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kvsearch", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0
    assert proc.stdout == f"kvsearch, version {__version__}\n"


# ---------------------------------------------------------------- index


def test_index_sample(runner: CliRunner, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    result = run(runner, "--index", str(ix), "index", "--sample")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert re.fullmatch(
        rf"Indexed 36 Kamervragen \(416 questions\) from {re.escape(str(SAMPLE_DIR))} "
        r"in \d+\.\d s; skipped 0 files\.",
        lines[0],
    )
    assert lines[1:] == [f"Index: {ix}"]
    # Not a terminal: plain progress lines on stderr, no bar.
    assert result.stderr.splitlines() == [
        "parsed 36/36 files",
        "Writing the index (36 Kamervragen)...",
    ]


def test_index_reports_skipped_files(runner: CliRunner, tmp_path: Path, sample_copy: Path) -> None:
    (sample_copy / "broken.txt").write_text(
        "Kamervraag 2024Z99999\n\nTitel\n\nIngediend 31 februari 2024\n"
    )
    result = run(runner, "--index", str(tmp_path / "ix"), "index", "--quiet", str(sample_copy))
    assert result.exit_code == 0
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert "skipped 1 file." in out[0]
    assert out[2:] == [
        "Skipped 1 file:",
        f'  {sample_copy / "broken.txt"}:5: unreadable date "31 februari 2024": '
        'expected a date like "29 januari 2024"',
    ]


def test_index_needs_a_source(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--index", str(tmp_path / "ix"), "index"])
    assert result.exit_code == 2
    assert result.output.endswith("Error: give either SOURCE_DIR or --sample\n")
    result = runner.invoke(cli, ["--index", str(tmp_path / "ix"), "index", "--sample", "."])
    assert result.exit_code == 2


def test_index_missing_source_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--index", str(tmp_path / "ix"), "index", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_index_nothing_indexable_fails(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("hallo\n")
    result = runner.invoke(cli, ["--index", str(tmp_path / "ix"), "index", "-q", str(src)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: none of the 1 files in {src} could be indexed (first problem: "
        f'{src / "a.txt"}:1: expected "Kamervraag <number>" on the first line, found "hallo"); '
        "the index was not changed\n"
    )


def test_index_refuses_foreign_folder(runner: CliRunner, tmp_path: Path) -> None:
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.pdf").write_bytes(b"%PDF")
    result = runner.invoke(cli, ["--index", str(foreign), "index", "--sample"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {foreign} is not a kvsearch index and is not empty (it holds thesis.pdf); "
        "kvsearch will not write into it: choose an empty or new folder with --index\n"
    )


def test_rebuild_uses_the_stored_source(
    runner: CliRunner, tmp_path: Path, sample_copy: Path
) -> None:
    ix = tmp_path / "ix"
    run(runner, "--index", str(ix), "index", "-q", str(sample_copy))
    (sample_copy / "2024Z18892.txt").unlink()
    result = run(runner, "--index", str(ix), "rebuild", "-q")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Indexed 35 Kamervragen (407 questions) from {sample_copy} ")


# ---------------------------------------------------------------- search


def test_search_output(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "search", "schoolbestuurders cao", "-n", "1")
    assert result.exit_code == 0
    assert result.output == (
        "1 Kamervraag found for: schoolbestuurders cao (showing 1)\n"
        "\n"
        "1. 2024Z18892  Het bericht 'Een derde van de schoolbestuurders laat zich maximaal belonen'\n"
        "   asked 2024-11-20 · not answered · score 41.66\n"
        "   by Arend Kisteman (VVD)\n"
        "   Vraag 3: Klopt het dat er sinds 2022 een cao voor schoolbestuurders in het funderend "
        "onderwijs geldt en is u bekend welk effect dit heeft gehad op de salarissen van "
        "schoolbestuurders in het funderend onderwijs?\n"
        "   Vraag 4: Trad deze cao, toen deze werd afgesloten, direct in werking voor alle "
        "schoolbestuurders in het funderend onderwijs of pas na het afsluiten van nieuwe "
        "arbeidscontracten?\n"
    )


def test_search_highlights_on_a_terminal(runner: CliRunner, sample_index: Path) -> None:
    result = runner.invoke(
        cli,
        ["--index", str(sample_index), "search", "schoolbestuurders cao", "-n", "1"],
        color=True,
    )
    assert click.style("schoolbestuurders", bold=True) in result.output
    assert click.style("cao", bold=True) in result.output


def test_search_answered_hit_shows_dates_and_ministers(
    runner: CliRunner, sample_index: Path
) -> None:
    result = run(
        runner, "--index", str(sample_index), "search", "ambtenaren verkiezingen", "-n", "1"
    )
    lines = result.output.splitlines()
    assert lines[0] == "3 Kamervragen found for: ambtenaren verkiezingen (showing 1)"
    assert lines[3].startswith("   asked 2024-01-29 · answered 2024-02-16 (18 days) · score ")
    assert lines[4] == "   by Joost Eerdmans (EénNL)"
    assert lines[5] == (
        "   to Kajsa Ollongren (D66), Hugo de Jonge (CDA), Hanke Bruins Slot (CDA) and 9 more"
    )
    assert re.match(r"   Vraag \d: ", lines[6])
    assert lines[-1] == "Page 1 of 3; next: --page 2"


def test_search_no_results(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "search", "xyzzyqq")
    assert result.exit_code == 0
    assert result.output == "No Kamervragen found for: xyzzyqq\n"


def test_search_json(runner: CliRunner, sample_index: Path) -> None:
    result = run(
        runner,
        "--index",
        str(sample_index),
        "search",
        "waterstof",
        "--minister",
        "hermans",
        "--json",
    )
    data = json.loads(result.output)
    assert set(data) == {"query", "total", "page", "pages", "limit", "hits", "suggestion"}
    assert (data["query"], data["total"], data["page"], data["pages"], data["limit"]) == (
        "waterstof",
        1,
        1,
        1,
        10,
    )
    hit = data["hits"][0]
    assert set(hit) == {
        "id",
        "title",
        "asked",
        "answered",
        "days",
        "submitters",
        "ministers",
        "subjects",
        "score",
        "url",
        "questions",
    }
    assert hit["id"] == "2024Z11074"
    assert hit["asked"] == "2024-06-21"
    assert hit["answered"] == "2024-11-18"
    assert hit["days"] == 150
    assert hit["submitters"] == [{"name": "Silvio Erkens", "party": "VVD"}]
    assert hit["ministers"] == [
        {"name": "Sophie Hermans", "party": "", "role": "minister klimaat en groene groei"}
    ]
    assert hit["subjects"] == []
    assert hit["score"] > 0
    first = hit["questions"][0]
    assert set(first) == {"nr", "score", "snippet", "highlights"}
    assert [q["score"] for q in hit["questions"]] == sorted(
        (q["score"] for q in hit["questions"]), reverse=True
    )
    for start, end in first["highlights"]:
        assert first["snippet"][start:end].lower().startswith("waterstof")


def test_search_without_query_lists_newest_first(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "search", "--to", "2024-06", "--json")
    data = json.loads(result.output)
    assert [h["id"] for h in data["hits"]] == ["2024Z11151", "2024Z11074", "2024Z01294"]
    assert all(h["questions"] == [] for h in data["hits"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2024-13"],
            "Invalid value for '--from': '2024-13' is not a valid date "
            "(month 13 is not between 1 and 12)",
        ),
        (
            ["--to", "morgen"],
            "Invalid value for '--to': 'morgen' is not a date: use YYYY, YYYY-MM, "
            "YYYY-MM-DD or a Dutch date like '29 januari 2024'",
        ),
        (["--limit", "0"], "Invalid value for '--limit' / '-n': 0 is not in the range 1<=x<=1000."),
        (["--page", "0"], "Invalid value for '--page': 0 is not in the range x>=1."),
    ],
)
def test_search_usage_errors(
    runner: CliRunner, sample_index: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["--index", str(sample_index), "search", "x", *args])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"Error: {message}"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "AND",
            "Error: nothing to search for in 'AND': give words, or leave the query out to "
            "list Kamervragen by their filters\n",
        ),
        ("a*", "Error: the wildcard 'a*' needs at least 2 letters before * or ?\n"),
    ],
)
def test_search_query_errors(
    runner: CliRunner, sample_index: Path, query: str, message: str
) -> None:
    result = runner.invoke(cli, ["--index", str(sample_index), "search", query])
    assert result.exit_code == 1
    assert result.output == message


def test_search_without_index(runner: CliRunner, tmp_path: Path) -> None:
    ix = tmp_path / "nothing"
    result = runner.invoke(cli, ["--index", str(ix), "search", "stikstof"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no index in {ix}; build one with `kvsearch index SOURCE_DIR` (or `kvsearch "
        "index --sample` for the bundled sample), or point --index / KVSEARCH_INDEX at an "
        "existing index\n"
    )


def test_index_from_environment(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "search", "waterstof", env={"KVSEARCH_INDEX": str(sample_index)})
    assert result.output.startswith("1 Kamervraag found for: waterstof")


# ---------------------------------------------------------------- show / status


def test_show(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "show", "2024Z18892", "--question", "4")
    assert result.output == (
        "Kamervraag 2024Z18892\n"
        "Het bericht 'Een derde van de schoolbestuurders laat zich maximaal belonen'\n"
        "\n"
        "Asked:       2024-11-20\n"
        "Answered:    not answered\n"
        "Submitter:   Arend Kisteman (VVD)\n"
        "Question:    https://zoek.officielebekendmakingen.nl/kv-tk-2024Z18892.html\n"
        "\n"
        "Vraag 4\n"
        "  Trad deze cao, toen deze werd afgesloten, direct in werking voor alle "
        "schoolbestuurders in het funderend onderwijs of pas na het afsluiten van nieuwe "
        "arbeidscontracten?\n"
    )


def test_show_full_and_json(runner: CliRunner, sample_index: Path) -> None:
    text = run(runner, "--index", str(sample_index), "show", "2024Z01294").output
    assert text.count("\nVraag ") == 9
    assert "\nAntwoord\n  Ja.\n" in text
    data = json.loads(
        run(runner, "--index", str(sample_index), "show", "2024z01294", "--json").output
    )
    assert data["id"] == "2024Z01294"
    assert len(data["questions"]) == 9
    assert data["questions"][7]["answer"].count("\n") == 3  # four paragraphs
    assert "source" not in data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["2099Z00001"],
            "Error: no Kamervraag '2099Z00001' in the index; search for it with "
            "`kvsearch search`\n",
        ),
        (
            ["2024Z18892", "--question", "10"],
            "Error: Kamervraag 2024Z18892 has no question 10; "
            "it has questions 1, 2, 3, 4, 5, 6, 7, 8, 9\n",
        ),
    ],
)
def test_show_errors(runner: CliRunner, sample_index: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["--index", str(sample_index), "show", *args])
    assert result.exit_code == 1
    assert result.output == message


def test_status(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "status")
    lines = result.output.splitlines()
    assert lines[0] == f"Index:       {sample_index}"
    assert lines[1] == f"Source:      {SAMPLE_DIR}"
    assert lines[2] == "Kamervragen: 36 (416 questions)"
    data = json.loads(run(runner, "--index", str(sample_index), "status", "--json").output)
    assert data["documents_in_index"] == 36
    assert data["size_bytes"] > 0


def test_search_suggests_a_correction(runner: CliRunner, sample_index: Path) -> None:
    result = run(runner, "--index", str(sample_index), "search", "schoolbestuurdrs cao")
    assert result.output.splitlines()[-1] == "Bedoelde u: schoolbestuurders cao"
    data = json.loads(
        run(runner, "--index", str(sample_index), "search", "ambtenaaren", "--json").output
    )
    assert data["suggestion"] == "ambtenaren"
    nothing = run(runner, "--index", str(sample_index), "search", "schoolbestuurdrs")
    assert (
        nothing.output
        == "No Kamervragen found for: schoolbestuurdrs\nBedoelde u: schoolbestuurders\n"
    )


# ---------------------------------------------------------------- ending the process


def _kvsearch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kvsearch", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
    )


def test_read_only_commands_end_quickly_with_all_their_output(
    sample_index: Path, runner: CliRunner, tmp_path: Path
) -> None:
    """A read-only command ends without Python's teardown (kvsearch.cli.main): its whole
    output and exit code still come through, as CliRunner sees them."""
    for args in (
        ["search", "ambtenaren", "--limit", "20", "--facets"],
        ["search", "ambtenaren", "--json", "--limit", "50"],
        ["show", "2024Z01294"],
        ["status", "--json"],
    ):
        full = ["--index", str(sample_index), *args]
        proc = _kvsearch(*full, cwd=tmp_path)
        expected = run(runner, *full)
        assert (proc.returncode, proc.stdout) == (expected.exit_code, expected.output), args
        assert proc.stderr == ""


def test_read_only_command_errors_keep_their_message_and_exit_code(tmp_path: Path) -> None:
    proc = _kvsearch("--index", str(tmp_path / "none"), "search", "water", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("Error: ")
    proc = _kvsearch("search", "--limit", "0", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Invalid value for '--limit'" in proc.stderr


@pytest.mark.parametrize(
    ("args", "teardown"),
    [(["search", "ambtenaren"], False), (["status"], False), (["--help"], True)],
)
def test_only_read_only_commands_skip_the_teardown(
    sample_index: Path, tmp_path: Path, args: list[str], teardown: bool
) -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('teardown', file=sys.stderr))\n"
        "from kvsearch.cli import main\n"
        f"sys.argv = ['kvsearch', '--index', {str(sample_index)!r}, *{args!r}]\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0
    assert proc.stdout
    assert ("teardown" in proc.stderr) is teardown
