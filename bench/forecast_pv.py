"""PV model against pvlib's own ModelChain (issue 5 evidence).

A clear-sky year on the hourly index of a typical-year file shipped with pvlib (TMY3
``723170TYA.CSV``, Greensboro NC) for one array: our chain (``energy.forecasts.pv``) against
``pvlib.modelchain.ModelChain.with_pvwatts`` with the same array. Also the typical-year file's
own weather through both chains, and our GHI-only path (DIRINDEX decomposition), to show what
decomposing GHI costs. Prints annual energies and differences.

    python bench/forecast_pv.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pvlib

from energy.config import PVArray
from energy.forecasts import pv

TMY = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
ARRAY = PVArray(id="roof", kwp=150.0, tilt_deg=25.0, azimuth_deg=180.0, losses_pct=14.0, inverter_kw=135.0)


def ours_kw(weather: pd.DataFrame, location: pvlib.location.Location) -> pd.Series:
    renamed = weather.rename(columns={"ghi": "ghi_w_m2", "dni": "dni_w_m2", "dhi": "dhi_w_m2", "temp_air": "temp_air_c", "wind_speed": "wind_speed_m_s"})
    return pv.array_ac_kw(renamed, ARRAY, location)


def compare(label: str, ours: pd.Series, reference: pd.Series) -> float:
    ours_mwh, reference_mwh = ours.sum() / 1000.0, reference.sum() / 1000.0
    difference = ours_mwh / reference_mwh - 1
    print(f"  {label:<42} ours {ours_mwh:8.2f} MWh  ModelChain {reference_mwh:8.2f} MWh  difference {difference:+.3%}")
    return difference


def main() -> None:
    tmy, meta = pvlib.iotools.read_tmy3(TMY, coerce_year=2021)
    location = pvlib.location.Location(meta["latitude"], meta["longitude"], tz="UTC", altitude=meta["altitude"])
    times = tmy.index.tz_convert("UTC")
    print(f"array {ARRAY.kwp} kWp, tilt {ARRAY.tilt_deg}°, azimuth {ARRAY.azimuth_deg}°, losses {ARRAY.losses_pct} %, inverter {ARRAY.inverter_kw} kW; "
          f"site {meta['Name']} ({meta['latitude']}, {meta['longitude']}), {len(times)} hours")
    clear = location.get_clearsky(times)[["ghi", "dni", "dhi"]]
    clear[["temp_air", "wind_speed"]] = tmy[["temp_air", "wind_speed"]].to_numpy()
    reference = pv.modelchain_ac_kw(clear, ARRAY, location)
    compare("clear-sky year, GHI+DNI+DHI", ours_kw(clear, location), reference)
    compare("clear-sky year, GHI only (DIRINDEX)", ours_kw(clear.drop(columns=["dni", "dhi"]), location), reference)
    weather = tmy[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].set_axis(times)
    measured_reference = pv.modelchain_ac_kw(weather, ARRAY, location)
    compare("typical-year weather, GHI+DNI+DHI", ours_kw(weather, location), measured_reference)
    compare("typical-year weather, GHI only (DIRINDEX)", ours_kw(weather.drop(columns=["dni", "dhi"]), location), measured_reference)


if __name__ == "__main__":
    main()
