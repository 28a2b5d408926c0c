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


# ---------------------------------------------------------------- index / rebuild


def _progress_printer(enabled: bool) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A progress callback: a bar on a terminal, a plain line per 10% otherwise."""
    if not enabled:
        return (lambda _e: None), (lambda: None)
    err = sys.stderr
    state: dict[str, Any] = {"bar": None}
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
        if tty:
            if state["bar"] is None:
                state["bar"] = click.progressbar(
                    length=event.total, label="Indexing", file=err, show_pos=True
                )
                state["bar"].__enter__()
            state["bar"].length = max(state["bar"].length, event.total)
            state["bar"].update(1)
            return
        step = max(500, event.total // 10)
        if event.done == event.total or event.done % step == 0:
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


def _filters(minister: tuple[str, ...], date_from: Any, date_to: Any) -> Any:
    from kvsearch.search import Filters

    return Filters(
        ministers=minister,
        date_from=date_from[0] if date_from else None,
        date_to=date_to[1] if date_to else None,
    )


@cli.command("search")
@click.argument("query", required=False, default="")
@click.option(
    "--minister",
    multiple=True,
    metavar="NAME",
    help="Answered by this minister: any whole word(s) of the name, case and accents "
    "ignored. Repeat for OR.",
)
@_date_option("--from", "Asked on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).")
@_date_option("--to", "Asked on or before DATE (a partial date covers its whole period).")
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
@_library_errors
def search_cmd(
    obj: _Context,
    query: str,
    minister: tuple[str, ...],
    limit: int,
    page: int,
    questions: int,
    as_json: bool,
    **dates: Any,
) -> None:
    """Search the index; the best-matching Kamervragen first.

    QUERY: words, "phrases", AND / OR / NOT, -word, prefix*, and fields: minister:,
    indiener:, partij:, onderwerp:, titel:, vraag:, antwoord:. Without a QUERY, the
    filtered Kamervragen are listed newest first.

    \b
    Examples:
        kvsearch search "ambtenaren verkiezingen"
        kvsearch search 'waterstof -afval' --from 2024-06 --to 2024
        kvsearch search '"groene waterstof" minister:hermans' --json
        kvsearch search --minister yesilgoz --minister "de jonge" --limit 20
    """
    from kvsearch.search import Searcher

    filters = _filters(minister, dates.get("from"), dates.get("to"))
    with Searcher(obj.index) as searcher:
        result = searcher.search(query, filters, limit=limit, page=page)
    if as_json:
        click.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
        return
    _print_result(result, questions)


def _person_json(person: Any, role: bool) -> dict[str, str]:
    out = {"name": person.name, "party": person.party}
    if role:
        out["role"] = person.role
    return out


def hit_json(hit: Any) -> dict[str, Any]:
    kv = hit.kamervraag
    return {
        "id": kv.id,
        "title": kv.title,
        "asked": kv.asked.isoformat(),
        "answered": kv.answered.isoformat() if kv.answered else None,
        "days": kv.answer_days,
        "submitters": [_person_json(p, False) for p in kv.submitters],
        "ministers": [_person_json(p, True) for p in kv.ministers],
        "subjects": list(kv.subjects),
        "score": round(hit.score, 4),
        "url": kv.question_url,
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
        out["facets"] = {
            k: [{"value": v, "count": c} for v, c in vs] for k, vs in result.facets.items()
        }
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
        return
    click.echo(f"{result.total} {noun} found{what} (showing {shown})")
    for hit in result.hits:
        kv = hit.kamervraag
        click.echo("")
        click.echo(f"{hit.rank}. " + click.style(kv.id, bold=True) + f"  {kv.title}")
        score = f" · score {hit.score:.2f}" if result.query.strip() else ""
        click.echo(f"   {_dates_line(kv)}{score}")
        click.echo(f"   by {_people(kv.submitters)}")
        if kv.ministers:
            click.echo(f"   to {_people(kv.ministers)}")
        for match in hit.questions[:questions]:
            click.echo(f"   Vraag {match.nr}: {_highlight(match.snippet)}")
    if result.suggestion:
        click.echo("")
        click.echo(f"Bedoelde u: {result.suggestion}")
    if result.pages > result.page:
        click.echo("")
        click.echo(f"Page {result.page} of {result.pages}; next: --page {result.page + 1}")


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
    except Exception as exc:
        if os.environ.get("KVSEARCH_DEBUG"):
            raise
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {exc} "
            "(set KVSEARCH_DEBUG=1 for details, and please report it)",
            err=True,
        )
        sys.exit(1)
