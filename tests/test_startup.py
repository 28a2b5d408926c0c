"""Start-up: a search command loads only what it uses, and the lean imports leave every
module importable as usual afterwards (each check runs in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("module", ["kvsearch.cli", "kvsearch.search", "kvsearch.indexer"])
def test_importing_kvsearch_skips_unused_modules(module: str) -> None:
    out = run_python(
        f"""
        import sys
        import {module}
        import kvsearch.search
        unused = ["urllib.request", "asyncio", "ssl", "http.client", "cached_property",
                  "snowballstemmer", "snowballstemmer.english_stemmer",
                  "whoosh.lang.morph_en", "whoosh.lang.porter", "whoosh.lang.dmetaphone",
                  "html", "calendar"]
        if "{module}" != "kvsearch.indexer":
            unused.append("kvsearch.parse")  # only an index build parses files
            # what only writing uses
            unused += ["hashlib", "_hashlib", "queue", "random", "tempfile", "shutil", "gzip"]
        print(sorted(m for m in unused if m in sys.modules))
        """
    )
    assert out == "[]\n"


def test_help_does_not_import_whoosh() -> None:
    out = run_python(
        """
        import sys
        from click.testing import CliRunner
        from kvsearch.cli import cli
        result = CliRunner().invoke(cli, ["--help"])
        print(result.exit_code, sorted(m for m in sys.modules if m.split(".")[0] == "whoosh"))
        """
    )
    assert out == "0 []\n"


def test_real_modules_after_lean_imports() -> None:
    out = run_python(
        """
        import sys
        import kvsearch.search
        from kvsearch.analysis import stem
        print(stem("ziekenhuizen"))
        import urllib.request
        print(urllib.request.Request.__module__)
        import cached_property
        print(cached_property.cached_property.__module__)
        import snowballstemmer
        print(snowballstemmer.stemmer("english").stemWord("running"))
        import whoosh.compat
        print(whoosh.compat.urlretrieve.__module__)
        from whoosh.query.terms import variations
        print(variations.__module__, "renders" in variations("render"))
        import whoosh.lang.morph_en
        print(whoosh.lang.morph_en.variations.__module__)
        """
    )
    assert out.split("\n") == [
        "ziekenhuis",
        "urllib.request",
        "cached_property",
        "run",
        "kvsearch.analysis",
        "kvsearch.analysis True",
        "whoosh.lang.morph_en",
        "",
    ]


def test_whoosh_cached_property_stand_in_works() -> None:
    """whoosh.reading's one cached property (deleted_docs_set) with functools' version."""
    out = run_python(
        """
        import tempfile
        import kvsearch.search
        from whoosh import fields, index
        folder = tempfile.mkdtemp()
        ix = index.create_in(folder, fields.Schema(id=fields.ID(stored=True, unique=True)))
        with ix.writer() as w:
            for n in "abc":
                w.add_document(id=n)
        with ix.writer() as w:
            w.delete_by_term("id", "b")
        with ix.reader() as r:
            print(sorted(r.deleted_docs_set), r.deleted_docs_set is r.deleted_docs_set)
        """
    )
    assert out == "[1] True\n"


def test_whoosh_works_with_the_real_modules_behind_its_stand_ins() -> None:
    """What Whoosh took from a stand-in (a function, or a module it keeps) is the real
    thing once used: writing an index, a stemming analyzer, dates, highlighting, MD5."""
    out = run_python(
        """
        import sys
        import kvsearch.search
        import whoosh.compat, whoosh.filedb.filetables, whoosh.util, whoosh.util.times
        from whoosh import analysis, fields, index
        print([m in sys.modules for m in ("random", "tempfile", "calendar", "html")])
        print([t.text for t in analysis.StemmingAnalyzer()("running cats")])
        print([t.text for t in analysis.DoubleMetaphoneFilter()(
            analysis.RegexTokenizer()("Smith"))])
        print(whoosh.compat.htmlescape("<b>"), len(whoosh.util.random_name(8)))
        print(whoosh.util.times.calendar.monthrange(2024, 2))
        import hashlib
        md5 = whoosh.filedb.filetables.md5_hash
        print(md5(b"stikstof") == int(hashlib.md5(b"stikstof").hexdigest(), 16) & 0xFFFFFFFF)
        import random, tempfile, calendar, html, queue, shutil
        print([m.__spec__ is not None for m in (random, tempfile, calendar, html, queue, shutil)])
        folder = tempfile.mkdtemp()
        ix = index.create_in(folder, fields.Schema(t=fields.TEXT(stored=True)))
        with ix.writer(procs=1) as w:
            w.add_document(t="stikstof uitstoot")
        with ix.searcher() as s:
            print(s.doc_count())
        """
    )
    assert out.split("\n") == [
        "[False, False, False, False]",
        "['runn', 'cat']",  # (Whoosh's own Porter stemmer)
        "['SM0', 'XMT']",
        "&lt;b&gt; 8",
        "(3, 29)",
        "True",
        "[True, True, True, True, True, True]",
        "1",
        "",
    ]
