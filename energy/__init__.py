"""Energy monitoring and scheduling optimiser for manufacturing sites.

Data flows one way: meters → readings → intervals → forecasts → problem → schedule → reports.
Storage and I/O live at the edges (``energy.storage``, ``energy.metering``, ``energy.cli``);
the rest are plain functions on pandas objects with units in their names.
"""

__version__ = "0.1.0"
