"""Recipe shapes: how a job's power varies minute by minute on each kind of machine.

A job in a jobs file has one power level (or one per planning slot); real machines do not draw
it flat. Each shape below is a dimensionless profile whose mean over the run is exactly 1, so a
run's energy is the job's power × its duration whatever the shape (the optimiser's planned
energy), while its 15-minute profile differs by machine kind. The peaks stay within 25 %
of the mean (the twin also never lets a machine draw more than its rating). The shapes are invented
from the usual process descriptions, not measured:

- ``induction_furnace``: power ramps up from 60 % while the charge couples (first 10 %), melts
  at a plateau, then holds the bath at 80 % until tapping (last 10 %);
- ``oven`` (heat treatment): heats up at full power (first 35 %), then soaks under a thermostat
  that cycles 4 minutes at full power, 6 minutes at 80 %;
- ``shot_blaster``: blasts for 7 minutes, loads and unloads at about half power for 3;
- ``compressor``: load/unload cycling, 5 minutes loaded, 2 unloaded at 30 %;
- ``generic``: flat.
"""

from __future__ import annotations

import numpy as np


def _cycle(minutes: int, high_min: int, low_min: int, low: float) -> np.ndarray:
    period = np.concatenate([np.ones(high_min), np.full(low_min, low)])
    return np.resize(period, minutes)


def _furnace(minutes: int) -> np.ndarray:
    position = (np.arange(minutes) + 0.5) / minutes
    ramp = np.clip(0.6 + 0.4 * position / 0.1, None, 1.0)
    return np.where(position < 0.9, ramp, 0.8)


def _oven(minutes: int) -> np.ndarray:
    heat = int(round(0.35 * minutes))
    return np.concatenate([np.ones(heat), _cycle(minutes - heat, 4, 6, 0.8)])


_SHAPES = {
    "generic": np.ones,
    "induction_furnace": _furnace,
    "oven": _oven,
    "shot_blaster": lambda minutes: _cycle(minutes, 7, 3, 0.5),
    "compressor": lambda minutes: _cycle(minutes, 5, 2, 0.3),
}


def recipe_shape(kind: str, minutes: int) -> np.ndarray:
    """The per-minute shape (mean exactly 1) of a ``minutes``-long run on a ``kind`` machine."""
    if minutes <= 0:
        return np.zeros(0)
    shape = np.asarray(_SHAPES[kind](minutes), dtype=float)
    return shape / shape.mean()
