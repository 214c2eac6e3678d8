"""``energy ui``: the Streamlit dashboard."""

from __future__ import annotations

from energy.cli.app import DbOption, app, not_available


@app.command()
def ui(db: DbOption = None) -> None:
    """Start the dashboard on the database."""
    not_available("ui", "dashboard")
