"""The Dutch analyzer: tokens, folding, stopwords, stemming.

One function, :func:`analyze`, turns text into terms; the Whoosh analyzers below are thin
wrappers around it, so the index side and the query side analyse text identically.

Tokens
    Words (``\\w`` runs) joined by hyphens or apostrophes stay together as one token, and
    numbers keep their separators: ``2024Z01294``, ``F-35``, ``COVID-19``, ``3,1``.
    Thousands separators are dropped (``3.000`` -> ``3000``).
Folding
    Lowercase, and diacritics removed (``Yeşilgöz`` -> ``yesilgoz``, ``financiën`` ->
    ``financien``).
Hyphenated words
    At index time a hyphenated word yields its parts and the joined form, all at one
    position (``yeşilgöz-zegerius`` -> ``yesilgozzegerius``, ``yesilgoz``, ``zegerius``),
    so each part, the whole and the joined spelling (``F35``) find it. At query time
    only the joined form is produced, so ``F-35`` asks for exactly that word.
Stopwords and stemming
    Dutch stopwords are dropped (positions renumbered, so a phrase "minister van
    justitie" matches the text "minister van justitie"). Words without digits are
    stemmed with the pure-Python Snowball Dutch stemmer named by :data:`STEMMER`,
    through a cache.
Positions
    A newline starts a new value: positions jump by :data:`VALUE_GAP`, so a phrase never
    matches across two names, two subjects or two questions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from snowballstemmer.dutch_porter_stemmer import DutchPorterStemmer
from snowballstemmer.dutch_stemmer import DutchStemmer
from whoosh.analysis import Token, Tokenizer

#: Bump on every change that alters the terms of any text: an index built with another
#: version is refused with a request to rebuild.
ANALYZER_VERSION = "1"

#: The Snowball algorithm. Imported from snowballstemmer's pure-Python modules directly,
#: so the result does not depend on whether PyStemmer happens to be installed.
STEMMER = "dutch_porter"

_STEMMERS = {"dutch": DutchStemmer, "dutch_porter": DutchPorterStemmer}

#: Position gap between values (lines) of one field.
VALUE_GAP = 100

#: Words too common to search on: Snowball's Dutch stop list, without the few that carry
#: meaning in parliamentary questions ("geen", "niet", "niets": an answer "nee" differs).
STOPWORDS = frozenset(
    [
        "de",
        "en",
        "van",
        "ik",
        "te",
        "dat",
        "die",
        "in",
        "een",
        "hij",
        "het",
        "zijn",
        "is",
        "was",
        "op",
        "aan",
        "met",
        "als",
        "voor",
        "had",
        "er",
        "maar",
        "om",
        "hem",
        "dan",
        "zou",
        "of",
        "wat",
        "mijn",
        "men",
        "dit",
        "zo",
        "door",
        "over",
        "ze",
        "zich",
        "bij",
        "ook",
        "tot",
        "je",
        "mij",
        "uit",
        "der",
        "daar",
        "haar",
        "naar",
        "heb",
        "hoe",
        "heeft",
        "hebben",
        "deze",
        "u",
        "want",
        "nog",
        "zal",
        "me",
        "zij",
        "nu",
        "ge",
        "omdat",
        "iets",
        "worden",
        "toch",
        "al",
        "waren",
        "veel",
        "meer",
        "doen",
        "toen",
        "moet",
        "ben",
        "zonder",
        "kan",
        "hun",
        "dus",
        "alles",
        "onder",
        "ja",
        "eens",
        "hier",
        "wie",
        "werd",
        "altijd",
        "doch",
        "wordt",
        "wezen",
        "kunnen",
        "ons",
        "zelf",
        "tegen",
        "na",
        "reeds",
        "wil",
        "kon",
        "andere",
        "iemand",
    ]
)

_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['’‘`\-‐‑–](?=\w)\w+)*")
_JOINER_RE = re.compile(r"['’‘`\-‐‑–]")
_APOSTROPHES = "'’‘`"
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DIGIT_RE = re.compile(r"\d")

# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA_FOLD = str.maketrans(
    {"ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"}
)

_CACHE_LIMIT = 500_000


def fold(text: str) -> str:
    """Lowercase and strip diacritics: ``Yeşilgöz-Zegerius`` -> ``yesilgoz-zegerius``."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _TermMaker:
    """Folds, filters and stems single words, with a cache per (stem, stopwords) variant."""

    def __init__(self) -> None:
        self._stemmer = _STEMMERS[STEMMER]()
        self._caches: dict[tuple[bool, bool], dict[str, str]] = {}

    def term(self, word: str, stem: bool, stops: bool) -> str:
        """The term of one word without joiners; "" for a stopword."""
        cache = self._caches.setdefault((stem, stops), {})
        term = cache.get(word)
        if term is None:
            term = self._make(word, stem, stops)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[word] = term
        return term

    def _make(self, word: str, stem: bool, stops: bool) -> str:
        folded = fold(word)
        if _THOUSANDS_RE.fullmatch(folded):
            folded = folded.replace(".", "")
        if stops and folded in STOPWORDS:
            return ""
        if stem and not _DIGIT_RE.search(folded):
            return str(self._stemmer.stemWord(folded))
        return folded


_TERMS = _TermMaker()


def stem(word: str) -> str:
    """The term of one plain word as the text analyzer makes it ("" for a stopword)."""
    return _TERMS.term(word, True, True)


def analyze(
    text: str, *, mode: str = "index", stem: bool = True, stops: bool = True
) -> Iterator[tuple[str, int, int, int]]:
    """Yield ``(term, position, startchar, endchar)`` for every term of ``text``.

    ``mode`` is ``"index"`` or ``"query"`` (see the module docstring for the difference).
    """
    term_of = _TERMS.term
    pos = -1
    base = 0
    line_start = 0
    for line in text.split("\n"):
        for match in _TOKEN_RE.finditer(line):
            word = match.group()
            start = line_start + match.start()
            end = line_start + match.end()
            if not _JOINER_RE.search(word):
                term = term_of(word, stem, stops)
                if term:
                    pos += 1
                    yield term, base + pos, start, end
                continue
            parts = [p for p in _JOINER_RE.split(word) if p]
            if any(c in word for c in _APOSTROPHES):
                # "auto's", "Rutte's", "cao’s": drop short clitics after an apostrophe.
                parts = [parts[0]] + [p for p in parts[1:] if len(p) > 2]
                if len(parts) == 1:
                    term = term_of(parts[0], stem, stops)
                    if term:
                        pos += 1
                        yield term, base + pos, start, end
                    continue
            joined = term_of("".join(parts), stem, False)
            pos += 1
            yield joined, base + pos, start, end
            if mode == "index":
                seen = {joined}
                for part in parts:
                    term = term_of(part, stem, stops)
                    if term and term not in seen:
                        seen.add(term)
                        yield term, base + pos, start, end
        line_start += len(line) + 1
        if pos >= 0:
            base += pos + 1 + VALUE_GAP
            pos = -1


def query_terms(text: str) -> list[str]:
    """The terms a query word or phrase stands for (query mode, stemmed)."""
    return [t for t, _p, _s, _e in analyze(text, mode="query")]


class DutchAnalyzer(Tokenizer):
    """A complete Whoosh analyzer around :func:`analyze`.

    ``stem=False`` gives the name analyzer: folded and split like text, but neither
    stemmed nor stopped, for names, parties and subjects.
    """

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DutchAnalyzer) and other.stem == self.stem

    def __hash__(self) -> int:
        return hash((DutchAnalyzer, self.stem))

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            # Wildcards and ranges: fold only.
            token.original = token.text = fold(value)
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        amode = "query" if mode == "query" else "index"
        for term, pos, startchar, endchar in analyze(
            value, mode=amode, stem=self.stem, stops=self.stem
        ):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[startchar:endchar]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + startchar
                token.endchar = start_char + endchar
            yield token
