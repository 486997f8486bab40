"""SQL kept in ``.sql`` files next to the code that runs it, and identifiers quoted safely.

Values never go into SQL text: pass them as ``?`` / ``$name`` parameters. Only identifiers (schema,
table, column names) can be placed in a statement, and only through :func:`quote_identifier`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_sql(anchor: str, name: str) -> str:
    """The text of ``sql/<name>.sql`` in the package folder of ``anchor`` (pass ``__file__``)."""
    path = Path(anchor).resolve().parent / "sql" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} not found")
    return _read(path)


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB quoted identifier (double quotes doubled inside)."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def qualified_name(qualified: str) -> str:
    """``schema.table`` (or ``table``) with each part quoted."""
    return ".".join(quote_identifier(part) for part in qualified.split("."))
