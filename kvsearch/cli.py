"""The ``kvsearch`` command: argument handling and output only.

Library errors (:class:`KvsearchError`) become one-line messages with exit code 1; bad
usage exits with 2 (click's own handling). No Whoosh object is seen here.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kvsearch import __version__
from kvsearch.errors import KvsearchError, QueryError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_INDEX = "index"


def _library_errors(func: F) -> F:
    """Turn library errors into ClickException (exit 1) with the library's message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KvsearchError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


class _Context:
    def __init__(self, index: str) -> None:
        self.index = Path(index).expanduser()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="kvsearch")
@click.option(
    "--index",
    "index",
    envvar="KVSEARCH_INDEX",
    default=DEFAULT_INDEX,
    show_default=True,
    metavar="DIR",
    help="The index folder (or set KVSEARCH_INDEX).",
)
@click.pass_context
def cli(ctx: click.Context, index: str) -> None:
    """Search Dutch parliamentary written questions (Kamervragen) and the answers.

    \b
    Example:
        kvsearch index --sample
        kvsearch search "ambtenaren verkiezingen" --minister yesilgoz --from 2024
    """
    ctx.obj = _Context(index)
    _RUN["command"] = ctx.invoked_subcommand


#: Commands that only read an index. When one of them has finished, :func:`main` ends the
#: process without Python's teardown (freeing every object of the open index one by one:
#: 20 ms of a 0.2 s search at 90,000 documents), after flushing its output.
READ_ONLY_COMMANDS = frozenset({"search", "facets", "stats", "show", "status"})
_RUN: dict[str, str | None] = {"command": None}


# ---------------------------------------------------------------- index / rebuild


def _progress_printer(enabled: bool) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A progress callback: a bar on a terminal, a plain line per 10% otherwise."""
    if not enabled:
        return (lambda _e: None), (lambda: None)
    err = sys.stderr
    state: dict[str, Any] = {"bar": None, "done": 0, "printed": 0}
    tty = err.isatty()

    def report(event: Any) -> None:
        if event.phase != "parse" or not event.total:
            if event.phase == "commit":
                close()
                click.echo(f"Writing the index ({event.done} Kamervragen)...", err=True)
            elif event.phase == "update":
                close()
                click.echo(
                    f"Writing the changes ({event.done} Kamervragen to add or replace)...",
                    err=True,
                )
            return
        # Worker processes report in steps of many files: advance by the difference.
        step_done = max(0, event.done - state["done"])
        state["done"] = max(state["done"], event.done)
        if tty:
            if state["bar"] is None:
                state["bar"] = click.progressbar(
                    length=event.total, label="Indexing", file=err, show_pos=True
                )
                state["bar"].__enter__()
            state["bar"].length = max(state["bar"].length, event.total)
            state["bar"].update(step_done)
            return
        step = max(500, event.total // 10)
        if event.done == event.total or event.done // step > state["printed"] // step:
            state["printed"] = event.done
            click.echo(f"parsed {event.done}/{event.total} files", err=True)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
            state["bar"] = None

    return report, close


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _run_build(obj: _Context, source: Path | None, quiet: bool, wait: float, full: bool) -> None:
    from kvsearch.indexer import build_index, update_index

    report, close = _progress_printer(not quiet)
    try:
        if full:
            result = build_index(source, obj.index, progress=report, wait=wait)  # type: ignore[arg-type]
        else:
            result = update_index(source, obj.index, progress=report, wait=wait)
    finally:
        close()
    if result.reason:
        click.echo(f"Rebuilt the index from scratch: {result.reason}.")
    if result.full:
        click.echo(
            f"Indexed {result.indexed} Kamervragen ({result.questions} questions) from "
            f"{result.source} in {result.seconds:.1f} s; skipped "
            f"{_plural(len(result.skipped), 'file')}."
        )
        click.echo(f"Index: {obj.index}")
    else:
        click.echo(
            f"Updated the index from {result.source} in {result.seconds:.1f} s: "
            f"{result.added} added, {result.updated} updated, {result.removed} removed, "
            f"{result.unchanged} unchanged, {len(result.skipped)} skipped."
        )
        click.echo(
            f"Index: {obj.index} ({result.indexed} Kamervragen, {result.questions} questions)"
        )
    if result.skipped:
        click.echo(f"Skipped {_plural(len(result.skipped), 'file')}:")
        for skipped in result.skipped:
            click.echo(f"  {skipped}")
    if result.warnings:
        click.echo(f"Warnings ({len(result.warnings)}):")
        for warning in result.warnings:
            click.echo(f"  {warning}")


_WAIT = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another process that is writing the index.",
)
_QUIET = click.option("--quiet", "-q", is_flag=True, help="No progress output.")


@cli.command("index")
@click.argument(
    "source_dir",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option("--sample", is_flag=True, help="Index the bundled sample corpus (36 Kamervragen).")
@_QUIET
@_WAIT
@click.pass_obj
@_library_errors
def index_cmd(
    obj: _Context, source_dir: Path | None, sample: bool, quiet: bool, wait: float
) -> None:
    """Index a folder of Kamervragen text files (searched recursively for *.txt), or bring
    the index up to date with it.

    On an existing index only the changes are indexed: new files are added, changed
    files (by content hash) replaced, vanished files removed. Without SOURCE_DIR the
    folder the index was made from is used. The new index is built beside the old one
    and swapped in when complete: an interrupted or failed run leaves the previous index
    serving. Files that cannot be read are listed at the end and skipped.

    \b
    Examples:
        kvsearch index ~/kamervragen
        kvsearch index
        kvsearch --index /srv/kv-index index ~/kamervragen --quiet
        kvsearch index --sample
    """
    from kvsearch import store
    from kvsearch.indexer import SAMPLE_DIR

    if sample and source_dir is not None:
        raise click.UsageError("give either SOURCE_DIR or --sample")
    if not sample and source_dir is None and not store.is_index(obj.index):
        raise click.UsageError("give either SOURCE_DIR or --sample")
    _run_build(obj, SAMPLE_DIR if sample else source_dir, quiet, wait, full=False)


@cli.command("rebuild")
@click.argument(
    "source_dir",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@_QUIET
@_WAIT
@click.pass_obj
@_library_errors
def rebuild_cmd(obj: _Context, source_dir: Path | None, quiet: bool, wait: float) -> None:
    """Rebuild the index from scratch, from its stored source folder or SOURCE_DIR.

    The new index is built beside the old one and swapped in atomically; searches keep
    working meanwhile. Use it to repair a damaged index, or after upgrading kvsearch.

    \b
    Examples:
        kvsearch rebuild
        kvsearch rebuild ~/kamervragen
    """
    from kvsearch.indexer import stored_source

    if source_dir is None:
        source_dir = stored_source(obj.index)
    _run_build(obj, source_dir, quiet, wait, full=True)


# ---------------------------------------------------------------- search


def _date_option(name: str, help_text: str) -> Callable[[F], F]:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        from kvsearch.search import parse_date_range

        try:
            return parse_date_range(value)
        except QueryError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return click.option(name, metavar="DATE", callback=convert, help=help_text)


def _text_filter(name: str, metavar: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        name,
        multiple=True,
        metavar=metavar,
        help=help_text + " Repeat for OR.",
    )


#: The filter options of every command that takes a query, in --help order.
_FILTER_OPTIONS: list[Callable[[F], F]] = [
    _text_filter(
        "--minister",
        "NAME",
        "Answered by this minister: whole word(s) of the name, or initials "
        "('h. de jonge'); case and accents ignored.",
    ),
    _text_filter("--ministry", "TEXT", "The role of an answering minister holds TEXT."),
    _text_filter("--party", "PARTY", "An answering minister is of this party."),
    _text_filter("--submitter", "NAME", "Asked by this member (like --minister)."),
    _text_filter("--submitter-party", "PARTY", "A submitter is of this party."),
    _text_filter("--subject", "TEXT", "One of the subjects holds TEXT."),
    _date_option(
        "--from",
        "Asked on or after DATE: YYYY, YYYY-MM, YYYY-MM-DD or '29 januari 2024'; "
        "a partial date covers its whole period.",
    ),
    _date_option("--to", "Asked on or before DATE."),
    _date_option("--answered-from", "Answered on or after DATE."),
    _date_option("--answered-to", "Answered on or before DATE."),
    click.option("--answered", is_flag=True, help="Only answered Kamervragen."),
    click.option("--unanswered", is_flag=True, help="Only Kamervragen without an answer."),
    click.option(
        "--min-days",
        type=click.IntRange(min=0),
        metavar="N",
        help="Answered after at least N days.",
    ),
    click.option(
        "--max-days",
        type=click.IntRange(min=0),
        metavar="N",
        help="Answered within N days.",
    ),
    click.option("--late", is_flag=True, help="Answered after more than 42 days."),
]

_FILTER_KEYS = (
    "minister",
    "ministry",
    "party",
    "submitter",
    "submitter_party",
    "subject",
    "from",
    "to",
    "answered_from",
    "answered_to",
    "answered",
    "unanswered",
    "min_days",
    "max_days",
    "late",
)


def _filter_options(func: F) -> F:
    for option in reversed(_FILTER_OPTIONS):
        func = option(func)
    return func


def _make_filters(opts: dict[str, Any]) -> Any:
    """The Filters of the filter options in ``opts`` (removed from it)."""
    from kvsearch.search import Filters

    v = {key: opts.pop(key, None) for key in _FILTER_KEYS}
    if v["answered"] and v["unanswered"]:
        raise click.UsageError("--answered and --unanswered exclude each other; give one")
    return Filters(
        ministers=v["minister"] or (),
        ministries=v["ministry"] or (),
        parties=v["party"] or (),
        submitters=v["submitter"] or (),
        submitter_parties=v["submitter_party"] or (),
        subjects=v["subject"] or (),
        date_from=v["from"][0] if v["from"] else None,
        date_to=v["to"][1] if v["to"] else None,
        answered_from=v["answered_from"][0] if v["answered_from"] else None,
        answered_to=v["answered_to"][1] if v["answered_to"] else None,
        answered=True if v["answered"] else (False if v["unanswered"] else None),
        min_days=v["min_days"],
        max_days=v["max_days"],
        late=bool(v["late"]),
    )


def _check_facets(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from kvsearch.search import facet_names

    try:
        return facet_names(value)
    except QueryError as exc:
        hint = ""
        if ctx.command.name == "search" and "," not in value:
            hint = f"; to search for {value!r}, put the query before --facets"
        raise click.BadParameter(f"{exc}{hint}", ctx=ctx, param=param) from None


_FACET_LIMIT = click.option(
    "--facet-limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="Values shown per facet.",
)
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of text."
)


@cli.command("search")
@click.argument("query", required=False, default="")
@_filter_options
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest", "answer-time"]),
    help="Order of the hits: relevance (the default with a QUERY), newest (the default "
    "without), oldest, or answer-time (slowest answer first, unanswered last).",
)
@click.option(
    "--facets",
    is_flag=False,
    flag_value="all",
    default=None,
    callback=_check_facets,
    metavar="[NAMES]",
    help="Also count the matching Kamervragen per value: all facets, or some of minister, "
    "party, ministry, submitter, submitter-party, subject, year, answer-time "
    "(comma-separated).",
)
@_FACET_LIMIT
@click.option(
    "--per-question",
    is_flag=True,
    help="List single questions with their answers instead of whole Kamervragen.",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1, max=1000),
    default=10,
    show_default=True,
    help="Hits per page.",
)
@click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page of hits."
)
@click.option(
    "--questions",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Matching questions shown per hit.",
)
@_JSON
@click.pass_obj
@_library_errors
def search_cmd(
    obj: _Context,
    query: str,
    sort: str | None,
    facets: tuple[str, ...] | None,
    facet_limit: int,
    per_question: bool,
    limit: int,
    page: int,
    questions: int,
    as_json: bool,
    **opts: Any,
) -> None:
    """Search the index; the best-matching Kamervragen first.

    QUERY: words, "phrases", AND / OR / NOT, -word, prefix*, and fields: minister:,
    ministerie:, ministerpartij:, indiener:, indienerpartij:, partij: (any party),
    onderwerp:, titel:, vraag:, antwoord:. Without a QUERY, the filtered Kamervragen are
    listed newest first. Filters combine with AND; a repeated filter with OR.

    \b
    Examples:
        kvsearch search "ambtenaren verkiezingen"
        kvsearch search 'waterstof -afval' --from 2024-06 --to 2024
        kvsearch search '"groene waterstof" minister:hermans' --json
        kvsearch search --minister yesilgoz --minister "de jonge" --limit 20
        kvsearch search asiel --ministry justitie --from 2022 --late --facets
        kvsearch search "cao" --per-question --unanswered
    """
    from kvsearch.search import Searcher

    filters = _make_filters(opts)
    with Searcher(obj.index) as searcher:
        if per_question:
            qresult = searcher.search_questions(
                query,
                filters,
                limit=limit,
                page=page,
                sort=sort,
                facets=facets,
                facet_limit=facet_limit,
            )
        else:
            result = searcher.search(
                query,
                filters,
                limit=limit,
                page=page,
                sort=sort,
                facets=facets,
                facet_limit=facet_limit,
            )
    if per_question:
        if as_json:
            click.echo(json.dumps(question_result_json(qresult), ensure_ascii=False, indent=2))
            return
        _print_questions(qresult)
        return
    if as_json:
        click.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
        return
    _print_result(result, questions)


def _person_json(person: Any, role: bool) -> dict[str, str]:
    out = {"name": person.name, "party": person.party}
    if role:
        out["role"] = person.role
    return out


def _kamervraag_json(kv: Any, score: float, **after_id: Any) -> dict[str, Any]:
    """The metadata of a hit's Kamervraag, as every JSON hit shows it."""
    return {
        "id": kv.id,
        **after_id,
        "title": kv.title,
        "asked": kv.asked.isoformat(),
        "answered": kv.answered.isoformat() if kv.answered else None,
        "days": kv.answer_days,
        "submitters": [_person_json(p, False) for p in kv.submitters],
        "ministers": [_person_json(p, True) for p in kv.ministers],
        "subjects": list(kv.subjects),
        "score": round(score, 4),
        "url": kv.question_url,
    }


def hit_json(hit: Any) -> dict[str, Any]:
    return {
        **_kamervraag_json(hit.kamervraag, hit.score),
        "questions": [
            {
                "nr": m.nr,
                "score": m.score,
                "snippet": m.snippet.text,
                "highlights": [list(span) for span in m.snippet.highlights],
            }
            for m in hit.questions
        ],
    }


def result_json(result: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "limit": result.limit,
        "hits": [hit_json(h) for h in result.hits],
        "suggestion": result.suggestion,
    }
    if result.facets is not None:
        out["facets"] = facets_json(result.facets)
    return out


def _highlight(fragment: Any) -> str:
    text = fragment.text
    out = []
    last = 0
    for start, end in fragment.highlights:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(click.style(text[start:end], bold=True))
        last = end
    out.append(text[last:])
    return "".join(out)


def _people(people: Any, limit: int = 3) -> str:
    names = [f"{p.name} ({p.party})" if p.party else p.name for p in people]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def _dates_line(kv: Any) -> str:
    line = f"asked {kv.asked.isoformat()}"
    if kv.answered:
        days = kv.answer_days
        line += f" · answered {kv.answered.isoformat()} ({days} day{'s' if days != 1 else ''})"
    else:
        line += " · not answered"
    return line


def _print_result(result: Any, questions: int) -> None:
    what = f" for: {result.query.strip()}" if result.query.strip() else ""
    if not result.total:
        click.echo(f"No Kamervragen found{what}")
        if result.suggestion:
            click.echo(f"Bedoelde u: {result.suggestion}")
        return
    first = (result.page - 1) * result.limit + 1
    last = first + len(result.hits) - 1
    noun = "Kamervraag" if result.total == 1 else "Kamervragen"
    shown = f"{first}-{last}" if last > first else str(first)
    if not result.hits:
        click.echo(
            f"{result.total} {noun} found{what}; page {result.page} is past the last page "
            f"({result.pages})"
        )
        _print_facets(result.facets)
        return
    click.echo(f"{result.total} {noun} found{what} (showing {shown})")
    for hit in result.hits:
        kv = hit.kamervraag
        click.echo("")
        click.echo(f"{hit.rank}. " + click.style(kv.id, bold=True) + f"  {kv.title}")
        score = f" · score {hit.score:.2f}" if _scored(result) else ""
        click.echo(f"   {_dates_line(kv)}{score}")
        click.echo(f"   by {_people(kv.submitters)}")
        if kv.ministers:
            click.echo(f"   to {_people(kv.ministers)}")
        for match in hit.questions[:questions]:
            click.echo(f"   Vraag {match.nr}: {_highlight(match.snippet)}")
    if result.suggestion:
        click.echo("")
        click.echo(f"Bedoelde u: {result.suggestion}")
    _print_facets(result.facets)
    if result.pages > result.page:
        click.echo("")
        click.echo(f"Page {result.page} of {result.pages}; next: --page {result.page + 1}")


def _scored(result: Any) -> bool:
    return bool(result.query.strip()) and result.sort == "relevance"


# ---------------------------------------------------------------- per-question output


def question_hit_json(hit: Any) -> dict[str, Any]:
    return {
        **_kamervraag_json(hit.kamervraag, hit.score, nr=hit.nr),
        "question": hit.question.text,
        "question_highlights": [list(span) for span in hit.question.highlights],
        "answer": hit.answer.text if hit.answer else None,
        "answer_highlights": [list(span) for span in hit.answer.highlights] if hit.answer else [],
    }


def question_result_json(result: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "query": result.query,
        "total": result.total,
        "kamervragen": result.kamervragen,
        "pool": result.pool,
        "page": result.page,
        "pages": result.pages,
        "limit": result.limit,
        "hits": [question_hit_json(h) for h in result.hits],
    }
    if result.facets is not None:
        out["facets"] = facets_json(result.facets)
    return out


def _print_questions(result: Any) -> None:
    what = f" for: {result.query.strip()}" if result.query.strip() else ""
    if not result.total:
        click.echo(f"No questions found{what}")
        return
    first = (result.page - 1) * result.limit + 1
    last = first + len(result.hits) - 1
    noun = "question" if result.total == 1 else "questions"
    kv_noun = "Kamervraag" if result.kamervragen == 1 else "Kamervragen"
    if result.pool is not None and result.kamervragen > result.pool:
        source = f"in the best {result.pool} of {result.kamervragen} {kv_noun}"
    else:
        source = f"in {result.kamervragen} {kv_noun}"
    if not result.hits:
        click.echo(
            f"{result.total} {noun} found{what} ({source}); page {result.page} is past the "
            f"last page ({result.pages})"
        )
        _print_facets(result.facets)
        return
    shown = f"{first}-{last}" if last > first else str(first)
    click.echo(f"{result.total} {noun} found{what} ({source}; showing {shown})")
    for hit in result.hits:
        kv = hit.kamervraag
        click.echo("")
        label = click.style(f"{kv.id} Vraag {hit.nr}", bold=True)
        click.echo(f"{hit.rank}. {label}  {kv.title}")
        score = f" · score {hit.score:.2f}" if _scored(result) else ""
        click.echo(f"   {_dates_line(kv)}{score}")
        click.echo(f"   by {_people(kv.submitters)}")
        if kv.ministers:
            click.echo(f"   to {_people(kv.ministers)}")
        click.echo(f"   Vraag: {_highlight(hit.question)}")
        answer = _highlight(hit.answer) if hit.answer else "(not answered)"
        click.echo(f"   Antwoord: {answer}")
    _print_facets(result.facets)
    if result.pages > result.page:
        click.echo("")
        click.echo(f"Page {result.page} of {result.pages}; next: --page {result.page + 1}")


# ---------------------------------------------------------------- facets

FACET_LABELS = {
    "minister": "Minister",
    "party": "Minister's party",
    "ministry": "Ministry",
    "submitter": "Submitter",
    "submitter-party": "Submitter's party",
    "subject": "Subject",
    "year": "Year asked",
    "answer-time": "Answer time",
}


def facets_json(facets: dict[str, list[tuple[str, int]]]) -> dict[str, Any]:
    return {k: [{"value": v, "count": c} for v, c in vs] for k, vs in facets.items()}


def _print_facets(facets: dict[str, list[tuple[str, int]]] | None, header: bool = True) -> None:
    """The facet counts (nothing when not asked for), under a header unless ``header`` is
    False."""
    if facets is None:
        return
    if header:
        click.echo("")
        click.echo("Facets (Kamervragen per value):")
    for name, values in facets.items():
        click.echo("")
        click.echo(click.style(FACET_LABELS.get(name, name), bold=True))
        if not values:
            click.echo("  (none)")
            continue
        width = max(len(v) for v, _c in values)
        digits = max(len(str(c)) for _v, c in values)
        for value, count in values:
            click.echo(f"  {value:<{width}}  {count:>{digits}}")


@cli.command("facets")
@click.argument("query", required=False, default="")
@_filter_options
@click.option(
    "--facets",
    "names",
    default="all",
    show_default=True,
    callback=_check_facets,
    metavar="NAMES",
    help="Facets to count: all, or some of minister, party, ministry, submitter, "
    "submitter-party, subject, year, answer-time (comma-separated).",
)
@_FACET_LIMIT
@_JSON
@click.pass_obj
@_library_errors
def facets_cmd(
    obj: _Context,
    query: str,
    names: tuple[str, ...],
    facet_limit: int,
    as_json: bool,
    **opts: Any,
) -> None:
    """Count the matching Kamervragen per minister, party, ministry, submitter, subject,
    year and answer time; no hits. Takes the same QUERY and filters as `search`.

    A Kamervraag counts once for each of its values: one answered by three ministers
    adds one to each of them.

    \b
    Examples:
        kvsearch facets
        kvsearch facets asiel --ministry justitie --from 2022
        kvsearch facets --facets party,year --facet-limit 20 --json
    """
    from kvsearch.search import Searcher

    filters = _make_filters(opts)
    with Searcher(obj.index) as searcher:
        result = searcher.count(query, filters, facets=names, facet_limit=facet_limit)
    if as_json:
        data = {"query": query, "total": result.total, "facets": facets_json(result.facets)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    what = f" for: {query.strip()}" if query.strip() else ""
    noun = "Kamervraag" if result.total == 1 else "Kamervragen"
    click.echo(f"{result.total} {noun}{what}")
    if result.total:
        _print_facets(result.facets, header=False)


# ---------------------------------------------------------------- stats

STATS_LABELS = {**FACET_LABELS, "party": "Minister's party"}


def _days(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _share(row: Any) -> str:
    return f"{round(100 * row.answered_share)}%"


def _stats_dict(row: Any) -> dict[str, Any]:
    return {
        "kamervragen": row.count,
        "answered": row.answered,
        "answered_share": round(row.answered_share, 4),
        "median_days": row.median_days,
        "p90_days": row.p90_days,
    }


@cli.command("stats")
@click.argument("query", required=False, default="")
@_filter_options
@click.option(
    "--by",
    type=click.Choice(
        ["minister", "party", "ministry", "year", "submitter", "submitter-party", "subject"]
    ),
    default="minister",
    show_default=True,
    help="Group by this (party: the answering minister's party).",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    metavar="N",
    help="Groups shown, largest first [default: 20 in the table, all in --json/--csv].",
)
@_JSON
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.pass_obj
@_library_errors
def stats_cmd(
    obj: _Context,
    query: str,
    by: str,
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    **opts: Any,
) -> None:
    """Answer statistics of the matching Kamervragen: how many, the share answered, the
    median and 90th percentile of the days to an answer (answered ones; nearest rank);
    overall and per minister, or per --by group. Takes the same QUERY and filters as
    `search`. A Kamervraag counts in each of its groups.

    \b
    Examples:
        kvsearch stats
        kvsearch stats --by party --from 2023
        kvsearch stats stikstof --by year --csv
    """
    from kvsearch.search import Searcher

    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other; give one")
    filters = _make_filters(opts)
    with Searcher(obj.index) as searcher:
        stats = searcher.stats(query, filters, by=by)
    rows = stats.rows if limit is None and (as_json or as_csv) else stats.rows[: limit or 20]
    if as_json:
        data = {
            "query": query,
            "by": by,
            "total": _stats_dict(stats.overall),
            "groups": [{"value": r.value, **_stats_dict(r)} for r in rows],
            "more_groups": len(stats.rows) - len(rows),
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if as_csv:
        import csv
        import io

        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(
            [
                "group",
                "value",
                "kamervragen",
                "answered",
                "answered_share",
                "median_days",
                "p90_days",
            ]
        )
        for group, row in [("all", stats.overall), *((by, r) for r in rows)]:
            share = round(row.answered_share, 4)
            median, p90 = _days(row.median_days), _days(row.p90_days)
            out.writerow(
                [group, row.value, row.count, row.answered, share]
                + ["" if x == "-" else x for x in (median, p90)]
            )
        click.echo(buffer.getvalue(), nl=False)
        return
    overall = stats.overall
    what = f" for: {query.strip()}" if query.strip() else ""
    noun = "Kamervraag" if overall.count == 1 else "Kamervragen"
    if not overall.count:
        click.echo(f"No Kamervragen found{what}")
        return
    click.echo(
        f"{overall.count} {noun}{what} · {overall.answered} answered ({_share(overall)}) · "
        f"median {_days(overall.median_days)} days · 90th percentile "
        f"{_days(overall.p90_days)} days"
    )
    if not rows:
        return
    header = (STATS_LABELS[by], "Kamervragen", "Answered", "Median days", "P90 days")
    table = [
        (
            r.value,
            str(r.count),
            f"{r.answered} ({_share(r)})",
            _days(r.median_days),
            _days(r.p90_days),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    click.echo("")
    for i, row in enumerate([header, *table]):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        line = "  ".join(cells).rstrip()
        click.echo(click.style(line, bold=True) if i == 0 else line)
    if len(stats.rows) > len(rows):
        more = len(stats.rows) - len(rows)
        click.echo(f"... and {more} more; show them with --limit {len(stats.rows)}")


# ---------------------------------------------------------------- show


@cli.command("show")
@click.argument("kamervraag_id", metavar="ID")
@click.option(
    "--question", "-q", "nr", type=click.IntRange(min=1), help="Only this question and its answer."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
@_library_errors
def show_cmd(obj: _Context, kamervraag_id: str, nr: int | None, as_json: bool) -> None:
    """Print one Kamervraag in full, or one of its questions.

    \b
    Examples:
        kvsearch show 2024Z01294
        kvsearch show 2024Z01294 --question 3
        kvsearch show 2024Z01294 --json
    """
    from kvsearch.errors import NotFoundError
    from kvsearch.search import Searcher

    with Searcher(obj.index) as searcher:
        kv = searcher.get(kamervraag_id)
    pairs = kv.questions
    if nr is not None:
        qa = kv.question(nr)
        if qa is None:
            raise NotFoundError(
                f"Kamervraag {kv.id} has no question {nr}; it has questions "
                f"{', '.join(str(q.nr) for q in kv.questions)}"
            )
        pairs = (qa,)
    if as_json:
        data = kv.to_dict()
        data.pop("source", None)
        data["questions"] = [qa.to_dict() for qa in pairs]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(click.style(f"Kamervraag {kv.id}", bold=True))
    click.echo(kv.title)
    click.echo("")
    click.echo(f"Asked:       {kv.asked.isoformat()}")
    if kv.answered:
        days = kv.answer_days
        click.echo(f"Answered:    {kv.answered.isoformat()} ({days} day{'s' if days != 1 else ''})")
    else:
        click.echo("Answered:    not answered")
    label = "Submitters:" if len(kv.submitters) > 1 else "Submitter:"
    click.echo(f"{label:<12} {', '.join(p.display() for p in kv.submitters)}")
    for i, person in enumerate(kv.ministers):
        click.echo(f"{'Ministers:' if i == 0 else '':<12} {person.display()}")
    if kv.subjects:
        click.echo(f"Subjects:    {', '.join(kv.subjects)}")
    if kv.question_url:
        click.echo(f"Question:    {kv.question_url}")
    if kv.answer_url:
        click.echo(f"Answer:      {kv.answer_url}")
    for qa in pairs:
        click.echo("")
        click.echo(click.style(f"Vraag {qa.nr}", bold=True))
        click.echo(f"  {qa.question}".replace("\n", "\n  "))
        if qa.answer:
            click.echo(click.style("Antwoord", bold=True))
            click.echo(f"  {qa.answer}".replace("\n", "\n  "))


# ---------------------------------------------------------------- status


@cli.command("status")
@click.option(
    "--check",
    is_flag=True,
    help="Also scan the source folder: has it changed since the last update?",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
@_library_errors
def status_cmd(obj: _Context, check: bool, as_json: bool) -> None:
    """Show what the index holds and where it came from.

    With --check, a quick scan of the source folder (file sizes and times; a content
    hash only for files whose times changed) tells whether `kvsearch index` has work to do.

    \b
    Examples:
        kvsearch status
        kvsearch --index /srv/kv-index status --check
    """
    from kvsearch.indexer import index_status

    status = index_status(obj.index, check=check)
    if as_json:
        data = status.to_dict()
        data["documents_in_index"] = status.documents
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    analyzer = f"version {status.analyzer_version}, stemmer {status.stemmer}"
    if not status.version_ok:
        analyzer += " (made by another kvsearch: run `kvsearch rebuild`)"
    rows = [
        ("Index:", str(obj.index)),
        ("Source:", status.source),
        ("Kamervragen:", f"{status.documents} ({status.questions} questions)"),
        ("Asked:", f"{status.asked_from} to {status.asked_to}"),
        (
            "Skipped:",
            _plural(status.skipped, "file")
            + (" (listed by `kvsearch index`)" if status.skipped else ""),
        ),
        ("Built:", _local_time(status.built)),
        ("Updated:", _local_time(status.updated)),
        ("Analyzer:", analyzer),
        ("Size:", f"{status.size_bytes / 1e6:.1f} MB"),
    ]
    changes = status.changes
    if changes is not None:
        if changes.any:
            text = (
                f"{changes.new} new, {changes.changed} changed, {changes.removed} removed "
                f"({changes.unchanged} unchanged); run `kvsearch index` to update"
            )
        else:
            text = f"none, the index is up to date ({_plural(changes.unchanged, 'file')})"
        if changes.unreadable:
            text += f"; {changes.unreadable} unreadable"
        rows.append(("Changes:", text))
    for label, value in rows:
        click.echo(f"{label:<12} {value}")


def _local_time(stamp: str | None) -> str:
    """An ISO time stamp as local time, to the second."""
    import datetime as dt

    if not stamp:
        return "unknown"
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def main() -> None:
    """Entry point: never a traceback, unless KVSEARCH_DEBUG is set."""
    try:
        cli.main(prog_name="kvsearch", standalone_mode=True)
    except SystemExit as exc:
        if _RUN["command"] in READ_ONLY_COMMANDS and isinstance(exc.code, int | None):
            _exit_now(exc.code or 0)
        raise
    except Exception as exc:
        if os.environ.get("KVSEARCH_DEBUG"):
            raise
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {exc} "
            "(set KVSEARCH_DEBUG=1 for details, and please report it)",
            err=True,
        )
        sys.exit(1)


def _exit_now(code: int) -> None:
    """End the process with ``code`` once stdout and stderr are flushed, skipping the
    interpreter's teardown; returns (for a normal exit) if the output cannot be flushed."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed pipe or stream: let Python's own exit handle it
    os._exit(code)
