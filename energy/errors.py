"""Errors a user can act on.

Anything raised as :class:`InputError` reaches the user as one line (the CLI prints it and exits
with status 1), so its message must name the file, the row or field, and what was wrong.
"""


class InputError(Exception):
    """Bad input: a config, CSV, tariff, problem or job file, or a command-line value."""
