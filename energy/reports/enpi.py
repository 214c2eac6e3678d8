"""Energy performance per ISO 50001 / ISO 50006 that checks its own adequacy (ASHRAE Guideline 14).

The **energy baseline** (EnB, ISO 50006:2014) is an ordinary least squares model (statsmodels) of
the site's consumption on its relevant variables, fitted on a baseline period. Its observations
are days, weeks or months (:data:`CRITERIA`; the granularity of the production data decides,
:func:`granularity_of`). Each observation sums its complete days, so the model is one of daily
rates whatever the granularity::

    energy_kwh = b0 · days + Σ b_v · v        (v summed over the observation's days)

With daily observations ``days`` is 1 and ``b0`` the intercept. The relevant variables
(:class:`Variable`) are production quantities, a working-day indicator and heating/cooling degree
days (``energy.reports.performance`` builds them). A variable that does not vary in the baseline
is left out, as is one that adds nothing the others do not (a rank-deficient design).

**Adequacy** (:func:`assess`): the model is *adequate* when its CV(RMSE) and NMBE over the
baseline observations are within ASHRAE Guideline 14-2014's limits for the granularity (n − p
in both denominators, p the number of coefficients). **Normalised savings** (ISO 50006 normalised
EnPI; ISO 50015 / IPMVP "avoided energy consumption") = expected − measured consumption of the
reporting period, expected = the model's prediction for the period's relevant variables plus the
non-routine adjustments. A saving is *claimed* only when the model is adequate and its
fractional savings uncertainty (ASHRAE Guideline 14-2014 Annex B) at 68 % confidence is at most
50 % of it; otherwise the reason is said in words and no saving is headlined.

Uncertainty of the summed savings: Var = aᵀ·Cov(b)·a + (m/L)·σ²·n/n′ for m days with summed daily
regressors a, L days per baseline observation and σ² the residual variance per observation;
n/n′ = (1 + ρ₁)/(1 − ρ₁) when the residuals are positively autocorrelated (ρ₁ lag 1). The 95 %
range uses Student's t on the model's residual degrees of freedom.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

G14 = "ASHRAE Guideline 14-2014"


@dataclass(frozen=True)
class Criteria:
    """When a baseline model of one granularity is adequate (ASHRAE Guideline 14-2014)."""

    granularity: str
    cv_rmse_max_pct: float  # CV(RMSE) at most this
    nmbe_max_pct: float  # |NMBE| at most this
    min_observations: int  # fewer complete observations and no model is fitted (a project rule)
    basis: str  # where the limits come from


CRITERIA = {
    "hourly": Criteria("hourly", 30.0, 10.0, 0, f"{G14}, calibration criteria for hourly data (listed only: production comes per day)"),
    "daily": Criteria("daily", 25.0, 10.0, 14, f"{G14}: CV(RMSE) 25 % for a baseline model of energy use (whole-building "
                      "approach), NMBE within the hourly calibration limit of ±10 %"),
    "weekly": Criteria("weekly", 25.0, 10.0, 12, f"{G14} gives no weekly limit: the daily limits apply"),
    "monthly": Criteria("monthly", 15.0, 5.0, 12, f"{G14}, calibration criteria for monthly data: CV(RMSE) 15 %, NMBE ±5 %"),
}
#: Savings are claimed only when their fractional uncertainty at 68 % confidence is at most this (ASHRAE Guideline 14-2014).
FSU_MAX_PCT = 50.0
#: The confidence levels the fractional savings uncertainty is given at (%); the first is the criterion's.
FSU_CONFIDENCE_PCT = (68, 90)
#: The empirical factor of ASHRAE Guideline 14-2014 Annex B's fractional savings uncertainty (Reddy & Claridge 2000).
FSU_FACTOR = 1.26

SAVINGS_COLUMNS = ["month", "days_used", "days_excluded", "actual_kwh", "baseline_kwh", "adjustments_kwh", "expected_kwh", "enpi_ratio",
                   "savings_kwh", "savings_lo95_kwh", "savings_hi95_kwh", "savings_pct", "fsu68_pct", "fsu90_pct"]
COEFFICIENT_COLUMNS = ["term", "meaning", "coefficient", "std_error", "t_value", "p_value", "ci95_low", "ci95_high"]
CHECK_COLUMNS = ["check", "value", "criterion", "passed", "basis"]
VALUE_COLUMNS = ["month", "variable", "unit", "quantity", "actual_kwh_per_unit", "expected_kwh_per_unit"]


@dataclass(frozen=True)
class Variable:
    """A relevant variable (ISO 50006): its column in the day table and what its coefficient means."""

    name: str
    meaning: str
    unit: str | None = None  # the unit of a production quantity (kWh per unit EnPIs); None for the others


# --- observations -------------------------------------------------------------------------------


def granularity_of(dates) -> str:
    """The granularity of dated data: ``monthly`` when distinct dates are at least 28 days apart,
    ``weekly`` at least 7, else ``daily`` (one date or none: daily)."""
    unique = np.unique(np.asarray(pd.to_datetime(pd.Series(list(dates))).to_numpy(), dtype="datetime64[D]"))
    if len(unique) < 2:
        return "daily"
    gap = int(np.diff(unique).astype(int).min())
    return "monthly" if gap >= 28 else "weekly" if gap >= 7 else "daily"


def period_start(dates: pd.Series, granularity: str) -> pd.Series:
    """The first day of each date's observation: the date itself, its week's Monday or its month's first day."""
    stamps = pd.to_datetime(dates)
    if granularity == "weekly":
        stamps = stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")
    elif granularity == "monthly":
        stamps = stamps.dt.to_period("M").dt.start_time
    return stamps.dt.date


def period_end(day: dt.date, granularity: str) -> dt.date:
    """The last day of the observation starting on or containing ``day``."""
    start = period_start(pd.Series([day]), granularity).iloc[0]
    if granularity == "weekly":
        return start + dt.timedelta(days=6)
    if granularity == "monthly":
        return (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
    return start


def whole_periods(days: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """``days`` with the days of weeks or months that are not complete in ``days`` (a day
    missing, incomplete or outside them) marked incomplete: a weekly or monthly quantity belongs
    to its whole period (``excluded`` says why)."""
    if granularity == "daily":
        return days
    start = period_start(days["date"], granularity)
    length = pd.Series([(period_end(d, granularity) - d).days + 1 for d in start], index=days.index)
    whole = days["complete"].groupby(start).transform("sum") == length
    partial = days["complete"] & ~whole
    excluded = days["excluded"].where(~partial, f"its {'week' if granularity == 'weekly' else 'month'} is incomplete")
    return days.assign(complete=days["complete"] & whole, excluded=excluded)


def observations(days: pd.DataFrame, terms: list[str], granularity: str) -> pd.DataFrame:
    """The complete days of ``days`` summed per observation: ``start``, ``days``, ``energy_kwh`` and ``terms``."""
    usable = days[days["complete"]]
    grouped = usable.assign(start=period_start(usable["date"], granularity), days=1.0).groupby("start", sort=True)
    return grouped[["days", "energy_kwh", *terms]].sum().reset_index()


# --- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A fitted energy baseline: the OLS result, its variables, where it came from and how well it fits."""

    result: object  # statsmodels RegressionResults (exog: days, then the variables)
    variables: list[Variable]
    granularity: str
    first_day: dt.date
    last_day: dt.date
    observations: int
    days_used: int
    days_excluded: int
    days_per_observation: float  # L: mean complete days per observation
    mean_kwh: float  # ȳ per observation
    rho1: float  # lag-1 autocorrelation of the residuals
    inflation: float  # n/n′ applied to the residual variance

    @property
    def terms(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def criteria(self) -> Criteria:
        return CRITERIA[self.granularity]

    @property
    def parameters(self) -> int:
        return len(self.variables) + 1

    @property
    def rmse_kwh(self) -> float:
        """Per observation, n − p in the denominator (ASHRAE Guideline 14)."""
        return float(np.sqrt(self.result.ssr / self.result.df_resid))

    @property
    def cv_rmse_pct(self) -> float:
        return 100 * self.rmse_kwh / self.mean_kwh if self.mean_kwh else float("nan")

    @property
    def nmbe_pct(self) -> float:
        """Σ(measured − predicted) / ((n − p) · ȳ), % (ASHRAE Guideline 14); ≈ 0 for daily OLS with an intercept."""
        residual = float(np.sum(self.result.resid))
        return 100 * residual / (self.result.df_resid * self.mean_kwh) if self.mean_kwh else float("nan")

    @property
    def r_squared(self) -> float:
        """Centred R² (also for weekly and monthly models, whose design has no constant column)."""
        observed = np.asarray(self.result.model.endog)
        total = float(((observed - observed.mean()) ** 2).sum())
        return 1 - float(self.result.ssr) / total if total else float("nan")

    @property
    def adjusted_r_squared(self) -> float:
        n = self.observations
        return 1 - (1 - self.r_squared) * (n - 1) / (n - self.parameters)

    @property
    def f_p_value(self) -> float:
        """p-value of the F test of all variables against the days alone."""
        if not self.variables:
            return float("nan")
        observed = np.asarray(self.result.model.endog)
        total, residual = float(((observed - observed.mean()) ** 2).sum()), float(self.result.ssr)
        f = ((total - residual) / len(self.variables)) / (residual / self.result.df_resid)
        return float(stats.f.sf(f, len(self.variables), self.result.df_resid))

    @property
    def adequate(self) -> bool:
        criteria = self.criteria
        return bool(self.cv_rmse_pct <= criteria.cv_rmse_max_pct and abs(self.nmbe_pct) <= criteria.nmbe_max_pct)


def design(days: pd.DataFrame, terms: list[str]) -> np.ndarray:
    """The daily regressor matrix of ``days``: 1 (one day), then ``terms``."""
    return np.column_stack([np.ones(len(days)), days[list(terms)].to_numpy(dtype=float)]) if len(days) else np.zeros((0, len(terms) + 1))


def fit_baseline(days: pd.DataFrame, variables: list[Variable], granularity: str = "daily") -> Baseline | str:
    """Fit the baseline on ``days`` (``date``, ``energy_kwh``, ``complete`` and a column per
    variable) at ``granularity``. Returns the :class:`Baseline`, or a sentence saying why none."""
    criteria = CRITERIA[granularity]
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}[granularity]
    table = observations(days, [v.name for v in variables], granularity)
    if len(table) < criteria.min_observations:
        return f"only {len(table)} {unit}(s) with complete data in the baseline period (at least {criteria.min_observations} needed)"
    kept: list[Variable] = []
    for variable in variables:  # in order; each must vary and add something the ones before do not
        trial = table[["days", *(v.name for v in kept), variable.name]].to_numpy(dtype=float)
        if table[variable.name].nunique() > 1 and np.linalg.matrix_rank(trial) == trial.shape[1]:
            kept.append(variable)
    if len(table) <= len(kept) + 2:
        return f"{len(table)} {unit}(s) are too few for {len(kept) + 1} coefficients"
    exog = table[["days", *(v.name for v in kept)]].to_numpy(dtype=float)
    result = sm.OLS(table["energy_kwh"].to_numpy(dtype=float), exog).fit()
    residuals = np.asarray(result.resid)
    rho1 = float(np.corrcoef(residuals[:-1], residuals[1:])[0, 1]) if len(residuals) > 2 and residuals.std() > 0 else 0.0
    rho1 = 0.0 if np.isnan(rho1) else rho1
    usable = days[days["complete"]]
    return Baseline(
        result, kept, granularity, usable["date"].min(), usable["date"].max(), len(table), len(usable), len(days) - len(usable),
        float(table["days"].mean()), float(table["energy_kwh"].mean()), rho1, (1 + rho1) / (1 - rho1) if 0 < rho1 < 1 else 1.0,
    )


def predict_kwh(model: Baseline, days: pd.DataFrame) -> np.ndarray:
    """The baseline's expected kWh of each day (NaN where a variable is unknown)."""
    return design(days, model.terms) @ np.asarray(model.result.params)


def coefficients_table(model: Baseline) -> pd.DataFrame:
    """One row per coefficient: estimate, standard error, t, p and 95 % confidence interval."""
    result = model.result
    low, high = np.asarray(result.conf_int(0.05)).T
    return pd.DataFrame({
        "term": ["intercept", *model.terms],
        "meaning": ["kWh per day at zero production on a non-working day (at zero degree days)", *(v.meaning for v in model.variables)],
        "coefficient": np.asarray(result.params),
        "std_error": np.asarray(result.bse),
        "t_value": np.asarray(result.tvalues),
        "p_value": np.asarray(result.pvalues),
        "ci95_low": low,
        "ci95_high": high,
    })


def fit_table(model: Baseline) -> pd.DataFrame:
    """Fit statistics of the baseline (the adequacy verdict is :func:`assess`'s)."""
    rows = [
        ("baseline_first_day", model.first_day.isoformat(), "first complete day of the baseline period"),
        ("baseline_last_day", model.last_day.isoformat(), "last complete day of the baseline period"),
        ("granularity", model.granularity, "observations of the model: days, weeks or months (the production data's granularity)"),
        ("observations", model.observations, "observations fitted (n)"),
        ("days_used", model.days_used, "complete days in them"),
        ("days_excluded", model.days_excluded, "days of the period left out: an interval missing, no production or temperature data"),
        ("formula", "energy_kwh ~ " + " + ".join(["days", *model.terms]), "ordinary least squares (statsmodels); days = 1 per day"),
        ("r_squared", model.r_squared, "share of the variation explained"),
        ("adj_r_squared", model.adjusted_r_squared, "r² adjusted for the number of terms"),
        ("f_p_value", model.f_p_value, "p-value of the F test of all variables"),
        ("rmse_kwh", model.rmse_kwh, "residual standard error per observation (n − p)"),
        ("cv_rmse_pct", model.cv_rmse_pct, f"CV(RMSE); adequate at ≤ {model.criteria.cv_rmse_max_pct:g} % ({G14}, {model.granularity})"),
        ("nmbe_pct", model.nmbe_pct, f"NMBE; adequate within ±{model.criteria.nmbe_max_pct:g} % ({G14}, {model.granularity})"),
        ("durbin_watson", float(sm.stats.durbin_watson(model.result.resid)), "≈ 2 without autocorrelation"),
        ("lag1_autocorrelation", model.rho1, "ρ₁ of the residuals"),
        ("variance_inflation", model.inflation, "n/n′ applied to the savings uncertainty"),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value", "note"]).astype({"value": object})


# --- savings, their uncertainty and the verdict ----------------------------------------------------


def fractional_savings_uncertainty_pct(model: Baseline, days_used: int, savings_fraction: float, confidence_pct: float) -> float:
    """ASHRAE Guideline 14-2014 Annex B: ΔE/E = t · 1.26 · CV · √((n/n′)(1 + 2/n′)/m) / F, in %.

    CV is the baseline's CV(RMSE) (a fraction), n its observations, n′ = n(1 − ρ₁)/(1 + ρ₁) with
    positive autocorrelation, m the reporting observations (``days_used`` / L), F the savings
    fraction and t Student's at ``confidence_pct`` (two-sided) on n − p degrees of freedom.
    """
    if days_used == 0 or not savings_fraction or not np.isfinite(savings_fraction):
        return float("nan")
    n = model.observations
    n_eff = n / model.inflation
    m = days_used / model.days_per_observation
    t = stats.t.ppf(0.5 + confidence_pct / 200, model.result.df_resid)
    root = np.sqrt(model.inflation * (1 + 2 / n_eff) / m)
    return float(100 * t * FSU_FACTOR * model.cv_rmse_pct / 100 * root / abs(savings_fraction))


def normalised_savings(model: Baseline, days: pd.DataFrame, month_of: pd.Series) -> pd.DataFrame:
    """Savings against the baseline per month of ``days`` (the reporting period) and in total.

    ``days`` as for :func:`fit_baseline` plus ``adjustment_kwh`` (non-routine adjustments, 0 if
    absent); incomplete days are left out (counted in ``days_excluded``). Columns: see
    :data:`SAVINGS_COLUMNS`; ``enpi_ratio`` = actual / expected, ``fsu68_pct``/``fsu90_pct`` the
    fractional savings uncertainty at 68 and 90 % confidence.
    """
    result = model.result
    sigma2 = result.ssr / result.df_resid * model.inflation / model.days_per_observation  # per day
    t = stats.t.ppf(0.975, result.df_resid)
    covariance = np.asarray(result.cov_params())
    rows = []
    groups = [(month, days[month_of == month]) for month in sorted(month_of.unique())] + [("total", days)]
    for month, group in groups:
        usable = group[group["complete"]]
        x = design(usable, model.terms)
        predicted = float((x @ np.asarray(result.params)).sum())
        adjustments = float(usable["adjustment_kwh"].sum()) if "adjustment_kwh" in usable else 0.0
        expected, actual = predicted + adjustments, float(usable["energy_kwh"].sum())
        a = x.sum(axis=0)
        half = t * float(np.sqrt(a @ covariance @ a + len(usable) * sigma2)) if len(usable) else float("nan")
        savings = expected - actual
        fraction = savings / expected if expected else float("nan")
        fsu = [fractional_savings_uncertainty_pct(model, len(usable), fraction, c) for c in FSU_CONFIDENCE_PCT]
        rows.append((month, len(usable), len(group) - len(usable), actual, predicted, adjustments, expected,
                     actual / expected if expected else float("nan"), savings, savings - half, savings + half, 100 * fraction, *fsu))
    return pd.DataFrame(rows, columns=SAVINGS_COLUMNS)


@dataclass(frozen=True)
class Verdict:
    """Whether the baseline is adequate and a saving may be claimed, in words a manager reads."""

    adequate: bool
    claimed: bool
    text: str
    checks: pd.DataFrame  # CHECK_COLUMNS


def _limits(model: Baseline) -> str:
    c = model.criteria
    cv = f"CV(RMSE) {model.cv_rmse_pct:.0f} % {'≤' if model.cv_rmse_pct <= c.cv_rmse_max_pct else '>'} {c.cv_rmse_max_pct:g} %"
    nmbe_ok = abs(model.nmbe_pct) <= c.nmbe_max_pct
    nmbe = f"NMBE {round(model.nmbe_pct, 1) + 0.0:.1f} % {'within' if nmbe_ok else 'outside'} ±{c.nmbe_max_pct:g} %"
    return f"{cv}, {nmbe}"


def assess(model: Baseline | str, total: pd.Series | None) -> Verdict:
    """The verdict on a baseline (or the reason there is none) and the period's ``total`` savings
    row (:func:`normalised_savings`; None without a reporting period)."""
    if isinstance(model, str):
        text = f"No baseline model could be fitted ({model}): no normalised saving is claimed."
        return Verdict(False, False, text, pd.DataFrame([("baseline model", "none", "a fitted model", False, model)], columns=CHECK_COLUMNS))
    c = model.criteria
    fsu68 = float(total["fsu68_pct"]) if total is not None else float("nan")
    checks = [
        ("granularity", model.granularity, "the production data's (days, weeks or months)", None, c.basis),
        ("observations", model.observations, f"≥ {c.min_observations}", True, "project rule (docs/enpi.md): no model with fewer"),
        ("cv_rmse_pct", model.cv_rmse_pct, f"≤ {c.cv_rmse_max_pct:g}", bool(model.cv_rmse_pct <= c.cv_rmse_max_pct), c.basis),
        ("nmbe_pct", model.nmbe_pct, f"within ±{c.nmbe_max_pct:g}", bool(abs(model.nmbe_pct) <= c.nmbe_max_pct), c.basis),
        ("r_squared", model.r_squared, "(reported, no limit)", None, "share of the variation explained"),
        ("fsu68_pct", fsu68, f"≤ {FSU_MAX_PCT:g}", bool(fsu68 <= FSU_MAX_PCT) if np.isfinite(fsu68) else False,
         f"{G14} Annex B fractional savings uncertainty at 68 % confidence: savings are claimed only below the limit"),
        ("fsu90_pct", float(total["fsu90_pct"]) if total is not None else float("nan"), "(reported, no limit)", None, "the same at 90 % confidence"),
    ]
    adequate = model.adequate
    if not adequate:
        text = f"The baseline model does not explain the plant's consumption well enough ({_limits(model)}): no normalised saving is claimed."
    elif total is None or not total["days_used"]:
        text = f"The baseline model is adequate ({_limits(model)}); the reporting period has no complete day to compare it with."
    elif not fsu68 <= FSU_MAX_PCT:
        text = (f"The baseline model is adequate ({_limits(model)}), but the difference from it ({total['savings_pct']:+.1f} %) is smaller "
                f"than its uncertainty (±{fsu68:.0f} % of it at 68 % confidence; at most {FSU_MAX_PCT:g} % allowed): no normalised saving is claimed.")
    else:
        direction = "less" if total["savings_kwh"] >= 0 else "more"
        text = (f"The baseline model is adequate ({_limits(model)}): the plant used {abs(total['savings_pct']):.1f} % {direction} energy "
                f"than the baseline expects for the period's production and calendar ({abs(total['savings_kwh']):,.0f} kWh, "
                f"±{fsu68:.0f} % of it at 68 % confidence).")
    claimed = adequate and total is not None and bool(total["days_used"]) and bool(fsu68 <= FSU_MAX_PCT)
    checks.append(("verdict", "adequate" if adequate else "inadequate", "all limits above met", adequate, text))
    return Verdict(adequate, claimed, text, pd.DataFrame(checks, columns=CHECK_COLUMNS).astype({"value": object, "passed": object}))


# --- EnPI values and CUSUM --------------------------------------------------------------------------


def cusum(days: pd.DataFrame) -> pd.DataFrame:
    """``days`` (``period``, ``energy_kwh``, ``expected_kwh``, ``complete``) with ``difference_kwh``
    (actual − expected, on complete days) and ``cusum_kwh``, its running sum within each period
    (ISO 50006's CUSUM chart: a falling line is a saving)."""
    difference = (days["energy_kwh"] - days["expected_kwh"]).where(days["complete"])
    running = difference.fillna(0.0).groupby(days["period"]).cumsum()
    return days.assign(difference_kwh=difference, cusum_kwh=running)


def enpi_values(days: pd.DataFrame, variables: list[Variable], month_of: pd.Series) -> pd.DataFrame:
    """kWh per unit of each production variable, per month of ``days`` and in total: measured
    (actual kWh / quantity) and as the baseline expects (expected kWh / quantity), complete days only."""
    rows = []
    produced = [v for v in variables if v.unit is not None]
    groups = [(month, days[month_of == month]) for month in sorted(month_of.unique())] + [("total", days)]
    for month, group in groups:
        usable = group[group["complete"]]
        for variable in produced:
            quantity = float(usable[variable.name].sum())
            per = (lambda kwh: kwh / quantity) if quantity > 0 else (lambda kwh: float("nan"))
            expected = float(usable["expected_kwh"].sum()) if "expected_kwh" in usable else float("nan")
            rows.append((month, variable.name, variable.unit, quantity, per(float(usable["energy_kwh"].sum())), per(expected)))
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)
