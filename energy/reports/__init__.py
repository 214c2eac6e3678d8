"""Sustainability reports: energy, scope 2 (dual), PV, intensity, EnPI and scheduling savings.

- :mod:`~energy.reports.inputs`: what a report reads from storage (period, series, factors, runs);
- :mod:`~energy.reports.scope2`: location- and market-based emissions per interval;
- :mod:`~energy.reports.production`: the production CSV;
- :mod:`~energy.reports.tables`: the tables as DataFrames (units in column names);
- :mod:`~energy.reports.enpi`: ISO 50006 baseline regression, its ASHRAE Guideline 14 adequacy,
  normalised savings and CUSUM; :mod:`~energy.reports.performance`: its relevant variables
  (production, working days, degree days) and tables (docs/enpi.md);
- :mod:`~energy.reports.scheduling`: planned and realised savings of optimised schedules;
- :mod:`~energy.reports.report`: :func:`build_report`, :func:`save_report` and :func:`write_report`;
  :func:`scope2_report` computes only the scope 2 tables (the dashboard's Emissions page),
  :func:`energy_performance` only the EnPI (its Overview);
- writers :mod:`~energy.reports.csv`, :mod:`~energy.reports.xlsx`, :mod:`~energy.reports.pdf`.

See docs/reports.md.
"""

from energy.reports.production import read_production_csv
from energy.reports.report import (
    FORMATS, Report, Scope2Tables, Table, build_report, energy_performance, save_report, scope2_report, write_report,
)

__all__ = ["FORMATS", "Report", "Scope2Tables", "Table", "build_report", "energy_performance", "read_production_csv", "save_report",
           "scope2_report", "write_report"]
