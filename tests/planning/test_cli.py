"""``energy plan`` and ``energy savings`` at the command line, without the solver."""

import json

from energy.planning import runs, savings
from tests.helpers import run_cli
from tests.planning import seed
from tests.planning.test_savings import EXPECTED, GRID_KW, MACHINE_KW, seed_actual_day


def test_a_second_run_exits_4_while_the_lock_is_held(engine, db_url, tmp_path):
    config_path = seed.write_site(tmp_path, machines=1)
    with runs.run_lock(engine, "test-works"):
        code, _, err = run_cli("plan", "--config", config_path, "--date", "2024-05-02", "--no-forecast", "--db", db_url)
    assert code == 4 and err.count("\n") == 1 and "another 'energy plan' is running" in err
    assert "another 'energy plan' is running" in (tmp_path / "logs" / "plan.log").read_text()


def test_bad_input_exits_1_with_one_line_and_logs_it(engine, db_url, tmp_path):
    config_path = seed.write_site(tmp_path, machines=1)
    (tmp_path / "jobs.csv").write_text("job,machines,duration_min,power_kw\na,m1,sixty,10\n")
    code, _, err = run_cli("plan", "--config", config_path, "--date", "2024-05-02", "--no-forecast", "--db", db_url, "--log-file", tmp_path / "x.log")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("energy: error:")
    assert "jobs.csv: line 2 (job a): field duration_min: 'sixty' is not a number" in err
    assert "plan not made" in (tmp_path / "x.log").read_text()
    code, _, err = run_cli("plan", "--date", "2024-05-02", "--db", db_url)
    assert code == 1 and "--config" in err
    code, _, err = run_cli("plan", "--config", config_path, "--date", "2 May", "--db", db_url)
    assert code == 1 and "--date" in err


def test_savings_command_stores_and_prints(engine, db_url, tmp_path):
    config, slots, run_id = seed_actual_day(engine, tmp_path)
    config_path = tmp_path / "site.toml"
    code, _, err = run_cli("savings", "--config", config_path, "--date", "2024-05-02", "--db", db_url)
    assert code == 1 and "readings of the site (grid) are missing" in err
    seed.store_measured(engine, slots, "site", "site", GRID_KW)
    seed.store_measured(engine, slots, "machine", "m1", MACHINE_KW)
    code, out, err = run_cli("savings", "--config", config_path, "--date", "2024-05-02", "--db", db_url)
    assert code == 0, err
    assert json.loads(out)["savings"]["total_eur"] == EXPECTED["total_eur"]
    assert seed.count(engine, savings.schema.realised_savings) == 1
    code, _, err = run_cli("savings", "--config", config_path, "--date", "2024-05-09", "--db", db_url)
    assert code == 1 and "no current plan for 2024-05-09" in err
    code, _, err = run_cli("plan", "--replay", 99, "--db", db_url)
    assert code == 1 and "no stored plan run 99" in err
