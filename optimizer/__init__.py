"""The scheduling optimiser: a Pyomo MILP solved by HiGHS (contract: shared/contracts/schedule-problem.md).

Public API:

- :func:`solve` (problem dict or :class:`Problem`, ``time_limit_s``, ``gap``) → schedule dict;
- :func:`parse_problem` / :func:`load_problem`: validate a contract problem;
- :func:`check` (problem, schedule) → :class:`CheckResult`: the independent checker.

See docs/optimizer.md for the formulation and the measurements behind it.
"""

from optimizer.checker import CheckResult, check
from optimizer.problem import Problem, load_problem, parse_problem
from optimizer.solve import solve

__all__ = ["CheckResult", "Problem", "check", "load_problem", "parse_problem", "solve"]
