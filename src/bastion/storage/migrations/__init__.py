"""Versioned schema migrations: ``<backend>/NNNN_name.sql``, applied in order, each once.

Both backends get a file of the same number for each change; they differ only where the
databases' types do (``BIGINT``, ``BYTEA``, ``BOOLEAN`` and an explicit ``rowid`` on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

__all__ = ["Migration", "migrations"]


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    script: str

    def statements(self) -> list[str]:
        """The script's statements (the scripts have no ';' inside literals or comments)."""
        return [s.strip() for s in self.script.split(";") if s.strip()]


def migrations(backend: str) -> list[Migration]:
    """The migrations of ``backend`` (``"sqlite"`` or ``"postgres"``), oldest first."""
    folder = resources.files(__name__).joinpath(backend)
    found = [
        Migration(int(entry.name.split("_", 1)[0]), entry.name, entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations must be numbered 1..n without gaps: {numbers}")
    return found
