"""The shell's restore drill commands and pgbackman_restore's --drill/--clone options:
what they register, show, change and delete, and the one-line errors that change nothing."""

from __future__ import annotations

from drill_helpers import DrillEnv


def _count(drl: DrillEnv, table: str) -> int:
    return int(drl.pgb.su_query(f"SELECT count(*) FROM {table}")[0][0])


def test_register_show_update_and_delete_a_drill(drl: DrillEnv) -> None:
    def_id = drl.definition("app1")
    drill_id = drl.register_drill(def_id, "2 days")
    (row,) = drl.shell_json("show_restore_drills all")["restore_drills"]
    assert row["drillid"] == drill_id and row["defid"] == def_id
    assert row["interval"] == "2 days" and row["status"] == "ACTIVE"
    assert row["dbname"] == "app1" and row["last_status"] is None
    assert drl.shell_json(f"show_restore_drills {def_id + 1}")["restore_drills"] == []

    res = drl.shell(f"update_restore_drill {drill_id} '' '12 hours' stopped")
    assert res.returncode == 0, res.stdout + res.stderr
    assert drl.pgb.su_query(
        "SELECT drill_interval::text, status, drill_node_id FROM restore_drill"
    ) == [("12:00:00", "STOPPED", drl.node2_id)]

    # A run by hand of a definition without a good backup is recorded, and alerts.
    res = drl.drill(drill_id)
    assert res.returncode == 1 and "has no SUCCEEDED backup" in res.stderr
    (run,) = drl.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR" and run["bck_id"] is None
    assert len(drl.alerts("Restore-drill")) == 1
    (det,) = drl.shell_json(f"show_restore_drill_details {run['drill_run_id']}")[
        "restore_drill_details"
    ]
    assert (
        det["execution_status"] == "ERROR"
        and "nothing to drill" in det["error_message"]
    )

    res = drl.shell(f"delete_restore_drill {drill_id}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _count(drl, "restore_drill") == 0 and _count(drl, "restore_drill_run") == 0


def test_bad_drill_commands_are_one_line_errors_that_change_nothing(
    drl: DrillEnv,
) -> None:
    full = drl.definition("app1")
    data = drl.definition("app2", "DATA")
    drill_id = drl.register_drill(full)
    for line, message in (
        (f"register_restore_drill {data} {drl.node2_id} '7 days'", "only FULL, SCHEMA"),
        (f"register_restore_drill {full} {drl.node2_id} '30 minutes'", "1 hour"),
        (f"register_restore_drill {full} {drl.node2_id} '7 days'", "already has"),
        (f"register_restore_drill 9999 {drl.node2_id} ''", "does not exist"),
        (f"register_restore_drill {full} no.such.node ''", "does not exist"),
        (f"update_restore_drill {drill_id} '' '' PAUSED", "ACTIVE or STOPPED"),
        ("update_restore_drill 9999 '' '' ''", "does not exist"),
        ("delete_restore_drill 9999", "does not exist"),
        ("show_restore_drill_details 9999", "does not exist"),
        ("show_restore_drills x", "must be a number"),
    ):
        res = drl.shell(line)
        assert res.returncode == 1, line
        out = res.stdout + res.stderr
        assert message in out, (line, out)
        assert len(out.strip().splitlines()) == 1, out
    assert drl.pgb.su_query(
        "SELECT drill_id, drill_interval::text FROM restore_drill"
    ) == [(drill_id, "7 days")]


def test_restore_program_options(drl: DrillEnv) -> None:
    res = drl.run("pgbackman_restore", "--drill", "1", "--clone", "1")
    assert res.returncode == 2 and "not allowed with" in res.stderr
    res = drl.run("pgbackman_restore", "--drill", "0")
    assert res.returncode == 2 and "--drill must be a positive integer" in res.stderr
    res = drl.run("pgbackman_restore", "--drill", "424242")
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "pgbackman_restore: restore drill 424242 failed: "
        "Restore drill 424242 does not exist in the catalog"
    )
    res = drl.run("pgbackman_restore", "--clone", "424242")
    assert res.returncode == 1 and "Clone 424242 does not exist" in res.stderr
