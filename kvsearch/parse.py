"""Read Kamervraag text files (the openkamer layout of examples/2024Z01294.txt).

Public functions:

- ``read_text(path)``: the file as text (UTF-8 with or without BOM, line ends as ``\\n``).
- ``decode_text(data, path)``: the same for bytes already in memory; ``decode_bytes(data,
  path)`` also says which encoding was used.
- ``parse_text(text, path)``, ``parse_bytes(data, path)``, ``parse_file(path)``: a Kamervraag.

Every problem with the input ends in ``ParseError(path, line, reason)``; no other exception
escapes for any input text or bytes.

Decisions (what the parser accepts and how it normalises):

- The number is a Tweede Kamer number: 4-digit year, ``Z``, 5 digits (``2024Z01294``);
  a lowercase ``z`` is accepted and stored as ``Z``.
- Keywords (``Kamervraag``, ``Ingediend``, ``Beantwoord``, ``Indiener(s)``, ``Beantwoord door``,
  ``Onderwerpen``, ``Bron vraag``, ``Bron antwoord``, ``Vraag``, footer labels) and month
  names are matched without regard to case. Header lines may come in any order; each at most
  once. Only ``Ingediend`` and ``Indiener(s)`` are required.
- Dates are Dutch (``29 januari 2024``); ISO dates (``2024-01-29``) are accepted too.
- Whitespace: trailing whitespace is ignored everywhere, U+00A0 counts as whitespace. In
  the title, names, roles, parties, subjects and footer titles every run of whitespace
  becomes one space. Question and answer lines keep their inner text; only the indentation
  and trailing whitespace are removed.
- Roles: whitespace before a comma is dropped as well, so
  ``(minister-president , minister algemene zaken)`` gives the role
  ``"minister-president, minister algemene zaken"``.
- People: entries are separated by commas outside parentheses. ``Name``, ``Name (x)`` and
  ``Name (role) (Party)``; only the brackets at the end count, so a nickname stays in the
  name (``R.A. (Rik) Janssen``). For a minister a single group is a role when it starts with a
  lowercase letter, else a party; for a submitter a single group is always the party.
- A question is the first run of non-blank lines after ``• Vraag N`` (lines joined by
  ``\\n``); every later non-blank line up to the next ``Vraag`` or the footer is the answer,
  one paragraph per line, joined by ``\\n``. The footer is optional; a "Volledige titel"
  may go on over the next lines, like the title, and its lines are joined with a space.
- A file that cannot be read (missing, permissions) also gives a ParseError, at line 1.
- Encoding: UTF-8 (BOM optional); a file that is not UTF-8 but plausible Windows-1252 (no
  UTF-8 sequences, no undefined bytes, no control characters) is read as Windows-1252.
  UTF-16, binary data and damaged UTF-8 give a ParseError.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kvsearch.errors import ParseError
from kvsearch.model import MONTHS, QA, Kamervraag, Person

__all__ = ["decode_bytes", "decode_text", "parse_bytes", "parse_file", "parse_text", "read_text"]

_MONTH_NR = {name: i for i, name in enumerate(MONTHS, 1)}

_MAX_QUOTE = 60
_ID_RE = re.compile(r"([0-9]{4})[Zz]([0-9]{5})")
_FIRST_RE = re.compile(r"kamervraag\b\s*(.*)", re.IGNORECASE)
_DUTCH_DATE_RE = re.compile(r"([0-9]{1,2})\s+([^\W\d_]+)\s+([0-9]{4})")
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ANSWERED_RE = re.compile(
    r"(?P<date>.*?)\s*(?:\(\s*na\s*(?P<days>[0-9]*)\s*(?:dagen|dag)?\s*\))?", re.IGNORECASE
)
_VRAAG_RE = re.compile(r"(?:•\s*)?vraag\s+([0-9]+)\s*:?", re.IGNORECASE)
# A name may hold a bracketed nickname ("R.A. (Rik) Janssen"), but no unbalanced brackets.
_NAME_RE = re.compile(r"[^()]*(?:\([^()]*\)[^()]*)*")

# Header keywords, longest first so that "Beantwoord door" wins over "Beantwoord".
_HEADERS: tuple[tuple[str, str], ...] = (
    ("beantwoord door", "Beantwoord door"),
    ("beantwoord", "Beantwoord"),
    ("ingediend", "Ingediend"),
    ("indieners", "Indiener"),
    ("indiener", "Indiener"),
    ("onderwerpen", "Onderwerpen"),
    ("onderwerp", "Onderwerpen"),
    ("bron vraag", "Bron vraag"),
    ("bron antwoord", "Bron antwoord"),
)
_HEADER_RE = re.compile(
    r"(" + "|".join(re.escape(k) for k, _ in _HEADERS) + r")(?:\s+(.*))?", re.IGNORECASE
)
_FOOTER_RE = re.compile(
    r"(kamervraag document nummer|kamerantwoord document nummer|volledige titel)\s*:\s*(.*)",
    re.IGNORECASE,
)

_HEADER_KEYS = dict(_HEADERS)
# Lines that end a title (or show that it is missing); "Onderwerp..." and "Indiener..."
# are left out because a title may well start with such a word.
_TITLE_STOP_RE = re.compile(r"(?:ingediend|beantwoord|bron vraag|bron antwoord)\s.*", re.IGNORECASE)

Line = tuple[int, str]  # (1-based line number, text without trailing whitespace)


@dataclass
class _Header:
    asked: dt.date | None = None
    answered: dt.date | None = None
    days: int | None = None
    submitters: tuple[Person, ...] | None = None
    ministers: tuple[Person, ...] = ()
    subjects: tuple[str, ...] = ()
    question_url: str = ""
    answer_url: str = ""
    end_line: int = 1


# ------------------------------------------------------------------ reading


def decode_text(data: bytes, path: str = "<bytes>") -> str:
    """Decode the bytes of a Kamervraag file: UTF-8 (BOM optional), line ends as ``\\n``.

    Text that is not UTF-8 but plausible Windows-1252 is read as Windows-1252; use
    ``decode_bytes`` to learn which encoding was used.
    """
    return decode_bytes(data, path)[0]


def decode_bytes(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode like ``decode_text``; return the text and the encoding: "utf-8" or "cp1252".

    Windows-1252 is used only when the bytes are not UTF-8, hold no UTF-8 multi-byte
    sequence (which would mean damaged UTF-8), no byte that Windows-1252 leaves undefined
    and no control character: what old Windows editors write for Dutch text.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ParseError(path, 1, "UTF-16 text, expected UTF-8; save the file as UTF-8")
    if b"\x00" in data:
        raise ParseError(path, 1, "binary file, expected a Kamervraag text file")
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        text = _cp1252(data)
        if text is not None:
            return text, "cp1252"
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        raise ParseError(
            path,
            line,
            f"not UTF-8 text (invalid byte 0x{bad:02x} at line {line}); save the file as UTF-8",
        ) from None


# A UTF-8 multi-byte sequence: its presence means damaged UTF-8, not Windows-1252.
_UTF8_SEQ_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CONTROL_RE = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f\x7f]")


def _cp1252(data: bytes) -> str | None:
    """``data`` as Windows-1252 text when it plausibly is; else None."""
    if _UTF8_SEQ_RE.search(data) or _CONTROL_RE.search(data):
        return None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are undefined
        return None


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a Kamervraag file as text; see ``decode_text``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ParseError(str(path), 1, f"cannot read the file ({reason})") from None
    return decode_text(data, str(path))


def parse_file(path: str | os.PathLike[str]) -> Kamervraag:
    """Read and parse one Kamervraag file; ``source`` is set to ``str(path)``."""
    return parse_text(read_text(path), str(path))


def parse_bytes(data: bytes, path: str = "<bytes>") -> Kamervraag:
    """Parse the raw bytes of a Kamervraag file."""
    return parse_text(decode_text(data, path), path)


# ------------------------------------------------------------------ helpers


def _squash(text: str) -> str:
    """Collapse every run of whitespace (U+00A0 included) into one space."""
    return " ".join(text.split())


def _quote(text: str) -> str:
    text = _squash(text)
    if len(text) > _MAX_QUOTE:
        text = text[: _MAX_QUOTE - 3].rstrip() + "..."
    return f'"{text}"'


def _number(digits: str, path: str, line: int, what: str) -> int:
    if not digits or len(digits) > 6:
        raise ParseError(path, line, f"unreadable number {_quote(digits)} in {what}")
    return int(digits)


def _parse_date(text: str, path: str, line: int) -> dt.date:
    text = _squash(text)
    err = ParseError(
        path, line, f'unreadable date {_quote(text)}: expected a date like "29 januari 2024"'
    )
    m = _DUTCH_DATE_RE.fullmatch(text)
    if m:
        month = _MONTH_NR.get(m.group(2).lower())
        if month is None:
            raise err
        day, year = int(m.group(1)), int(m.group(3))
    else:
        m = _ISO_DATE_RE.fullmatch(text)
        if not m:
            raise err
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise err from None


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _clean_role(role: str) -> str:
    return re.sub(r"\s+,", ",", _squash(role))


def _split_entry(entry: str) -> tuple[str, list[str]]:
    """'Name (role) (Party)' -> ('Name', ['role', 'Party']); ('', []) when unreadable."""
    groups: list[str] = []
    rest = entry.strip()
    while rest.endswith(")") and len(groups) <= 2:  # a third group is an error anyway
        start = rest.rfind("(")
        inner = rest[start + 1 : -1]
        if start < 0 or ")" in inner:
            return "", []
        groups.insert(0, inner.strip())
        rest = rest[:start].rstrip()
    return rest, groups


def _parse_people(
    text: str, path: str, line: int, label: str, *, ministers: bool
) -> tuple[Person, ...]:
    people: list[Person] = []
    for entry in _split_top_level(text):
        entry = _squash(entry)
        name, groups = _split_entry(entry)
        if not name or not _NAME_RE.fullmatch(name) or name.startswith("("):
            raise ParseError(
                path,
                line,
                f'unreadable name {_quote(entry)} in the "{label}" line: '
                'expected "Name (Party)" or "Name (role) (Party)"',
            )
        if len(groups) > 2:
            raise ParseError(
                path,
                line,
                f'too many parts in brackets in {_quote(entry)} in the "{label}" line: '
                'expected "Name (role) (Party)"',
            )
        role = party = ""
        if len(groups) == 2:
            role, party = groups
        elif len(groups) == 1:
            single = groups[0]
            if ministers and single[:1].islower():
                role = single
            else:
                party = single
        people.append(Person(name=name, party=_squash(party), role=_clean_role(role)))
    return tuple(people)


def _is_blank(text: str) -> bool:
    return not text.strip()


# ------------------------------------------------------------------ parsing


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        if text.startswith("\ufeff"):
            text = text[1:]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.lines: list[Line] = [(i, raw.rstrip()) for i, raw in enumerate(text.split("\n"), 1)]
        self.pos = 0
        self.has_nul = "\x00" in text

    def error(self, line: int, reason: str) -> ParseError:
        return ParseError(self.path, line, reason)

    def peek(self) -> Line | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def skip_blank(self) -> None:
        while self.pos < len(self.lines) and _is_blank(self.lines[self.pos][1]):
            self.pos += 1

    def eof_line(self) -> int:
        """The line number to blame when something is missing at the end."""
        if self.pos < len(self.lines):
            return self.lines[self.pos][0]
        last = len(self.lines)
        while last > 1 and _is_blank(self.lines[last - 1][1]):
            last -= 1
        return max(1, last)

    # -------------------------------------------------------------- parts

    def parse(self) -> Kamervraag:
        if self.has_nul:
            raise self.error(1, "binary file, expected a Kamervraag text file")
        self.skip_blank()
        first = self.peek()
        if first is None:
            raise self.error(1, "empty file")
        kv_id = self.parse_id(first)
        self.pos += 1
        title = self.parse_title()
        header = self.parse_header()
        if header.asked is None:
            raise self.error(header.end_line, 'missing "Ingediend" line')
        if header.submitters is None:
            raise self.error(header.end_line, 'missing "Indiener" line')
        questions = self.parse_questions()
        footer = self.parse_footer()
        return Kamervraag(
            id=kv_id,
            title=title,
            asked=header.asked,
            submitters=header.submitters,
            questions=questions,
            answered=header.answered,
            days=header.days,
            ministers=header.ministers,
            subjects=header.subjects,
            question_url=header.question_url,
            answer_url=header.answer_url,
            question_doc=footer.get("question_doc", ""),
            question_doc_title=footer.get("question_doc_title", ""),
            answer_doc=footer.get("answer_doc", ""),
            answer_doc_title=footer.get("answer_doc_title", ""),
            source=self.path,
        )

    def parse_id(self, first: Line) -> str:
        nr, text = first
        expected = 'expected "Kamervraag <number>" on the first line'
        m = _FIRST_RE.fullmatch(text.strip())
        if not m:
            raise self.error(nr, f"{expected}, found {_quote(text)}")
        number = _squash(m.group(1))
        if not number:
            raise self.error(nr, f'{expected}, the number is missing (like "2024Z01294")')
        idm = _ID_RE.fullmatch(number)
        if not idm:
            raise self.error(
                nr,
                f"{_quote(number)} is not a Tweede Kamer number: expected a year, "
                'Z and five digits, like "2024Z01294"',
            )
        return f"{idm.group(1)}Z{idm.group(2)}"

    def parse_title(self) -> str:
        self.skip_blank()
        start = self.peek()
        if start is None or self.ends_title(start[1]):
            line = start[0] if start else self.eof_line()
            raise self.error(line, 'expected a title after the "Kamervraag" line')
        parts: list[str] = []
        while (cur := self.peek()) is not None and not _is_blank(cur[1]):
            if self.ends_title(cur[1]):
                break
            parts.append(cur[1])
            self.pos += 1
        return _squash(" ".join(parts))

    def ends_title(self, text: str) -> bool:
        text = text.strip()
        return (
            _TITLE_STOP_RE.fullmatch(text) is not None
            or self.is_vraag(text)
            or self.is_footer(text)
        )

    @staticmethod
    def is_vraag(text: str) -> bool:
        return _VRAAG_RE.fullmatch(text.strip()) is not None

    @staticmethod
    def is_footer(text: str) -> bool:
        return _FOOTER_RE.fullmatch(text.strip()) is not None

    def parse_header(self) -> _Header:
        header = _Header()
        seen: dict[str, int] = {}
        while (cur := self.peek()) is not None:
            nr, text = cur
            stripped = text.strip()
            if not stripped:
                self.pos += 1
                continue
            if self.is_vraag(stripped) or self.is_footer(stripped):
                break
            m = _HEADER_RE.fullmatch(stripped)
            if not m:
                raise self.error(
                    nr, f'unexpected line before the first "Vraag": {_quote(stripped)}'
                )
            key = _HEADER_KEYS[m.group(1).lower()]
            if key in seen:
                raise self.error(nr, f'second "{key}" line (the first is on line {seen[key]})')
            seen[key] = nr
            self.set_header(header, key, m.group(2) or "", nr)
            self.pos += 1
        header.end_line = self.eof_line()
        return header

    def set_header(self, header: _Header, key: str, value: str, nr: int) -> None:
        if key == "Ingediend":
            header.asked = _parse_date(value, self.path, nr)
        elif key == "Beantwoord":
            header.answered, header.days = self.parse_answered(value, nr)
        elif key == "Indiener":
            header.submitters = self.parse_submitters(value, nr)
        elif key == "Beantwoord door":
            header.ministers = _parse_people(
                value, self.path, nr, "Beantwoord door", ministers=True
            )
        elif key == "Onderwerpen":
            header.subjects = tuple(s for s in (_squash(x) for x in value.split(",")) if s)
        elif key == "Bron vraag":
            header.question_url = _squash(value)
        else:
            header.answer_url = _squash(value)

    def parse_answered(self, value: str, nr: int) -> tuple[dt.date, int | None]:
        m = _ANSWERED_RE.fullmatch(_squash(value))
        if not m:  # pragma: no cover - the pattern matches every string
            raise self.error(nr, f'unreadable "Beantwoord" line: {_quote(value)}')
        answered = _parse_date(m.group("date"), self.path, nr)
        digits = m.group("days")
        days = _number(digits, self.path, nr, '"(na N dagen)"') if digits else None
        return answered, days

    def parse_submitters(self, value: str, nr: int) -> tuple[Person, ...]:
        people = _parse_people(value, self.path, nr, "Indiener", ministers=False)
        if not people:
            raise self.error(nr, '"Indiener" line names nobody: expected "Indiener Name (Party)"')
        return people

    def parse_questions(self) -> tuple[QA, ...]:
        qas: list[QA] = []
        seen: dict[int, int] = {}
        first = self.peek()
        if first is None or not self.is_vraag(first[1]):
            raise self.error(
                self.eof_line(), 'expected " • Vraag 1" after the header lines, found no questions'
            )
        while (cur := self.peek()) is not None and self.is_vraag(cur[1]):
            nr_line, text = cur
            m = _VRAAG_RE.fullmatch(text.strip())
            assert m is not None
            nr = _number(m.group(1), self.path, nr_line, '"Vraag N"')
            if nr in seen:
                raise self.error(nr_line, f'second "Vraag {nr}" (the first is on line {seen[nr]})')
            seen[nr] = nr_line
            self.pos += 1
            question: list[str] = []
            answer: list[str] = []
            in_question = True
            while (line := self.peek()) is not None:
                body = line[1].strip()
                if self.is_vraag(body) or self.is_footer(body):
                    break
                self.pos += 1
                if not body:
                    if question:
                        in_question = False
                    continue
                (question if in_question else answer).append(body)
            if not question:
                raise self.error(nr_line, f'"Vraag {nr}" has no question text')
            qas.append(QA(nr=nr, question="\n".join(question), answer="\n".join(answer)))
        return tuple(qas)

    def parse_footer(self) -> dict[str, str]:
        footer: dict[str, str] = {}
        current: str | None = None
        continues: str | None = None  # a "Volledige titel" that may go on on the next line
        seen: dict[str, int] = {}
        while (cur := self.peek()) is not None:
            nr, text = cur
            self.pos += 1
            stripped = text.strip()
            if not stripped:
                continues = None
                continue
            m = _FOOTER_RE.fullmatch(stripped)
            if not m and continues is not None:
                footer[continues] = _squash(f"{footer[continues]} {stripped}")
                continue
            continues = None
            if not m:
                raise self.error(nr, f"unexpected line in the footer: {_quote(stripped)}")
            label, value = m.group(1).lower(), _squash(m.group(2))
            if label == "volledige titel":
                if current is None:
                    raise self.error(
                        nr, '"Volledige titel" without a "document nummer" line before it'
                    )
                key = current + "_title"
            else:
                current = "question_doc" if label.startswith("kamervraag") else "answer_doc"
                key = current
            if key in seen:
                raise self.error(
                    nr, f"second {_quote(m.group(1))} line (the first is on line {seen[key]})"
                )
            seen[key] = nr
            footer[key] = value
            if label == "volledige titel":
                continues = key
        return footer


def parse_text(text: str, path: str = "<text>") -> Kamervraag:
    """Parse the text of one Kamervraag file; ``path`` is used in errors and as ``source``."""
    return _Parser(text, path).parse()
