"""CSPLib 059 / ICON Challenge 2014 ("Energy-Cost Aware Scheduling"): instances in, scores out.

The specification is ``shared/data/benchmarks/icon2014/iconchallenge.txt`` (Simonis et al., CC BY
4.0). An instance has machines (idle power, start-up and shut-down cost, resource capacities) and
tasks (duration, earliest start, latest end, constant power, resource use) over a day of
``1440 / q`` periods; a price file gives EUR/kWh per period. All machines are off at the start and
at the end, every task runs on any machine whose capacities it fits.

- :func:`read_instance`, :func:`read_prices` parse the two text formats;
- :func:`to_problem` turns them into the contract's problem JSON (no base load, PV, export, CO2
  or demand charge, so the contract's cost *is* the ICON cost);
- :func:`icon_cost` scores a schedule with the specification's own formula (12)–(16), written
  independently of the project's checker: cJ (task energy) + cM (idle energy of running
  machines) + c_up + c_down, each energy term power × price × q/60;
- :func:`write_solution` writes a schedule in the ICON solution format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from energy.errors import InputError


@dataclass(frozen=True)
class IconMachine:
    """A server: idle power (kW while on), start-up/shut-down cost (EUR), capacity per resource."""

    id: int
    idle: float
    up: float
    down: float
    capacity: tuple[int, ...]


@dataclass(frozen=True)
class IconTask:
    """A task: duration, earliest start and latest end in periods, constant power (kW), resource use."""

    id: int
    duration: int
    window: tuple[int, int]  # (earliest start, latest end)
    power: float
    uses: tuple[int, ...]

    @property
    def earliest(self) -> int:
        return self.window[0]

    @property
    def latest_end(self) -> int:
        return self.window[1]


@dataclass(frozen=True)
class IconInstance:
    """An instance: period length ``q`` (minutes), resource count, machines and tasks."""

    q: int
    resources: int
    machines: tuple[IconMachine, ...]
    tasks: tuple[IconTask, ...]


def _numbers(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").split()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc


def read_instance(path: str | Path) -> IconInstance:
    """Parse an ICON ``instance.txt`` (errors name the file and the entry)."""
    path = Path(path)
    tokens = _numbers(path)
    position = 0

    def take(kind, what):
        nonlocal position
        if position >= len(tokens):
            raise InputError(f"{path}: ended early, expected {what}")
        try:
            value = kind(tokens[position])
        except ValueError as exc:
            raise InputError(f"{path}: {what}: not a number: {tokens[position]!r}") from exc
        position += 1
        return value

    q = take(int, "time resolution")
    resources = take(int, "number of resources")
    machines = []
    for k in range(take(int, "number of machines")):
        machine_id = take(int, f"machine {k}: id")
        idle, up, down = (take(float, f"machine {machine_id}: {name}") for name in ("idle", "up", "down"))
        capacity = tuple(take(int, f"machine {machine_id}: capacity {r}") for r in range(resources))
        machines.append(IconMachine(machine_id, idle, up, down, capacity))
    tasks = []
    for k in range(take(int, "number of tasks")):
        task_id = take(int, f"task {k}: id")
        duration, earliest, latest_end = (take(int, f"task {task_id}: {name}") for name in ("duration", "earliest", "latest end"))
        power = take(float, f"task {task_id}: power")
        uses = tuple(take(int, f"task {task_id}: resource {r}") for r in range(resources))
        tasks.append(IconTask(task_id, duration, (earliest, latest_end), power, uses))
    return IconInstance(q, resources, tuple(machines), tuple(tasks))


def read_prices(path: str | Path) -> list[float]:
    """Parse an ICON price file (``forecast.txt``): the count, then 'period price' lines; EUR/kWh."""
    path = Path(path)
    tokens = _numbers(path)
    count = int(tokens[0])
    pairs = tokens[1:]
    if len(pairs) != 2 * count:
        raise InputError(f"{path}: announces {count} periods but has {len(pairs) // 2}")
    prices = [0.0] * count
    for k in range(count):
        period, price = int(pairs[2 * k]), float(pairs[2 * k + 1])
        if not 0 <= period < count:
            raise InputError(f"{path}: line {k + 2}: period {period} outside 0…{count - 1}")
        prices[period] = price
    return prices


def machine_name(machine: IconMachine) -> str:
    return f"m{machine.id}"


def task_name(task: IconTask) -> str:
    return f"t{task.id}"


def to_problem(instance: IconInstance, prices: list[float], name: str = "icon") -> dict:
    """The contract problem of an ICON instance and price series (tasks may use any machine they fit)."""
    resources = [f"r{r}" for r in range(instance.resources)]
    machines = [
        {
            "id": machine_name(m),
            "idle_kw": m.idle,
            "startup_eur": m.up,
            "shutdown_eur": m.down,
            "capacity": dict(zip(resources, m.capacity)),
        }
        for m in instance.machines
    ]
    jobs = []
    for task in instance.tasks:
        eligible = [machine_name(m) for m in instance.machines if all(u <= c for u, c in zip(task.uses, m.capacity))]
        jobs.append({
            "id": task_name(task),
            "machines": eligible,
            "duration_slots": task.duration,
            "power_kw": task.power,
            "earliest_start_slot": task.earliest,
            "deadline_slot": task.latest_end,
            "uses": dict(zip(resources, task.uses)),
        })
    return {
        "name": name,
        "start": "2014-01-01T00:00:00+00:00",
        "resolution_minutes": instance.q,
        "horizon_slots": len(prices),
        "price_eur_per_kwh": prices,
        "machines": machines,
        "jobs": jobs,
    }


def icon_cost(instance: IconInstance, prices: list[float], schedule: dict) -> dict:
    """The ICON objective (12)–(16) of a contract schedule, and its constraint violations.

    Returns ``{"cost": total, "c_J": …, "c_M": …, "c_up": …, "c_down": …, "violations": [...]}``.
    """
    h = instance.q / 60.0
    horizon = len(prices)
    machines = {machine_name(m): m for m in instance.machines}
    tasks = {task_name(t): t for t in instance.tasks}
    violations = []
    running = {m: [0] * horizon for m in machines}  # machine → task count per period (for v ⇐ x)
    use = {m: [[0] * horizon for _ in range(instance.resources)] for m in machines}
    c_j = 0.0
    placed = {entry["id"]: (entry["machine"], entry["start_slot"]) for entry in schedule.get("jobs", [])}
    for task_id, task in tasks.items():
        if task_id not in placed:
            violations.append(f"task {task.id} is not scheduled (1)")
            continue
        machine_id, start = placed[task_id]
        if start < task.earliest:
            violations.append(f"task {task.id} starts at {start} before its earliest start {task.earliest} (2)")
        if start + task.duration > task.latest_end:
            violations.append(f"task {task.id} ends at {start + task.duration} after its latest end {task.latest_end} (3)")
        for t in range(max(start, 0), min(start + task.duration, horizon)):
            c_j += task.power * prices[t] * h
            running[machine_id][t] += 1
            for r in range(instance.resources):
                use[machine_id][r][t] += task.uses[r]
    c_m = c_up = c_down = 0.0
    for machine_id, machine in machines.items():
        active = [False] * horizon
        for first, end in schedule.get("machines_on", {}).get(machine_id, []):
            for t in range(first, end):
                active[t] = True
        for t in range(horizon):
            if running[machine_id][t] and not active[t]:
                violations.append(f"machine {machine.id} runs a task at {t} while off (9)")
                break
        for r in range(instance.resources):
            over = [t for t in range(horizon) if use[machine_id][r][t] > machine.capacity[r]]
            if over:
                violations.append(f"machine {machine.id}: resource {r} over capacity from period {over[0]} (4)")
        c_m += sum(machine.idle * prices[t] * h for t in range(horizon) if active[t])
        previous = False  # all machines off at the start and after the end
        for state in active + [False]:
            c_up += machine.up * (state and not previous)
            c_down += machine.down * (previous and not state)
            previous = state
    return {"cost": c_j + c_m + c_up + c_down, "c_J": c_j, "c_M": c_m, "c_up": c_up, "c_down": c_down,
            "violations": violations}


def write_solution(instance: IconInstance, schedule: dict, path: str | Path) -> None:
    """The schedule in the ICON solution format (machines' on/off events, then task machine and start)."""
    lines = [str(len(instance.machines))]
    for machine in instance.machines:
        events = []
        for first, end in schedule["machines_on"].get(machine_name(machine), []):
            events += [f"1 {first}", f"0 {end}"]
        lines += [str(machine.id), str(len(events)), *events]
    placed = {entry["id"]: entry for entry in schedule["jobs"]}
    lines.append(str(len(instance.tasks)))
    for task in instance.tasks:
        entry = placed[task_name(task)]
        lines.append(f"{task.id} {entry['machine'][1:]} {entry['start_slot']}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
