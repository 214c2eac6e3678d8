"""A durable local spool of reading batches for when the database is unreachable.

Each batch is one file ``<sequence>.csv`` in the spool folder (columns of the ``readings``
table), written to a temporary name, fsync'd, renamed into place, and the folder fsync'd: after
:meth:`Spool.append` returns, the batch survives a crash or power loss. Batches are replayed
oldest first and a file is deleted only after its rows are committed; a crash between the
commit and the delete replays the batch again, which the database ignores (readings are
idempotent on meter + instant). So every reading arrives once and in order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pandas as pd

COLUMNS = ["meter_id", "epoch_ms", "energy_kwh", "power_kw", "quality"]
_DTYPES = {"meter_id": str, "epoch_ms": "int64", "energy_kwh": float, "power_kw": float, "quality": str}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)  # created by the first batch that needs it
        for leftover in self.folder.glob("*.tmp"):  # a write the last run did not finish
            leftover.unlink()

    def files(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(self.folder.glob("*.csv"))

    def __len__(self) -> int:
        return len(self.files())

    def append(self, rows: pd.DataFrame) -> Path:
        """Store one batch durably (see the module doc)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        existing = self.files()
        sequence = int(existing[-1].stem) + 1 if existing else 1
        final = self.folder / f"{sequence:012d}.csv"
        temporary = final.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            rows[COLUMNS].to_csv(handle, index=False, float_format="%.17g")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(self.folder)
        return final

    @staticmethod
    def read(path: Path) -> pd.DataFrame:
        return pd.read_csv(path, dtype=_DTYPES, keep_default_na=False, na_values={"energy_kwh": [""], "power_kw": [""]})

    def drain(self, write: Callable[[pd.DataFrame], object]) -> int:
        """Hand every batch, oldest first, to ``write``; delete each once ``write`` returns.

        Stops at the first batch ``write`` raises on (the exception propagates). Returns the
        number of rows written.
        """
        written = 0
        for path in self.files():
            rows = self.read(path)
            write(rows)
            path.unlink()
            _fsync_dir(self.folder)
            written += len(rows)
        return written
