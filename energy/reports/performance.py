"""The EnPI's relevant variables and its tables: from daily consumption, the MES production file,
temperatures and the site calendar to the baseline, the verdict, the savings and the CUSUM.

Pure functions (the storage reads are :mod:`energy.reports.report`'s); the statistics are
:mod:`energy.reports.enpi`'s; docs/enpi.md says what is done and why.

Relevant variables (ISO 50006:2014), one column per local day:

- **production**: the production file's quantities (:mod:`energy.reports.production`). Products
  named in ``[enpi] products`` are a variable of their own (``product_<name>``, kWh per unit of
  it); the others are summed per unit of measure (``production_<unit>``). A day inside the file's
  span (its first to its last date, whole weeks or months for weekly or monthly data) without a
  row produced nothing; a working day outside it has no production data and is left out (the
  file lags or starts late), a non-working day outside it produced nothing;
- **working_day**: 1 on a weekday that is neither a public holiday of the site's country nor a
  configured shutdown day;
- **degree days** (with ``[enpi] weather_file``): hdd_kd = max(heating base − T, 0) and
  cdd_kd = max(T − cooling base, 0), T the day's mean air temperature (the mean of the file's
  values in the local day; a day with values in fewer than :data:`MIN_WEATHER_HOURS` of its hours
  has no temperature and is left out). The bases default to 18.3 °C (65 °F), the base of the
  degree days of the ASHRAE Handbook—Fundamentals' climatic design tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy.config import Enpi, SiteConfig
from energy.errors import InputError
from energy.forecasts.calendar import calendar_from_config, off_days
from energy.reports import enpi
from energy.reports.enpi import Variable

#: A day's mean temperature needs values in at least this many of its hours.
MIN_WEATHER_HOURS = 18
WORKING_DAY = Variable("working_day", "kWh per working day (vs. non-working)")
HDD = Variable("hdd_kd", "kWh per heating degree day (K·d)")
CDD = Variable("cdd_kd", "kWh per cooling degree day (K·d)")


def production_variables(production: pd.DataFrame, products: list[str], source: str = "production file") -> tuple[pd.DataFrame, list[Variable]]:
    """Per date (index): one column per production variable (module docstring), and the variables.

    ``production`` as :func:`energy.reports.production.read_production_csv` returns it; a product
    of ``products`` that it does not contain is an InputError naming ``source``.
    """
    known = set(production["product"])
    for i, product in enumerate(products):
        if product not in known:
            raise InputError(f"enpi.products[{i}]: product {product!r} is not in {source} (it has: {', '.join(sorted(known)) or 'none'})")
    own = production["product"].isin(products)
    columns, variables = {}, []
    for product, rows in production[own].groupby("product", sort=True):
        unit = rows["unit"].iloc[0]
        columns[f"product_{product}"] = rows.groupby("date")["units"].sum()
        variables.append(Variable(f"product_{product}", f"kWh per {unit} of {product}", unit))
    for unit, rows in production[~own].groupby("unit", sort=True):
        columns[f"production_{unit}"] = rows.groupby("date")["units"].sum()
        which = "the other products" if products else "all products"
        variables.append(Variable(f"production_{unit}", f"kWh per {unit} produced ({which} in {unit})", unit))
    return pd.DataFrame(columns).fillna(0.0), variables


def degree_days(temperature_c: pd.Series, tz: str, heating_base_c: float, cooling_base_c: float) -> pd.DataFrame:
    """Per local date (index): ``temp_mean_c``, ``hdd_kd`` and ``cdd_kd`` (K·d) from air
    temperatures (°C) at UTC instants; NaN on a day with values in fewer than
    :data:`MIN_WEATHER_HOURS` of its hours."""
    values = temperature_c.dropna()
    local = values.index.tz_convert(tz).tz_localize(None)
    frame = pd.DataFrame({"t": values.to_numpy(), "date": local.date, "hour": local.floor("h")})
    grouped = frame.groupby("date")
    mean = grouped["t"].mean().where(grouped["hour"].nunique() >= MIN_WEATHER_HOURS)
    return pd.DataFrame({"temp_mean_c": mean, "hdd_kd": (heating_base_c - mean).clip(lower=0), "cdd_kd": (mean - cooling_base_c).clip(lower=0)})


def adjustment_kwh(settings: Enpi, dates: pd.Index) -> np.ndarray:
    """The non-routine adjustments (``[[enpi.adjustments]]``) on each of ``dates`` (kWh)."""
    total = np.zeros(len(dates))
    for item in settings.adjustments:
        last = item.until or item.date
        total += np.where([(item.date <= d <= last) for d in dates], item.kwh, 0.0)
    return total


@dataclass(frozen=True)
class Inputs:
    """What the EnPI reads besides the meters, parsed: production per date and variable, its
    span (first and last day it covers), and the degree days (None without the files)."""

    production: pd.DataFrame | None
    variables: list[Variable]  # the production variables
    production_span: tuple[dt.date, dt.date] | None
    granularity: str  # of the production data
    weather: pd.DataFrame | None


def prepare(settings: Enpi, tz: str, production: pd.DataFrame | None, temperature_c: pd.Series | None, source: str = "production file") -> Inputs:
    """The relevant variables other than the calendar, from the parsed production rows and temperatures."""
    variables, per_date, span, granularity = [], None, None, "daily"
    if production is not None and len(production):
        per_date, variables = production_variables(production, settings.products, source)
        granularity = enpi.granularity_of(per_date.index)
        span = (enpi.period_start(pd.Series([min(per_date.index)]), granularity).iloc[0], enpi.period_end(max(per_date.index), granularity))
    weather = None if temperature_c is None else degree_days(temperature_c, tz, settings.heating_base_c, settings.cooling_base_c)
    return Inputs(per_date, variables, span, granularity, weather)


def day_table(energy_days: pd.DataFrame, config: SiteConfig, inputs: Inputs) -> pd.DataFrame:
    """Per local day: ``date``, ``energy_kwh``, ``complete`` (the day is used), ``excluded`` (why
    not), ``working_day``, the production and degree-day variables and ``adjustment_kwh``.

    ``energy_days``: ``date``, ``energy_kwh``, ``complete`` (no missing interval), as
    :func:`energy.reports.tables.daily_energy` gives them.
    """
    days = energy_days[["date", "energy_kwh"]].copy()
    dates = pd.Index(days["date"])
    weekday = np.fromiter((d.weekday() for d in dates), dtype=int, count=len(dates))
    days["working_day"] = ((weekday < 5) & ~off_days(calendar_from_config(config), dates)).astype(float)
    reasons = np.where(energy_days["complete"].to_numpy(), "", "an interval missing").astype(object)
    if inputs.production is not None:
        produced = inputs.production.reindex(dates).fillna(0.0)
        first, last = inputs.production_span
        # A lagging or late-starting file is no evidence of idle working days; a non-working day is idle anyway.
        outside = np.array([not first <= d <= last for d in dates], dtype=bool) & (days["working_day"].to_numpy() > 0)
        for column in produced.columns:
            days[column] = np.where(outside, np.nan, produced[column].to_numpy())
        reasons = np.where((reasons == "") & outside, "no production data", reasons)
    if inputs.weather is not None:
        weather = inputs.weather.reindex(dates)
        for column in ("hdd_kd", "cdd_kd"):
            days[column] = weather[column].to_numpy()
        reasons = np.where((reasons == "") & weather["hdd_kd"].isna().to_numpy(), "no temperature", reasons)
    days["adjustment_kwh"] = adjustment_kwh(config.enpi, dates)
    days.insert(2, "complete", reasons == "")
    days.insert(3, "excluded", reasons)
    return days


@dataclass(frozen=True)
class Performance:
    """The EnPI of a reporting period against its baseline: every table and the verdict."""

    baseline_label: str
    model: enpi.Baseline | None
    verdict: enpi.Verdict
    coefficients: pd.DataFrame  # enpi.COEFFICIENT_COLUMNS
    fit: pd.DataFrame  # statistic, value, note
    days: pd.DataFrame  # per day of both periods, with the prediction and the CUSUM
    savings: pd.DataFrame  # enpi.SAVINGS_COLUMNS, per month and total
    values: pd.DataFrame  # enpi.VALUE_COLUMNS
    variables: list[Variable]
    static_factors: list[str]
    adjustments: list  # the configured energy.config.EnpiAdjustment items

    @property
    def total(self) -> pd.Series | None:
        """The reporting period's total savings row, or None without a model."""
        rows = self.savings[self.savings["month"] == "total"]
        return rows.iloc[0] if len(rows) else None


def evaluate(config: SiteConfig, reporting: pd.DataFrame, baseline: pd.DataFrame, baseline_label: str, inputs: Inputs) -> Performance:
    """The EnPI of the ``reporting`` days against a model fitted on the ``baseline`` days (both as
    :func:`day_table`'s ``energy_days``), at the configured or the production data's granularity."""
    settings = config.enpi
    granularity = inputs.granularity if settings.granularity == "auto" else settings.granularity
    base_days, report_days = (enpi.whole_periods(day_table(frame, config, inputs), granularity) for frame in (baseline, reporting))
    candidates = [*inputs.variables, WORKING_DAY, *([HDD, CDD] if inputs.weather is not None else [])]
    model = enpi.fit_baseline(base_days, candidates, granularity)
    days = pd.concat([base_days.assign(period="baseline"), report_days.assign(period="reporting")], ignore_index=True)
    month_of = pd.Series(pd.to_datetime(report_days["date"]).dt.strftime("%Y-%m").to_numpy(), index=report_days.index)
    adjustments = list(settings.adjustments)
    if isinstance(model, str):
        fit = pd.DataFrame([("no model", model, f"baseline period {baseline_label}")], columns=["statistic", "value", "note"])
        days = days.assign(baseline_kwh=np.nan, expected_kwh=np.nan, difference_kwh=np.nan, cusum_kwh=np.nan)
        return Performance(baseline_label, None, enpi.assess(model, None), pd.DataFrame(columns=enpi.COEFFICIENT_COLUMNS), fit,
                           _ordered(days), pd.DataFrame(columns=enpi.SAVINGS_COLUMNS), pd.DataFrame(columns=enpi.VALUE_COLUMNS),
                           candidates, settings.static_factors, adjustments)
    savings = enpi.normalised_savings(model, report_days, month_of)
    total = savings.iloc[-1]
    days["baseline_kwh"] = enpi.predict_kwh(model, days)
    # Adjustments change what the reporting period is expected to use; the baseline is the model's own.
    days["expected_kwh"] = days["baseline_kwh"] + np.where(days["period"] == "reporting", days["adjustment_kwh"], 0.0)
    days = enpi.cusum(days)
    reported = days[days["period"] == "reporting"].set_index(report_days.index)
    values = enpi.enpi_values(reported, model.variables, month_of)
    return Performance(baseline_label, model, enpi.assess(model, total), enpi.coefficients_table(model), enpi.fit_table(model), _ordered(days),
                       savings, values, candidates, settings.static_factors, adjustments)


def _ordered(days: pd.DataFrame) -> pd.DataFrame:
    return days[["period", "date", *(c for c in days.columns if c not in ("period", "date"))]]


# --- what the report says -----------------------------------------------------------------------

SCOPE = "EnPI (ISO 50006)"
#: The summary item of a claimed normalised saving (absent when none is claimed).
SAVINGS_ITEM = "normalised savings vs baseline"


def tables(perf: Performance) -> list[tuple[str, str, str, pd.DataFrame]]:
    """The report's EnPI tables as (name, title, description, frame), in reading order."""
    verdict = perf.verdict.text
    return [
        ("enpi_adequacy", "EnPI baseline adequacy", f"Is the energy baseline good enough to claim savings (ASHRAE Guideline 14-2014)? {verdict}",
         perf.verdict.checks),
        ("enpi_model", "EnPI baseline model", "ISO 50006 energy baseline: OLS coefficients of site consumption on its relevant variables "
         "(days, production, working day, degree days).", perf.coefficients),
        ("enpi_fit", "EnPI baseline fit", "Fit statistics of the energy baseline.", perf.fit),
        ("enpi_days", "EnPI data and CUSUM by day", "The days behind the baseline and the savings: site consumption, whether the day is "
         "used (and why not), relevant variables, the baseline's expectation (kWh, with the non-routine adjustments in the reporting "
         "period), actual − expected and its running sum (CUSUM) per period.", perf.days),
        ("enpi_savings", "Normalised savings", "Expected consumption for the reporting period's conditions (baseline model + adjustments) "
         f"minus measured consumption, with the 95 % range and the fractional savings uncertainty. {verdict}", perf.savings),
        ("enpi_values", "EnPI values", "kWh per unit of each production variable: measured, and as the baseline expects.", perf.values),
        ("enpi_factors", "Static factors and adjustments", "What the baseline assumes unchanged (static factors) and the non-routine "
         "adjustments of its expectation (ISO 50006, ISO 50015), from the site configuration.", factors_table(perf)),
    ]


def factors_table(perf: Performance) -> pd.DataFrame:
    """The configured static factors and adjustments, one row each: kind, date, until, description, kWh."""
    rows = [("static factor", None, None, text, np.nan) for text in perf.static_factors]
    rows += [("adjustment", a.date, a.until, a.description, a.kwh) for a in perf.adjustments]
    return pd.DataFrame(rows, columns=["kind", "date", "until", "description", "kwh"])


def claimed(summary: pd.DataFrame) -> bool:
    """Whether a report's summary claims a normalised saving."""
    return SAVINGS_ITEM in set(summary["item"])


def verdict_text(summary: pd.DataFrame) -> str:
    """The EnPI's verdict in words, from a report's summary (the note on its baseline model row)."""
    return str(summary.loc[summary["scope"] == SCOPE, "note"].iloc[0])


def summary_rows(perf: Performance) -> list[tuple]:
    """The summary's EnPI rows (item, value, unit, scope, note): the model's fit and verdict
    always; the normalised saving and the EnPI only when a saving is claimed."""
    model, total, verdict = perf.model, perf.total, perf.verdict
    rows = [("EnPI baseline model, CV(RMSE)", model.cv_rmse_pct if model else np.nan, "%", SCOPE, verdict.text)]
    if verdict.claimed:
        rows += [
            (SAVINGS_ITEM, float(total["savings_kwh"]), "kWh", SCOPE),
            ("normalised savings", float(total["savings_pct"]), "%", SCOPE),
            ("normalised savings, 95 % low", float(total["savings_lo95_kwh"]), "kWh", SCOPE),
            ("normalised savings, 95 % high", float(total["savings_hi95_kwh"]), "kWh", SCOPE),
            ("fractional savings uncertainty, 68 %", float(total["fsu68_pct"]), "%", SCOPE),
            ("EnPI, actual / expected consumption", float(total["enpi_ratio"]), "ratio", SCOPE),
        ]
    return rows


def methodology_rows(perf: Performance) -> list[tuple[str, str, str]]:
    """The methodology's EnPI rows (section, item, detail)."""
    model = perf.model
    named = ", ".join(f"{v.name} ({v.meaning})" for v in perf.variables)
    criteria = "; ".join(f"{c.granularity}: CV(RMSE) ≤ {c.cv_rmse_max_pct:g} %, |NMBE| ≤ {c.nmbe_max_pct:g} % ({c.basis})" for c in enpi.CRITERIA.values())
    return [
        ("EnPI", "baseline period", perf.baseline_label),
        ("EnPI", "relevant variables", f"candidates: {named}. A variable that does not vary in the baseline, or adds nothing the "
         "ones before it do not, is left out. Production: the MES/ERP production file; degree days from the weather file's air "
         "temperature (bases in [enpi]); working day: weekday, not a public holiday or shutdown day."),
        ("EnPI", "model", (f"OLS (statsmodels) of {model.granularity} site consumption: energy_kwh ~ " + " + ".join(["days", *model.terms])
                           + "; each observation sums its complete days (a week or month only when all its days are complete).")
         if model else f"no model: {perf.fit['value'].iloc[0]}"),
        ("EnPI", "adequacy", f"ASHRAE Guideline 14-2014 limits by granularity — {criteria}. NMBE and CV(RMSE) divide by n − p."),
        ("EnPI", "normalised savings", "Expected consumption (the model's prediction for the reporting period's relevant variables plus "
         "the non-routine adjustments) minus measured consumption (ISO 50006; ISO 50015 avoided energy). 95 % range from the OLS "
         "prediction error of the sum, inflated for lag-1 autocorrelation. Claimed only when the model is adequate and the fractional "
         f"savings uncertainty (ASHRAE Guideline 14-2014 Annex B, factor {enpi.FSU_FACTOR}) at 68 % confidence is at most "
         f"{enpi.FSU_MAX_PCT:g} %."),
        ("EnPI", "verdict", perf.verdict.text),
        ("EnPI", "static factors", "; ".join(perf.static_factors) or "none recorded ([enpi] static_factors)"),
        ("EnPI", "adjustments", "; ".join(f"{a.date}{f' to {a.until}' if a.until else ''}: {a.kwh:+,.0f} kWh{' per day' if a.until else ''} ({a.description})"
                                          for a in perf.adjustments) or "none ([[enpi.adjustments]])"),
    ]
