"""The Dutch analyzer: tokens, folding, stopwords, stemming, compounds.

One function, :func:`analyze`, turns text into terms; the Whoosh analyzer below is a thin
wrapper around it, so the index side and the query side analyse text identically.

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
    so each part, the whole and the joined spelling (``F35``) find it. At query time only
    the joined form is produced, so ``F-35`` asks for exactly that word.
Stopwords and stemming
    Dutch stopwords are dropped (positions renumbered, so a phrase "minister van
    justitie" matches the text "minister van justitie"). Words without digits are stemmed
    with the pure-Python Snowball stemmer named by :data:`STEMMER`, corrected by
    :data:`STEM_OVERRIDES` and a few rules for what Snowball gets wrong in parliamentary
    Dutch (irregular plurals, ``-heid``/``-heden``, ``-ies``/``-ieën``), through a cache.
    Personal names found in the corpus's metadata are never stemmed.
Compounds
    A word of at least :data:`MIN_COMPOUND` letters that is made of words occurring in the
    corpus (:class:`Lexicon`, built at index time and stored with the index) also yields
    the terms of its parts, with the linking ``-s-``, ``-e-`` or ``-en-`` removed:
    ``verkiezingsuitslag`` -> ``verkiezingsuitslag``, ``verkiezing``, ``uitslag``. A word is
    split only when its parts are more common than the word itself (Koehn & Knight's
    criterion), never into fragments that are not words of the corpus. Splitting happens
    at index and at query time, so ``stikstof`` finds *stikstofuitstoot* and
    ``astmapuffers`` finds *astma ... puffers*.
Positions
    A newline starts a new value: positions jump by :data:`VALUE_GAP`, so a phrase never
    matches across two names, two subjects or two questions.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import operator
import os
import pickle
import re
import sys
import types
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, compress
from pathlib import Path
from typing import Any


def _import_whoosh() -> None:
    """Import Whoosh without three modules it loads but kvsearch never uses:

    - ``whoosh.compat`` imports ``urllib.request`` (with ssl, email and http.client) for
      one download helper;
    - ``whoosh.reading`` imports the ``cached_property`` package, which imports asyncio;
    - ``whoosh.query.terms`` imports ``whoosh.lang.morph_en`` (English word variations,
      large regular expressions compiled at import) for the Variations query.

    Together they were about a fifth of a search command's start-up (docs/benchmarks.md).
    Likewise, for another 10-15 ms: ``whoosh.analysis`` imports the English Porter
    stemmer and Double Metaphone (:data:`_LAZY_FUNCTIONS`); Whoosh imports ``html``,
    ``shutil``, ``queue``, ``random``, ``calendar`` and ``tempfile`` (the same and
    :data:`_LAZY_MODULES`) for writing, highlighting and dates, none of which a search
    uses; and ``hashlib`` (with OpenSSL) for MD5, which the built-in ``_md5`` provides.

    Stand-ins serve those imports while Whoosh loads and are removed right after, so a
    later import of any of them gets the real module; the functions Whoosh took from them
    import the real module when first called, and a stand-in module Whoosh keeps hands
    out the real module's attributes.
    """
    if "whoosh.query" in sys.modules:
        return
    cached = types.ModuleType("cached_property")
    cached.cached_property = functools.cached_property  # type: ignore[attr-defined]
    stand_ins: dict[str, types.ModuleType] = {"cached_property": cached}
    for name, functions in _LAZY_FUNCTIONS.items():
        module = types.ModuleType(name)
        module.__kvsearch_stand_in__ = True  # type: ignore[attr-defined]
        for attr in functions:
            setattr(module, attr, _lazy_function(name, attr))
        stand_ins[name] = module
    for name in _LAZY_MODULES:
        stand_ins[name] = _LazyModule(name)
    try:
        from _md5 import md5  # the hash of Whoosh's term tables, without OpenSSL's hashlib
    except ImportError:  # pragma: no cover - a Python built without it
        pass
    else:
        hashlib = types.ModuleType("hashlib")
        hashlib.md5 = md5  # type: ignore[attr-defined]
        stand_ins["hashlib"] = hashlib
    stand_ins = {name: module for name, module in stand_ins.items() if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import whoosh.codec.whoosh3
        import whoosh.compat
        import whoosh.query
        import whoosh.reading
        import whoosh.searching  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
            parent, _, child = name.rpartition(".")
            package = sys.modules.get(parent) if parent else None
            if package is not None and getattr(package, child, None) is module:
                delattr(package, child)


#: Modules Whoosh imports functions from at import time but a search never calls:
#: stand-ins give it functions that import the real module when first called.
_LAZY_FUNCTIONS = {
    "urllib.request": ("urlretrieve",),
    "whoosh.lang.morph_en": ("variations",),
    "whoosh.lang.porter": ("stem",),
    "whoosh.lang.dmetaphone": ("double_metaphone",),
    "html": ("escape",),
    "shutil": ("copyfileobj",),
}

#: Standard modules Whoosh imports (as modules) for what a search never does: writing
#: (tempfile, queue, random names), highlighting and date parsing (calendar).
_LAZY_MODULES = ("queue", "random", "calendar", "tempfile")


def _lazy_function(module: str, attr: str) -> Callable[..., Any]:
    """A stand-in for the function ``module.attr`` that calls the real one, importing the
    real module on the first call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real_module(module), attr)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    return call


def _real_module(name: str) -> types.ModuleType:
    """The real module ``name``, imported if only a stand-in is loaded."""
    found = sys.modules.get(name)
    if found is None or getattr(found, "__kvsearch_stand_in__", False):
        sys.modules.pop(name, None)
        found = importlib.import_module(name)
    return found


class _LazyModule(types.ModuleType):
    """A stand-in module whose attributes are the real module's, imported on first use."""

    __kvsearch_stand_in__ = True

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_real_module(self.__name__), attr)


_import_whoosh()

from whoosh.analysis import Token, Tokenizer  # noqa: E402 - after _import_whoosh()

#: Bump on every change that alters the terms of any text: an index built with another
#: version is refused with a request to rebuild.
ANALYZER_VERSION = "2"

#: The Snowball algorithm, chosen by measurement (docs/relevance.md). Imported from
#: snowballstemmer's pure-Python modules directly, so the result does not depend on
#: whether PyStemmer happens to be installed.
STEMMER = "dutch_porter"

#: Snowball algorithm -> (module of snowballstemmer, class).
_STEMMERS = {
    "dutch": ("dutch_stemmer", "DutchStemmer"),
    "dutch_porter": ("dutch_porter_stemmer", "DutchPorterStemmer"),
}


def new_stemmer(algorithm: str = STEMMER, *, quick: bool = True) -> Any:
    """A pure-Python Snowball stemmer for ``algorithm`` (a key of :data:`_STEMMERS`);
    with ``quick``, one that answers the stemmer's one-letter lookups without a search
    (:func:`quick_stemmer_class`): the same stems, about 3.5 times faster.

    Its module is imported without running ``snowballstemmer/__init__.py``, which imports
    the stemmers of all 30 languages (20 ms of a search command's start-up) and prefers
    PyStemmer when that is installed. A later ``import snowballstemmer`` still gets the
    whole package: the package shell used here is removed again."""
    module_name, class_name = _STEMMERS[algorithm]
    full_name = f"snowballstemmer.{module_name}"
    module = sys.modules.get(full_name)
    if module is None:
        shell = None
        if "snowballstemmer" not in sys.modules:
            import importlib.util

            spec = importlib.util.find_spec("snowballstemmer")
            if spec is None or spec.submodule_search_locations is None:
                raise ImportError("the snowballstemmer package is not installed")
            shell = types.ModuleType("snowballstemmer")
            shell.__path__ = list(spec.submodule_search_locations)
            sys.modules["snowballstemmer"] = shell
        try:
            module = importlib.import_module(full_name)
        finally:
            if shell is not None and sys.modules.get("snowballstemmer") is shell:
                del sys.modules["snowballstemmer"]
    cls = getattr(module, class_name)
    return quick_stemmer_class(cls)() if quick else cls()


_QUICK_CLASSES: dict[type, type] = {}


def quick_stemmer_class(base: type) -> type:
    """A subclass of a generated Snowball stemmer class whose ``find_among`` answers
    lookups in tables of one-letter strings plus the empty string without searching.

    Dutch Snowball walks over every letter of a word twice, looking each up in such a
    table (accented vowels in the prelude, ``I``/``Y`` in the postlude); the generic
    binary search took three quarters of the stemming time. When the letter at the cursor
    is in none of a table's one-letter strings, only the empty string matches: the
    lookup returns the empty string's result and leaves the cursor where it is, exactly
    what ``BaseStemmer.find_among`` does then. Any other lookup goes to it unchanged
    (``tests/test_analysis.py`` compares both stemmers on generated words).
    """
    found = _QUICK_CLASSES.get(base)
    if found is not None:
        return found
    shortcuts: dict[int, tuple[frozenset[str], int]] = {}
    for name in dir(base):
        table = getattr(base, name)
        if not name.startswith("a_") or not isinstance(table, list):
            continue
        empty = [a for a in table if a.s == ""]
        letters = [a.s for a in table if a.s != ""]
        if len(empty) == 1 and empty[0].method is None and all(len(s) == 1 for s in letters):
            shortcuts[id(table)] = (frozenset(letters), empty[0].result)
    generic = base.find_among

    def find_among(self: Any, v: list[Any]) -> int:
        quick = shortcuts.get(id(v))
        if quick is not None:
            c = self.cursor
            if c >= self.limit or self.current[c] not in quick[0]:
                return quick[1]
        return int(generic(self, v))

    cls = type(f"Quick{base.__name__}", (base,), {"find_among": find_among})
    cls.shortcut_tables = len(shortcuts)  # type: ignore[attr-defined]
    _QUICK_CLASSES[base] = cls
    return cls


#: Position gap between values (lines) of one field.
VALUE_GAP = 100

#: Words too common to search on: Snowball's Dutch stop list, without the few that carry
#: meaning in parliamentary questions ("geen", "niet", "niets": an answer "nee" differs).
# fmt: off
STOPWORDS = frozenset((
    "de", "en", "van", "ik", "te", "dat", "die", "in", "een", "hij", "het", "zijn", "is",
    "was", "op", "aan", "met", "als", "voor", "had", "er", "maar", "om", "hem", "dan", "zou",
    "of", "wat", "mijn", "men", "dit", "zo", "door", "over", "ze", "zich", "bij", "ook",
    "tot", "je", "mij", "uit", "der", "daar", "haar", "naar", "heb", "hoe", "heeft",
    "hebben", "deze", "u", "want", "nog", "zal", "me", "zij", "nu", "ge", "omdat", "iets",
    "worden", "toch", "al", "waren", "veel", "meer", "doen", "toen", "moet", "ben",
    "zonder", "kan", "hun", "dus", "alles", "onder", "ja", "eens", "hier", "wie", "werd",
    "altijd", "doch", "wordt", "wezen", "kunnen", "ons", "zelf", "tegen", "na", "reeds",
    "wil", "kon", "andere", "iemand",
))

#: Word forms Snowball does not bring to their lemma: irregular plurals and Latin plurals
#: frequent in parliamentary text. Mapped to the form whose stem they should share.
STEM_OVERRIDES: dict[str, str] = {
    "kinderen": "kind", "steden": "stad", "leden": "lid", "bladeren": "blad",
    "eieren": "ei", "volkeren": "volk", "runderen": "rund", "liederen": "lied",
    "kalveren": "kalf", "gelederen": "gelid", "goederen": "goed", "raderen": "rad",
    "musea": "museum", "centra": "centrum", "criteria": "criterium", "media": "medium",
    "politici": "politicus", "gegevens": "gegeven", "curricula": "curriculum",
    "data": "data", "aspecten": "aspect", "ministeries": "ministerie",
    "bedrijven": "bedrijf", "brieven": "brief", "gemeentes": "gemeente",
    "gemeenten": "gemeente", "provincies": "provincie",
}
# fmt: on

#: Compounds are looked for in words of at least this many letters.
MIN_COMPOUND = 8
#: Parts of a compound: at least this many letters (left, right), and this corpus frequency.
MIN_LEFT, MIN_RIGHT, MIN_PART_FREQ = 3, 4, 3
#: A compound is split when the geometric mean of its parts' frequencies exceeds this share
#: of its own frequency (Koehn & Knight use 1.0; lower splits frequent compounds too).
SPLIT_RATIO = 1.0
#: Linking elements removed from the left part: verkiezing-s-uitslag, ziekte-n-huis.
LINKS = ("s", "en", "e", "n")
_LINK_ENDS = frozenset(link[-1] for link in LINKS)

_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['’‘`\-‐‑–]\w+)*")
_JOINER_RE = re.compile(r"['’‘`\-‐‑–]")
_APOSTROPHES = "'’‘`"
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DIGIT_RE = re.compile(r"\d")
_LETTERS_RE = re.compile(r"[a-z]+")

# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA_FOLD = str.maketrans(
    {"ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"}
)

_CACHE_LIMIT = 1_000_000


def fold(text: str) -> str:
    """Lowercase and strip diacritics: ``Yeşilgöz-Zegerius`` -> ``yesilgoz-zegerius``."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_STEMMER: Any = None  # new_stemmer(), made on the first word not in the cache
_STEM_CACHE: dict[str, str] = {}
_STEMMED = [0]  # words stemmed (not found in the cache) by this process


def stem(folded: str) -> str:
    """The stem of one folded word, with kvsearch's corrections of Snowball (cached)."""
    result = _STEM_CACHE.get(folded)
    if result is None:
        result = _stem(folded)
        _STEMMED[0] += 1
        if len(_STEM_CACHE) >= _CACHE_LIMIT:
            _STEM_CACHE.clear()
        _STEM_CACHE[folded] = result
    return result


def stems_of(words: Iterable[str]) -> dict[str, str]:
    """The stems of folded ``words`` (through the cache, which they join)."""
    return {word: stem(word) for word in words}


def add_stems(stems: dict[str, str]) -> None:
    """Add stems computed elsewhere (by a worker process) to the cache."""
    if len(_STEM_CACHE) + len(stems) >= _CACHE_LIMIT:
        _STEM_CACHE.clear()
    _STEM_CACHE.update(stems)


def known_stems() -> dict[str, str]:
    """Every stem computed (or seeded) in this process, by folded word."""
    return _STEM_CACHE


def stemmed_count() -> int:
    """How many words this process has stemmed so far (cache misses)."""
    return _STEMMED[0]


def save_stems(path: Path, stems: dict[str, str]) -> None:
    """Store stems for :func:`load_stems` (with the analyzer version and stemmer they
    belong to). Writes a new file and renames it over ``path``: never into ``path``
    itself, which may be a hard link shared with another generation."""
    data = {"analyzer_version": ANALYZER_VERSION, "stemmer": STEMMER, "stems": stems}
    import gzip

    tmp = path.with_name(f".{path.name}.tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:
        json.dump(data, f, ensure_ascii=True, separators=(",", ":"))
    os.replace(tmp, path)


def load_stems(path: Path) -> int:
    """Add the stems stored in ``path`` to the cache, so that analysing words met before
    costs no stemming (Snowball in pure Python: about 0.1 ms per word, most of the time
    of analysing a few hundred new documents). Returns how many were stored; 0 when the
    file is missing, damaged, or of another analyzer version or stemmer (a cache only:
    stems are computed again then)."""
    import gzip

    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        stems = data["stems"]
        if (
            data.get("analyzer_version") != ANALYZER_VERSION
            or data.get("stemmer") != STEMMER
            or not isinstance(stems, dict)
        ):
            return 0
    except (OSError, ValueError, TypeError, KeyError, EOFError):
        return 0
    if len(_STEM_CACHE) + len(stems) >= _CACHE_LIMIT:
        _STEM_CACHE.clear()
    _STEM_CACHE.update(stems)
    return len(stems)


@functools.cache
def _override_stems() -> dict[str, str]:
    """The stems of the words of STEM_OVERRIDES (computed once per process)."""
    return {word: stem(word) for word in STEM_OVERRIDES}


def _first_stemmer() -> Any:
    global _STEMMER
    _STEMMER = new_stemmer()
    return _STEMMER


def _stem(word: str) -> str:
    base = STEM_OVERRIDES.get(word)
    if base is None:
        if word.endswith("heid"):
            return word  # Snowball strips -heid: "overheid" would become "over"
        if word.endswith("heden") and len(word) > 7:
            return word[:-5] + "heid"  # mogelijkheden -> mogelijkheid
        if word.endswith("ieen") and len(word) > 5:
            word = word[:-2]  # categorieën -> categorie
        elif word.endswith("ies") and len(word) > 5:
            word = word[:-1]  # studies -> studie
        base = word
    result = str((_STEMMER or _first_stemmer()).stemWord(base))
    if len(result) > 2 and result[-1] in "vz":
        # bedrijv(en) -> bedrijf, huiz(en) -> huis: every form gets the same correction.
        result = result[:-1] + ("f" if result[-1] == "v" else "s")
    return result


def _sha1(data: bytes = b"") -> Any:
    """``hashlib.sha1`` (same digests) from the built-in module when there is one:
    ``hashlib`` loads OpenSSL's, a few milliseconds of every search command."""
    try:
        from _sha1 import sha1
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha1
    return sha1(data, usedforsecurity=False)


def _gzip_id(raw: bytes) -> str:
    """What tells a gzip file from another without hashing it: its length, and its
    trailer (the CRC-32 and length of the data it holds)."""
    return f"{len(raw)}:{raw[-8:].hex()}"


class WordCounts(Mapping[str, int]):
    """Word frequencies as a loaded lexicon holds them: the words in sorted order, in
    blocks of :data:`_WORD_BLOCK` joined by newlines, and their counts in an array; a
    word is looked up by bisection over the blocks' first words, then within its block,
    split into words the first time it is needed. Loading the 74,000 words of the 90k
    corpus this way takes about a millisecond, where building a dict of them took 30-45
    and splitting them all 8 (a search command loads the lexicon every time, and looks up
    a few hundred to a few thousand words)."""

    __slots__ = ("_blocks", "_counts", "_heads", "_words")

    def __init__(self, words: list[str], counts: array[int]) -> None:
        if len(words) != len(counts) or not all(map(operator.lt, words, words[1:])):
            raise ValueError("words must be sorted, with one count each")
        self._set(_word_blocks(words), counts)

    def _set(self, blocks: list[str], counts: array[int]) -> None:
        self._blocks = blocks
        self._heads = [block.partition("\n")[0] for block in blocks]
        self._words: list[list[str] | None] = [None] * len(blocks)
        self._counts = counts

    @staticmethod
    def pack(words: Mapping[str, int]) -> dict[str, Any]:
        """The parts of :meth:`unpack`: the sorted words in blocks joined by newlines
        (words are letters only) and the counts' bytes."""
        ordered = sorted(words)
        counts = array("I", (min(words[w], _MAX_COUNT) for w in ordered))
        return {"word_blocks": _word_blocks(ordered), "word_counts": counts.tobytes()}

    @classmethod
    def unpack(cls, data: Mapping[str, Any]) -> WordCounts:
        """The words and counts :meth:`pack` made (sorted then: not checked again, which
        took a third of loading a lexicon). Copies made before the blocks, with all
        words in one string, are read too."""
        counts = array("I")
        counts.frombytes(data["word_counts"])
        if "word_blocks" in data:
            blocks = data["word_blocks"]
            if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
                raise ValueError("word blocks must be strings")
            size = sum(block.count("\n") for block in blocks) + len(blocks)
        else:
            text = data["word_list"]
            words = text.split("\n") if text else []
            blocks, size = _word_blocks(words), len(words)
        if size != len(counts):
            raise ValueError("words must be sorted, with one count each")
        out = cls.__new__(cls)
        out._set(blocks, counts)
        return out

    def _block(self, i: int) -> list[str]:
        words = self._words[i]
        if words is None:
            words = self._words[i] = self._blocks[i].split("\n")
        return words

    def get(self, word: str, default: Any = None) -> Any:  # type: ignore[override]
        i = bisect_right(self._heads, word) - 1
        if i < 0:
            return default
        words = self._block(i)
        j = bisect_left(words, word)
        if j < len(words) and words[j] == word:
            return self._counts[i * _WORD_BLOCK + j]
        return default

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return int(found)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self._blocks)):
            yield from self._block(i)

    def __len__(self) -> int:
        return len(self._counts)


#: Words per block of a loaded lexicon (see :class:`WordCounts`).
_WORD_BLOCK = 64


def _word_blocks(words: list[str]) -> list[str]:
    """Sorted ``words`` in blocks of :data:`_WORD_BLOCK`, each joined by newlines."""
    return ["\n".join(words[i : i + _WORD_BLOCK]) for i in range(0, len(words), _WORD_BLOCK)]


_MAX_COUNT = 2**32 - 1


class Lexicon:
    """The words of a corpus: their frequencies (for compound splitting) and the
    personal names in its metadata (never stemmed). Stored with each index."""

    def __init__(self, words: dict[str, int] | None = None, names: Iterable[str] = ()) -> None:
        self.words: Mapping[str, int] = words or {}
        self.names = frozenset(fold(n) for n in names)
        digest = _sha1()
        digest.update(json.dumps(sorted(self.words.items())).encode())
        digest.update(json.dumps(sorted(self.names)).encode())
        self.key = digest.hexdigest()[:16]
        self._cache: dict[tuple[str, bool, bool, bool], tuple[str, ...]] = {}
        self._splits: dict[str, tuple[str, ...]] = {}
        self._rights: dict[str, tuple[str, ...]] = {}
        self._tokens: dict[tuple[bool, bool, bool], dict[str, tuple[str, ...]]] = {}
        self._parts: frozenset[str] | None = None

    # ------------------------------------------------------------ building and storing

    @classmethod
    def from_counts(
        cls, counts: dict[str, int], names: Iterable[str], min_freq: int = 2
    ) -> Lexicon:
        """A lexicon of the folded words seen at least ``min_freq`` times."""
        words: dict[str, int] = {}
        for word, n in counts.items():
            if n >= min_freq:
                folded = fold(word)
                if _LETTERS_RE.fullmatch(folded):
                    words[folded] = words.get(folded, 0) + n
        return cls(words, names)

    def save(self, path: Path) -> None:
        """Write the lexicon to ``path`` (gzipped JSON, the lasting form) and a pickled
        copy beside it (:data:`FAST_SUFFIX`), about five times faster to load. The copy
        names the JSON file it was made with (a hash of its bytes): a copy that does not
        match it is ignored."""
        data = {"key": self.key, "names": sorted(self.names), "words": dict(self.words)}
        import gzip

        raw = gzip.compress(
            json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii"),
            compresslevel=5,
            mtime=0,
        )
        path.write_bytes(raw)
        fast = {
            "source": _sha1(raw).hexdigest(),
            "source_id": _gzip_id(raw),
            "key": self.key,
            "names": data["names"],
            **WordCounts.pack(self.words),
        }
        fast_path(path).write_bytes(pickle.dumps(fast, protocol=4))

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        raw = path.read_bytes()
        data = None
        try:
            fast = pickle.loads(fast_path(path).read_bytes())
        except Exception:  # noqa: BLE001 - no usable copy: read the JSON
            fast = None
        words: Mapping[str, int] | None = None
        if isinstance(fast, dict) and (
            fast.get("source_id") == _gzip_id(raw)
            if "source_id" in fast
            else fast.get("source") == _sha1(raw).hexdigest()
        ):
            try:
                # The copies of indexes built before WordCounts hold a dict.
                old = fast.get("words")
                words = old if isinstance(old, dict) else WordCounts.unpack(fast)
                data = fast
            except (KeyError, TypeError, ValueError):
                words = None  # a copy in another form: read the JSON
        if data is None or words is None:
            import gzip

            data = json.loads(gzip.decompress(raw).decode("utf-8"))
            words = data["words"]
        lexicon = cls.__new__(cls)
        lexicon.words = words
        lexicon.names = frozenset(data["names"])
        lexicon.key = data["key"]
        lexicon._cache = {}
        lexicon._splits = {}
        lexicon._rights = {}
        lexicon._tokens = {}
        lexicon._parts = None
        return lexicon

    def prepare_bulk(self) -> None:
        """Get ready to analyse many texts (an index build): the words that can be a
        compound's part are collected in a set, which makes splitting faster (the same
        splits). Not worth its time for the few words of a query."""
        if self._parts is None:
            self._parts = frozenset(
                w for w, n in self.words.items() if n >= MIN_PART_FREQ and self._is_part(w)
            )

    # ------------------------------------------------------------ terms

    def terms(self, word: str, stemmed: bool, stops: bool, split: bool) -> tuple[str, ...]:
        """The terms of one word without joiners: () for a stopword; for a compound,
        the whole word's term first and then its parts'."""
        key = (word, stemmed, stops, split)
        found = self._cache.get(key)
        if found is not None:
            return found
        folded = fold(word)
        if _THOUSANDS_RE.fullmatch(folded):
            folded = folded.replace(".", "")
        if stops and folded in STOPWORDS:
            result: tuple[str, ...] = ()
        elif not stemmed or _DIGIT_RE.search(folded) or folded in self.names:
            result = (folded,)
        else:
            out = [stem(folded)]
            if split:
                for part in self.split(folded):
                    term = stem(part)
                    if term not in out:
                        out.append(term)
            result = tuple(out)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = result
        return result

    def token_table(
        self, stemmed: bool, stops: bool, index_mode: bool
    ) -> dict[str, tuple[str, ...]]:
        """The cache of :meth:`token_terms` for these options: token -> its terms."""
        key = (stemmed, stops, index_mode)
        table = self._tokens.get(key)
        if table is None:
            table = self._tokens[key] = _TokenTable(self, stemmed, stops, index_mode)
        return table

    def token_terms(
        self, token: str, stemmed: bool, stops: bool, index_mode: bool
    ) -> tuple[str, ...]:
        """The terms of one token (a word, possibly joined by hyphens or apostrophes), all
        at one position; () when it yields none (a stopword)."""
        table = self.token_table(stemmed, stops, index_mode)
        found = table.get(token)
        if found is not None:
            return found
        if not _JOINER_RE.search(token):
            result = self.terms(token, stemmed, stops, True)
        else:
            parts = [p for p in _JOINER_RE.split(token) if p]
            if any(c in token for c in _APOSTROPHES):
                # "auto's", "Rutte's", "cao’s": drop short clitics after an apostrophe.
                parts = [parts[0]] + [p for p in parts[1:] if len(p) > 2]
            if len(parts) == 1:
                result = self.terms(parts[0], stemmed, stops, True)
            else:
                out = [self.terms("".join(parts), stemmed, False, False)[0]]
                if index_mode:
                    for part in parts:
                        for term in self.terms(part, stemmed, stops, True):
                            if term not in out:
                                out.append(term)
                result = tuple(out)
        if len(table) >= _CACHE_LIMIT:
            table.clear()
        table[token] = result
        return result

    def index_terms(
        self, tokens: list[str], stemmed: bool, stops: bool, stubs: Stubs | None = None
    ) -> list[tuple[str, ...]]:
        """:meth:`token_terms` at index time of each token, those without terms left out;
        looked up in bulk in :meth:`token_table`.

        ``stubs`` (see :class:`Stubs`): only tokens that may have a term starting with one
        of them are stemmed; the others keep their unstemmed terms, which cannot start with
        a stub either. Which tokens have terms does not depend on stemming."""
        if stubs is None or not stemmed:
            return [terms for terms in self._mode_terms(tokens, stemmed, stops) if terms]
        plains = self._mode_terms(tokens, False, stops)
        hits = set(filter(stubs.search, {plain[0] for plain in plains if plain}))
        if not hits:
            return [plain for plain in plains if plain]
        table = self.token_table(True, stops, True)
        out = []
        for token, plain in zip(tokens, plains, strict=True):
            if plain:
                if plain[0] in hits:
                    found = table.get(token)
                    if found is None:
                        found = self.token_terms(token, True, stops, True)
                    out.append(found)
                else:
                    out.append(plain)
        return out

    def stub_terms(self, tokens: list[str], stops: bool, stubs: Stubs) -> tuple[int, list[str]]:
        """The number of positions of ``tokens`` (index time, stemmed), and the terms of
        those that may have a term starting with a stub (see :meth:`index_terms`): what a
        score needs that counts only terms starting with the stubs. Selected in C."""
        plains = self._mode_terms(tokens, False, stops)
        positions = len(plains) - plains.count(())
        search = stubs.search
        hits = {plain for plain in set(plains) if plain and search(plain[0])}
        if not hits:
            return positions, []
        table = self.token_table(True, stops, True)
        out: list[str] = []
        for token in compress(tokens, map(hits.__contains__, plains)):
            found = table.get(token)
            out.extend(found if found is not None else self.token_terms(token, True, stops, True))
        return positions, out

    def _mode_terms(self, tokens: list[str], stemmed: bool, stops: bool) -> list[tuple[str, ...]]:
        found = list(map(self.token_table(stemmed, stops, True).get, tokens))
        if None in found:
            for i, terms in enumerate(found):
                if terms is None:
                    found[i] = self.token_terms(tokens[i], stemmed, stops, True)
        return found  # type: ignore[return-value]

    def split(self, word: str) -> tuple[str, ...]:
        """The parts of a compound (each a corpus word), or () when it is not one."""
        found = self._splits.get(word)
        if found is None:
            found = self._split(word, top=True) or ()
            self._splits[word] = found
        return found

    def _is_part(self, word: str) -> bool:
        return (
            self.words.get(word, 0) >= MIN_PART_FREQ
            and word not in STOPWORDS
            and word not in self.names
        )

    def _split(self, word: str, top: bool) -> tuple[str, ...] | None:
        n = len(word)
        if n < (MIN_COMPOUND if top else MIN_LEFT + MIN_RIGHT) or not word.isalpha():
            return None
        best: tuple[str, ...] | None = None
        words = self.words
        # The set of parts when building (see prepare_bulk), else the test of a word.
        is_part = self._is_part if self._parts is None else self._parts.__contains__
        # Split only when the parts are common enough next to the whole word.
        best_score = SPLIT_RATIO * words.get(word, 0)
        # Only the first part may be as short as MIN_LEFT ("wet-s-voorstel"); inner parts
        # need MIN_RIGHT letters, so no "ing" in "besluit-vorm-ing-s-proces".
        shortest = MIN_LEFT if top else MIN_RIGHT
        for i in range(shortest, n - MIN_RIGHT + 1):
            # The left parts first: most split points have none, and then the right
            # part (a recursive split) need not be looked at. The same parts, in the
            # same order, as when the right part was looked at first.
            lefts = _lefts(word[:i], shortest, is_part)
            if not lefts:
                continue
            right = word[i:]
            if is_part(right):
                rights: tuple[str, ...] = (right,)
            else:
                rights = self._split_right(right)
                if not rights:
                    continue
            for left in lefts:
                parts = (left, *rights)
                score = math.exp(sum(math.log(words[p]) for p in parts) / len(parts))
                if score > best_score:
                    best, best_score = parts, score
        return best

    def _split_right(self, right: str) -> tuple[str, ...]:
        found = self._rights.get(right)
        if found is None:
            found = self._split(right, top=False) or ()
            self._rights[right] = found
        return found


def _lefts(left: str, shortest: int, is_part: Callable[[str], bool]) -> list[str]:
    """The words a compound's left part may stand for, with or without a linking
    element (LINKS, in their order)."""
    out = [left] if is_part(left) else []
    if left[-1] in _LINK_ENDS:
        for link in LINKS:
            if left.endswith(link):
                base = left[: -len(link)]
                if len(base) >= shortest and is_part(base):
                    out.append(base)
    return out


class _TokenTable(dict[str, tuple[str, ...]]):
    """A cache of :meth:`Lexicon.token_terms` for one set of options, token -> terms.
    ``table[token]`` computes (and keeps) the terms of a token not seen yet, so that a
    text's tokens can be looked up in bulk (``map(table.__getitem__, tokens)``);
    ``table.get(token)`` does not."""

    __slots__ = ("_lexicon", "_options")

    def __init__(self, lexicon: Lexicon, stemmed: bool, stops: bool, index_mode: bool) -> None:
        super().__init__()
        self._lexicon = lexicon
        self._options = (stemmed, stops, index_mode)

    def __missing__(self, token: str) -> tuple[str, ...]:
        return self._lexicon.token_terms(token, *self._options)


#: The pickled copy of a saved lexicon is the JSON file's path with this suffix added.
FAST_SUFFIX = ".pickle"


def fast_path(path: Path) -> Path:
    """Where :meth:`Lexicon.save` puts the pickled copy of the lexicon saved at ``path``."""
    return path.with_name(path.name + FAST_SUFFIX)


#: The lexicon of an empty corpus: no compounds, no names.
EMPTY_LEXICON = Lexicon()
_REGISTRY: dict[str, Lexicon] = {EMPTY_LEXICON.key: EMPTY_LEXICON}


def register(lexicon: Lexicon) -> None:
    """Make a lexicon available to the analyzers that name its key."""
    if len(_REGISTRY) > 16:  # a long-running process that opened many indexes
        for key in list(_REGISTRY)[1:-8]:
            del _REGISTRY[key]
    _REGISTRY[lexicon.key] = lexicon


def is_registered(key: str) -> bool:
    return key in _REGISTRY


def lexicon_for(key: str) -> Lexicon:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(f"lexicon {key} is not loaded; open the index first") from None


def analyze(
    text: str,
    *,
    mode: str = "index",
    stem: bool = True,
    stops: bool = True,
    lexicon: Lexicon = EMPTY_LEXICON,
) -> Iterator[tuple[str, int, int, int]]:
    """Yield ``(term, position, startchar, endchar)`` for every term of ``text``.

    ``mode`` is ``"index"`` or ``"query"`` (see the module docstring for the difference).
    Terms at one position: a compound's parts, a hyphenated word's parts.
    """
    token_terms = lexicon.token_terms
    index_mode = mode == "index"
    pos = -1
    base = 0
    line_start = 0
    for line in text.split("\n"):
        for match in _TOKEN_RE.finditer(line):
            terms = token_terms(match.group(), stem, stops, index_mode)
            if terms:
                pos += 1
                start = line_start + match.start()
                end = line_start + match.end()
                for term in terms:
                    yield term, base + pos, start, end
        line_start += len(line) + 1
        if pos >= 0:
            base += pos + 1 + VALUE_GAP
            pos = -1


def term_frequencies(
    text: str, *, stem: bool = True, stops: bool = True, lexicon: Lexicon = EMPTY_LEXICON
) -> dict[str, int]:
    """How often each term occurs in ``text`` at index time: exactly the counts of
    :func:`analyze`'s terms, computed in bulk (tokens counted by the C regex engine and
    :class:`collections.Counter`, every token's terms looked up in C)."""
    table = lexicon.token_table(stem, stops, True)
    return Counter(chain.from_iterable(map(table.__getitem__, _TOKEN_RE.findall(text))))


def term_positions(
    text: str, *, stem: bool = True, stops: bool = True, lexicon: Lexicon = EMPTY_LEXICON
) -> dict[str, list[int]]:
    """The positions of each term of ``text`` at index time: exactly :func:`analyze`'s,
    without building a tuple per term."""
    getitem = lexicon.token_table(stem, stops, True).__getitem__
    findall = _TOKEN_RE.findall
    positions: dict[str, list[int]] = {}
    get = positions.get
    base = 0
    for line in text.split("\n"):
        kept = list(filter(None, map(getitem, findall(line))))  # the tokens with terms
        if not kept:
            continue
        for at, terms in enumerate(kept, base):
            for term in terms:
                found = get(term)
                if found is None:
                    positions[term] = [at]
                else:
                    found.append(at)
        base += len(kept) + VALUE_GAP
    return positions


def token_terms(
    text: str,
    *,
    stem: bool = True,
    stops: bool = True,
    lexicon: Lexicon = EMPTY_LEXICON,
    stubs: Stubs | None = None,
) -> list[tuple[str, ...]]:
    """The terms at each position of ``text`` at index time, in order: exactly
    :func:`analyze`'s terms grouped by position, without positions and spans (with
    ``stubs``: see :meth:`Lexicon.index_terms`)."""
    return lexicon.index_terms(_TOKEN_RE.findall(text), stem, stops, stubs)


def stub_terms(
    text: str, stubs: Stubs, *, lexicon: Lexicon = EMPTY_LEXICON
) -> tuple[int, list[str]]:
    """:meth:`Lexicon.stub_terms` of the tokens of ``text`` (stemmed, stopwords left out)."""
    return lexicon.stub_terms(_TOKEN_RE.findall(text), True, stubs)


def term_spans(
    text: str,
    matches: Callable[[str], bool],
    *,
    stem: bool = True,
    stops: bool = True,
    lexicon: Lexicon = EMPTY_LEXICON,
    stubs: Stubs | None = None,
) -> list[tuple[int, int]]:
    """The character spans of the tokens of ``text`` with a term for which ``matches`` is
    true (index time, as :func:`analyze` gives them), in order. With ``stubs``, only
    tokens that may have a term starting with a stub are looked at (see
    :meth:`Lexicon.index_terms`): ``matches`` must be false for any other term."""
    token_terms = lexicon.token_terms
    out = []
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if stubs is not None and stem:
            plain = token_terms(token, False, stops, True)
            if not plain or not stubs.search(plain[0]):
                continue
        terms = token_terms(token, stem, stops, True)
        if terms and any(map(matches, terms)):
            out.append(match.span())
    return out


class Stubs:
    """The first two letters of some stemmed terms, to skip stemming words that cannot
    have any of these terms (see :meth:`Lexicon.index_terms`).

    A word's terms (its stem, and the stems of its compound parts or hyphenated parts)
    each begin with two letters found in the folded word: Snowball changes a Dutch word
    only after its first syllable (vowel undoubling included: *jaar* -> *jar*) and
    kvsearch's corrections only change endings; the exceptions are the irregular forms of
    :data:`STEM_OVERRIDES` (*leden* -> *lid*), whose own first letters are added.
    ``tests/test_analysis.py`` checks this on every word of a corpus lexicon.
    """

    def __init__(self, terms: Iterable[str], prefixes: Iterable[str] = ()) -> None:
        terms = set(terms)
        stubs = {t[:2] for t in terms} | {p[:2] for p in prefixes}
        for word, stemmed in _override_stems().items():
            if stemmed in terms or any(stemmed.startswith(p) for p in prefixes):
                stubs.add(word[:2])
        self.stubs = frozenset(s for s in stubs if s)
        pattern = "|".join(re.escape(s) for s in sorted(self.stubs)) or "(?!)"
        self.search = re.compile(pattern).search


def query_terms(text: str, lexicon: Lexicon = EMPTY_LEXICON) -> list[str]:
    """The terms a query text stands for (query mode, stemmed)."""
    return [t for t, _p, _s, _e in analyze(text, mode="query", lexicon=lexicon)]


class DutchAnalyzer(Tokenizer):
    """A complete Whoosh analyzer around :func:`analyze`.

    ``stem=True``: Dutch text (stopwords, stemming, compounds). ``stem=False``: the exact
    and name analyzer, folded and split like text but neither stemmed nor stopped
    (``stops=True`` drops stopwords: names searched by plain words, where "de" and "van"
    must not match every "de Jonge").
    ``lexicon`` is the key of the index's :class:`Lexicon` (see :func:`register`).
    """

    def __init__(
        self, stem: bool = True, lexicon: str = EMPTY_LEXICON.key, stops: bool | None = None
    ) -> None:
        self.stem = stem
        self.lexicon = lexicon
        self.stops = stem if stops is None else stops

    def _key(self) -> tuple[bool, str, bool]:
        return (self.stem, self.lexicon, self.stops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DutchAnalyzer) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((DutchAnalyzer, *self._key()))

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
            value, mode=amode, stem=self.stem, stops=self.stops, lexicon=lexicon_for(self.lexicon)
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
