"""Table-driven tests of the Dutch analyzer: input -> expected terms."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvsearch.analysis import (
    ANALYZER_VERSION,
    STEMMER,
    VALUE_GAP,
    DutchAnalyzer,
    Lexicon,
    analyze,
    fold,
    new_stemmer,
    query_terms,
    stem,
)
from kvsearch.indexer import SAMPLE_DIR


def index_terms(text: str) -> list[str]:
    return [t for t, *_ in analyze(text)]


INDEX_CASES = [
    # (input, expected index terms in order)
    ("Ambtenaren", ["ambtenar"]),
    ("ambtenaar", ["ambtenar"]),
    ("de verkiezingen van 22 november", ["verkies", "22", "november"]),
    ("Kamervraag 2024Z01294", ["kamervrag", "2024z01294"]),
    ("F-35", ["f35", "f", "35"]),
    ("COVID-19", ["covid19", "covid", "19"]),
    ("Yeşilgöz-Zegerius", ["yesilgozzegerius", "yesilgos", "zegerius"]),
    ("Daniëlle", ["daniell"]),
    ("€ 3,1 miljard", ["3,1", "miljard"]),
    ("3.000 euro", ["3000", "euro"]),
    ("1.234,56", ["1234,56"]),
    ("auto's en cao’s", ["auto", "cao"]),
    ("«hernieuwbare brandstof»", ["hernieuw", "brandstof"]),
    ("minister-president", ["ministerpresident", "minister", "president"]),
    ("DG- en directieniveau", ["dg", "directieniveau"]),
    ("Ĳsselmeer", ["ijsselmer"]),
    ("financiën", ["financien"]),
    ("het is niet zo", ["niet"]),  # stopwords go, "niet" carries meaning and stays
    ("", []),
    ("—  …  !!", []),
]


@pytest.mark.parametrize(("text", "expected"), INDEX_CASES)
def test_index_terms(text: str, expected: list[str]) -> None:
    assert index_terms(text) == expected


QUERY_CASES = [
    # A hyphenated query word asks for the joined form only.
    ("F-35", ["f35"]),
    ("F35", ["f35"]),
    ("yeşilgöz-zegerius", ["yesilgozzegerius"]),
    ("Yesilgoz", ["yesilgos"]),
    ("COVID-19 vaccinatie", ["covid19", "vaccinatie"]),
    ("ambtenaren verkiezingen", ["ambtenar", "verkies"]),
]


@pytest.mark.parametrize(("text", "expected"), QUERY_CASES)
def test_query_terms(text: str, expected: list[str]) -> None:
    assert query_terms(text) == expected


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("yesilgoz", "Dilan Yeşilgöz-Zegerius"),
        ("zegerius", "Dilan Yeşilgöz-Zegerius"),
        ("Yeşilgöz-Zegerius", "Dilan Yeşilgöz-Zegerius"),
        ("YESILGOZ-ZEGERIUS", "Dilan Yeşilgöz-Zegerius"),
        ("F35", "de F-35 straaljager"),
        ("f-35", "de F-35 straaljager"),
        ("covid", "COVID-19"),
        ("2024z01294", "Kamervraag 2024Z01294"),
        ("3,1", "€ 3,1 miljard"),
        ("verkiezing", "de verkiezingen"),
        ("reele", "reële kosten"),
    ],
)
def test_query_finds_document(query: str, document: str) -> None:
    assert set(query_terms(query)) <= set(index_terms(document))


def test_positions_stack_hyphen_parts_and_renumber_stopwords() -> None:
    tokens = list(analyze("minister van Yeşilgöz-Zegerius zegt"))
    positions = {term: pos for term, pos, *_ in tokens}
    assert positions == {
        "minister": 0,
        "yesilgozzegerius": 1,
        "yesilgos": 1,
        "zegerius": 1,
        "zegt": 2,
    }


def test_newline_starts_a_new_value() -> None:
    tokens = list(analyze("Hugo de Jonge\nMark Rutte", stem=False, stops=False))
    assert [(t, p) for t, p, *_ in tokens] == [
        ("hugo", 0),
        ("de", 1),
        ("jonge", 2),
        ("mark", 3 + VALUE_GAP),
        ("rutte", 4 + VALUE_GAP),
    ]


def test_character_offsets_point_at_the_words() -> None:
    text = "Vraag over\nYeşilgöz-Zegerius en F-35"
    for _term, _pos, start, end in analyze(text):
        assert text[start:end] in {"Vraag", "Yeşilgöz-Zegerius", "F-35"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yeşilgöz", "yesilgoz"), ("ÉénNL", "eennl"), ("Straße", "strasse"), ("Øresund", "oresund")],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_name_analyzer_neither_stems_nor_stops() -> None:
    names = DutchAnalyzer(stem=False)
    assert [t.text for t in names("Hugo de Jonge")] == ["hugo", "de", "jonge"]


def test_whoosh_analyzer_matches_analyze() -> None:
    text = "Bijeenkomsten met ambtenaren over de F-35"
    whoosh_terms = [t.text for t in DutchAnalyzer()(text)]
    assert whoosh_terms == index_terms(text)
    assert [t.text for t in DutchAnalyzer()(text, mode="query")] == query_terms(text)


def test_analyzer_pickles() -> None:
    analyzer = pickle.loads(pickle.dumps(DutchAnalyzer(stem=False)))
    assert analyzer == DutchAnalyzer(stem=False)
    assert analyzer != DutchAnalyzer(stem=True)


# Word forms that must share a stem (Snowball alone misses these: irregular plurals,
# -heden, -ies/-ieën, Latin plurals) ...
SAME_STEM = [
    ("bedrijf", "bedrijven"),
    ("brief", "brieven"),
    ("ministerie", "ministeries"),
    ("kind", "kinderen"),
    ("stad", "steden"),
    ("lid", "leden"),
    ("reis", "reizen"),
    ("huis", "huizen"),
    ("mogelijkheid", "mogelijkheden"),
    ("vrijheid", "vrijheden"),
    ("categorie", "categorieën"),
    ("studie", "studies"),
    ("provincie", "provincies"),
    ("gemeente", "gemeenten"),
    ("gemeente", "gemeentes"),
    ("museum", "musea"),
    ("politicus", "politici"),
    ("dag", "dagen"),
    ("antwoord", "antwoorden"),
    ("verkiezing", "verkiezingen"),
    ("ambtenaar", "ambtenaren"),
    ("maatregel", "maatregelen"),
]

# ... and words that must not (over-merges of one Snowball algorithm or the other).
DIFFERENT_STEM = [
    ("gemeente", "mening"),
    ("minister", "mini"),
    ("minister", "ministerie"),
    ("woning", "wonen"),
    ("overheid", "over"),
    ("gelegenheid", "gelegen"),
    ("hoeveelheid", "hoeveel"),
]


@pytest.mark.parametrize(("a", "b"), SAME_STEM)
def test_same_stem(a: str, b: str) -> None:
    assert stem(fold(a)) == stem(fold(b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT_STEM)
def test_different_stem(a: str, b: str) -> None:
    assert stem(fold(a)) != stem(fold(b))


def test_names_are_not_stemmed() -> None:
    lexicon = Lexicon({"rutte": 40}, names=["Rutte", "Yeşilgöz"])
    assert query_terms("Rutte", lexicon) == ["rutte"]
    assert query_terms("yesilgoz", lexicon) == ["yesilgoz"]
    assert query_terms("Rutte") == ["rut"]  # without the index's names it would be


def test_stemmer_is_pure_python_and_versioned() -> None:
    assert STEMMER in {"dutch", "dutch_porter"}
    assert ANALYZER_VERSION


# ---------------------------------------------------------------- compounds

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def be_lexicon() -> Lexicon:
    data = json.loads((FIXTURES / "lexicon_be.json").read_text(encoding="utf-8"))
    return Lexicon(data["words"], names=["Jambon", "Geens"])


# Real compounds of the corpora, and words that must stay whole (a split would be into
# fragments, or into parts rarer than the word: "minister" is not "mini" + "ster").
COMPOUNDS = [
    ("verkiezingsuitslag", ("verkiezing", "uitslag")),
    ("stikstofuitstoot", ("stikstof", "uitstoot")),
    ("belastingaangifte", ("belasting", "aangifte")),
    ("ziekenhuisopname", ("ziekenhuis", "opname")),
    ("winkeldiefstal", ("winkel", "diefstal")),
    ("frisdrankmachines", ("frisdrank", "machines")),
    ("overheidsdiensten", ("overheid", "diensten")),
    ("werkgelegenheid", ("werk", "gelegenheid")),
    ("beleidsterrein", ("beleid", "terrein")),
    ("rijksoverheid", ("rijk", "overheid")),
    ("werkhouding", ("werk", "houding")),
    ("gesprekscultuur", ("gesprek", "cultuur")),
    ("werkklimaat", ("werk", "klimaat")),
    ("besluitvormingsproces", ("besluit", "vorming", "proces")),
    ("werkoverleggen", ("werk", "overleggen")),
    ("schoolbestuurders", ("school", "bestuurders")),
    ("arbeidscontracten", ("arbeid", "contracten")),
    ("asielaanvragen", ("asiel", "aanvragen")),
    ("gevangenisstraf", ("gevangenis", "straf")),
    ("verkeersveiligheid", ("verkeer", "veiligheid")),
    ("treinreizigers", ("trein", "reizigers")),
    ("belastingdienst", ("belasting", "dienst")),
    ("politiezone", ("politie", "zone")),
    ("drugshandel", ("drugs", "handel")),
    ("terreurdreiging", ("terreur", "dreiging")),
    ("energieprijzen", ("energie", "prijzen")),
    ("defensiebudget", ("defensie", "budget")),
    ("snelheidscontroles", ("snelheid", "controles")),
    ("verkeersongevallen", ("verkeer", "ongevallen")),
    ("pensioenleeftijd", ("pensioen", "leeftijd")),
    ("werkloosheidsuitkering", ("werkloosheid", "uitkering")),
    ("belastingverlaging", ("belasting", "verlaging")),
    ("begrotingstekort", ("begroting", "tekort")),
    ("wetsvoorstel", ("wet", "voorstel")),
    ("kernuitstap", ("kern", "uitstap")),
    ("asielzoekerscentrum", ("asielzoekers", "centrum")),
    ("ziekteverzekering", ("ziekte", "verzekering")),
    ("verkeersboetes", ("verkeer", "boetes")),
    ("gevangenisdirecteur", ("gevangenis", "directeur")),
    ("politieagenten", ("politie", "agenten")),
    ("btwtarief", ("btw", "tarief")),
    ("zorgkosten", ("zorg", "kosten")),
    ("minister", ()),
    ("gemeente", ()),
    ("verkiezing", ()),
    ("ambtenaren", ()),
    ("maatregelen", ()),
    ("ziekenhuis", ()),
    ("onderzoek", ()),
    ("overheid", ()),
    ("ministerie", ()),
    ("belasting", ()),
    ("regering", ()),
    ("antwoord", ()),
    ("werknemers", ()),
    ("bevoegdheden", ()),
    ("aanleiding", ()),
    ("samenwerking", ()),
    ("ontwikkeling", ()),
    ("vergadering", ()),
    ("verantwoordelijkheid", ()),
    ("staatssecretaris", ()),
    ("vluchtelingen", ()),
    ("luchthaven", ()),
]


@pytest.mark.parametrize(("word", "parts"), COMPOUNDS)
def test_compound_split(be_lexicon: Lexicon, word: str, parts: tuple[str, ...]) -> None:
    assert be_lexicon.split(word) == parts


def test_compound_table_is_large_enough() -> None:
    assert sum(1 for _w, p in COMPOUNDS if p) >= 40
    assert sum(1 for _w, p in COMPOUNDS if not p) >= 15


def test_compound_terms_at_index_and_query_time(be_lexicon: Lexicon) -> None:
    index = [(t, p) for t, p, *_ in analyze("de verkiezingsuitslag", lexicon=be_lexicon)]
    assert index == [("verkiezingsuitslag", 0), ("verkies", 0), ("uitslag", 0)]
    # The split query finds the joined word, and the joined query the split text.
    assert set(query_terms("uitslag verkiezingen", be_lexicon)) <= {t for t, _p in index}
    assert query_terms("verkiezingsuitslag", be_lexicon) == [
        "verkiezingsuitslag",
        "verkies",
        "uitslag",
    ]


def test_names_and_stopwords_are_never_parts(be_lexicon: Lexicon) -> None:
    assert be_lexicon.split("jambonbeleid") == ()  # "jambon" is a name
    assert be_lexicon.split("overbeleid") == ()  # "over" is a stopword


def test_lexicon_round_trip(be_lexicon: Lexicon, tmp_path: Path) -> None:
    be_lexicon.save(tmp_path / "lexicon.json.gz")
    loaded = Lexicon.load(tmp_path / "lexicon.json.gz")
    assert loaded.key == be_lexicon.key
    assert loaded.words == be_lexicon.words
    assert loaded.names == be_lexicon.names
    assert loaded.split("stikstofuitstoot") == ("stikstof", "uitstoot")


def test_lexicon_from_counts_folds_and_drops_rare_words() -> None:
    lexicon = Lexicon.from_counts(
        {"Financiën": 3, "financien": 2, "zeldzaam": 1, "F35": 9}, ["Yeşilgöz"]
    )
    assert lexicon.words == {"financien": 5}
    assert lexicon.names == {"yesilgoz"}


def test_new_stemmer_is_snowballs_pure_python_stemmer() -> None:
    import snowballstemmer.dutch_porter_stemmer as module

    stemmer = new_stemmer("dutch_porter", quick=False)
    assert type(stemmer) is module.DutchPorterStemmer
    assert stemmer.stemWord("ziekenhuizen") == "ziekenhuiz"
    assert isinstance(new_stemmer("dutch_porter"), module.DutchPorterStemmer)
    assert type(new_stemmer("dutch", quick=False)).__name__ == "DutchStemmer"


_STEM_ALPHABET = "abcdefghijklmnopqrstuvwxyz" + "áäéëíïóöúüèàâêîôûIYç'"


def test_prepared_lexicon_splits_alike() -> None:
    """Lexicon.prepare_bulk (the index build's set of parts) changes no split: every word
    of the fixture lexicon and of the sample corpus, and every suffix of them."""
    data = json.loads((FIXTURES / "lexicon_be.json").read_text(encoding="utf-8"))
    words = set(data["words"])
    for path in SAMPLE_DIR.rglob("*.txt"):
        words.update(fold(w) for w in re.findall(r"\w+", path.read_text(encoding="utf-8")))
    words.update(w[i:] for w in list(words) for i in range(1, len(w) - 6))
    plain = Lexicon(data["words"], names=["Jambon", "Geens"])
    prepared = Lexicon(data["words"], names=["Jambon", "Geens"])
    prepared.prepare_bulk()
    ordered = sorted(words)
    splits = [plain.split(w) for w in ordered]
    assert sum(map(bool, splits)) > 100
    assert [prepared.split(w) for w in ordered] == splits


@pytest.mark.parametrize("algorithm", ["dutch", "dutch_porter"])
@settings(max_examples=400, deadline=None)
@given(words=st.lists(st.text(alphabet=_STEM_ALPHABET, max_size=18), max_size=20))
def test_quick_stemmer_stems_like_snowball(algorithm: str, words: list[str]) -> None:
    quick = new_stemmer(algorithm)
    plain = new_stemmer(algorithm, quick=False)
    assert type(quick) is not type(plain)
    for word in words:
        assert quick.stemWord(word) == plain.stemWord(word), word


def test_quick_stemmer_on_the_sample_corpus() -> None:
    """Every word of the bundled sample corpus, as written and folded."""
    words: set[str] = set()
    for path in SAMPLE_DIR.rglob("*.txt"):
        for word in re.findall(r"\w+", path.read_text(encoding="utf-8")):
            words.update((word, word.lower(), fold(word)))
    assert len(words) > 5000
    quick, plain = new_stemmer(), new_stemmer(quick=False)
    assert type(quick).shortcut_tables == 2  # the prelude's and the postlude's tables
    differ = [w for w in sorted(words) if quick.stemWord(w) != plain.stemWord(w)]
    assert differ == []
