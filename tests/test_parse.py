"""The parser against the bundled sample corpus and hand-made good and bad inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kvsearch.errors import KvsearchError, ParseError
from kvsearch.model import Kamervraag, Person
from kvsearch.parse import decode_text, parse_bytes, parse_file, parse_text, read_text

SAMPLE = Path(__file__).resolve().parent.parent / "kvsearch" / "sample"

# Number of " • Vraag" lines per sample file, counted with grep -c '^ • Vraag'.
QUESTION_COUNTS = {
    "2024Z01294": 9,
    "2024Z11074": 7,
    "2024Z11151": 24,
    "2024Z12914": 67,
    "2024Z13457": 17,
    "2024Z13931": 20,
    "2024Z14247": 15,
    "2024Z14255": 11,
    "2024Z14419": 12,
    "2024Z14547": 7,
    "2024Z14548": 9,
    "2024Z14634": 16,
    "2024Z14717": 1,
    "2024Z14814": 13,
    "2024Z14815": 5,
    "2024Z14827": 12,
    "2024Z16812": 9,
    "2024Z16988": 9,
    "2024Z18435": 9,
    "2024Z18438": 14,
    "2024Z18561": 5,
    "2024Z18562": 9,
    "2024Z18564": 8,
    "2024Z18565": 7,
    "2024Z18656": 11,
    "2024Z18792": 5,
    "2024Z18793": 14,
    "2024Z18794": 9,
    "2024Z18795": 8,
    "2024Z18796": 8,
    "2024Z18882": 8,
    "2024Z18884": 13,
    "2024Z18888": 8,
    "2024Z18890": 2,
    "2024Z18891": 6,
    "2024Z18892": 9,
}

# Files with a "Beantwoord" line (grep -L '^Beantwoord ' gives the other 18).
ANSWERED = {
    "2024Z01294",
    "2024Z11074",
    "2024Z11151",
    "2024Z12914",
    "2024Z13457",
    "2024Z13931",
    "2024Z14247",
    "2024Z14255",
    "2024Z14419",
    "2024Z14547",
    "2024Z14548",
    "2024Z14634",
    "2024Z14717",
    "2024Z14814",
    "2024Z14815",
    "2024Z14827",
    "2024Z16812",
    "2024Z18792",
}


def test_sample_folder_is_complete() -> None:
    assert sorted(p.stem for p in SAMPLE.glob("*.txt")) == sorted(QUESTION_COUNTS)


@pytest.mark.parametrize("stem", sorted(QUESTION_COUNTS))
def test_every_sample_file_parses(stem: str) -> None:
    path = SAMPLE / f"{stem}.txt"
    k = parse_file(path)
    assert k.id == stem
    assert k.source == str(path)
    assert len(k.questions) == QUESTION_COUNTS[stem]
    assert [qa.nr for qa in k.questions] == list(range(1, QUESTION_COUNTS[stem] + 1))
    assert all(qa.question for qa in k.questions)
    assert k.title
    assert k.submitters
    assert k.question_doc == f"kv-tk-{stem}"
    assert k.question_doc_title == k.title
    assert (k.answered is not None) == (stem in ANSWERED)
    if k.answered is not None:
        assert k.answer_doc.startswith("ah-tk-")
        assert k.answer_url.endswith(f"{k.answer_doc}.html")
        assert k.days == (k.answered - k.asked).days
        assert k.ministers
    assert Kamervraag.from_dict(k.to_dict()) == k


def test_reference_file_in_detail() -> None:
    k = parse_file(SAMPLE / "2024Z01294.txt")
    title = (
        "Bijeenkomsten met ambtenaren naar aanleiding van de verkiezingsuitslag "
        "van 22 november 2023"
    )
    assert k.id == "2024Z01294"
    assert k.title == title
    assert k.asked == dt.date(2024, 1, 29)
    assert k.answered == dt.date(2024, 2, 16)
    assert k.days == 18
    assert k.answer_days == 18
    assert k.submitters == (Person("Joost Eerdmans", party="EénNL"),)
    assert len(k.ministers) == 12
    assert k.ministers[0] == Person("Kajsa Ollongren", party="D66", role="minister defensie")
    assert Person("Steven van Weyenberg", party="D66") in k.ministers
    assert (
        Person("Mark Rutte", party="VVD", role="minister-president, minister algemene zaken")
        in k.ministers
    )
    assert (
        Person("Piet Adema", party="CU", role="minister landbouw, natuur en voedselkwaliteit")
        in k.ministers
    )
    assert (
        Person("Dilan Yeşilgöz-Zegerius", party="VVD", role="minister justitie en veiligheid")
        in k.ministers
    )
    assert k.subjects == ("bestuur rijksoverheid",)
    assert k.question_url == "https://zoek.officielebekendmakingen.nl/kv-tk-2024Z01294.html"
    assert k.answer_url == "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1065.html"
    assert len(k.questions) == 9
    q1 = k.question(1)
    assert q1 is not None
    assert q1.question.startswith("Zijn er op uw ministerie bijeenkomsten")
    assert q1.answer == "Nee."
    q5 = k.question(5)
    assert q5 is not None
    assert "collega\u2019s" in q5.question
    q8 = k.question(8)
    assert q8 is not None
    paragraphs = q8.answer.split("\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Nee. Het is belangrijk")
    assert paragraphs[3].startswith("Een sociaal veilige werkomgeving")
    assert k.question(9) is not None
    assert k.question(9).answer == "Ja."
    assert k.question_doc == "kv-tk-2024Z01294"
    assert k.question_doc_title == title
    assert k.answer_doc == "ah-tk-20232024-1065"
    assert k.answer_doc_title == (
        "Antwoord op vragen van het lid Eerdmans over bijeenkomsten met ambtenaren "
        "naar aanleiding van de verkiezingsuitslag van 22 november 2023"
    )


def test_multiple_submitters_answered() -> None:
    k = parse_file(SAMPLE / "2024Z13931.txt")
    assert k.submitters == (
        Person("Marieke Koekkoek", party="Volt"),
        Person("Michiel van Nispen", party="SP"),
        Person("Don Ceder", party="ChristenUnie"),
    )
    assert k.ministers == (
        Person("Marjolein Faber-van de Klashorst", role="minister asiel en migratie"),
    )
    assert k.days == 59
    assert k.subjects == ()
    q2 = k.question(2)
    assert q2 is not None
    assert len(q2.answer.split("\n")) == 2


def test_submitters_without_party() -> None:
    k = parse_file(SAMPLE / "2024Z14419.txt")
    assert k.submitters == (Person("Barbara Kathmann"), Person("Luc Stultiens"))


def test_unanswered_file() -> None:
    k = parse_file(SAMPLE / "2024Z18890.txt")
    assert k.answered is None
    assert k.days is None
    assert k.answer_days is None
    assert k.ministers == ()
    assert k.answer_url == ""
    assert k.answer_doc == ""
    assert k.answer_doc_title == ""
    assert len(k.submitters) == 7
    assert k.submitters[-1] == Person("Doğukan Ergin", party="DENK")
    assert [qa.answer for qa in k.questions] == ["", ""]
    assert k.questions[1].question == "Kunt u namens het kabinet reageren op meegestuurde brief?"


def test_na_1_dagen() -> None:
    k = parse_file(SAMPLE / "2024Z18792.txt")
    assert k.days == 1


# ------------------------------------------------------------------ encoding variants

REFERENCE = SAMPLE / "2024Z01294.txt"


def _variants() -> dict[str, bytes]:
    raw = REFERENCE.read_bytes()
    text = raw.decode("utf-8")
    return {
        "bom": b"\xef\xbb\xbf" + raw,
        "crlf": raw.replace(b"\n", b"\r\n"),
        "cr": raw.replace(b"\n", b"\r"),
        "bom-crlf": b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"),
        "trailing-space": "\n".join(line + " \t " for line in text.split("\n")).encode(),
        "trailing-nbsp": "\n".join(line + "\u00a0" for line in text.split("\n")).encode(),
        "no-final-newline": raw.rstrip(b"\n"),
        "extra-blank-lines": b"\n\n" + raw + b"\n\n\n",
    }


@pytest.mark.parametrize("variant", sorted(_variants()))
def test_encoding_and_whitespace_variants_are_equal(variant: str, tmp_path: Path) -> None:
    expected = parse_file(REFERENCE)
    path = tmp_path / f"{variant}.txt"
    path.write_bytes(_variants()[variant])
    got = parse_file(path)
    assert got == expected
    assert got.source == str(path)


def test_read_text_normalises_line_ends_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfa\r\nb\rc\n")
    assert read_text(path) == "a\nb\nc\n"
    assert decode_text("€ \u2013 «» \u2018x\u2019".encode()) == "€ \u2013 «» \u2018x\u2019"


# ------------------------------------------------------------------ hand-made inputs

BASE = """Kamervraag 2024Z01294

Een titel

Ingediend 29 januari 2024
Beantwoord 16 februari 2024 (na 18 dagen)
Indiener Joost Eerdmans (EénNL)
Beantwoord door Mark Rutte (minister-president , minister algemene zaken) (VVD)
Onderwerpen bestuur rijksoverheid
Bron vraag https://example.org/kv
Bron antwoord https://example.org/ah
 • Vraag 1
  Vraag een?

  Antwoord een.

 • Vraag 2
  Vraag twee?


Kamervraag document nummer: kv-tk-2024Z01294
Volledige titel: Een titel
"""


def _replace(line: int, new: str | None, text: str = BASE) -> str:
    """BASE with 1-based ``line`` replaced by ``new`` (None: removed)."""
    lines = text.split("\n")
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    return "\n".join(lines)


def test_base_fixture_parses() -> None:
    k = parse_text(BASE, "x.txt")
    assert k.source == "x.txt"
    assert k.title == "Een titel"
    assert k.questions[0].answer == "Antwoord een."
    assert k.questions[1].answer == ""
    assert k.ministers[0].role == "minister-president, minister algemene zaken"


def test_header_lines_in_any_order_and_any_case() -> None:
    lines = BASE.split("\n")
    header = lines[4:11]
    keyword_upper = header[3].replace("Beantwoord door", "BEANTWOORD DOOR")
    keyword_lower = header[0].replace("Ingediend", "ingediend")
    shuffled = [header[6], keyword_upper, keyword_lower, header[5], header[2]]
    shuffled += [header[4], header[1]]
    text = "\n".join([*lines[:4], *shuffled, *lines[11:]])
    assert parse_text(text) == parse_text(BASE)


def test_lenient_forms() -> None:
    text = _replace(1, "kamervraag 2024z01294")
    text = _replace(6, "Beantwoord 16 Februari 2024 (na 1 dag)", text)
    text = _replace(9, "Onderwerpen zorg,  recht , ", text)
    k = parse_text(text)
    assert k.id == "2024Z01294"
    assert k.answered == dt.date(2024, 2, 16)
    assert k.days == 1
    assert k.subjects == ("zorg", "recht")


@pytest.mark.parametrize(
    ("line", "days"),
    [
        ("Beantwoord 16 februari 2024", None),
        ("Beantwoord 16 februari 2024 (na dagen)", None),
        ("Beantwoord 16 februari 2024 (na 0 dagen)", 0),
        ("Beantwoord 2024-02-16 (na 18 dagen)", 18),
    ],
)
def test_answered_line_forms(line: str, days: int | None) -> None:
    k = parse_text(_replace(6, line))
    assert k.answered == dt.date(2024, 2, 16)
    assert k.days == days


def test_multi_line_title_and_nbsp() -> None:
    text = _replace(3, "Een titel\u00a0over\nmeerdere  regels")
    k = parse_text(text)
    assert k.title == "Een titel over meerdere regels"


def test_people_forms() -> None:
    text = _replace(
        8,
        "Beantwoord door A (D66), B (minister van justitie), C (staatssecretaris x) (CD&V), "
        "D, E (Open Vld), F (50PLUS), G (GroenLinks-PvdA)",
    )
    text = _replace(7, "Indieners Jan de Vries (sp.a), Daniëlle Jansen, Ma (EénNL)", text)
    k = parse_text(text)
    assert k.ministers == (
        Person("A", party="D66"),
        Person("B", role="minister van justitie"),
        Person("C", party="CD&V", role="staatssecretaris x"),
        Person("D"),
        Person("E", party="Open Vld"),
        Person("F", party="50PLUS"),
        Person("G", party="GroenLinks-PvdA"),
    )
    assert k.submitters == (
        Person("Jan de Vries", party="sp.a"),
        Person("Daniëlle Jansen"),
        Person("Ma", party="EénNL"),
    )


def test_empty_subjects_and_empty_ministers() -> None:
    text = _replace(9, "Onderwerpen ")
    text = _replace(8, "Beantwoord door", text)
    k = parse_text(text)
    assert k.subjects == ()
    assert k.ministers == ()


def test_question_of_several_lines_and_answer_paragraphs() -> None:
    text = BASE.replace(
        "  Vraag een?\n\n  Antwoord een.\n",
        "  Vraag een?\n  Tweede regel.\n\n  Alinea 1 \u2013 €5\n  Alinea «2»\n\n  Alinea 3\n",
    )
    k = parse_text(text)
    assert k.questions[0].question == "Vraag een?\nTweede regel."
    assert k.questions[0].answer == "Alinea 1 \u2013 €5\nAlinea «2»\nAlinea 3"


def test_title_over_two_lines_also_in_the_footer() -> None:
    text = _replace(3, "Een titel\n(Aanhangsel Handelingen II, 2009-2010, nr. 276)")
    text = text.replace(
        "Volledige titel: Een titel\n",
        "Volledige titel: Een titel\n(Aanhangsel Handelingen II, 2009-2010, nr. 276)\n",
    )
    k = parse_text(text)
    assert k.title == "Een titel (Aanhangsel Handelingen II, 2009-2010, nr. 276)"
    assert k.question_doc_title == k.title


def test_nickname_in_brackets_stays_in_the_name() -> None:
    k = parse_text(_replace(7, "Indiener R.A. (Rik) Janssen, Jan (Rik) de Vries (SP)"))
    assert k.submitters == (Person("R.A. (Rik) Janssen"), Person("Jan (Rik) de Vries", "SP"))


def test_footer_is_optional() -> None:
    text = BASE.split("\n\n\nKamervraag document")[0]
    k = parse_text(text)
    assert k.question_doc == ""
    assert len(k.questions) == 2


LONG = "x" * 100

ERRORS: list[tuple[str, str, str]] = [
    ("empty", "", "x.txt:1: empty file"),
    ("only blanks", " \n\n\t\n", "x.txt:1: empty file"),
    (
        "other document type",
        _replace(1, "Kamerantwoord ah-tk-20232024-1065"),
        'x.txt:1: expected "Kamervraag <number>" on the first line, '
        'found "Kamerantwoord ah-tk-20232024-1065"',
    ),
    (
        "html",
        "<!DOCTYPE html>\n<html><body>Kamervraag</body></html>\n",
        'x.txt:1: expected "Kamervraag <number>" on the first line, found "<!DOCTYPE html>"',
    ),
    (
        "no number",
        _replace(1, "Kamervraag"),
        'x.txt:1: expected "Kamervraag <number>" on the first line, '
        'the number is missing (like "2024Z01294")',
    ),
    (
        "bad number",
        _replace(1, "Kamervraag 24Z1294"),
        'x.txt:1: "24Z1294" is not a Tweede Kamer number: expected a year, Z and five digits, '
        'like "2024Z01294"',
    ),
    (
        "no title",
        _replace(3, None, _replace(4, None)),
        'x.txt:3: expected a title after the "Kamervraag" line',
    ),
    (
        "only the first line",
        "Kamervraag 2024Z01294\n",
        'x.txt:1: expected a title after the "Kamervraag" line',
    ),
    (
        "bad date",
        _replace(5, "Ingediend 31 februari 2024"),
        'x.txt:5: unreadable date "31 februari 2024": expected a date like "29 januari 2024"',
    ),
    (
        "bad month",
        _replace(5, "Ingediend 29 janvier 2024"),
        'x.txt:5: unreadable date "29 janvier 2024": expected a date like "29 januari 2024"',
    ),
    (
        "bad answer date",
        _replace(6, "Beantwoord gisteren (na 3 dagen)"),
        'x.txt:6: unreadable date "gisteren": expected a date like "29 januari 2024"',
    ),
    (
        "huge day count",
        _replace(6, "Beantwoord 16 februari 2024 (na 12345678 dagen)"),
        'x.txt:6: unreadable number "12345678" in "(na N dagen)"',
    ),
    ("missing Ingediend", _replace(5, None), 'x.txt:11: missing "Ingediend" line'),
    ("missing Indiener", _replace(7, None), 'x.txt:11: missing "Indiener" line'),
    (
        "Indiener without a name",
        _replace(7, "Indiener "),
        'x.txt:7: "Indiener" line names nobody: expected "Indiener Name (Party)"',
    ),
    (
        "unbalanced bracket",
        _replace(7, "Indiener Jan (VVD"),
        'x.txt:7: unreadable name "Jan (VVD" in the "Indiener" line: '
        'expected "Name (Party)" or "Name (role) (Party)"',
    ),
    (
        "three brackets",
        _replace(8, "Beantwoord door Jan (a) (b) (c)"),
        'x.txt:8: too many parts in brackets in "Jan (a) (b) (c)" in the "Beantwoord door" '
        'line: expected "Name (role) (Party)"',
    ),
    (
        "duplicate header",
        _replace(10, "Ingediend 1 maart 2024"),
        'x.txt:10: second "Ingediend" line (the first is on line 5)',
    ),
    (
        "junk before the first Vraag",
        _replace(10, "Dit hoort hier niet"),
        'x.txt:10: unexpected line before the first "Vraag": "Dit hoort hier niet"',
    ),
    (
        "long junk is shortened",
        _replace(10, LONG),
        f'x.txt:10: unexpected line before the first "Vraag": "{"x" * 57}..."',
    ),
    (
        "no questions",
        BASE.split(" • Vraag 1")[0],
        'x.txt:11: expected " • Vraag 1" after the header lines, found no questions',
    ),
    (
        "Vraag without question text",
        _replace(18, None),
        'x.txt:17: "Vraag 2" has no question text',
    ),
    (
        "duplicate Vraag",
        _replace(17, " • Vraag 1"),
        'x.txt:17: second "Vraag 1" (the first is on line 12)',
    ),
    (
        "junk in the footer",
        BASE + "\nIets anders\n",
        'x.txt:24: unexpected line in the footer: "Iets anders"',
    ),
    (
        "footer title without number",
        _replace(21, None),
        'x.txt:21: "Volledige titel" without a "document nummer" line before it',
    ),
    (
        "NUL in text",
        BASE.replace("Een titel", "Een\x00titel", 1),
        "x.txt:1: binary file, expected a Kamervraag text file",
    ),
]


@pytest.mark.parametrize(("text", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text, "x.txt")
    assert str(info.value) == message
    assert isinstance(info.value, KvsearchError)
    assert info.value.path == "x.txt"
    assert message.startswith(f"x.txt:{info.value.line}: {info.value.reason}")


BYTE_ERRORS: list[tuple[str, bytes, str]] = [
    (
        "latin-1",
        BASE.encode().replace(b"Een titel\n", b"Een titel \xe9\n", 1),
        "{path}:3: not UTF-8 text (invalid byte 0xe9 at line 3); save the file as UTF-8",
    ),
    (
        "latin-1 after CRLF",
        BASE.replace("\n", "\r\n").encode().replace(b"Vraag twee", b"Vraag tw\xe9e"),
        "{path}:18: not UTF-8 text (invalid byte 0xe9 at line 18); save the file as UTF-8",
    ),
    (
        "binary",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "{path}:1: binary file, expected a Kamervraag text file",
    ),
    (
        "utf-16",
        BASE.encode("utf-16"),
        "{path}:1: UTF-16 text, expected UTF-8; save the file as UTF-8",
    ),
    ("only a BOM", b"\xef\xbb\xbf", "{path}:1: empty file"),
]


@pytest.mark.parametrize(
    ("data", "message"), [e[1:] for e in BYTE_ERRORS], ids=[e[0] for e in BYTE_ERRORS]
)
def test_byte_errors(data: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(ParseError) as info:
        parse_file(path)
    assert str(info.value) == message.format(path=path)
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "b.txt")
    assert str(info.value) == message.format(path="b.txt")


def test_unreadable_file_is_a_parse_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(ParseError) as info:
        parse_file(missing)
    assert str(info.value) == f"{missing}:1: cannot read the file (No such file or directory)"
