"""The twin file: how the simulated plant's machines, orders and operators really behave.

A twin file is a TOML file beside the site file (``twin.toml``; the demo's is
``data/demo/twin.toml``). It describes what the product cannot know and must estimate: machine
states and their power, recipe shapes, the base load, losses and the disturbances of real
operation. Every field is described in ``docs/twin.md``; a machine of the site that the twin
file does not describe runs as a ``generic`` machine with the site's ``idle_kw``.

``load_twin_params(path, config)`` returns :class:`TwinParams`; a problem raises
:class:`energy.errors.InputError` naming the file and the field, like the site file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from energy.config import Identifier, SiteConfig, describe_validation_error, read_toml
from energy.errors import InputError

#: Recipe shapes per machine kind (``energy.twin.recipes``).
MachineKind = Literal["generic", "induction_furnace", "oven", "shot_blaster", "compressor"]
Percent = Annotated[float, Field(ge=0, le=100)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TwinMachine(_Section):
    """One machine's true behaviour."""

    id: Identifier
    kind: MachineKind = "generic"
    idle_kw: float | None = Field(None, ge=0, description="standby power; default: the site file's idle_kw")
    rated_kw: float | None = Field(None, gt=0, description="the most it can draw; default: the site file's rated_kw")
    noise_pct: Percent = Field(2.0, description="minute-to-minute noise, % of the level (1 sigma)")
    warmup_min: int = Field(0, ge=0, le=240, description="minutes of warming before each switch-on's first use")
    warmup_kw: float = Field(0.0, ge=0)
    idle_after_min: int = Field(0, ge=0, le=720, description="minutes left idling after each planned switch-off")
    duty_kw: float = Field(0.0, ge=0, description="non-flexible machines: mean power while producing in a shift")


class BaseLoad(_Section):
    """The plant's non-flexible load (lighting, cranes, offices, auxiliaries) that no sub-meter sees."""

    file: Path | None = Field(None, description="UCI steel-industry CSV used on the site's local clock")
    scale: float = Field(1.0, ge=0)
    floor_kw: float = Field(0.0, ge=0, description="constant auxiliaries added to the scaled file")


class Orders(_Section):
    """Which of the jobs file's jobs the plant has to make each day (its order book)."""

    weekday_job_probability: Probability = 1.0
    saturday_job_probability: Probability = 0.0
    energy_spread_pct: Percent = Field(0.0, description="job-to-job spread of a job's energy, % (1 sigma)")


class Disturbances(_Section):
    """What goes differently from the plan, drawn per day from the twin's seed."""

    delay_probability: Probability = 0.0
    delay_mean_min: float = Field(20.0, gt=0, description="mean of an exponential start delay")
    cancel_probability: Probability = 0.0
    breakdowns_per_machine_year: float = Field(0.0, ge=0)
    breakdown_hours: tuple[float, float] = (2.0, 8.0)
    extra_run_probability: Probability = Field(0.0, description="per flexible machine and working day")
    ignored_day_probability: Probability = Field(0.0, description="operators run the site's own plan instead")
    weekend_idle_probability: Probability = Field(0.0, description="per machine: left idling over a non-working stretch")

    @model_validator(mode="after")
    def _hours_ordered(self) -> Disturbances:
        low, high = self.breakdown_hours
        if not 0 < low <= high <= 48:
            raise ValueError("breakdown_hours: give [shortest, longest] hours, 0 < shortest ≤ longest ≤ 48")
        return self


class TwinParams(_Section):
    seed: int = 0
    losses_pct: Percent = Field(0.0, description="cable and transformer losses, % of the plant's consumption")
    base_load: BaseLoad = BaseLoad()
    machines: list[TwinMachine] = []
    orders: Orders = Orders()
    disturbances: Disturbances = Disturbances()
    path: Path | None = Field(None, exclude=True)

    def resolve(self, relative: Path | None) -> Path | None:
        if relative is None or relative.is_absolute() or self.path is None:
            return relative
        return self.path.parent / relative

    def machine(self, machine_id: str) -> TwinMachine | None:
        return next((m for m in self.machines if m.id == machine_id), None)


def parse_twin_params(data: dict, config: SiteConfig, path: Path | None = None) -> TwinParams:
    """Validate a twin file's content against the site it simulates."""
    source = str(path) if path else "twin"
    try:
        params = TwinParams.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(source, exc)) from exc
    known = {m.id for m in config.machines}
    seen: set[str] = set()
    for i, machine in enumerate(params.machines):
        if machine.id not in known:
            raise InputError(f"{source}: machines[{i}].id: unknown machine {machine.id!r} (the site has: {', '.join(sorted(known))})")
        if machine.id in seen:
            raise InputError(f"{source}: machines[{i}].id: duplicate id {machine.id!r}")
        seen.add(machine.id)
    return params.model_copy(update={"path": path.resolve() if path else None})


def load_twin_params(path: str | Path, config: SiteConfig) -> TwinParams:
    """Read and validate a twin file for the site ``config``."""
    path = Path(path)
    return parse_twin_params(read_toml(path, "twin"), config, path)
