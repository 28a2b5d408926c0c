"""Plain data: a Kamervraag, the people in it and its question/answer pairs.

No Whoosh here: these types are what the parser produces and what search results carry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: Dutch month names, as the source files write dates (and queries may).
MONTHS = (
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
)


@dataclass(frozen=True)
class Person:
    """A submitter (name, party) or an answering minister (name, role, party)."""

    name: str
    party: str = ""
    role: str = ""

    def display(self) -> str:
        out = self.name
        if self.role:
            out += f" ({self.role})"
        if self.party:
            out += f" ({self.party})"
        return out

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "party": self.party, "role": self.role}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        return cls(name=data["name"], party=data.get("party", ""), role=data.get("role", ""))


@dataclass(frozen=True)
class QA:
    """One numbered question and its answer; paragraphs are separated by newlines."""

    nr: int
    question: str
    answer: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"nr": self.nr, "question": self.question, "answer": self.answer}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QA:
        return cls(nr=int(data["nr"]), question=data["question"], answer=data.get("answer", ""))


@dataclass(frozen=True)
class Kamervraag:
    """One set of written questions and, when answered, the minister's answers."""

    id: str
    title: str
    asked: dt.date
    submitters: tuple[Person, ...]
    questions: tuple[QA, ...]
    answered: dt.date | None = None
    days: int | None = None  # the day count stated in the file, "(na N dagen)"
    ministers: tuple[Person, ...] = ()
    subjects: tuple[str, ...] = ()
    question_url: str = ""
    answer_url: str = ""
    question_doc: str = ""  # "kv-tk-2024Z01294"
    question_doc_title: str = ""
    answer_doc: str = ""  # "ah-tk-20232024-1065"
    answer_doc_title: str = ""
    source: str = field(default="", compare=False)  # the file it was read from

    @property
    def answer_days(self) -> int | None:
        """Days between asked and answered: the stated count, else computed from the dates."""
        if self.answered is None:
            return None
        if self.days is not None:
            return self.days
        return (self.answered - self.asked).days

    def question(self, nr: int) -> QA | None:
        for qa in self.questions:
            if qa.nr == nr:
                return qa
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "asked": self.asked.isoformat(),
            "answered": self.answered.isoformat() if self.answered else None,
            "days": self.days,
            "submitters": [p.to_dict() for p in self.submitters],
            "ministers": [p.to_dict() for p in self.ministers],
            "subjects": list(self.subjects),
            "question_url": self.question_url,
            "answer_url": self.answer_url,
            "question_doc": self.question_doc,
            "question_doc_title": self.question_doc_title,
            "answer_doc": self.answer_doc,
            "answer_doc_title": self.answer_doc_title,
            "questions": [qa.to_dict() for qa in self.questions],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Kamervraag:
        answered = data.get("answered")
        return cls(
            id=data["id"],
            title=data["title"],
            asked=dt.date.fromisoformat(data["asked"]),
            answered=dt.date.fromisoformat(answered) if answered else None,
            days=data.get("days"),
            submitters=tuple(Person.from_dict(p) for p in data.get("submitters", ())),
            ministers=tuple(Person.from_dict(p) for p in data.get("ministers", ())),
            subjects=tuple(data.get("subjects", ())),
            question_url=data.get("question_url", ""),
            answer_url=data.get("answer_url", ""),
            question_doc=data.get("question_doc", ""),
            question_doc_title=data.get("question_doc_title", ""),
            answer_doc=data.get("answer_doc", ""),
            answer_doc_title=data.get("answer_doc_title", ""),
            questions=tuple(QA.from_dict(q) for q in data.get("questions", ())),
            source=data.get("source", ""),
        )
