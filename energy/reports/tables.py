"""The report's tables as DataFrames (pure functions; units in the column names).

Every table is tidy: one row per month and subject, with a ``total`` row over the period where
totals make sense. Months are calendar months of the site's time zone (``YYYY-MM``).
Shares of intervals (``measured_pct``, ``estimated_pct``, ``missing_pct``) count the 15-minute
intervals of the subject in the month by quality; missing intervals add nothing to energy and
emissions, which is why their share is stated next to every figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy.histories import quality

TOTAL = "total"
KG_PER_T = 1000.0
INTENSITY_COLUMNS = ["month", "machine", "product", "units", "energy_kwh", "kwh_per_unit", "incomplete_days"]


@dataclass(frozen=True)
class Months:
    """The local calendar month of each interval: integer codes into ``labels`` (``YYYY-MM``)."""

    codes: np.ndarray
    labels: list[str]

    def per_interval(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=object)[self.codes]

    @property
    def keys(self) -> list[str]:
        """The row keys of every monthly table: the months, then ``total``."""
        return [*self.labels, TOTAL]


def months(index: pd.DatetimeIndex, tz: str) -> Months:
    """The local calendar month of each interval start."""
    codes, uniques = pd.factorize(index.tz_convert(tz).tz_localize(None).to_period("M"), sort=True)
    return Months(codes, [str(u) for u in uniques])


def month_sums(values: np.ndarray, month: Months) -> np.ndarray:
    """Σ per month, then the total (NaN counted as 0): an array of ``len(month.keys)``."""
    values = np.nan_to_num(np.asarray(values, dtype=float))
    return np.append(np.bincount(month.codes, weights=values, minlength=len(month.labels)), values.sum())


def monthly_sum(values: np.ndarray, month: Months) -> pd.Series:
    """Σ per month (and ``total``), NaN counted as 0."""
    return pd.Series(month_sums(values, month), index=month.keys)


def quality_percentages(codes: np.ndarray, month: Months) -> tuple[np.ndarray, np.ndarray]:
    """(intervals per month and in total, their share per quality in % as columns in
    :data:`quality.QUALITIES` order), rows as ``month.keys``."""
    size, kinds = len(month.labels), len(quality.QUALITIES)
    counts = np.bincount(month.codes * kinds + np.asarray(codes, dtype=int), minlength=size * kinds).reshape(size, kinds)
    counts = np.vstack([counts, counts.sum(axis=0)])
    intervals = counts.sum(axis=1)
    return intervals, 100 * counts / np.maximum(intervals, 1)[:, None]


def quality_shares(codes: np.ndarray, month: Months) -> pd.DataFrame:
    """Per month (and ``total``): intervals and their measured/estimated/missing shares (%)."""
    intervals, percent = quality_percentages(codes, month)
    columns = {f"{name}_pct": percent[:, code] for code, name in enumerate(quality.QUALITIES)}
    return pd.DataFrame({"intervals": intervals, **columns}, index=month.keys)


def _subject_rows(month: Months, labels: dict[str, list], columns: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """One table from per-subject monthly arrays: every subject's rows (``month.keys``) in turn,
    ``labels`` repeated per subject, then ordered by :func:`_month_order`."""
    rows = len(month.keys)
    table = pd.DataFrame({
        "month": np.tile(np.asarray(month.keys, dtype=object), len(next(iter(columns.values())))),
        **{name: np.repeat(np.asarray(values, dtype=object), rows) for name, values in labels.items()},
        **{name: np.concatenate(parts) for name, parts in columns.items()},
    })
    table["order"] = np.repeat(np.arange(len(table) // rows), rows)
    return _month_order(table).drop(columns="order").reset_index(drop=True)


def energy_table(consumers: list[tuple[str, str, str, np.ndarray, np.ndarray]], month: Months) -> pd.DataFrame:
    """Energy by month and subject with data-quality shares.

    ``consumers``: (level, id, name, kWh per interval, quality code per interval) in display order.
    """
    shares = [quality_percentages(codes, month) for *_, codes in consumers]
    labels = {"level": [c[0] for c in consumers], "series_id": [c[1] for c in consumers], "name": [c[2] for c in consumers]}
    columns = {"energy_kwh": [month_sums(c[3], month) for c in consumers], "intervals": [s[0] for s in shares]}
    for code, name in enumerate(quality.QUALITIES):
        columns[f"{name}_pct"] = [s[1][:, code] for s in shares]
    return _subject_rows(month, labels, columns)


def _month_order(table: pd.DataFrame) -> pd.DataFrame:
    # Months in time order, the period total last; within a month, subjects in the given order.
    table = table.assign(_total=table["month"] == TOTAL)
    return table.sort_values(["_total", "month", "order"], kind="stable").drop(columns="_total")


def scope2_machine_table(
    subjects: list[tuple[str, str, np.ndarray, np.ndarray]],
    location_kg: np.ndarray,
    market_kg: np.ndarray,
    import_kwh: np.ndarray,
    shares: dict[str, np.ndarray],
    month: Months,
    location_sources: pd.DataFrame,
    market_sources: pd.DataFrame,
) -> pd.DataFrame:
    """Scope 2 by month and consumer (machines, other, site) in tCO2e, location- and market-based.

    ``subjects``: (id, name, kWh per interval, quality code per interval), "other" and "site"
    included; ``shares`` the consumers' share of each interval's grid import; the two source
    frames (month, sources) name the factor sources behind each month's figures.
    """
    whole = np.ones(len(month.codes))
    subject_shares = [whole if subject == "site" else shares[subject] for subject, *_ in subjects]
    imported = np.nan_to_num(import_kwh)
    table = _subject_rows(
        month,
        {"consumer": [s[0] for s in subjects], "name": [s[1] for s in subjects]},
        {
            "energy_kwh": [month_sums(kwh, month) for _, _, kwh, _ in subjects],
            "grid_kwh": [month_sums(share * imported, month) for share in subject_shares],
            "location_tco2e": [month_sums(share * location_kg, month) / KG_PER_T for share in subject_shares],
            "market_tco2e": [month_sums(share * market_kg, month) / KG_PER_T for share in subject_shares],
            "missing_pct": [quality_percentages(codes, month)[1][:, 2] for *_, codes in subjects],
        },
    )
    for method, sources in (("location", location_sources), ("market", market_sources)):
        grid = table["grid_kwh"].to_numpy()
        table[f"{method}_factor_g_per_kwh"] = np.divide(
            table[f"{method}_tco2e"].to_numpy() * 1e6, grid, out=np.full(len(table), np.nan), where=grid > 0
        )
        table[f"{method}_sources"] = table["month"].map(sources)
    columns = ["month", "consumer", "name", "energy_kwh", "grid_kwh", "location_tco2e", "location_factor_g_per_kwh", "location_sources",
               "market_tco2e", "market_factor_g_per_kwh", "market_sources", "missing_pct"]
    return table[columns]


def scope2_sources_table(contributions: pd.DataFrame, month_of: pd.Series, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Per month (and ``total``), method and factor source: grid kWh valued, tCO2e and the mean factor.

    ``contributions`` per interval and source (see :func:`energy.reports.scope2.site_scope2`),
    ``month_of`` maps interval start → month, ``catalogue`` has per source_id: citation,
    valid_from, valid_to, vintage, gases (what the tonnes count: co2 or co2e; empty when not stated).
    """
    data = contributions.assign(month=contributions["interval_start"].map(month_of))
    data = data[data["grid_kwh"] > 0]
    keys = ["method", "basis", "source_id"]
    monthly = data.groupby(["month", *keys], sort=False)[["grid_kwh", "emissions_kg"]].sum().reset_index()
    total = data.groupby(keys, sort=False)[["grid_kwh", "emissions_kg"]].sum().reset_index().assign(month=TOTAL)
    table = pd.concat([monthly, total], ignore_index=True)
    table["tco2e"] = table.pop("emissions_kg") / KG_PER_T
    table["factor_g_per_kwh"] = table["tco2e"] * 1e6 / table["grid_kwh"]
    table = table.merge(catalogue, on="source_id", how="left")
    table["order"] = table["method"].map({"location": 0, "market": 1})
    table = _month_order(table.sort_values(["order", "basis", "source_id"], kind="stable"))
    columns = ["month", "method", "basis", "source_id", "grid_kwh", "tco2e", "factor_g_per_kwh", "citation", "valid_from", "valid_to",
               "vintage", "gases"]
    return table[columns].reset_index(drop=True)


def source_names(contributions: pd.DataFrame, month_of: pd.Series, method: str) -> pd.Series:
    """month (and ``total``) → "basis: source id, …" of the sources that valued grid import."""
    data = contributions[(contributions["method"] == method) & (contributions["grid_kwh"] > 0)]
    data = data.assign(month=data["interval_start"].map(month_of), label=data["basis"] + ": " + data["source_id"])
    labels = data.groupby("month", sort=True)["label"].unique().map(lambda items: "; ".join(sorted(items)))
    labels[TOTAL] = "; ".join(sorted(data["label"].unique()))
    return labels


def pv_table(pv: dict[str, tuple[np.ndarray, np.ndarray]], flows, month: Months) -> pd.DataFrame:
    """On-site generation per PV meter and month, and the site's self-consumption.

    ``pv``: meter id → (kWh, quality codes); ``flows``: the site's :class:`~energy.reports.scope2.GridFlows`.
    Self-consumption = generation − export; its share of generation (self-consumption rate) and of
    consumption (self-sufficiency) are computed on intervals where all flows are known.
    """
    rows = []
    for meter, (kwh, codes) in pv.items():
        frame = pd.DataFrame({"generation_kwh": monthly_sum(kwh, month), "missing_pct": quality_shares(codes, month)["missing_pct"]})
        rows.append(frame.assign(pv_meter=meter, order=len(rows)))
    if pv:
        generation = monthly_sum(flows.pv_kwh, month)
        exported = monthly_sum(flows.export_kwh, month)
        consumed = monthly_sum(flows.consumption_kwh, month)
        self_consumed = generation - exported
        frame = pd.DataFrame(
            {
                "generation_kwh": generation,
                "exported_kwh": exported,
                "self_consumed_kwh": self_consumed,
                "self_consumption_pct": 100 * self_consumed / generation.where(generation > 0),
                "self_sufficiency_pct": 100 * self_consumed / consumed.where(consumed > 0),
                "missing_pct": quality_shares(np.where(flows.known, 0, 2), month)["missing_pct"],
            }
        )
        rows.append(frame.assign(pv_meter="site (all PV)", order=len(rows)))
    columns = ["month", "pv_meter", "generation_kwh", "exported_kwh", "self_consumed_kwh", "self_consumption_pct",
               "self_sufficiency_pct", "missing_pct"]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.concat(rows).rename_axis("month").reset_index()
    return _month_order(table).reindex(columns=columns).reset_index(drop=True)


def local_days(index: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """The local calendar day (naive midnight) of each interval start."""
    return index.tz_convert(tz).tz_localize(None).normalize()


def daily_energy(kwh: np.ndarray, codes: np.ndarray, day: pd.DatetimeIndex) -> pd.DataFrame:
    """Per local day (see :func:`local_days`): ``date``, ``energy_kwh`` (Σ known) and
    ``complete`` (no missing interval)."""
    frame = pd.DataFrame({"energy_kwh": np.nan_to_num(kwh), "missing": codes == 2, "day": day})
    grouped = frame.groupby("day", sort=True)
    out = pd.DataFrame({"energy_kwh": grouped["energy_kwh"].sum(), "complete": ~grouped["missing"].any()})
    out = out.rename_axis("date").reset_index()
    out["date"] = pd.to_datetime(out["date"]).dt.date
    return out


def intensity_table(machine_days: pd.DataFrame, production: pd.DataFrame, site_days: pd.DataFrame) -> pd.DataFrame:
    """Energy per unit produced by month, machine and product, and for the site.

    ``machine_days``: date, machine, energy_kwh, complete; ``production``: date, machine, product,
    units; ``site_days``: date, energy_kwh, complete. A machine's day is shared among its products
    by their units; its energy on days without production is shown as product
    ``(no production)``, so a machine's products add up to its ``(all products)`` row, whose
    kWh per unit is the machine's whole energy over all its units. ``month`` is the local month.
    """
    month = lambda frame: pd.to_datetime(frame["date"]).dt.strftime("%Y-%m")  # noqa: E731
    produced = production[production["units"] > 0]
    produced = produced.assign(day_units=produced.groupby(["date", "machine"])["units"].transform("sum"))
    shared = produced.merge(machine_days, on=["date", "machine"], how="inner")
    shared["energy_kwh"] = shared["energy_kwh"] * shared["units"] / shared["day_units"]
    idle = machine_days.merge(produced[["date", "machine"]].drop_duplicates(), on=["date", "machine"], how="left", indicator=True)
    idle = idle[idle.pop("_merge") == "left_only"].assign(product="(no production)", units=0.0)
    columns = ["date", "machine", "product", "units", "energy_kwh", "complete"]
    parts = pd.concat([shared[columns], idle[columns]], ignore_index=True)
    parts["month"] = month(parts)
    by_product = _intensity(parts, ["month", "machine", "product"])
    by_machine = _intensity(parts, ["month", "machine"]).assign(product="(all products)")
    site = site_days.assign(month=month(site_days), machine="site", product="(all products)")
    units_per_month = production.assign(month=month(production)).groupby("month")["units"].sum()
    site = site.groupby(["month", "machine", "product"], as_index=False).agg(energy_kwh=("energy_kwh", "sum"), incomplete_days=("complete", lambda c: int((~c).sum())))
    site["units"] = site["month"].map(units_per_month).fillna(0.0)
    site["kwh_per_unit"] = site["energy_kwh"] / site["units"].where(site["units"] > 0)
    columns = INTENSITY_COLUMNS
    table = pd.concat([by_machine[columns], by_product[columns], site[columns]], ignore_index=True)
    table["rank"] = (table["machine"] == "site") * 2 + (table["product"] != "(all products)")
    return table.sort_values(["month", "rank", "machine", "product"], kind="stable").drop(columns="rank").reset_index(drop=True)


def _intensity(parts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = parts.groupby(keys, as_index=False).agg(
        units=("units", "sum"), energy_kwh=("energy_kwh", "sum"), incomplete_days=("complete", lambda c: int((~c).sum()))
    )
    grouped["kwh_per_unit"] = grouped["energy_kwh"] / grouped["units"].where(grouped["units"] > 0)
    return grouped
