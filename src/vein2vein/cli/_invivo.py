"""``invivo``: dose-finding designs, their operating characteristics, the sliding scale."""

from __future__ import annotations

import typer

invivo_app = typer.Typer(help="In vivo CAR-T programs: dose finding and the sliding scale.")


def register(app: typer.Typer) -> None:
    """Attach the in vivo commands to the main app."""
    app.add_typer(invivo_app, name="invivo")
