"""A small, self-contained reader of Kamervraag text files, for the baselines only.

It does not import kvsearch: the baselines must not profit from (or pay for) its parser.
Only what the baselines index is extracted: id, title, the question/answer text, the date
asked and the names of the answering ministers.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

MONTHS = {
    name: nr
    for nr, name in enumerate(
        (
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
        ),
        start=1,
    )
}
_PAREN = re.compile(r"\([^)]*\)")
_DATE = re.compile(r"(\d{1,2}) (\w+) (\d{4})")


@dataclass
class Doc:
    id: str
    title: str
    text: str  # questions and answers, one paragraph a line
    asked: dt.date | None
    ministers: tuple[str, ...]

    @property
    def body(self) -> str:
        """Everything a naive full-text index holds: title + questions + answers."""
        return self.title + "\n" + self.text


def _date(value: str) -> dt.date | None:
    m = _DATE.search(value)
    if not m or m.group(2) not in MONTHS:
        return None
    return dt.date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))


def parse_text(raw: str) -> Doc:
    lines = raw.splitlines()
    doc_id = lines[0].removeprefix("Kamervraag").strip() if lines else ""
    title = ""
    asked = None
    ministers: tuple[str, ...] = ()
    body: list[str] = []
    in_qa = False
    for line in lines[1:]:
        if in_qa or line.startswith(" •"):
            in_qa = True
            if line.startswith("  ") and line.strip():
                body.append(line.strip())
            continue
        if not line.strip():
            continue
        if not title:
            title = line.strip()
        elif line.startswith("Ingediend "):
            asked = _date(line)
        elif line.startswith("Beantwoord door "):
            names = _PAREN.sub("", line.removeprefix("Beantwoord door "))
            ministers = tuple(n.strip() for n in names.split(",") if n.strip())
    return Doc(doc_id, title, "\n".join(body), asked, ministers)


def read_file(path: str) -> Doc:
    with open(path, encoding="utf-8") as fh:
        return parse_text(fh.read())


def iter_files(source: str) -> Iterator[str]:
    """Every *.txt below source (flat or nested by year), in a stable order."""
    for root, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".txt"):
                yield os.path.join(root, name)


def iter_docs(source: str) -> Iterator[Doc]:
    for path in iter_files(source):
        yield read_file(path)
