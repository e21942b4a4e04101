"""`strongroom search` and `strongroom reindex`: the sealed full-text index from the command line."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import click

from records.ports import SearchRequest, SearchResult
from web.cli.common import ACTOR, open_office, progress_bar, scope_of

JSON_FACETS = ("record_class", "principal", "year", "state")
_TAG = re.compile(r"</?mark>")


def result_json(result: SearchResult) -> dict[str, Any]:
    return {
        "total": result.total,
        "total_exact": result.total_exact,
        "page": result.page,
        "hits": [{"id": h.record_id, "registry_number": h.registry_number, "title": h.title,
                  "record_class": h.record_class, "score": round(h.score, 4), "snippet": h.snippet}
                 for h in result.hits],
        "facets": {name: result.facets.get(name, {}) for name in JSON_FACETS},
        "suggestion": result.suggestion,
    }


def _plain(snippet: str) -> str:
    return html.unescape(_TAG.sub("*", snippet))


@click.command("search")
@click.argument("query")
@click.option("--as", "as_user", help="Search as this user (their clearance and principals apply).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True, help="Hits per page.")
@click.option("--page", type=click.IntRange(1, 500), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), default="relevance", show_default=True)
@click.pass_obj
def search(obj: dict[str, object], query: str, as_user: str | None, as_json: bool, limit: int, page: int,
           sort: str) -> None:
    """Full-text search: words, "phrases", OR, -word, prefix*, class: principal: from: tag: state:
    year:2024..2026 date:2025-01-01..2025-12-31."""
    with open_office(obj) as office:
        result = office.search(SearchRequest(query, page=page, page_len=limit, sort=sort),
                               scope_of(office, as_user))
    if as_json:
        click.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
        return
    first = (result.page - 1) * result.page_len + 1
    if not result.hits:
        click.echo("No records match." + (f" Did you mean: {result.suggestion}?" if result.suggestion else ""))
        return
    count = f"{result.total}" if result.total_exact else f"More than {result.total}"
    click.echo(f"{count} records match; showing {first}-{first + len(result.hits) - 1}.")
    for hit in result.hits:
        click.echo(f"{hit.registry_number}  {hit.title}  [{hit.record_class}]")
        if hit.snippet:
            click.echo(f"    {_plain(hit.snippet)}")


@click.command("reindex")
@click.pass_obj
def reindex(obj: dict[str, object]) -> None:
    """Rebuild the search index from the vault's sealed text renditions (the old index serves
    until the new one is complete)."""
    with open_office(obj) as office, progress_bar("Indexing") as progress:
        count = office.reindex(actor=ACTOR, progress=progress)
    click.echo(f"Indexed {count} records.")


COMMANDS = (search, reindex)
