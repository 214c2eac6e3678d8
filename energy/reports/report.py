"""The sustainability report: build every table for a period, then write it in one format.

``build_report`` reads storage once (:mod:`energy.reports.inputs`, :mod:`energy.emissions`) and
computes the tables with pure functions; ``save_report`` renders them as CSV, XLSX or PDF into a
temporary file beside the target and renames it into place, so a failed request never leaves a
partial file; ``write_report`` does both.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from energy.config import SiteConfig
from energy.emissions import allocation_start, factor_table, load_factor_sources, load_instruments, quality
from energy.errors import InputError
from energy.forecasts.pv import read_weather_csv
from energy.histories.series import interval_grid
from energy.reports import inputs, performance, scheduling, scope2, tables
from energy.reports.production import read_production_csv
from energy.storage.db import require_schema
from energy.timeutil import from_epoch_ms

FORMATS = ("csv", "xlsx", "pdf")


@dataclass(frozen=True)
class Table:
    """One table of the report: ``name`` is its CSV file stem and XLSX sheet name (≤ 31 chars)."""

    name: str
    title: str
    description: str
    frame: pd.DataFrame


@dataclass
class Report:
    """Every table of a report, in reading order, and what the writers put on the cover."""

    site: str
    period: inputs.Period
    generated_utc: str
    tables: list[Table]

    def table(self, name: str) -> pd.DataFrame:
        for table in self.tables:
            if table.name == name:
                return table.frame
        raise KeyError(name)


def site_flows(site: inputs.IntervalSeries, pv: dict[str, inputs.IntervalSeries], has_main_meter: bool) -> tuple[scope2.GridFlows, np.ndarray]:
    """The site's grid flows and the quality code of each interval (worst of site and PV)."""
    pv_kwh, pv_code = np.zeros(len(site.kwh)), np.zeros(len(site.kwh), dtype="int8")
    for meter in pv.values():
        pv_kwh += np.nan_to_num(meter.kwh)
        pv_code = np.maximum(pv_code, meter.code)
    flows = scope2.grid_flows(site.kwh, site.code < 2, pv_kwh, pv_code < 2, has_main_meter)
    return flows, np.maximum(site.code, pv_code)


def _load_flows(engine: Engine, config: SiteConfig, index: pd.DatetimeIndex) -> tuple[scope2.GridFlows, np.ndarray]:
    data = inputs.load_site_series(engine, config, index, machines=[])
    return site_flows(data.site, data.pv, data.has_main_meter)


def _check_machines(config: SiteConfig, machines: list[str] | None) -> list[str]:
    known = [m.id for m in config.machines]
    if machines is None:
        return known
    for machine in machines:
        if machine not in known:
            raise InputError(f"--machine: unknown machine {machine!r} (config has: {', '.join(known) or 'none'})")
    return list(dict.fromkeys(machines))


def _check_data(engine: Engine, p: inputs.Period, machines: list[str]) -> None:
    for kind, ids in (("site", [inputs.SITE_ID]), ("machine", machines)):
        span = inputs.stored_span(engine, kind, ids) if ids else None
        if span and span[0] < p.end and span[1] >= p.start:
            return
    raise InputError(
        f"--from/--to: no site or machine intervals stored from {p.first_day} to {p.last_day} "
        "(import or collect readings and process them into intervals first)"
    )


def local_time(instant: pd.Timestamp | None, tz: str) -> str:
    """An instant as the site's local date (at midnight) or date and time; ``open`` for None."""
    if not isinstance(instant, pd.Timestamp) or pd.isna(instant):
        return "open"
    local = instant.tz_convert(tz)
    return local.strftime("%Y-%m-%d") if local == local.normalize() else local.strftime("%Y-%m-%d %H:%M")


def _source_catalogue(sources, instruments, tz: str) -> pd.DataFrame:
    """source_id → citation and validity (local time of the site) of every factor source and instrument."""
    table = factor_table(sources, instruments)
    catalogue = pd.DataFrame({"source_id": table["id"], "citation": table["source"]})
    for name in ("valid_from", "valid_to"):
        catalogue[name] = table[name].map(lambda t: local_time(t, tz))
    return catalogue.assign(vintage=table["vintage"], gases=table["gases"].fillna("not stated"))


def _import_series(engine: Engine, config: SiteConfig, p: inputs.Period, flows: scope2.GridFlows, index: pd.DatetimeIndex, instruments) -> pd.Series:
    """Grid import on the period, preceded by the import since the earliest instrument valid at
    the period's start (read for the time-ordered allocation of instruments)."""
    period_import = pd.Series(flows.import_kwh, index=index)
    first = allocation_start(instruments, p.start)
    if first >= p.start:
        return period_import
    before = interval_grid(first, p.start, config.site.interval_minutes)
    return pd.concat([pd.Series(_load_flows(engine, config, before)[0].import_kwh, index=before), period_import])


def _daily_consumption(flows: scope2.GridFlows, code: np.ndarray, index: pd.DatetimeIndex, tz: str) -> pd.DataFrame:
    """Per local day: site consumption (kWh) and whether no interval is missing."""
    return tables.daily_energy(flows.consumption_kwh, code, tables.local_days(index, tz))


def _production(config: SiteConfig, production: str | Path | pd.DataFrame | None) -> tuple[pd.DataFrame | None, str]:
    """The production rows (``production``, else ``[enpi] production_file``) and where they came from."""
    if production is None and config.enpi.production_file is not None:
        production = config.resolve(config.enpi.production_file)
    if isinstance(production, (str, Path)):
        return read_production_csv(production, [m.id for m in config.machines]), str(production)
    return production, "the production data"


def baseline_period(config: SiteConfig, first_day: dt.date, baseline: tuple[str | dt.date, str | dt.date] | None = None) -> inputs.Period:
    """The EnPI baseline of a report from ``first_day``: ``baseline`` (first, last day), else
    ``[enpi] baseline_from``/``baseline_to``, else the 365 days before ``first_day``."""
    tz, settings = config.site.timezone, config.enpi
    if baseline is not None:
        return inputs.period(*baseline, tz, ("--baseline-from", "--baseline-to"))
    if settings.baseline_from is not None:
        return inputs.period(settings.baseline_from, settings.baseline_to, tz, ("enpi.baseline_from", "enpi.baseline_to"))
    return inputs.period(first_day - dt.timedelta(days=365), first_day - dt.timedelta(days=1), tz)


def _enpi(engine: Engine, config: SiteConfig, p: inputs.Period, reporting: pd.DataFrame, production: pd.DataFrame | None, source: str,
          baseline: tuple[str | dt.date, str | dt.date] | None) -> performance.Performance:
    """The EnPI of the reporting ``reporting`` days (:func:`_daily_consumption`) against the
    baseline period (:func:`baseline_period`)."""
    tz, settings = config.site.timezone, config.enpi
    base = baseline_period(config, p.first_day, baseline)
    base_index = inputs.grid(base, config.site.interval_minutes)
    base_days = _daily_consumption(*_load_flows(engine, config, base_index), base_index, tz)
    weather = config.resolve(settings.weather_file)
    temperature = read_weather_csv(weather, needs=("temp_air_c",))["temp_air_c"] if weather is not None else None
    prepared = performance.prepare(settings, tz, production, temperature, source)
    return performance.evaluate(config, reporting, base_days, base.label, prepared)


def energy_performance(engine: Engine, config: SiteConfig, first_day: str | dt.date, last_day: str | dt.date, *,
                       production: str | Path | pd.DataFrame | None = None,
                       baseline: tuple[str | dt.date, str | dt.date] | None = None) -> performance.Performance:
    """Only the report's EnPI (ISO 50006 baseline, adequacy verdict, normalised savings, CUSUM) for
    local days ``first_day`` … ``last_day``: the same figures as :func:`build_report` (the
    dashboard's Overview). ``production`` and ``baseline`` as there."""
    require_schema(engine)
    p = inputs.period(first_day, last_day, config.site.timezone)
    index = inputs.grid(p, config.site.interval_minutes)
    rows, source = _production(config, production)
    return _enpi(engine, config, p, _daily_consumption(*_load_flows(engine, config, index), index, config.site.timezone), rows, source, baseline)


@dataclass(frozen=True)
class Consumption:
    """The period's measured consumption, split into the report's consumers (all on one grid)."""

    index: pd.DatetimeIndex
    month: tables.Months
    data: inputs.SiteSeries
    flows: scope2.GridFlows
    code: np.ndarray  # quality of the site's flows (worst of site and PV)
    #: (id, name, kWh, quality code) of each selected machine, "other" (the site's consumption
    #: minus the machines) and "site", in display order
    consumers: list[tuple[str, str, np.ndarray, np.ndarray]]


def read_consumption(engine: Engine, config: SiteConfig, p: inputs.Period, selected: list[str], subset: bool) -> Consumption:
    """Read the site, the ``selected`` machines and PV on the period's grid; "other" is the site's
    consumption minus the machines (``subset``: only some machines were selected)."""
    index = inputs.grid(p, config.site.interval_minutes)
    data = inputs.load_site_series(engine, config, index, selected)
    flows, code = site_flows(data.site, data.pv, data.has_main_meter)
    names = {m.id: m.name for m in config.machines}
    known_machines = sum((np.nan_to_num(f.kwh) for f in data.machines.values()), np.zeros(len(index)))
    other_kwh = flows.consumption_kwh - known_machines
    worst_machine = np.max(np.vstack([*(f.code for f in data.machines.values()), np.zeros(len(index), dtype="int8")]), axis=0)
    other_code = np.where(code == 2, 2, np.maximum(code, np.minimum(worst_machine, 1))).astype("int8")
    other_name = "rest of site (not sub-metered" + (", machines not reported" if subset else "") + ")"
    consumers = [(m, names[m], data.machines[m].kwh, data.machines[m].code) for m in selected]
    consumers += [("other", other_name, other_kwh, other_code),
                  ("site", "site consumption (grid import + PV self-consumed)", flows.consumption_kwh, code)]
    return Consumption(index, tables.months(index, config.site.timezone), data, flows, code, consumers)


@dataclass(frozen=True)
class Scope2Tables:
    """The report's scope 2 tables, their inputs and the intervals left without a factor."""

    by_consumer: pd.DataFrame
    by_source: pd.DataFrame
    sources: list
    instruments: list
    #: per month (and ``total``): intervals with grid import and no factor, columns ``location``
    #: and ``market``; all zero unless built with ``on_missing="report"`` (else a missing factor raises)
    missing_factor: pd.DataFrame
    #: the quality checks (GHG Protocol Scope 2 Guidance Table 7.1; ``energy.emissions.quality``),
    #: warnings first, and per month (and ``total``) the grid import covered by instruments
    quality: pd.DataFrame
    coverage: pd.DataFrame
    #: method → what its period total counts: co2e, co2, mixed, unknown or none (its unit:
    #: ``energy.emissions.quality.emissions_unit``)
    gases: dict[str, str]


def _scope2(engine: Engine, config: SiteConfig, p: inputs.Period, use: Consumption, on_missing: str = "raise") -> Scope2Tables:
    """Per-interval scope 2 of the site, and the tables by consumer and by source."""
    index, flows, month = use.index, use.flows, use.month
    step = pd.Timedelta(minutes=config.site.interval_minutes)
    sources = load_factor_sources(engine, index[0], index[-1] + step)
    instruments = load_instruments(engine)
    inventory = [s for s in sources if s.method != "marginal"]
    result = scope2.site_scope2(_import_series(engine, config, p, flows, index, instruments), index, inventory, instruments, step, on_missing)
    month_of = pd.Series(month.per_interval(), index=index)
    shares = scope2.consumer_shares(flows.consumption_kwh, {m: f.kwh for m, f in use.data.machines.items()})
    by_consumer = tables.scope2_machine_table(
        use.consumers, result.location_kg, result.market_kg, flows.import_kwh, shares, month,
        tables.source_names(result.contributions, month_of, "location"), tables.source_names(result.contributions, month_of, "market"),
    )
    by_source = tables.scope2_sources_table(result.contributions, month_of, _source_catalogue(sources, instruments, config.site.timezone))
    missing = pd.DataFrame(
        {method: tables.month_sums(flags, month).astype(int) for method, flags in (("location", result.location_missing), ("market", result.market_missing))},
        index=pd.Index(month.keys, name="month"),
    )
    checked = scope2.scope2_quality(result.contributions, month_of, month.labels, inventory, instruments, tz=config.site.timezone,
                                    site_country=config.site.country, period=p.label, total=tables.TOTAL)
    by_consumer = scope2.with_gases(by_consumer, checked.month_gases)
    return Scope2Tables(by_consumer, by_source, sources, instruments, missing, checked.findings, checked.coverage, checked.gases)


def scope2_report(engine: Engine, config: SiteConfig, first_day: str | dt.date, last_day: str | dt.date, on_missing: str = "raise") -> Scope2Tables:
    """Only the report's scope 2 tables (by month and consumer, by factor source) for local days
    ``first_day`` … ``last_day``: the same figures as :func:`build_report`, read and computed
    alone (the dashboard's Emissions page). ``on_missing="report"`` leaves intervals without a
    factor out of the figures and counts them in ``missing_factor`` instead of raising."""
    require_schema(engine)
    p = inputs.period(first_day, last_day, config.site.timezone)
    selected = _check_machines(config, None)
    _check_data(engine, p, selected)
    return _scope2(engine, config, p, read_consumption(engine, config, p, selected, subset=False), on_missing)


def _scheduling(engine, p, sources) -> tuple[pd.DataFrame, str | None]:
    marginal = [s for s in sources if s.method == "marginal"]
    label = ", ".join(f"{s.id} ({s.source})" for s in marginal) or None
    rows = [scheduling.run_row(run, marginal) for run in inputs.load_plan_runs(engine, p)]
    return scheduling.scheduling_table(rows), label


def build_report(
    engine: Engine,
    config: SiteConfig,
    first_day: str | dt.date,
    last_day: str | dt.date,
    *,
    production: str | Path | pd.DataFrame | None = None,
    machines: list[str] | None = None,
    baseline: tuple[str | dt.date, str | dt.date] | None = None,
) -> Report:
    """Every table of the report for local days ``first_day`` … ``last_day`` (inclusive).

    ``production``: the production CSV (see :mod:`energy.reports.production`) or its parsed
    frame; ``machines``: report only these machines (default all); ``baseline``: the EnPI
    baseline period (first, last day; default the 365 days before ``first_day``).
    Raises :class:`~energy.errors.InputError` for an empty period, an unknown machine, no data
    in the period or a missing emission factor.
    """
    require_schema(engine)
    tz = config.site.timezone
    p = inputs.period(first_day, last_day, tz)
    selected = _check_machines(config, machines)
    _check_data(engine, p, selected)
    use = read_consumption(engine, config, p, selected, subset=machines is not None)
    index, data, flows, code, month = use.index, use.data, use.flows, use.code, use.month
    machines_kwh = {m: f.kwh for m, f in data.machines.items()}
    machine_codes = {m: f.code for m, f in data.machines.items()}
    *machine_rows, other_row, site_row = use.consumers
    energy = tables.energy_table(
        [("site", "site", site_row[1], flows.consumption_kwh, code), ("site", "grid_import", "grid import", flows.import_kwh, code),
         ("site", "grid_export", "grid export", flows.export_kwh, code)]
        + [("machine", *row) for row in machine_rows] + [("other", *other_row)],
        month,
    )
    scope = _scope2(engine, config, p, use)
    by_consumer, by_source, sources, instruments = scope.by_consumer, scope.by_source, scope.sources, scope.instruments
    scope_units = {method: quality.emissions_unit(gases) for method, gases in scope.gases.items()}
    pv = tables.pv_table({m: (f.kwh, f.code) for m, f in data.pv.items()}, flows, month)

    # Production and intensity.
    production, source = _production(config, production)
    reporting_days = _daily_consumption(flows, code, index, tz)
    intensity = pd.DataFrame(columns=tables.INTENSITY_COLUMNS)
    if production is not None:
        in_period = production[(production["date"] >= p.first_day) & (production["date"] <= p.last_day) & production["machine"].isin(selected)]
        day = tables.local_days(index, tz)
        machine_days = pd.concat(
            [tables.daily_energy(machines_kwh[m], machine_codes[m], day).assign(machine=m) for m in selected], ignore_index=True
        )
        intensity = tables.intensity_table(machine_days, in_period, reporting_days[["date", "energy_kwh", "complete"]])

    # EnPI baseline, its adequacy and normalised savings.
    perf = _enpi(engine, config, p, reporting_days, production, source, baseline)

    schedule_savings, marginal_label = _scheduling(engine, p, sources)
    summary = _summary(energy, by_consumer, pv, perf, schedule_savings, scope_units, scope.coverage)
    methodology = _methodology(engine, config, p, perf, selected, marginal_label, production is not None, sources, instruments)
    generated = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    report_tables = [
        Table("summary", "Summary", f"Key figures of {config.site.name}, {p.label} (local days, {tz}).", summary),
        Table("energy", "Energy by month", "kWh per month of the site, its grid flows, each machine and the rest of the site, with the share of measured, estimated and missing 15-minute intervals.", energy),
        Table("scope2_by_consumer", "Scope 2 by month and consumer", "Location- and market-based scope 2 emissions (GHG Protocol Scope 2 Guidance, dual reporting) in tCO2e, with the factor sources used.", by_consumer),
        Table("scope2_by_source", "Scope 2 by factor source", "Grid import valued by each factor source or contractual instrument per month, with citation and validity: the reconciliation of both methods with their inputs.", by_source),
        Table("scope2_quality", "Scope 2 quality checks", "Each factor source and contractual instrument checked against the activity it valued (GHG Protocol Scope 2 Guidance Table 7.1): vintage, market boundary, evidence, gases counted, instrument coverage. Warnings first; a finding does not change a figure.", scope.quality),
        Table("scope2_coverage", "Instrument coverage", "Grid import covered by contractual instruments per month and for the period (kWh, %).", scope.coverage),
        Table("pv", "On-site PV", "Generation per PV meter, export, self-consumption and self-sufficiency per month.", pv),
        Table("intensity", "Energy intensity", "kWh per unit produced by month, machine and product (production CSV), and for the site.", intensity),
        *(Table(*table) for table in performance.tables(perf)),
        Table("scheduling_savings", "Scheduling savings (not inventory)", "Planned and realised savings of optimised scheduling; avoided tCO2e valued with marginal factors. Kept apart from the scope 2 inventory.", schedule_savings),
        Table("methodology", "Methodology", "Sources, factors and their versions, tariffs, and how gaps were treated.", methodology),
    ]
    return Report(config.site.name, p, generated, report_tables)


def _value(table: pd.DataFrame, query: dict, column: str) -> float:
    mask = np.ones(len(table), dtype=bool)
    for key, wanted in query.items():
        mask &= (table[key] == wanted).to_numpy()
    return float(table.loc[mask, column].sum()) if mask.any() else float("nan")


def _summary(energy: pd.DataFrame, scope: pd.DataFrame, pv: pd.DataFrame, perf: performance.Performance, schedule: pd.DataFrame,
             units: dict[str, str], coverage: pd.DataFrame) -> pd.DataFrame:
    total = tables.TOTAL
    site = {"month": total, "series_id": "site"}
    rows = [
        ("site consumption", _value(energy, site, "energy_kwh"), "kWh", "inventory"),
        ("grid import", _value(energy, {"month": total, "series_id": "grid_import"}, "energy_kwh"), "kWh", "inventory"),
        ("grid export", _value(energy, {"month": total, "series_id": "grid_export"}, "energy_kwh"), "kWh", "inventory"),
        ("PV generation", _value(pv, {"month": total, "pv_meter": "site (all PV)"}, "generation_kwh") if len(pv) else 0.0, "kWh", "inventory"),
        ("PV self-consumed", _value(pv, {"month": total, "pv_meter": "site (all PV)"}, "self_consumed_kwh") if len(pv) else 0.0, "kWh", "inventory"),
        ("scope 2, location-based", _value(scope, {"month": total, "consumer": "site"}, "location_tco2e"), units["location"], "inventory"),
        ("scope 2, market-based", _value(scope, {"month": total, "consumer": "site"}, "market_tco2e"), units["market"], "inventory"),
        ("grid import covered by instruments", _value(coverage, {"month": total}, "instrument_kwh"), "kWh", "inventory"),
        ("intervals measured", _value(energy, site, "measured_pct"), "%", "data quality (site)"),
        ("intervals estimated", _value(energy, site, "estimated_pct"), "%", "data quality (site)"),
        ("intervals missing", _value(energy, site, "missing_pct"), "%", "data quality (site)"),
    ]
    rows += performance.summary_rows(perf)
    if len(schedule):
        row = schedule[schedule["plan_date"] == total].iloc[0]
        rows += [
            ("scheduling savings, planned", float(row["planned_eur"]), "EUR", "scheduling (not inventory)"),
            ("scheduling savings, realised", float(row["realised_eur"]), "EUR", "scheduling (not inventory)"),
            ("avoided emissions, realised (marginal)", float(row["realised_avoided_tco2e"]), "tCO2e", "scheduling (not inventory)"),
        ]
    return pd.DataFrame([(*row, "")[:5] for row in rows], columns=["item", "value", "unit", "scope", "note"])


def _version() -> str:
    try:
        return metadata.version("energy-optimiser")
    except metadata.PackageNotFoundError:
        return "unknown"


def _methodology(engine, config, p, perf, machines, marginal_label, with_production, sources, instruments) -> pd.DataFrame:
    tz = config.site.timezone
    rows = [
        ("report", "site", config.site.name),
        ("report", "period", f"{p.label}: local days in {tz}, from {p.start.isoformat()} to {p.end.isoformat()} (UTC, end exclusive)"),
        ("report", "software", f"energy-optimiser {_version()}"),
        ("report", "machines", ", ".join(machines) or "none"),
        ("data", "intervals", f"{config.site.interval_minutes}-minute interval energy from the meters (energy.histories): site = main meter(s) "
         "(net grid flow), else the sum of the machines; machines = their assigned sub-meters; PV = the PV meters."),
        ("data", "quality", "measured: read from an energy counter; estimated: integrated from power, interpolated across a gap the "
         "counter bridges, or across a reset; missing: unknown."),
        ("data", "gaps", "Missing intervals are not filled: they add nothing to energy and emissions, and their share is given next "
         "to every figure (missing_pct). Estimated intervals are included and their share is given (estimated_pct). 'rest of site' "
         "is site consumption minus the known machine energy, so it includes a machine's energy where that machine's interval is "
         "missing (those intervals count as estimated for it)."),
        ("scope 2", "grid flows", "With a main meter: import = max(site, 0), export = max(−site, 0), consumption = site + PV; "
         "without one: consumption = Σ machines, grid = consumption − PV."),
        ("scope 2", "location-based", "Grid import × the grid-average factor (method location) of the interval (GHG Protocol Scope 2 Guidance)."),
        ("scope 2", "market-based", "Contractual instruments first (each from its valid_from, in time order, until its MWh are used), then "
         "supplier/market factors, then the residual mix; with none valid the location-based factor stands in (basis "
         "'location fallback (grid_average)', disclosed per source in scope2_by_source)."),
        ("scope 2", "attribution", "Each interval's grid import and its emissions are shared among consumers in proportion to their "
         "energy; PV-supplied energy carries no scope 2 emissions; consumers add up to the site exactly."),
        ("scope 2", "factor resolution", "Each factor row covers [its start, the next step); an interval inside a row takes its value. "
         "Factors, instruments and their file versions (SHA-256) are those stored by 'energy init'."),
        ("scope 2", "quality checks", "Each factor source and instrument is checked against the energy it valued (GHG Protocol Scope 2 "
         "Guidance (2015) Table 7.1): data or generation year against the activity's calendar year, cancellation date, registry "
         "evidence, the instrument's country against the site's, the gases counted (tCO2 or tCO2e), instrument coverage. Findings "
         "are listed in scope2_quality; none changes a figure (a stale factor may be the best available: it is applied and flagged)."),
    ]
    catalogue = factor_table(sources, instruments)
    for item in catalogue.itertuples():
        valid = " to ".join(local_time(v, tz) for v in (item.valid_from, item.valid_to))
        source = next((s for s in sources if s.id == item.id), None)
        if source is None:
            detail = f"{item.method}, {item.mwh:g} MWh at {item.g_per_kwh:g} g/kWh"
        elif source.constant_g_per_kwh is not None:
            detail = f"{item.method}, constant {item.g_per_kwh:g} g/kWh"
        else:
            detail = (f"{item.method}, series of {len(source.rows_between(p.start, p.end))} rows in the period, mean {item.g_per_kwh:.1f} g/kWh; "
                      f"file {item.file}" + (f", column {item.column!r}" if item.column else "") + f", SHA-256 {item.file_sha256}")
        checked = quality.stated(source if source is not None else next(i for i in instruments if i.id == item.id), tz)
        rows.append(("factor source" if source is not None else "instrument", item.id, f"{detail}; valid {valid} ({tz}, end exclusive); {checked}; {item.source}"))
    if not len(catalogue):
        rows.append(("factor source", "none", "no emission factors stored: run 'energy init' with an [emissions] section"))
    for t in inputs.stored_tariffs(engine).itertuples():
        span = ""
        if t.price_rows:
            first, last = from_epoch_ms([t.first_price_ms, t.last_price_ms])
            span = f", {t.price_rows} price rows {first.isoformat()} to {last.isoformat()}"
        loaded = from_epoch_ms([t.loaded_ms])[0].isoformat()
        rows.append(("tariff", t.id, f"{t.name} ({t.source_format}, {t.currency}), loaded {loaded}{span}"))
    if config.tariff is not None:
        rows.append(("tariff", "config", f"tariff file {config.tariff.file} ({config.tariff.format})"))
    rows += [
        ("PV", "definitions", "self-consumed = generation − export; self-consumption rate = self-consumed / generation; self-sufficiency = self-consumed / consumption."),
        ("intensity", "production", "production CSV (date, machine, product, units)" if with_production else "no production file given: intensity not computed"),
        ("intensity", "allocation", "A machine's day is shared among its products by their units; energy on days without production is shown as '(no production)'."),
        *performance.methodology_rows(perf),
        ("scheduling", "savings", "Planned: the nightly plan's expected savings; realised: from the day's readings (energy plan). Not part of the inventory."),
        ("scheduling", "avoided emissions", f"marginal factor source: {marginal_label}" if marginal_label else "no marginal factor source configured: avoided tCO2e not valued"),
    ]
    return pd.DataFrame(rows, columns=["section", "item", "detail"])


def _temporary(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial-{os.getpid()}")


def _replace_folder(tmp: Path, out: Path) -> None:
    # A folder is replaced only when it holds a previous CSV report (its index.csv), never a user's folder.
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / "index.csv").exists()):
            raise InputError(f"--out: {out} exists and is not a previous CSV report folder: choose another path")
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)


def save_report(report: Report, fmt: str, out_path: str | Path) -> Path:
    """Write a built report as ``fmt``: ``csv`` (a folder with one CSV per table and
    ``index.csv``, or a ``.zip`` of them when ``out_path`` ends in ``.zip``), ``xlsx`` or ``pdf``.

    The output is written beside the target and renamed into place, so it appears complete or
    not at all; a CSV folder replaces only a previous CSV report. Returns the path written.
    """
    from energy.reports import csv as csv_writer, pdf as pdf_writer, xlsx as xlsx_writer

    writers = {"csv": csv_writer.write, "xlsx": xlsx_writer.write, "pdf": pdf_writer.write}
    out = _check_output(fmt, out_path)
    tmp = _temporary(out)
    try:
        writers[fmt](report, tmp, zipped=out.suffix.lower() == ".zip") if fmt == "csv" else writers[fmt](report, tmp)
        if tmp.is_dir():
            _replace_folder(tmp, out)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()
    return out


def _check_output(fmt: str, out_path: str | Path) -> Path:
    if fmt not in FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    out = Path(out_path)
    if not out.parent.is_dir():
        raise InputError(f"--out: folder {out.parent} does not exist")
    if out.is_dir() and fmt != "csv":
        raise InputError(f"--out: {out} is a folder; give a file name for {fmt}")
    return out


def write_report(
    engine: Engine,
    config: SiteConfig,
    first_day: str | dt.date,
    last_day: str | dt.date,
    fmt: str,
    out_path: str | Path,
    **options,
) -> Path:
    """Build the report (:func:`build_report`, with its keyword ``options``) and write it as
    ``fmt`` to ``out_path`` (:func:`save_report`). Returns the path written."""
    _check_output(fmt, out_path)
    return save_report(build_report(engine, config, first_day, last_day, **options), fmt, out_path)
