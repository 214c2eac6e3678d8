"""On-site PV: array power from a weather forecast or from clear sky (pvlib), corrected to its meter.

The chain follows pvlib's PVWatts ``ModelChain`` step by step, so a configured array gives the
same power as ``pvlib.modelchain.ModelChain.with_pvwatts`` for the same weather (checked in
tests and ``bench/forecast_pv.py``):

1. sun position (``Location.get_solarposition``) at each interval's midpoint;
2. irradiance: the weather file's GHI (W/m²), split into beam and diffuse with DIRINDEX (Perez
   et al. 2002) when it has no DNI/DHI; or cloud cover (%) → GHI = clear-sky GHI × (0.35 + 0.65 × (1 − cc/100))
   (Larson et al. 2016, the linear model of pvlib's former ``forecast`` module); with no weather,
   clear-sky irradiance (Ineichen–Perez with the Linke turbidity climatology) derated by a
   typical clear-sky index (``forecasts.clear_sky_index``) — a typical year, not a forecast;
3. plane-of-array irradiance by Hay–Davies transposition, beam reflection losses by the
   physical IAM model, cell temperature by SAPM (open rack, glass/polymer);
4. PVWatts DC power (γ = −0.4 %/K), the configured system losses, PVWatts inverter
   (96 % nominal efficiency, clipping at ``inverter_kw``).

Bias correction: where the array has a meter, its measured power over the last
``BIAS_DAYS`` days divided by the modelled power over the same daylight intervals scales the
forecast (clamped to ``BIAS_LIMITS``); it absorbs shading, soiling, a mis-set clear-sky index and
the meter's own error. When the day's power comes from a weather file that does not cover those
past days, the past can only be compared with clear sky: the factor is then the clear-sky
envelope (:func:`clear_sky_bias_factor`), so the weather in the past is not mistaken for bias.

Units: irradiance W/m², temperature °C, power kW; times tz-aware UTC interval starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from energy.config import PVArray, SiteConfig
from energy.errors import InputError

GAMMA_PDC = -0.004  # 1/K, PVWatts default for crystalline silicon
INVERTER_EFFICIENCY = 0.96
TEMPERATURE_PARAMETERS = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
CLOUD_OFFSET = 0.35  # Larson et al. (2016): GHI share left under full cloud cover
BIAS_DAYS = 28
BIAS_LIMITS = (0.2, 1.5)
DAYLIGHT_SHARE = 0.05  # intervals modelled below 5 % of kWp take no part in bias correction
DEFAULT_TEMPERATURE_C = 20.0
DEFAULT_WIND_M_S = 1.0


def site_location(config: SiteConfig) -> pvlib.location.Location:
    site = config.site
    return pvlib.location.Location(site.latitude, site.longitude, tz="UTC", altitude=site.altitude_m, name=site.name)


def clear_sky_weather(location: pvlib.location.Location, times: pd.DatetimeIndex, clear_sky_index: float = 1.0) -> pd.DataFrame:
    """Clear-sky ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2`` at ``times`` (Ineichen–Perez), × the index."""
    sky = location.get_clearsky(times, model="ineichen")
    return pd.DataFrame({f"{name}_w_m2": sky[name] * clear_sky_index for name in ("ghi", "dni", "dhi")}, index=times)


def array_ac_kw(weather: pd.DataFrame, array: PVArray, location: pvlib.location.Location) -> pd.Series:
    """AC power (kW) of ``array`` at the instants of ``weather`` (index tz-aware): ``ghi_w_m2``
    and optionally ``dni_w_m2``/``dhi_w_m2``, ``temp_air_c``, ``wind_speed_m_s``."""
    times = weather.index
    temp_air = weather.get("temp_air_c", pd.Series(DEFAULT_TEMPERATURE_C, index=times))
    wind = weather.get("wind_speed_m_s", pd.Series(DEFAULT_WIND_M_S, index=times))
    sun = location.get_solarposition(times, temperature=temp_air)  # refraction depends on it
    ghi = weather["ghi_w_m2"].clip(lower=0)
    if {"dni_w_m2", "dhi_w_m2"} <= set(weather.columns):
        dni, dhi = weather["dni_w_m2"], weather["dhi_w_m2"]
    else:
        dni, dhi = split_ghi(ghi, sun, location)
    poa = pvlib.irradiance.get_total_irradiance(
        array.tilt_deg, array.azimuth_deg, sun["apparent_zenith"], sun["azimuth"], dni, ghi, dhi,
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        airmass=location.get_airmass(solar_position=sun)["airmass_relative"],
        model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(array.tilt_deg, array.azimuth_deg, sun["apparent_zenith"], sun["azimuth"])
    effective = (poa["poa_direct"] * pvlib.iam.physical(aoi) + poa["poa_diffuse"]).fillna(0.0)
    temp_cell = pvlib.temperature.sapm_cell(poa["poa_global"].fillna(0.0), temp_air, wind, **TEMPERATURE_PARAMETERS)
    dc_w = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, array.kwp * 1000.0, GAMMA_PDC) * (1 - array.losses_pct / 100)
    ac_w = pvlib.inverter.pvwatts(dc_w, inverter_pdc0_w(array), INVERTER_EFFICIENCY)
    return (ac_w.clip(lower=0).fillna(0.0) / 1000.0).rename("power_kw")


def split_ghi(ghi: pd.Series, sun: pd.DataFrame, location: pvlib.location.Location) -> tuple[pd.Series, pd.Series]:
    """Beam (DNI) and diffuse (DHI) irradiance from GHI alone (W/m²): DIRINDEX (Perez et al.
    2002), which anchors DIRINT to the clear-sky beam, so a clear sky comes back as clear sky;
    DHI is what GHI leaves after the beam's horizontal share."""
    clear = location.get_clearsky(ghi.index, model="ineichen", solar_position=sun)
    dni = pvlib.irradiance.dirindex(ghi, clear["ghi"], clear["dni"], sun["zenith"], ghi.index, use_delta_kt_prime=False)
    dni = dni.fillna(0.0).clip(lower=0)
    cos_zenith = np.cos(np.radians(sun["zenith"])).clip(lower=0)
    dhi = (ghi - dni * cos_zenith).clip(lower=0)
    return dni, dhi


def inverter_pdc0_w(array: PVArray) -> float:
    """PVWatts inverter DC rating (W): AC limit / nominal efficiency; sized to the array if unset."""
    ac_kw = array.inverter_kw if array.inverter_kw is not None else array.kwp
    return ac_kw * 1000.0 / INVERTER_EFFICIENCY


def read_weather_csv(path: str | Path, needs: tuple[str, ...] = ("ghi_w_m2", "cloud_cover_pct")) -> pd.DataFrame:
    """A weather file: ``timestamp`` (ISO 8601; UTC unless it carries an offset) and at least one
    of ``needs`` (default: ``ghi_w_m2`` or ``cloud_cover_pct``, for PV), optionally the other
    columns of ``ghi_w_m2``, ``cloud_cover_pct``, ``temp_air_c`` (°C) and ``wind_speed_m_s``.
    Rows are instants; returns them sorted, indexed by UTC time. The EnPI's degree days read the
    same format with ``needs=("temp_air_c",)``."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: weather file not found") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from exc
    if "timestamp" not in raw.columns:
        raise InputError(f"{path}: no 'timestamp' column (columns: {', '.join(raw.columns)})")
    if not set(needs) & set(raw.columns):
        raise InputError(f"{path}: needs a " + " or a ".join(f"'{c}'" for c in needs) + " column")
    times = pd.to_datetime(raw["timestamp"], utc=True, errors="coerce", format="ISO8601")
    if times.isna().any():
        line = int(np.flatnonzero(times.isna())[0]) + 2
        raise InputError(f"{path}: line {line}: timestamp {raw['timestamp'].iloc[line - 2]!r} is not ISO 8601")
    columns = [c for c in ("ghi_w_m2", "cloud_cover_pct", "temp_air_c", "wind_speed_m_s") if c in raw.columns]
    weather = raw[columns].apply(pd.to_numeric, errors="coerce")
    for column in columns:
        bad = weather[column].isna() & raw[column].notna()
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 2
            raise InputError(f"{path}: line {line}: {column} {raw[column].iloc[line - 2]!r} is not a number")
    if "cloud_cover_pct" in weather and not weather["cloud_cover_pct"].dropna().between(0, 100).all():
        raise InputError(f"{path}: cloud_cover_pct must lie within 0–100")
    weather.index = pd.DatetimeIndex(times)
    return weather.sort_index()


def weather_at(weather: pd.DataFrame | None, times: pd.DatetimeIndex, location: pvlib.location.Location, clear_sky_index: float) -> tuple[pd.DataFrame, str]:
    """Weather at ``times`` (instants) and where it came from: the file's values interpolated in
    time, or derated clear sky where the file does not cover ``times`` (or there is no file)."""
    clear = clear_sky_weather(location, times)
    covered = pd.Series(False, index=times)
    if weather is not None and len(weather) > 1:
        covered = (times >= weather.index[0]) & (times <= weather.index[-1])
        covered = pd.Series(covered, index=times)
    if not covered.any():
        return clear_sky_weather(location, times, clear_sky_index), "clear_sky_typical"
    on_times = weather.reindex(weather.index.union(times)).interpolate(method="time").reindex(times)
    result = pd.DataFrame(index=times)
    if "ghi_w_m2" in on_times:
        ghi = on_times["ghi_w_m2"]
    else:
        ghi = clear["ghi_w_m2"] * (CLOUD_OFFSET + (1 - CLOUD_OFFSET) * (1 - on_times["cloud_cover_pct"] / 100))
    result["ghi_w_m2"] = ghi.where(covered, clear["ghi_w_m2"] * clear_sky_index)
    for column in ("temp_air_c", "wind_speed_m_s"):
        if column in on_times:
            result[column] = on_times[column].fillna({"temp_air_c": DEFAULT_TEMPERATURE_C, "wind_speed_m_s": DEFAULT_WIND_M_S}[column])
    return result, "weather_file" if covered.all() else "weather_file+clear_sky_typical"


def array_power_kw(
    array: PVArray,
    location: pvlib.location.Location,
    slots: pd.DatetimeIndex,
    weather: pd.DataFrame | None = None,
    clear_sky_index: float = 1.0,
) -> tuple[pd.Series, str]:
    """Mean AC power (kW) of ``array`` per interval (``slots``: UTC interval starts, regular),
    modelled at each interval's midpoint; and the weather source used."""
    step = slots[1] - slots[0] if len(slots) > 1 else pd.Timedelta(minutes=15)
    midpoints = slots + step / 2
    conditions, source = weather_at(weather, midpoints, location, clear_sky_index)
    power = array_ac_kw(conditions, array, location)
    power.index = slots
    return power, source


def clear_sky_bias_factor(measured_kw: pd.Series, clear_sky_kw: pd.Series, kwp: float) -> float | None:
    """The array's own bias where no past weather is known: the 90th percentile of measured /
    clear-sky power over intervals with the sun well up (clear-sky power above 20 % of kWp) —
    the clearest intervals show what the array delivers under a clear sky. None without a
    day's worth of such intervals."""
    both = pd.DataFrame({"measured": measured_kw, "modelled": clear_sky_kw}).dropna()
    both = both[both["modelled"] > 0.2 * kwp]
    if len(both) < 24:
        return None
    return float(np.clip(np.quantile(both["measured"] / both["modelled"], 0.9), *BIAS_LIMITS))


def bias_factor(measured_kw: pd.Series, modelled_kw: pd.Series, kwp: float) -> float | None:
    """Σ measured / Σ modelled over daylight intervals both know; None without enough of them
    (fewer than a day's worth of daylight intervals)."""
    both = pd.DataFrame({"measured": measured_kw, "modelled": modelled_kw}).dropna()
    both = both[both["modelled"] > DAYLIGHT_SHARE * kwp]
    if len(both) < 24 or both["modelled"].sum() <= 0:
        return None
    return float(np.clip(both["measured"].sum() / both["modelled"].sum(), *BIAS_LIMITS))


def modelchain_ac_kw(weather: pd.DataFrame, array: PVArray, location: pvlib.location.Location) -> pd.Series:
    """The reference :func:`array_ac_kw` is checked against: pvlib's own PVWatts ``ModelChain``
    for the same array (``weather`` in pvlib's column names: ``ghi``, ``dni``, ``dhi``,
    ``temp_air``, ``wind_speed``), AC power in kW."""
    no_losses = dict.fromkeys(("shading", "snow", "mismatch", "wiring", "connections", "lid", "nameplate_rating", "age", "availability"), 0.0)
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=array.tilt_deg,
        surface_azimuth=array.azimuth_deg,
        module_parameters={"pdc0": array.kwp * 1000.0, "gamma_pdc": GAMMA_PDC},
        inverter_parameters={"pdc0": inverter_pdc0_w(array), "eta_inv_nom": INVERTER_EFFICIENCY},
        temperature_model_parameters=TEMPERATURE_PARAMETERS,
        losses_parameters={**no_losses, "soiling": array.losses_pct},  # PVWatts combines them; one carries the total
    )
    chain = pvlib.modelchain.ModelChain.with_pvwatts(system, location, aoi_model="physical", transposition_model="haydavies")
    chain.run_model(weather)
    return chain.results.ac.clip(lower=0).fillna(0.0) / 1000.0
