"""The Whoosh schema, the mapping of a Kamervraag onto it, and the index's version record.

Field weights (BM25F, applied as query boosts in :data:`SEARCH_FIELDS`):

- ``nummer`` 4.0: a Kamervraag or document number typed in the box is a known-item request.
- ``titel`` 3.0: the title is the question set's own summary of what it is about; a word
  there is far stronger evidence than one among hundreds of words of answer text.
- ``onderwerp`` 1.5: subjects are assigned by the Kamer, short and on-topic.
- ``vragen`` 1.5: the questions state what was asked, in the asker's words.
- ``antwoorden`` 1.0: answers are long and discursive: they carry the most text (and so
  most matches) but each word says least about what the set is about.
- ``minister`` / ``indiener`` 1.0: a name typed among topic words ("stikstof adema")
  should count, but not drown the topic.

``docs/relevance.md`` records the measurements behind later changes to these weights.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from whoosh import fields

from kvsearch.analysis import ANALYZER_VERSION, STEMMER, DutchAnalyzer
from kvsearch.model import Kamervraag

#: Bump when the schema or the stored document format changes.
SCHEMA_VERSION = "1"

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
}

#: Fields searched by words without a field prefix, with their BM25F weights.
SEARCH_FIELDS: dict[str, float] = {
    "nummer": 4.0,
    "titel": 3.0,
    "onderwerp": 1.5,
    "vragen": 1.5,
    "antwoorden": 1.0,
    "minister": 1.0,
    "indiener": 1.0,
}

#: Fields whose terms are stemmed Dutch text (used for snippets and per-question scores).
TEXT_FIELDS = ("titel", "vragen", "antwoorden", "onderwerp")


def make_schema() -> fields.Schema:
    text = DutchAnalyzer(stem=True)
    names = DutchAnalyzer(stem=False)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        nummer=fields.TEXT(analyzer=text),
        titel=fields.TEXT(analyzer=text),
        vragen=fields.TEXT(analyzer=text),
        antwoorden=fields.TEXT(analyzer=text),
        onderwerp=fields.TEXT(analyzer=text),
        ministerie=fields.TEXT(analyzer=text),
        minister=fields.TEXT(analyzer=names),
        indiener=fields.TEXT(analyzer=names),
        partij=fields.TEXT(analyzer=names),
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
        "onderwerp": "\n".join(kv.subjects),
        "ministerie": "\n".join(p.role for p in kv.ministers if p.role),
        "minister": "\n".join(p.name for p in kv.ministers),
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
