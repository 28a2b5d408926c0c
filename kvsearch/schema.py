"""The Whoosh schema, the mapping of a Kamervraag onto it, and the index's version record.

Field weights (BM25F, applied as query boosts in :data:`SEARCH_FIELDS`), measured on the
relevance query set (``bench/relevance.py``, ``docs/relevance.md``):

- ``nummer`` 4.0: a Kamervraag or document number typed in the box is a known-item request.
- ``titel``, ``onderwerp``, ``vragen``, ``antwoorden`` 1.0 each. A heavier title (3.0) and
  questions (1.5), the first guess, lost 0.06 MRR@10 on the tuning queries: titles repeat
  the question's words, so boosting them double-counts; every text field has its own
  length normalisation already.
- ``personen`` 0.5: the names of ministers and submitters, without stopwords (searching
  the name fields themselves, where "de" and "van" matched every "de Jonge", cost 0.03
  MRR@10), so ``yesilgoz stikstof`` finds her answers on nitrogen.

Quoted phrases search ``exact``: every word as written (folded, not stemmed; stopwords
skipped as in the text fields), so ``"kinderen"`` does not match *kind*. The stemmed fields
keep no positions: a phrase in a field (``titel:"groene waterstof"``) is the exact phrase
anywhere AND its words in that field.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

from whoosh import fields, formats
from whoosh.system import pack_uint

from kvsearch.analysis import (
    ANALYZER_VERSION,
    EMPTY_LEXICON,
    STEMMER,
    DutchAnalyzer,
    lexicon_for,
    term_frequencies,
    term_positions,
)
from kvsearch.model import Kamervraag

#: The corpus lexicon (compounds, names) in each generation folder.
LEXICON_FILE = "lexicon.json.gz"

#: Bump when the schema or the stored document format changes.
SCHEMA_VERSION = "2"

#: Query field names (what users type before ``:``) -> index field.
FIELD_ALIASES: dict[str, str] = {
    "minister": "minister",
    "ministers": "minister",
    "indiener": "indiener",
    "indieners": "indiener",
    "partij": "partij",
    "onderwerp": "onderwerp",
    "onderwerpen": "onderwerp",
    "titel": "titel",
    "vraag": "vragen",
    "vragen": "vragen",
    "antwoord": "antwoorden",
    "antwoorden": "antwoorden",
    "ministerie": "ministerie",
    "nummer": "nummer",
    "exact": "exact",
}

#: Fields searched by words without a field prefix, with their BM25F weights.
SEARCH_FIELDS: dict[str, float] = {
    "nummer": 4.0,
    "titel": 1.0,
    "onderwerp": 1.0,
    "vragen": 1.0,
    "antwoorden": 1.0,
    "personen": 0.5,
}

#: Fields whose terms are stemmed Dutch text (used for snippets and per-question scores).
TEXT_FIELDS = ("titel", "vragen", "antwoorden", "onderwerp")


class DutchText(fields.TEXT):
    """A TEXT field whose indexing computes terms, frequencies and positions in bulk
    (:func:`term_frequencies`, :func:`term_positions`) instead of one Whoosh Token per
    word. Queries go through the same analyzer as a plain TEXT field; the postings are
    identical to TEXT's (``tests/test_schema.py`` proves it)."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        analyzer = self.analyzer
        if not isinstance(analyzer, DutchAnalyzer) or not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        options = {
            "stem": analyzer.stem,
            "stops": analyzer.stops,
            "lexicon": lexicon_for(analyzer.lexicon),
        }
        boost = self.format.field_boost
        if isinstance(self.format, formats.Positions):
            encode = self.format.encode
            for term, positions in term_positions(value, **options).items():
                n = len(positions)
                yield term.encode("utf-8"), n, n * boost, encode(positions)
        else:
            for term, n in term_frequencies(value, **options).items():
                yield term.encode("utf-8"), n, n * boost, pack_uint(n)


def make_schema(lexicon: str = EMPTY_LEXICON.key) -> fields.Schema:
    """The schema of an index whose corpus lexicon has the key ``lexicon``."""
    text = DutchAnalyzer(stem=True, lexicon=lexicon)
    names = DutchAnalyzer(stem=False)

    def stemmed() -> fields.TEXT:
        # No positions: phrases are matched on ``exact``. A compound in a query stands for
        # itself OR its parts.
        return DutchText(analyzer=text, phrase=False, multitoken_query="or")

    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        nummer=DutchText(analyzer=DutchAnalyzer(stem=False, stops=True)),
        titel=stemmed(),
        vragen=stemmed(),
        antwoorden=stemmed(),
        onderwerp=stemmed(),
        ministerie=stemmed(),
        exact=DutchText(analyzer=DutchAnalyzer(stem=False, stops=True)),
        personen=DutchText(analyzer=DutchAnalyzer(stem=False, stops=True)),
        minister=DutchText(analyzer=names),
        indiener=DutchText(analyzer=names),
        partij=DutchText(analyzer=names),
        asked=fields.NUMERIC(int, bits=32, sortable=True),
        answered=fields.NUMERIC(int, bits=32, sortable=True),
        doc=fields.STORED(),
    )


def date_number(value: Any) -> int:
    """A date as the integer ``YYYYMMDD`` stored in the numeric date fields (0 for None)."""
    if value is None:
        return 0
    return value.year * 10000 + value.month * 100 + value.day


def document(kv: Kamervraag) -> dict[str, Any]:
    """The field values of one Kamervraag."""
    parties: list[str] = []
    for person in (*kv.ministers, *kv.submitters):
        if person.party and person.party not in parties:
            parties.append(person.party)
    numbers = [kv.id, kv.question_doc, kv.answer_doc]
    return {
        "id": kv.id,
        "nummer": "\n".join(n for n in numbers if n),
        "titel": kv.title,
        "vragen": "\n".join(qa.question for qa in kv.questions),
        "antwoorden": "\n".join(qa.answer for qa in kv.questions if qa.answer),
        "exact": "\n".join([kv.title, *(f"{qa.question}\n{qa.answer}" for qa in kv.questions)]),
        "onderwerp": "\n".join(kv.subjects),
        "ministerie": "\n".join(p.role for p in kv.ministers if p.role),
        "minister": "\n".join(p.name for p in kv.ministers),
        "personen": "\n".join(p.name for p in (*kv.ministers, *kv.submitters)),
        "indiener": "\n".join(p.name for p in kv.submitters),
        "partij": "\n".join(parties),
        "asked": date_number(kv.asked),
        "answered": date_number(kv.answered),
        "doc": pack(kv),
    }


def pack(kv: Kamervraag) -> bytes:
    """The compact stored form of a Kamervraag (compressed JSON)."""
    data = json.dumps(kv.to_dict(), ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(data.encode("utf-8"), 6)


def unpack(blob: bytes) -> Kamervraag:
    return Kamervraag.from_dict(json.loads(zlib.decompress(blob).decode("utf-8")))


def version_record() -> dict[str, str]:
    """What an index must match to be read by this kvsearch."""
    return {
        "schema_version": SCHEMA_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "stemmer": STEMMER,
    }
