"""PV power against pvlib directly and against a hand-checked clear-sky case."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
import pytest

from energy.config import PVArray
from energy.errors import InputError
from energy.forecasts import pv

LOCATION = pvlib.location.Location(51.51, 7.47, tz="UTC", altitude=100)
ROOF = PVArray(id="roof", kwp=150.0, tilt_deg=15.0, azimuth_deg=180.0, losses_pct=14.0, inverter_kw=135.0)


def clear_days(start: str, days: int, freq: str = "15min") -> pd.DataFrame:
    times = pd.date_range(start, periods=days * pd.Timedelta("1D") // pd.Timedelta(freq), freq=freq, tz="UTC")
    weather = pv.clear_sky_weather(LOCATION, times)
    weather["temp_air_c"], weather["wind_speed_m_s"] = 18.0, 2.0
    return weather


@pytest.mark.parametrize("array", [ROOF, PVArray(id="east", kwp=40, tilt_deg=35, azimuth_deg=95, losses_pct=10)])
def test_chain_equals_pvlib_modelchain_on_clear_sky(array):
    weather = clear_days("2024-06-20", 3)
    ours = pv.array_ac_kw(weather, array, LOCATION)
    renamed = weather.rename(columns={"ghi_w_m2": "ghi", "dni_w_m2": "dni", "dhi_w_m2": "dhi", "temp_air_c": "temp_air", "wind_speed_m_s": "wind_speed"})
    reference = pv.modelchain_ac_kw(renamed, array, LOCATION)
    assert ours.sum() == pytest.approx(reference.sum(), rel=1e-6)
    assert np.abs(ours - reference).max() < 1e-6 * array.kwp
    # From GHI alone (a weather file without DNI/DHI) the day's energy stays within 1 %.
    ghi_only = pv.array_ac_kw(weather.drop(columns=["dni_w_m2", "dhi_w_m2"]), array, LOCATION)
    assert ghi_only.sum() == pytest.approx(reference.sum(), rel=0.01)


def test_hand_checked_horizontal_array_at_noon():
    # A flat array: the plane of array is the horizontal, so POA = DNI·cos z + DHI (Hay–Davies
    # with tilt 0 gives the whole DHI and no ground reflection); beam reflection by the physical
    # IAM; SAPM cell temperature; PVWatts DC and inverter, written out by hand.
    flat = PVArray(id="flat", kwp=100.0, tilt_deg=0.0, azimuth_deg=180.0, losses_pct=10.0, inverter_kw=90.0)
    instant = pd.DatetimeIndex([pd.Timestamp("2024-06-21 11:30", tz="UTC")])
    weather = pd.DataFrame({"ghi_w_m2": [850.0], "dni_w_m2": [800.0], "dhi_w_m2": [120.0], "temp_air_c": [25.0], "wind_speed_m_s": [1.0]}, index=instant)
    zenith = float(LOCATION.get_solarposition(instant, temperature=25.0)["apparent_zenith"].iloc[0])
    assert 20 < zenith < 35
    cos_z = math.cos(math.radians(zenith))
    # physical IAM (n = 1.526, K = 4 m⁻¹, L = 2 mm) at aoi = zenith
    aoi = math.radians(zenith)
    refracted = math.asin(math.sin(aoi) / 1.526)
    def transmitted(angle_in, angle_out):
        rs = (math.sin(angle_out - angle_in) / math.sin(angle_out + angle_in)) ** 2
        rp = (math.tan(angle_out - angle_in) / math.tan(angle_out + angle_in)) ** 2
        return math.exp(-4 * 0.002 / math.cos(angle_in)) * (1 - (rs + rp) / 2)
    normal = math.exp(-4 * 0.002) * (1 - ((1.526 - 1) / (1.526 + 1)) ** 2)
    iam = transmitted(refracted, aoi) / normal
    poa_global = 800.0 * cos_z + 120.0
    effective = 800.0 * cos_z * iam + 120.0
    t_cell = poa_global * math.exp(-3.56 - 0.075 * 1.0) + 25.0 + poa_global / 1000 * 3.0
    dc_w = 100_000 * effective / 1000 * (1 - 0.004 * (t_cell - 25)) * 0.90
    pdc0 = 90_000 / 0.96
    zeta = dc_w / pdc0
    ac_w = min(0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858) * dc_w, 90_000)
    ours = pv.array_ac_kw(weather, flat, LOCATION)
    assert ours.iloc[0] == pytest.approx(ac_w / 1000, rel=1e-6)


def test_night_is_zero_and_the_inverter_clips():
    weather = clear_days("2024-06-20", 1)
    weather[["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]] *= 1.6  # an impossible sky: the array far above its inverter
    power = pv.array_ac_kw(weather, ROOF, LOCATION)
    night = pv.clear_sky_weather(LOCATION, weather.index)["ghi_w_m2"] == 0
    assert (power[night] == 0).all() and night.sum() > 10
    assert power.max() == pytest.approx(ROOF.inverter_kw)


def test_interval_power_is_modelled_at_midpoints_and_cloud_cover_dims_it(tmp_path):
    slots = pd.date_range("2024-06-20 22:00", periods=96, freq="15min", tz="UTC")
    clear, source = pv.array_power_kw(ROOF, LOCATION, slots)
    assert source == "clear_sky_typical"
    at_midpoints = pv.array_ac_kw(pv.clear_sky_weather(LOCATION, slots + pd.Timedelta("7.5min")), ROOF, LOCATION)
    assert clear.to_numpy() == pytest.approx(at_midpoints.to_numpy())
    assert clear.max() > 100
    derated, _ = pv.array_power_kw(ROOF, LOCATION, slots, clear_sky_index=0.5)
    assert derated.sum() < 0.55 * clear.sum()
    times = pd.date_range("2024-06-20 21:00", "2024-06-21 23:00", freq="h", tz="UTC")
    path = tmp_path / "weather.csv"
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "cloud_cover_pct": 100.0}).to_csv(path, index=False)
    overcast, source = pv.array_power_kw(ROOF, LOCATION, slots, pv.read_weather_csv(path))
    assert source == "weather_file"
    # Full cloud cover leaves 35 % of the clear-sky GHI (Larson et al. 2016).
    assert 0.25 * clear.sum() < overcast.sum() < 0.45 * clear.sum()


def test_weather_file_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text("timestamp,ghi_w_m2\n2024-06-20T10:00Z,500\n2024-06-20T11:00Z,lots\n")
    with pytest.raises(InputError, match=r"weather.csv: line 3: ghi_w_m2 'lots' is not a number"):
        pv.read_weather_csv(path)
    path.write_text("timestamp,sun\n2024-06-20T10:00Z,500\n")
    with pytest.raises(InputError, match="needs a 'ghi_w_m2' or a 'cloud_cover_pct' column"):
        pv.read_weather_csv(path)
    with pytest.raises(InputError, match="weather file not found"):
        pv.read_weather_csv(tmp_path / "absent.csv")


def test_bias_factor_learns_the_meter_ratio():
    slots = pd.date_range("2024-06-01", periods=96 * 10, freq="15min", tz="UTC")
    modelled, _ = pv.array_power_kw(ROOF, LOCATION, slots)
    measured = modelled * 0.8
    measured.iloc[::7] = np.nan
    assert pv.bias_factor(measured, modelled, ROOF.kwp) == pytest.approx(0.8)
    assert pv.bias_factor(modelled * 5, modelled, ROOF.kwp) == pv.BIAS_LIMITS[1]
    assert pv.bias_factor(measured.iloc[:10], modelled.iloc[:10], ROOF.kwp) is None  # night only


def test_clear_sky_envelope_finds_the_array_bias_under_changing_weather():
    slots = pd.date_range("2024-06-01", periods=96 * 14, freq="15min", tz="UTC")
    clear, _ = pv.array_power_kw(ROOF, LOCATION, slots)
    clearness = np.repeat(np.random.default_rng(8).uniform(0.2, 1.0, 14), 96)
    clearness[96 * 3 : 96 * 5] = 1.0  # two clear days
    measured = clear * 0.85 * clearness
    assert pv.clear_sky_bias_factor(measured, clear, ROOF.kwp) == pytest.approx(0.85, rel=0.02)
    assert pv.bias_factor(measured, clear, ROOF.kwp) < 0.75  # the plain ratio mistakes clouds for bias
