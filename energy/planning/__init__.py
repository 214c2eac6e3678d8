"""Planning: the nightly job that turns tomorrow's jobs into a stored, exported, explainable plan.

Modules: ``jobs`` (the MES/ERP jobs file), ``recipes`` (power profiles learned from history),
``inputs`` (the day's stored forecasts, prices and carbon factors per slot), ``problem`` (the
optimiser's contract problem), ``runs`` (runs as records, the lock), ``export`` (the atomic MES
export), ``savings`` (realised savings), ``nightly`` (the job itself and replays).
"""

from energy.planning.nightly import ReplayResult, RunSummary, replay, run_nightly

__all__ = ["ReplayResult", "RunSummary", "replay", "run_nightly"]
