"""Where instants fall in a tariff's calendar: billing period, month, day type, quarter hour.

Billing periods are calendar months of the tariff's local time. Public holidays of
``holidays_country`` (the ``holidays`` package) count as weekend days, as German HT/NT and most
US TOU tariffs treat them.
"""

from __future__ import annotations

from dataclasses import dataclass

import holidays as holidays_lib
import numpy as np
import pandas as pd

from energy.tariffs.model import WEEKDAY, WEEKEND, Tariff


@dataclass(frozen=True)
class Calendar:
    """Per-instant calendar positions (arrays aligned with the instants given)."""

    period_code: np.ndarray  # year * 12 + month - 1 of the local billing month
    month: np.ndarray  # 0–11
    day_type: np.ndarray  # WEEKDAY or WEEKEND
    quarter_hour: np.ndarray  # 0–95 of the local day


def tariff_zone(tariff: Tariff) -> str:
    """The zone local times are read in: the tariff's, else a fixed UTC clock (no DST)."""
    return tariff.timezone or "UTC"


def locate(tariff: Tariff, instants: pd.DatetimeIndex) -> Calendar:
    """Calendar positions of tz-aware ``instants`` under ``tariff``."""
    local = instants.tz_convert(tariff_zone(tariff))
    year, month = local.year.to_numpy(), local.month.to_numpy()
    weekend = local.day_of_week.to_numpy() >= 5
    if tariff.holidays_country and len(local):
        years = range(int(year.min()), int(year.max()) + 1)
        days = holidays_lib.country_holidays(tariff.holidays_country, subdiv=tariff.holidays_subdivision, years=years)
        holiday_dates = np.array(sorted(days), dtype="datetime64[D]")
        local_dates = local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
        weekend |= np.isin(local_dates, holiday_dates)
    return Calendar(
        period_code=(year * 12 + month - 1).astype(np.int64),
        month=(month - 1).astype(np.int64),
        day_type=np.where(weekend, WEEKEND, WEEKDAY).astype(np.int64),
        quarter_hour=(local.hour.to_numpy() * 4 + local.minute.to_numpy() // 15).astype(np.int64),
    )


def period_label(code: int) -> str:
    """``2024 * 12 + 0`` → ``'2024-01'``."""
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def period_bounds(tariff: Tariff, code: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC start (inclusive) and end (exclusive) of a billing period."""
    zone = tariff_zone(tariff)
    start = pd.Timestamp(year=code // 12, month=code % 12 + 1, day=1).tz_localize(zone)
    end = (start.tz_localize(None) + pd.offsets.MonthBegin(1)).tz_localize(zone)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def days_in_period(code: int) -> int:
    return pd.Period(period_label(code), freq="M").days_in_month
