"""Simulated load: power as a function of time and the energy counter that integrates it exactly.

A :class:`LoadModel` is a periodic sequence of step levels (kW, one per ``step_s`` seconds, from
``origin_s`` in UTC epoch seconds) with an optional zero-mean ripple of ``ripple`` × level
(three sine periods per step, so each step's energy is its level × its length). The energy
counter (kWh since ``origin_s``) is the closed-form integral of that power, so the energy served
between any two instants is exactly the integral of the power served in between.

The simulator (:mod:`energy.metering.simulate`) shapes its meters on a real steel plant's
15-minute load (``data/demo/steel_industry_2018_15min.csv``, see ``data/demo/ATTRIBUTION.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RIPPLE_CYCLES = 3


@dataclass(frozen=True)
class LoadModel:
    levels_kw: np.ndarray
    step_s: float
    origin_s: float = 0.0
    ripple: float = 0.0

    def __post_init__(self):
        levels = np.asarray(self.levels_kw, dtype=float)
        object.__setattr__(self, "levels_kw", levels)
        # cumulative energy (kWh) at the start of each step, and over one whole period
        object.__setattr__(self, "_starts_kwh", np.concatenate([[0.0], np.cumsum(levels) * self.step_s / 3600.0]))

    @property
    def period_s(self) -> float:
        return len(self.levels_kw) * self.step_s

    def _locate(self, t_s: float) -> tuple[int, int, float]:
        """(whole periods since origin, step index, seconds into the step)."""
        elapsed = t_s - self.origin_s
        periods = math.floor(elapsed / self.period_s)
        into = elapsed - periods * self.period_s
        step = min(int(into // self.step_s), len(self.levels_kw) - 1)
        return periods, step, into - step * self.step_s

    def power_kw(self, t_s: float) -> float:
        _, step, tau = self._locate(t_s)
        phase = 2 * math.pi * RIPPLE_CYCLES * tau / self.step_s
        return float(self.levels_kw[step] * (1.0 + self.ripple * math.sin(phase)))

    def energy_kwh(self, t_s: float) -> float:
        """∫ power from ``origin_s`` to ``t_s`` (kWh; negative before the origin)."""
        periods, step, tau = self._locate(t_s)
        omega = 2 * math.pi * RIPPLE_CYCLES / self.step_s
        within_s = tau + self.ripple * (1.0 - math.cos(omega * tau)) / omega
        return float(periods * self._starts_kwh[-1] + self._starts_kwh[step] + self.levels_kw[step] * within_s / 3600.0)


@dataclass(frozen=True)
class SumLoad:
    """The sum of several loads (a main meter that sees its sub-meters plus a remainder)."""

    parts: tuple

    def power_kw(self, t_s: float) -> float:
        return sum(part.power_kw(t_s) for part in self.parts)

    def energy_kwh(self, t_s: float) -> float:
        return sum(part.energy_kwh(t_s) for part in self.parts)
