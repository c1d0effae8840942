"""``sc``: the single-cell product profile, clone tracking and cohort comparison."""

from __future__ import annotations

import typer

sc_app = typer.Typer(help="Single-cell product profiles: profile, track, compare.")


def register(app: typer.Typer) -> None:
    """Attach the single-cell commands to the main app."""
    app.add_typer(sc_app, name="sc")
