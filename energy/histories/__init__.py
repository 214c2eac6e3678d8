"""Histories: raw readings → per-meter, per-machine and site interval energy with quality flags.

Pipeline (pure functions on DataFrames, storage at the edges):

- :mod:`~energy.histories.intervals`: one meter's readings → intervals (counters, resets,
  rollovers, spikes, gaps, power integration);
- :mod:`~energy.histories.site`: meters → machines (dated assignments), virtual meters, site total;
- :mod:`~energy.histories.series`: complete grids, sums with quality propagation, local calendar totals;
- :mod:`~energy.histories.states`: machine states (off, idle, producing) from measurements, standby energy;
- :mod:`~energy.histories.process`: incremental, idempotent processing of stored readings;
- :mod:`~energy.histories.imports`: interval CSV import (the steel-plant file included);
- :mod:`~energy.histories.api`: reading any series back at any resolution;
- :mod:`~energy.histories.store`: the ``intervals`` table.

Entry points: :func:`process_site` (readings stored so far → every series), :func:`history`,
:func:`meter_history`, :func:`machine_history`, :func:`site_history` and :func:`idle_history`
(tz-aware DataFrames at any resolution), :func:`machine_states` (per interval: state, minutes and
energy per state), :func:`import_intervals`. See docs/histories.md.
"""

from energy.histories.api import history, machine_history, meter_history, site_history
from energy.histories.imports import import_intervals, read_interval_csv, read_steel_csv
from energy.histories.process import ProcessSummary, process_site
from energy.histories.states import idle_history, machine_states

__all__ = [
    "history",
    "idle_history",
    "import_intervals",
    "machine_history",
    "machine_states",
    "meter_history",
    "ProcessSummary",
    "process_site",
    "read_interval_csv",
    "read_steel_csv",
    "site_history",
]
