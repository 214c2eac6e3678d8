"""Energy performance indicators per ISO 50001 / ISO 50006: a baseline regression and normalised savings.

The energy baseline (EnB) is an ordinary least squares model of the site's **daily** consumption
(kWh per local day) on its relevant variables, fitted on a baseline period:

    energy_kwh = b0 + b_units · units + b_working · working_day (+ …)

``units`` is the day's production (all machines and products, from the production CSV; the term
is left out without one) and ``working_day`` is 1 on a weekday that is neither a configured
shutdown day nor a public holiday of the site's country. Calendar variables stand in for degree
days because no outdoor temperature is stored. A term that does not vary in the baseline period
is left out. Only days without a missing interval are used.

**Normalised savings** (ISO 50006 §6.6, "avoided energy consumption" of ISO 50015/IPMVP) are the
baseline model's prediction for the reporting period's conditions minus the measured
consumption. Their uncertainty is the prediction error of that sum under the OLS model,
Var = aᵀ·Cov(b)·a + m·σ² for m days with summed regressors a, with σ² inflated by n/n′ when the
residuals are positively autocorrelated (n′ = n·(1 − ρ₁)/(1 + ρ₁), ASHRAE Guideline 14-2014);
the range given is the 95 % interval with Student's t on the model's residual degrees of freedom.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

MIN_DAYS = 14  # fewer complete baseline days than this and no model is fitted
SAVINGS_COLUMNS = ["month", "days_used", "days_excluded", "actual_kwh", "baseline_kwh", "savings_kwh", "savings_lo95_kwh",
                   "savings_hi95_kwh", "savings_pct"]
COEFFICIENT_COLUMNS = ["term", "meaning", "coefficient", "std_error", "t_value", "p_value", "ci95_low", "ci95_high"]
TERMS = {"units": "kWh per unit produced", "working_day": "kWh per working day (vs. non-working)"}


@dataclass(frozen=True)
class Baseline:
    """A fitted energy baseline: the OLS result, its terms and where it came from."""

    result: object  # statsmodels RegressionResults
    terms: list[str]
    first_day: dt.date
    last_day: dt.date
    days_used: int
    days_excluded: int
    inflation: float  # n/n′ applied to the residual variance for autocorrelation
    rho1: float


def design(days: pd.DataFrame, terms: list[str]) -> np.ndarray:
    """The regressor matrix (constant first) of ``days`` for ``terms``."""
    return sm.add_constant(days[terms].to_numpy(dtype=float), has_constant="add")


def fit_baseline(days: pd.DataFrame) -> Baseline | str:
    """Fit the baseline on ``days`` (columns ``date``, ``energy_kwh``, ``complete``, ``units``, ``working_day``).

    Returns the :class:`Baseline`, or a sentence saying why none could be fitted.
    """
    usable = days[days["complete"]]
    if len(usable) < MIN_DAYS:
        return f"only {len(usable)} complete day(s) in the baseline period (at least {MIN_DAYS} needed)"
    terms = [t for t in TERMS if t in usable and usable[t].nunique() > 1]
    if len(usable) <= len(terms) + 2:
        return f"{len(usable)} day(s) are too few for {len(terms) + 1} coefficients"
    result = sm.OLS(usable["energy_kwh"].to_numpy(dtype=float), design(usable, terms)).fit()
    residuals = np.asarray(result.resid)
    rho1 = float(np.corrcoef(residuals[:-1], residuals[1:])[0, 1]) if len(residuals) > 2 and residuals.std() > 0 else 0.0
    rho1 = 0.0 if np.isnan(rho1) else rho1
    inflation = (1 + rho1) / (1 - rho1) if 0 < rho1 < 1 else 1.0
    return Baseline(result, terms, usable["date"].min(), usable["date"].max(), len(usable), len(days) - len(usable), inflation, rho1)


def coefficients_table(model: Baseline) -> pd.DataFrame:
    """One row per coefficient: estimate, standard error, t, p and 95 % confidence interval."""
    result = model.result
    low, high = np.asarray(result.conf_int(0.05)).T
    names = ["intercept", *model.terms]
    meaning = ["kWh per day at zero production on a non-working day", *(TERMS[t] for t in model.terms)]
    return pd.DataFrame(
        {
            "term": names,
            "meaning": meaning,
            "coefficient": np.asarray(result.params),
            "std_error": np.asarray(result.bse),
            "t_value": np.asarray(result.tvalues),
            "p_value": np.asarray(result.pvalues),
            "ci95_low": low,
            "ci95_high": high,
        }
    )


def fit_table(model: Baseline) -> pd.DataFrame:
    """Fit statistics of the baseline (ASHRAE Guideline 14 criteria for daily models noted)."""
    result = model.result
    observed = result.model.endog
    rmse = float(np.sqrt(result.ssr / result.df_resid))
    mean = float(observed.mean())
    rows = [
        ("baseline_first_day", model.first_day.isoformat(), "first day of the baseline period"),
        ("baseline_last_day", model.last_day.isoformat(), "last day of the baseline period"),
        ("days_used", model.days_used, "complete days fitted"),
        ("days_excluded", model.days_excluded, "days of the period left out: an interval missing, or no data"),
        ("formula", "energy_kwh ~ " + " + ".join(["1", *model.terms]), "ordinary least squares (statsmodels)"),
        ("r_squared", float(result.rsquared), "share of the daily variation explained"),
        ("adj_r_squared", float(result.rsquared_adj), "r² adjusted for the number of terms"),
        ("f_p_value", float(result.f_pvalue) if model.terms else float("nan"), "p-value of the F test of all terms"),
        ("rmse_kwh", rmse, "residual standard error per day"),
        ("cv_rmse_pct", 100 * rmse / mean if mean else float("nan"), "ASHRAE 14: ≤ 25 % for daily models when used for savings"),
        ("nmbe_pct", 100 * float(result.resid.sum()) / ((len(observed) - len(result.params)) * mean) if mean else float("nan"),
         "ASHRAE 14: within ±0.5 %; 0 by construction for OLS"),
        ("durbin_watson", float(sm.stats.durbin_watson(result.resid)), "≈ 2 without autocorrelation"),
        ("lag1_autocorrelation", model.rho1, "ρ₁ of the residuals"),
        ("variance_inflation", model.inflation, "n/n′ applied to the savings uncertainty"),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value", "note"]).astype({"value": object})


def normalised_savings(model: Baseline, days: pd.DataFrame, month_of: pd.Series) -> pd.DataFrame:
    """Savings against the baseline per month of ``days`` (the reporting period) and in total.

    ``days`` as for :func:`fit_baseline`; incomplete days are left out (counted in ``days_excluded``).
    Columns: month, days_used, days_excluded, actual_kwh, baseline_kwh, savings_kwh,
    savings_lo95_kwh, savings_hi95_kwh, savings_pct.
    """
    result = model.result
    sigma2 = result.ssr / result.df_resid * model.inflation
    t = stats.t.ppf(0.975, result.df_resid)
    covariance = np.asarray(result.cov_params())
    rows = []
    groups = [(month, days[month_of == month]) for month in sorted(month_of.unique())] + [("total", days)]
    for month, group in groups:
        usable = group[group["complete"]]
        x = design(usable, model.terms) if len(usable) else np.zeros((0, len(model.terms) + 1))
        predicted = float((x @ np.asarray(result.params)).sum())
        actual = float(usable["energy_kwh"].sum())
        a = x.sum(axis=0)
        half = t * float(np.sqrt(a @ covariance @ a + len(usable) * sigma2)) if len(usable) else float("nan")
        savings = predicted - actual
        rows.append((month, len(usable), len(group) - len(usable), actual, predicted, savings, savings - half, savings + half,
                     100 * savings / predicted if predicted else float("nan")))
    return pd.DataFrame(rows, columns=SAVINGS_COLUMNS)
