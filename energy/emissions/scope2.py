"""Scope 2 emissions per interval, location- and market-based (GHG Protocol Scope 2 Guidance, 2015).

- **Location-based**: each interval's grid import × the grid-average factor of that interval
  (``location`` sources).
- **Market-based**, in the Guidance's hierarchy (Table 6.3): first the energy covered by
  contractual instruments (guarantees of origin, RECs, PPAs, green tariffs) at their own factor,
  allocated in time order within each instrument's validity and never beyond the MWh it holds;
  the rest at the supplier-specific rate (``supplier``/``market`` sources) where one is valid,
  else the residual mix (``residual_mix``), else — disclosed as ``grid_average`` in the basis
  column — the location-based factor.

Energy is grid import in kWh per interval (a Series indexed by tz-aware interval starts);
emissions are kg CO2e per interval (``*_emissions_kg``), summaries in t CO2e (``*_tco2e``).
A missing factor raises :class:`InputError` (``on_missing="raise"``) or, with
``on_missing="report"``, leaves NaN emissions and is counted in the summaries — never zero.
Missing energy (NaN) stays NaN and is not allocated to instruments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from energy.emissions.intensity import check_load, factor_per_interval, interval_length, missing_factor_error
from energy.emissions.sources import FactorSource, Instrument, of_methods
from energy.errors import InputError

# The market-based levels after instruments: basis label, methods of the sources used.
MARKET_LEVELS = (
    ("supplier", ("supplier", "market")),
    ("residual_mix", ("residual_mix",)),
    ("grid_average", ("location",)),
)

ALLOCATION_COLUMNS = ["start", "instrument_id", "kwh", "g_per_kwh", "emissions_kg"]


def _check_on_missing(on_missing: str) -> None:
    if on_missing not in ("raise", "report"):
        raise ValueError("on_missing must be 'raise' or 'report'")


def location_based(
    energy_kwh: pd.Series,
    sources: Sequence[FactorSource],
    *,
    interval: pd.Timedelta | None = None,
    on_missing: str = "raise",
) -> pd.DataFrame:
    """Location-based emissions per interval.

    Columns: ``energy_kwh``, ``location_g_per_kwh``, ``location_emissions_kg``,
    ``location_source_id``, ``location_missing`` (a factor was needed and none was valid).
    """
    _check_on_missing(on_missing)
    index = check_load(energy_kwh)
    energy = pd.Series(energy_kwh.to_numpy(float), index=index)
    location = of_methods(sources, "location")
    factors = factor_per_interval(location, index, interval_length(index, interval))
    g = factors["g_per_kwh"]
    missing = g.isna() & (energy > 0)
    if missing.any() and on_missing == "raise":
        raise missing_factor_error("location-based emissions", index[missing.to_numpy()], "location", location)
    emissions = (energy * g / 1000.0).where(energy != 0, 0.0)
    return pd.DataFrame({
        "energy_kwh": energy,
        "location_g_per_kwh": g,
        "location_emissions_kg": emissions,
        "location_source_id": factors["source_id"],
        "location_missing": missing,
    })


def allocate_instruments(energy_kwh: pd.Series, instruments: Sequence[Instrument]) -> pd.DataFrame:
    """How much of each interval's energy each instrument covers: long rows per (interval, instrument).

    Instruments are used in order of validity start (then end, then id); each covers the energy
    of the intervals starting within its validity, in time order, until its MWh are used up.
    Columns: ``start``, ``instrument_id``, ``kwh``, ``g_per_kwh``, ``emissions_kg`` (rows with
    kwh > 0 only). The allocation starts at the first interval given: to report a later period,
    pass the load from ``allocation_start(...)`` on and keep the rows of the period.
    """
    index = check_load(energy_kwh)
    remaining = np.nan_to_num(energy_kwh.to_numpy(float), nan=0.0)
    starts = index.as_unit("ns").asi8
    frames = []
    for instrument in sorted(instruments, key=lambda i: (i.valid_from, i.valid_to, i.id)):
        valid = (starts >= instrument.valid_from.value) & (starts < instrument.valid_to.value)
        available = np.where(valid, remaining, 0.0)
        used_so_far = np.minimum(np.cumsum(available), instrument.mwh * 1000.0)
        kwh = np.minimum(np.diff(used_so_far, prepend=0.0), available).clip(min=0.0)
        remaining = (remaining - kwh).clip(min=0.0)
        taken = kwh > 0
        frames.append(pd.DataFrame({
            "start": index[taken],
            "instrument_id": instrument.id,
            "kwh": kwh[taken],
            "g_per_kwh": instrument.g_per_kwh,
            "emissions_kg": kwh[taken] * instrument.g_per_kwh / 1000.0,
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(ALLOCATION_COLUMNS, ["datetime64[ns, UTC]", object, float, float, float])})
    return pd.concat(frames, ignore_index=True).sort_values(["start", "instrument_id"], kind="stable").reset_index(drop=True)


def allocation_start(instruments: Sequence[Instrument], start: pd.Timestamp) -> pd.Timestamp:
    """Where the load must begin so instruments valid at ``start`` are allocated correctly."""
    earlier = [i.valid_from for i in instruments if i.valid_from <= start < i.valid_to]
    return min([start, *earlier])


def instrument_usage(allocations: pd.DataFrame, instruments: Sequence[Instrument]) -> pd.DataFrame:
    """Per instrument: ``mwh`` held, ``allocated_mwh``, ``unused_mwh`` (never negative)."""
    used = allocations.groupby("instrument_id")["kwh"].sum() / 1000.0
    rows = [
        {"instrument_id": i.id, "kind": i.kind, "mwh": i.mwh, "allocated_mwh": float(used.get(i.id, 0.0)),
         "unused_mwh": max(i.mwh - float(used.get(i.id, 0.0)), 0.0), "g_per_kwh": i.g_per_kwh, "source": i.source}
        for i in instruments
    ]
    return pd.DataFrame(rows, columns=["instrument_id", "kind", "mwh", "allocated_mwh", "unused_mwh", "g_per_kwh", "source"])


def market_based(
    energy_kwh: pd.Series,
    sources: Sequence[FactorSource],
    instruments: Sequence[Instrument] = (),
    *,
    interval: pd.Timedelta | None = None,
    on_missing: str = "raise",
    allocations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Market-based emissions per interval.

    Columns: ``energy_kwh``; ``market_instrument_kwh`` and ``market_instrument_emissions_kg``
    (covered by instruments), ``market_instrument_ids`` (``;``-joined); ``market_remaining_kwh``
    at ``market_remaining_g_per_kwh`` from ``market_remaining_basis`` (``supplier``,
    ``residual_mix`` or ``grid_average``) and ``market_remaining_source_id``;
    ``market_emissions_kg`` (the total), ``market_g_per_kwh`` (total per kWh),
    ``market_missing``. ``allocations`` (from :func:`allocate_instruments`) can be passed when
    already computed.
    """
    _check_on_missing(on_missing)
    index = check_load(energy_kwh)
    energy = pd.Series(energy_kwh.to_numpy(float), index=index)
    if allocations is None:
        allocations = allocate_instruments(energy, instruments)
    by_start = allocations.groupby("start")
    covered = by_start["kwh"].sum().reindex(index, fill_value=0.0)
    covered_kg = by_start["emissions_kg"].sum().reindex(index, fill_value=0.0)
    ids = by_start["instrument_id"].agg(";".join).reindex(index)
    remaining = (energy - covered).clip(lower=0.0)

    step = interval_length(index, interval)
    g = pd.Series(np.nan, index=index)
    basis = pd.Series(None, index=index, dtype=object)
    source_id = pd.Series(None, index=index, dtype=object)
    for label, methods in MARKET_LEVELS:
        open_ = g.isna()
        if not open_.any():
            break
        level = factor_per_interval(of_methods(sources, *methods), index, step)
        take = open_ & level["g_per_kwh"].notna()
        g[take] = level["g_per_kwh"][take]
        basis[take] = label
        source_id[take] = level["source_id"][take]
    missing = g.isna() & (remaining > 0)
    if missing.any() and on_missing == "raise":
        market = [s for s in sources if s.method != "marginal"]
        raise missing_factor_error("market-based emissions", index[missing.to_numpy()], "supplier, residual_mix or location", market)
    remaining_kg = (remaining * g / 1000.0).where(remaining != 0, 0.0)
    total_kg = (covered_kg + remaining_kg).where(energy.notna())
    return pd.DataFrame({
        "energy_kwh": energy,
        "market_instrument_kwh": covered,
        "market_instrument_emissions_kg": covered_kg,
        "market_instrument_ids": ids,
        "market_remaining_kwh": remaining.where(energy.notna()),
        "market_remaining_g_per_kwh": g,
        "market_remaining_basis": basis,
        "market_remaining_source_id": source_id,
        "market_emissions_kg": total_kg,
        "market_g_per_kwh": (total_kg * 1000.0 / energy).where(energy > 0),
        "market_missing": missing,
    })


def dual_report(
    energy_kwh: pd.DataFrame,
    sources: Sequence[FactorSource],
    instruments: Sequence[Instrument] = (),
    *,
    grid_import_kwh: pd.Series | None = None,
    interval: pd.Timedelta | None = None,
    on_missing: str = "raise",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both methods per interval and series (e.g. machines): ``(intervals, allocations)``.

    ``energy_kwh`` has one column per series (the column name becomes ``series_id``); together
    they are the site's consumption. Scope 2 counts what comes from the grid: with
    ``grid_import_kwh`` (e.g. when on-site PV covers part of the load) each series is charged
    its share of each interval's import, ``grid_kwh = energy_kwh × import / Σ energy_kwh``;
    without it the whole consumption is import. Both methods are computed once on the site's
    import (instruments allocated against it) and every series takes the interval's factors, so
    the series add up to the site and both methods reconcile with the inputs.

    ``intervals`` (long, one row per interval and series): ``start``, ``series_id``,
    ``energy_kwh``, ``grid_kwh``, ``location_g_per_kwh``, ``location_emissions_kg``,
    ``location_source_id``, ``market_g_per_kwh`` (all-in market rate of the interval),
    ``market_emissions_kg``, ``market_instrument_kwh`` (the series' share of the covered energy),
    ``market_instrument_ids``, ``market_remaining_basis``, ``market_remaining_source_id``,
    ``location_missing``, ``market_missing`` (the id and basis columns are categorical).
    ``allocations``: see :func:`allocate_instruments`.
    """
    if not isinstance(energy_kwh, pd.DataFrame) or energy_kwh.shape[1] == 0:
        raise InputError("energy_kwh: give a DataFrame with one column per series")
    for series_id in energy_kwh.columns:
        check_load(energy_kwh[series_id], f"energy_kwh[{series_id!r}]")
    consumption = energy_kwh.sum(axis=1, min_count=1)
    if grid_import_kwh is None:
        grid = consumption
        grid_share = pd.Series(1.0, index=energy_kwh.index)
    else:
        grid = grid_import_kwh.reindex(energy_kwh.index).astype(float)
        unattributed = (grid > 0) & ~(consumption > 0)
        if unattributed.any():
            first = energy_kwh.index[unattributed.to_numpy()][0]
            raise InputError(f"grid_import_kwh: {first.isoformat()}: import without consumption in any series (add the unmetered load as a series)")
        grid_share = (grid / consumption).where(consumption > 0, 0.0)
    allocations = allocate_instruments(grid, instruments)
    location = location_based(grid, sources, interval=interval, on_missing=on_missing)
    market = market_based(grid, sources, instruments, interval=interval, on_missing=on_missing, allocations=allocations)
    location_rate = location["location_g_per_kwh"] / 1000.0  # kg/kWh
    market_rate = market["market_emissions_kg"] / market["energy_kwh"]  # kg/kWh, NaN without import
    instrument_share = market["market_instrument_kwh"] / market["energy_kwh"]
    # Labels as categoricals: a year of many series is millions of rows but a handful of ids.
    labels = {
        name: pd.Categorical(column.to_numpy())
        for name, column in (
            ("location_source_id", location["location_source_id"]),
            ("market_instrument_ids", market["market_instrument_ids"]),
            ("market_remaining_basis", market["market_remaining_basis"]),
            ("market_remaining_source_id", market["market_remaining_source_id"]),
        )
    }
    names = [str(series_id) for series_id in energy_kwh.columns]
    frames = []
    for position, series_id in enumerate(energy_kwh.columns):
        series = energy_kwh[series_id].astype(float)
        series_grid = series * grid_share

        def charged(rate: pd.Series) -> np.ndarray:
            return (series_grid * rate).where(series_grid != 0, 0.0).to_numpy()

        frames.append(pd.DataFrame({
            "start": energy_kwh.index.tz_convert("UTC"),
            "series_id": pd.Categorical.from_codes(np.full(len(series), position), categories=names),
            "energy_kwh": series.to_numpy(),
            "grid_kwh": series_grid.to_numpy(),
            "location_g_per_kwh": location["location_g_per_kwh"].to_numpy(),
            "location_emissions_kg": charged(location_rate),
            "location_source_id": labels["location_source_id"],
            "market_g_per_kwh": (market_rate * 1000.0).to_numpy(),
            "market_emissions_kg": charged(market_rate),
            "market_instrument_kwh": (series_grid * instrument_share).fillna(0.0).to_numpy(),
            "market_instrument_ids": labels["market_instrument_ids"],
            "market_remaining_basis": labels["market_remaining_basis"],
            "market_remaining_source_id": labels["market_remaining_source_id"],
            "location_missing": (location["location_missing"] & (series_grid > 0)).to_numpy(),
            "market_missing": (market["market_missing"] & (series_grid > 0)).to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True), allocations


def summarise(intervals: pd.DataFrame, tz: str, freq: str = "MS") -> pd.DataFrame:
    """Totals per local period (default: calendar month) and series, in t CO2e.

    Columns: ``period_start`` (local), ``series_id``, ``energy_kwh``, ``grid_kwh``,
    ``location_emissions_tco2e``, ``market_emissions_tco2e``, ``location_source_ids``,
    ``market_source_ids`` (instruments and the remaining-energy sources), ``market_bases``,
    ``missing_location_intervals``, ``missing_market_intervals``, ``missing_energy_intervals``.
    Totals add the intervals that have a number; the ``missing_*`` counts say what was left out.
    """
    keys = ["period_start", "series_id"]
    starts = pd.Index(intervals["start"].unique())
    periods = pd.DatetimeIndex(period_starts(pd.Series(starts), tz, freq))
    frame = intervals.assign(
        period_start=periods.take(starts.get_indexer(intervals["start"])),
        missing_energy=intervals["energy_kwh"].isna(),
    )
    out = frame.groupby(keys, sort=True, observed=True).agg(
        energy_kwh=("energy_kwh", "sum"),
        grid_kwh=("grid_kwh", "sum"),
        location_emissions_kg=("location_emissions_kg", "sum"),
        market_emissions_kg=("market_emissions_kg", "sum"),
        missing_location_intervals=("location_missing", "sum"),
        missing_market_intervals=("market_missing", "sum"),
        missing_energy_intervals=("missing_energy", "sum"),
    )

    def joined(values) -> str:
        return ";".join(sorted({v for value in values if isinstance(value, str) for v in value.split(";") if v}))

    # Source ids per group, from the few distinct combinations rather than every interval.
    labels = ["location_source_id", "market_instrument_ids", "market_remaining_source_id", "market_remaining_basis"]
    distinct = frame[keys + labels].drop_duplicates().astype({label: object for label in ["series_id", *labels]}).groupby(keys, sort=True)
    out["location_source_ids"] = distinct["location_source_id"].agg(joined)
    out["market_source_ids"] = distinct[["market_instrument_ids", "market_remaining_source_id"]].apply(
        lambda group: joined([*group["market_instrument_ids"], *group["market_remaining_source_id"]])
    )
    out["market_bases"] = distinct["market_remaining_basis"].agg(joined)
    out = out.reset_index()
    out["series_id"] = out["series_id"].astype(object)
    out["location_emissions_tco2e"] = out.pop("location_emissions_kg") / 1000.0
    out["market_emissions_tco2e"] = out.pop("market_emissions_kg") / 1000.0
    return out[[
        "period_start", "series_id", "energy_kwh", "grid_kwh", "location_emissions_tco2e", "market_emissions_tco2e",
        "location_source_ids", "market_source_ids", "market_bases",
        "missing_location_intervals", "missing_market_intervals", "missing_energy_intervals",
    ]]


def period_starts(starts: pd.Series, tz: str, freq: str = "MS") -> pd.Series:
    """The local start of the period (``D``, ``MS``, ``QS`` or ``YS``) each UTC instant falls in."""
    aliases = {"D": "D", "MS": "M", "QS": "Q", "YS": "Y"}
    if freq not in aliases:
        raise ValueError(f"freq must be one of {', '.join(aliases)}")
    local = starts.dt.tz_convert(tz).dt.tz_localize(None)
    return local.dt.to_period(aliases[freq]).dt.start_time.dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
