"""`shortscience import ...`, `export`, `restore` and `dump`: data in and out, in-process on
the embedded default, with rich progress bars on stderr and a summary table at the end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

console = Console(stderr=True)
out = Console()
import_app = typer.Typer(help="Import paper metadata (idempotent: re-running a file changes nothing).",
                         no_args_is_help=True)


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{task.completed:,} entries · {rate:,.0f}/s", style="cyan")


def _settings():
    from gateway.config import GatewaySettings

    return GatewaySettings()


def _import(records, source: str, label: str, show_issues: int) -> None:
    from shortscience.imports.runner import run_import

    with Progress(SpinnerColumn(), TextColumn(label), RateColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)
        report = asyncio.run(run_import(_settings(), records, source=source,
                                        on_progress=lambda n: bar.update(task, completed=n)))
    table = Table(title=f"import of {label}")
    for column in ("new", "enriched", "unchanged", "duplicates", "errors", "entries/s"):
        table.add_column(column, justify="right")
    c = report.counts
    rate = report.total / report.seconds if report.seconds else 0
    table.add_row(*(str(c[k]) for k in ("new", "enriched", "unchanged", "possible_duplicate", "error")),
                  f"{rate:,.0f}")
    out.print(table)
    for outcome, where, message in report.issues[:show_issues]:
        out.print(f"  {'duplicate?' if outcome == 'possible_duplicate' else 'error':<10} {where}: {message}",
                  markup=False, highlight=False, soft_wrap=True)
    if len(report.issues) > show_issues:
        out.print(f"  ... and {len(report.issues) - show_issues} more")
    out.print(report.line(), markup=False, highlight=False, soft_wrap=True)


ShowIssues = Annotated[int, typer.Option(help="how many errors and possible duplicates to list")]


@import_app.command("bibtex")
def import_bibtex(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str | None, typer.Option(help="name of this bibliography (default: the file name)")] = None,
    show_issues: ShowIssues = 50,
) -> None:
    """Import a BibTeX file (bibtexparser v2; LaTeX accents decoded to Unicode)."""
    from shortscience.imports.bibtex import read_bibtex

    _import(read_bibtex(file), f"bibtex:{source or file.name}", file.name, show_issues)


@import_app.command("dblp")
def import_dblp(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
                show_issues: ShowIssues = 50) -> None:
    """Stream a DBLP XML export (constant memory)."""
    from shortscience.imports.dblp import read_dblp

    _import(read_dblp(file), "dblp", file.name, show_issues)


@import_app.command("arxiv")
def import_arxiv(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
                 show_issues: ShowIssues = 50) -> None:
    """Import an arXiv API Atom response saved to disk."""
    from shortscience.imports.arxiv import read_arxiv

    _import(read_arxiv(file), "arxiv", file.name, show_issues)


def _counts_table(title: str, counts: dict[str, int], seconds: float) -> None:
    table = Table(title=title)
    table.add_column("kind")
    table.add_column("records", justify="right")
    table.add_column("records/s", justify="right")
    for kind, n in counts.items():
        table.add_row(kind, str(n), "")
    total = sum(counts.values())
    table.add_row("total", str(total), f"{total / seconds:,.0f}" if seconds else "")
    out.print(table)


def export(
    out_dir: Annotated[Path, typer.Option("--out", help="directory to write (created; must be empty)")],
    credentials: Annotated[bool, typer.Option(
        "--credentials/--no-credentials",
        help="also write credentials.jsonl (argon2 password hashes) so restored users can log in")] = True,
) -> None:
    """Export everything as JSON Lines per kind plus manifest.json (counts, SHA-256)."""
    from shortscience.portability import export_all

    if out_dir.exists() and any(out_dir.iterdir()):
        console.print(f"[red]export refused:[/red] {out_dir} is not empty")
        raise typer.Exit(2)
    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), RateColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        manifest = asyncio.run(export_all(_settings(), out_dir, credentials=credentials, progress=bar))
    _counts_table(f"export to {out_dir}", manifest["counts"], time.perf_counter() - started)


def restore(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)]) -> None:
    """Restore an export into an empty installation (ids, timestamps, authors, revisions, votes, comments)."""
    from shortscience.portability import RestoreRefused, restore_all

    started = time.perf_counter()
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), RateColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            counts = asyncio.run(restore_all(_settings(), directory, progress=bar))
    except RestoreRefused as exc:
        console.print(f"[red]restore refused:[/red] {exc}")
        raise typer.Exit(2) from None
    _counts_table(f"restore from {directory}", counts, time.perf_counter() - started)


def dump() -> None:
    """Write the public data dump (papers and public summaries; anonymous ones without author)."""
    from shortscience.portability import write_dump

    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), RateColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        path, counts = asyncio.run(write_dump(_settings(), progress=bar))
    _counts_table(f"public dump {path}", counts, time.perf_counter() - started)
    out.print(str(path))
