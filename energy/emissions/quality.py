"""Scope 2 quality checks: each factor source and contractual instrument against the activity it values.

The GHG Protocol *Scope 2 Guidance* (WRI/WBCSD, 2015), chapter 7, Table 7.1 "Scope 2 Quality
Criteria", sets what contractual instruments and market-based factors must meet. What the
configuration states (``vintage``, ``gases``, ``country``, ``registry_id``, ``device``,
``cancelled_on``; ``site.country``) is checked here against the energy each source or instrument
actually valued, per local calendar year of that energy. The rules (docs/emissions.md, "Quality
checks"):

- **factor vintage** (the data year of a location, supplier, market or residual-mix factor): the
  calendar year of the activity, else flagged as the latest available (a warning, not a refusal:
  the Guidance's accuracy and transparency principles, chapter 3, ask for the best available data,
  disclosed). A series without ``vintage`` is taken to describe the dates of its rows (info); a
  constant without ``vintage`` cannot be checked (warning).
- **instrument vintage** (Criterion 4, "issued and redeemed as close as possible to the period of
  energy consumption"): the year of generation equals the calendar year of the consumption it
  covers, else a warning with the years apart; the **cancellation** (redemption) date falls in
  that year or the next one (a product convention: certificates for a year are commonly cancelled
  after it ends), else a warning.
- **evidence** (Criterion 3, "tracked and redeemed, retired or cancelled by or on behalf of the
  reporting entity"): registry id, device and cancellation date stated, else a warning naming
  what is missing.
- **market boundary** (Criterion 5, "sourced from the same market"): the instrument's country is
  the site's (``site.country``), else a warning (a multi-country market may still qualify: the
  product cannot tell).
- **residual mix** (Criterion 8): market-based energy valued at the grid average because no
  supplier or residual-mix factor was valid is a warning (the Guidance asks to disclose it).
- **gases**: what each method's emitting factors count — ``co2e``, ``co2`` (CO2 only) or not
  stated; a method adding CO2-only and CO2e factors, or whose gases are not stated, is a warning,
  and so are two methods counting different gases. The report's units say it
  (:func:`emissions_unit`).
- **coverage**: "X of Y MWh covered by instruments" (:func:`instrument_coverage`).

Every check that ran gives a :class:`Finding` — ``ok`` ones too, so a reader sees what was
checked; nothing is dropped. A finding never changes a figure: a stale factor may be the best
available and is still applied, flagged.

``applied`` (the input of every function here) says what valued each interval's grid import:
one row per interval, method and source or instrument with ``interval_start`` (UTC), ``method``
(``location`` | ``market``), ``source_id``, ``grid_kwh`` (kWh valued) and ``emissions_kg``
(kg) — the report's contributions (:func:`energy.reports.scope2.site_scope2`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy.emissions.sources import FactorSource, Instrument

#: Severities, in the order tables list them: act on it; a statement; checked and met.
SEVERITIES = ("warning", "info", "ok")
FINDING_COLUMNS = ["severity", "check", "subject", "period", "what", "rule"]
COVERAGE_COLUMNS = ["grid_import_kwh", "instrument_kwh", "uncovered_kwh", "covered_pct", "statement"]

_GUIDANCE = "GHG Protocol Scope 2 Guidance (2015)"
RULES = {
    "criterion 3": f"{_GUIDANCE}, Table 7.1, Quality Criterion 3: tracked and redeemed, retired or cancelled by or on behalf of the reporting entity",
    "criterion 4": f"{_GUIDANCE}, Table 7.1, Quality Criterion 4: issued and redeemed as close as possible to the period of energy consumption",
    "criterion 5": f"{_GUIDANCE}, Table 7.1, Quality Criterion 5: sourced from the same market as the consuming operations",
    "criterion 8": f"{_GUIDANCE}, Table 7.1, Quality Criterion 8: residual mix for energy without contractual data; disclose where none is available",
    "factor vintage": f"{_GUIDANCE}, chapter 3 (accuracy, transparency); product rule: the data year is the activity's calendar year, "
                      "else the latest available is applied and flagged",
    "gases": "GHG Protocol Corporate Standard (revised 2004), chapter 9 (emissions in tonnes of CO2 equivalent); "
             f"{_GUIDANCE}, chapter 3 (transparency)",
    "coverage": f"{_GUIDANCE}, Table 6.3 (market-based hierarchy: contractual instruments first)",
}
_GAS_NAMES = {"co2": "CO2 only", "co2e": "CO2e"}
_GAS_PHRASES = {"co2": "counts CO2 only", "co2e": "counts CO2e", None: "does not state its gases"}
_UNITS = {"co2": "tCO2", "co2e": "tCO2e", "mixed": "tCO2 + tCO2e (mixed)", "unknown": "t (CO2 or CO2e: not stated)", "none": "tCO2e"}


@dataclass(frozen=True)
class Finding:
    """One quality check's outcome: ``severity`` (:data:`SEVERITIES`), the ``check``, its
    ``subject`` (a source or instrument id, or a method), the activity ``period`` it is about
    (local dates), ``what`` was found and the ``rule`` it applies, with its citation."""

    severity: str
    check: str
    subject: str
    period: str
    what: str
    rule: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")


def findings_table(findings: Sequence[Finding]) -> pd.DataFrame:
    """The findings as a table (:data:`FINDING_COLUMNS`), warnings first, else in the given order."""
    table = pd.DataFrame([[getattr(f, c) for c in FINDING_COLUMNS] for f in findings], columns=FINDING_COLUMNS)
    order = table["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def mwh_text(kwh: float) -> str:
    """kWh as MWh with the digits that matter: ``0``, ``0.375``, ``7.4``, ``1,234``."""
    mwh = kwh / 1000.0
    if mwh == 0:
        return "0"
    return f"{mwh:,.0f}" if abs(mwh) >= 100 else f"{mwh:,.1f}" if abs(mwh) >= 1 else f"{mwh:,.3f}"


def coverage_statement(instrument_kwh: float, grid_import_kwh: float) -> str:
    """"X of Y MWh covered by instruments"."""
    return f"{mwh_text(instrument_kwh)} of {mwh_text(grid_import_kwh)} MWh covered by instruments"


def _covered(applied: pd.DataFrame, instruments: Sequence[Instrument]) -> tuple[pd.Series, pd.Series]:
    """Per market-based row: the grid import it valued (kWh), and whether an instrument valued it.
    Market-based rows add up to the grid import: instruments first, the rest at one factor."""
    market = applied[applied["method"] == "market"]
    return market["grid_kwh"].fillna(0.0), market["source_id"].isin({i.id for i in instruments})


def instrument_coverage(applied: pd.DataFrame, instruments: Sequence[Instrument], period_of: pd.Series,
                        periods: Sequence[str], total: str = "total") -> pd.DataFrame:
    """Grid import covered by contractual instruments per period and in ``total``.

    ``period_of`` maps an interval start to its period label (e.g. the local month ``YYYY-MM``);
    ``periods`` lists the labels in order (periods without import get zeros). Index: the periods,
    then ``total``; columns :data:`COVERAGE_COLUMNS`: ``grid_import_kwh``, ``instrument_kwh``,
    ``uncovered_kwh`` (kWh), ``covered_pct`` (%, NaN without import) and the ``statement``
    "X of Y MWh covered by instruments".
    """
    kwh, by_instrument = _covered(applied, instruments)
    label = applied.loc[kwh.index, "interval_start"].map(period_of)
    frame = pd.DataFrame({"grid_import_kwh": kwh, "instrument_kwh": kwh.where(by_instrument, 0.0), "period": label})
    sums = frame.groupby("period")[["grid_import_kwh", "instrument_kwh"]].sum().reindex(list(periods), fill_value=0.0)
    sums.loc[total] = sums.sum()
    sums["uncovered_kwh"] = sums["grid_import_kwh"] - sums["instrument_kwh"]
    sums["covered_pct"] = 100.0 * sums["instrument_kwh"] / sums["grid_import_kwh"].where(sums["grid_import_kwh"] > 0)
    sums["statement"] = [coverage_statement(c, g) for c, g in zip(sums["instrument_kwh"], sums["grid_import_kwh"])]
    return sums[COVERAGE_COLUMNS]


def _gases_by_id(sources: Sequence[FactorSource], instruments: Sequence[Instrument]) -> dict[str, str | None]:
    return {**{s.id: s.gases for s in sources}, **{i.id: i.gases for i in instruments}}


def _emitting(applied: pd.DataFrame, method: str) -> list[str]:
    """The sources and instruments whose factor gave ``method`` emissions (above zero), sorted."""
    return sorted(applied.loc[(applied["method"] == method) & (applied["emissions_kg"] > 0), "source_id"].dropna().unique())


def gases_of(applied: pd.DataFrame, method: str, sources: Sequence[FactorSource], instruments: Sequence[Instrument] = ()) -> str:
    """What ``method``'s figure counts, from the sources that emitted in ``applied``: ``co2e``,
    ``co2``, ``mixed`` (both), ``unknown`` (a source does not say) or ``none`` (nothing emitted,
    e.g. every kWh covered by zero-emission instruments)."""
    gases = _gases_by_id(sources, instruments)
    stated = {gases.get(source_id) for source_id in _emitting(applied, method)}
    if not stated:
        return "none"
    if None in stated:
        return "unknown"
    return stated.pop() if len(stated) == 1 else "mixed"


def emissions_unit(gases: str) -> str:
    """The unit of a figure whose factors count ``gases`` (see :func:`gases_of`): ``tCO2e``,
    ``tCO2``, ``tCO2 + tCO2e (mixed)`` or ``t (CO2 or CO2e: not stated)``; zero is ``tCO2e``."""
    return _UNITS[gases]


def _local_span(starts: pd.Series, tz: str) -> str:
    first, last = starts.min().tz_convert(tz).date(), starts.max().tz_convert(tz).date()
    return str(first) if first == last else f"{first} to {last}"


def _applied_years(applied: pd.DataFrame, ids: set[str], tz: str) -> pd.DataFrame:
    """Per source or instrument of ``ids`` and local calendar year of the energy it valued:
    ``source_id``, ``year``, ``grid_kwh``, ``period`` (local dates)."""
    rows = applied[applied["source_id"].isin(ids) & (applied["grid_kwh"] > 0)]
    rows = rows.assign(year=rows["interval_start"].dt.tz_convert(tz).dt.year)
    grouped = rows.groupby(["source_id", "year"], sort=True)
    out = grouped["grid_kwh"].sum().rename("grid_kwh").reset_index()
    out["period"] = [_local_span(starts, tz) for _, starts in grouped["interval_start"]]
    return out


def _years_apart(data_year: int, year: int) -> str:
    gap = abs(data_year - year)
    return f"{gap} year{'s' if gap > 1 else ''} {'older' if data_year < year else 'newer'}"


def _factor_vintage(source: FactorSource, year: int, kwh: float, period: str) -> Finding:
    valued = f"valuing {mwh_text(kwh)} MWh"
    if source.vintage is None and source.constant_g_per_kwh is None:
        return Finding("info", "vintage", source.id, period, f"no vintage stated: the series is taken to describe the dates of its rows ({year}); {valued}",
                       RULES["factor vintage"])
    if source.vintage is None:
        return Finding("warning", "vintage", source.id, period, f"no vintage stated: cannot check that this constant describes {year} "
                       f"(set vintage to the year its data describe); {valued}", RULES["factor vintage"])
    if source.vintage == year:
        return Finding("ok", "vintage", source.id, period, f"{source.vintage} data applied to {year} activity; {valued}", RULES["factor vintage"])
    return Finding("warning", "vintage", source.id, period,
                   f"{source.vintage} data applied to {year} activity ({_years_apart(source.vintage, year)}): applied as configured; "
                   f"disclose it as the latest available, or load {year} data; {valued}", RULES["factor vintage"])


def _instrument_vintage(instrument: Instrument, year: int, kwh: float, period: str, tz: str) -> list[Finding]:
    covering = f"covering {mwh_text(kwh)} MWh of {year} consumption"
    if instrument.vintage is None:
        findings = [Finding("warning", "vintage", instrument.id, period, f"no vintage (year of generation) stated: cannot be checked; {covering}",
                            RULES["criterion 4"])]
    elif instrument.vintage == year:
        findings = [Finding("ok", "vintage", instrument.id, period, f"generated in {instrument.vintage}, {covering}", RULES["criterion 4"])]
    else:
        findings = [Finding("warning", "vintage", instrument.id, period, f"generated in {instrument.vintage}, {covering} "
                            f"({_years_apart(instrument.vintage, year)})", RULES["criterion 4"])]
    if instrument.cancelled_on is not None:
        cancelled = instrument.cancelled_on.tz_convert(tz).date()
        if cancelled.year in (year, year + 1):
            findings.append(Finding("ok", "cancellation", instrument.id, period, f"cancelled on {cancelled}, for {year} consumption",
                                    RULES["criterion 4"]))
        else:
            findings.append(Finding("warning", "cancellation", instrument.id, period, f"cancelled on {cancelled}, not in {year} or {year + 1} "
                                    f"(the year of the consumption it covers or the next)", RULES["criterion 4"]))
    return findings


def _instrument_once(instrument: Instrument, site_country: str | None, period: str) -> list[Finding]:
    stated = {"registry_id": instrument.registry_id, "device": instrument.device, "cancelled_on": instrument.cancelled_on}
    missing = [name for name, value in stated.items() if value is None]
    if missing:
        evidence = Finding("warning", "evidence", instrument.id, period, f"not stated: {', '.join(missing)}; the tracking and cancellation "
                           "for the site cannot be shown from the configuration", RULES["criterion 3"])
    else:
        evidence = Finding("ok", "evidence", instrument.id, period, f"registry id {instrument.registry_id}; device {instrument.device}; "
                           "cancellation date stated", RULES["criterion 3"])
    if instrument.country is None or site_country is None:
        unknown = " and ".join(name for name, value in (("the instrument's country", instrument.country), ("site.country", site_country)) if value is None)
        market = Finding("warning", "market boundary", instrument.id, period, f"{unknown} not stated: the market cannot be compared", RULES["criterion 5"])
    elif instrument.country == site_country.upper():
        market = Finding("ok", "market boundary", instrument.id, period, f"from {instrument.country}, the site's country", RULES["criterion 5"])
    else:
        market = Finding("warning", "market boundary", instrument.id, period, f"from {instrument.country}, the site is in {site_country.upper()}: "
                         "not the same market unless both lie in one market (disclose that market, or remove the instrument)", RULES["criterion 5"])
    return [evidence, market]


def _method_gases(applied, sources, instruments, period: str) -> list[Finding]:
    gases = _gases_by_id(sources, instruments)
    found, counted = [], {}
    for method in ("location", "market"):
        if not (applied["method"] == method).any():
            continue
        counted[method] = gases_of(applied, method, sources, instruments)
        named = "; ".join(f"{i} {_GAS_PHRASES[gases.get(i)]}" for i in _emitting(applied, method)) or "no factor above zero"
        severity = {"co2e": "ok", "none": "ok", "co2": "info"}.get(counted[method], "warning")
        found.append(Finding(severity, "gases", f"{method}-based", period, f"reported in {emissions_unit(counted[method])}: {named}", RULES["gases"]))
    if {counted.get("location"), counted.get("market")} == {"co2", "co2e"}:
        found.append(Finding("warning", "gases", "location- vs market-based", period, f"location-based counts {_GAS_NAMES[counted['location']]}, "
                             f"market-based {_GAS_NAMES[counted['market']]}: the two totals are not like for like", RULES["gases"]))
    return found


def check_scope2(
    applied: pd.DataFrame,
    sources: Sequence[FactorSource],
    instruments: Sequence[Instrument],
    *,
    tz: str,
    site_country: str | None,
    period: str,
) -> list[Finding]:
    """Every quality check of the sources and instruments that valued grid import in ``applied``
    (see the module doc for the rules), for the report period labelled ``period``; ``tz`` is the
    site's zone (activity years are local calendar years)."""
    kwh, by_instrument = _covered(applied, instruments)
    findings = [Finding("info", "coverage", "market-based", period, coverage_statement(float(kwh[by_instrument].sum()), float(kwh.sum())),
                        RULES["coverage"])]
    findings += _method_gases(applied, sources, instruments, period)
    location_ids = {s.id for s in sources if s.method == "location"}
    fallback = applied[(applied["method"] == "market") & applied["source_id"].isin(location_ids) & (applied["grid_kwh"] > 0)]
    if len(fallback):
        findings.append(Finding("warning", "residual mix", "market-based", _local_span(fallback["interval_start"], tz),
                                f"{mwh_text(fallback['grid_kwh'].sum())} MWh valued at the grid average ({', '.join(sorted(fallback['source_id'].unique()))}): "
                                "no supplier or residual-mix factor was valid; to be disclosed", RULES["criterion 8"]))
    by_id = {s.id: s for s in sources if s.method != "marginal"}
    for row in _applied_years(applied, set(by_id), tz).itertuples():
        findings.append(_factor_vintage(by_id[row.source_id], row.year, row.grid_kwh, row.period))
    by_instrument_id = {i.id: i for i in instruments}
    market = applied[(applied["method"] == "market") & (applied["grid_kwh"] > 0)]
    used = _applied_years(market, set(by_instrument_id), tz)
    for instrument_id, years in used.groupby("source_id", sort=True):
        instrument = by_instrument_id[instrument_id]
        for row in years.itertuples():
            findings += _instrument_vintage(instrument, row.year, row.grid_kwh, row.period, tz)
        findings += _instrument_once(instrument, site_country, _local_span(market.loc[market["source_id"] == instrument_id, "interval_start"], tz))
    return findings


def stated(item: FactorSource | Instrument, tz: str) -> str:
    """What the configuration states for the checks of a source or instrument, for a methodology
    line: ``vintage 2021; gases co2`` (``not stated`` where missing); instruments also country,
    registry id, device and the local cancellation date."""
    fields = {"vintage": item.vintage, "gases": item.gases}
    if isinstance(item, Instrument):
        cancelled = None if item.cancelled_on is None else item.cancelled_on.tz_convert(tz).date()
        fields |= {"country": item.country, "registry id": item.registry_id, "device": item.device, "cancelled on": cancelled}
    return "; ".join(f"{name} {'not stated' if value is None else value}" for name, value in fields.items())
