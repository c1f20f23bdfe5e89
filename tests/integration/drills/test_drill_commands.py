"""The shell's restore drill commands and pgbackman_restore's --drill/--clone options:
what they register, show, change and delete, and the one-line errors that change nothing."""

from __future__ import annotations

import datetime as dt
import uuid

from support.shell import Shell, answer, quit_shell
from support.site import Site

from pgbackman.config import Config
from pgbackman.infra import spool
from pgbackman.restore.drill import DrillJob, drill_record


def _count(site: Site, table: str) -> int:
    return int(site.pgb.su_query(f"SELECT count(*) FROM {table}")[0][0])


def test_register_show_update_and_delete_a_drill(site: Site) -> None:
    def_id = site.definition("app1")
    drill_id = site.register_drill(def_id, "2 days")
    (row,) = site.shell_json("show_restore_drills all")["restore_drills"]
    assert row["drillid"] == drill_id and row["defid"] == def_id
    assert row["interval"] == "2 days" and row["status"] == "ACTIVE"
    assert row["dbname"] == "app1" and row["last_status"] is None
    assert site.shell_json(f"show_restore_drills {def_id + 1}")["restore_drills"] == []

    res = site.shell(f"update_restore_drill {drill_id} '' '12 hours' stopped")
    assert res.returncode == 0, res.stdout + res.stderr
    assert site.pgb.su_query(
        "SELECT drill_interval::text, status, drill_node_id FROM restore_drill"
    ) == [("12:00:00", "STOPPED", site.node2_id)]

    # A run by hand of a definition without a good backup is recorded, and alerts.
    res = site.drill(drill_id)
    assert res.returncode == 1 and "has no SUCCEEDED backup" in res.stderr
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR" and run["bck_id"] is None
    assert len(site.alerts("Restore-drill")) == 1
    (det,) = site.shell_json(f"show_restore_drill_details {run['drill_run_id']}")[
        "restore_drill_details"
    ]
    assert (
        det["execution_status"] == "ERROR"
        and "nothing to drill" in det["error_message"]
    )

    res = site.shell(f"delete_restore_drill {drill_id}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _count(site, "restore_drill") == 0 and _count(site, "restore_drill_run") == 0


def test_bad_drill_commands_are_one_line_errors_that_change_nothing(
    site: Site,
) -> None:
    full = site.definition("app1")
    data = site.definition("app2", "DATA")
    drill_id = site.register_drill(full)
    for line, message in (
        (
            f"register_restore_drill {data} {site.node2_id} '7 days'",
            "only FULL, SCHEMA",
        ),
        (f"register_restore_drill {full} {site.node2_id} '30 minutes'", "1 hour"),
        (f"register_restore_drill {full} {site.node2_id} '7 days'", "already has"),
        (f"register_restore_drill 9999 {site.node2_id} ''", "does not exist"),
        (f"register_restore_drill {full} no.such.node ''", "does not exist"),
        (f"update_restore_drill {drill_id} '' '' PAUSED", "ACTIVE or STOPPED"),
        ("update_restore_drill 9999 '' '' ''", "does not exist"),
        ("delete_restore_drill 9999", "does not exist"),
        ("show_restore_drill_details 9999", "does not exist"),
        ("show_restore_drills x", "must be a number"),
    ):
        res = site.shell(line)
        assert res.returncode == 1, line
        out = res.stdout + res.stderr
        assert message in out, (line, out)
        assert len(out.strip().splitlines()) == 1, out
    assert site.pgb.su_query(
        "SELECT drill_id, drill_interval::text FROM restore_drill"
    ) == [(drill_id, "7 days")]


def test_restore_program_options(site: Site) -> None:
    res = site.run("pgbackman_restore", "--drill", "1", "--clone", "1")
    assert res.returncode == 2 and "not allowed with" in res.stderr
    res = site.run("pgbackman_restore", "--drill", "0")
    assert res.returncode == 2 and "--drill must be a positive integer" in res.stderr
    res = site.run("pgbackman_restore", "--drill", "424242")
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "pgbackman_restore: restore drill 424242 failed: "
        "Restore drill 424242 does not exist in the catalog"
    )
    res = site.run("pgbackman_restore", "--clone", "424242")
    assert res.returncode == 1 and "Clone 424242 does not exist" in res.stderr


def test_interactive_drill_commands_ask_with_defaults(site: Site) -> None:
    def_id = site.definition("app1")
    child = Shell(site.pgb).spawn()
    child.sendline("register_restore_drill")
    answer(child, "# DefID []", str(def_id))
    answer(child, "# Drill node NodeID / FQDN []", str(site.node2_id))
    answer(child, "# Interval [7 days]", "")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("[Done] Restore drill DrillID: ")
    child.expect(r"(\d+) registered")
    drill_id = int(child.match.group(1))
    child.sendline("update_restore_drill")
    answer(child, "# DrillID []", str(drill_id))
    answer(child, f"# Drill node NodeID / FQDN [{site.node2_id}]", "")
    answer(child, "# Interval [7 days]", "3 days")
    answer(child, "# Status [ACTIVE]", "")
    answer(child, "# Are all values to update correct (yes/no)", "yes")
    child.expect_exact(f"[Done] Restore drill DrillID: {drill_id} updated.")
    child.sendline("delete_restore_drill")
    answer(child, "# DrillID []", str(drill_id))
    answer(
        child, "# Are you sure you want to delete this restore drill? (yes/no)", "no"
    )
    child.expect_exact("[ABORTED] Command interrupted by the user.")
    quit_shell(child)
    assert site.pgb.su_query("SELECT drill_interval::text FROM restore_drill") == [
        ("3 days",)
    ]


def test_a_drill_result_spooled_while_the_catalog_was_down_is_ingested_once(
    site: Site,
) -> None:
    def_id = site.definition("app1")
    drill_id = site.register_drill(def_id)
    job = DrillJob(drill_id, def_id, "app1", site.node2_id, site.pgb.server_id)
    now = dt.datetime.now(dt.UTC)
    record = drill_record(
        job,
        Config.load(str(site.pgb.config_path)),
        started=now - dt.timedelta(minutes=3),
        finished=now,
        status="ERROR",
        error="catalog gone at the end",
        run_uuid=str(uuid.uuid4()),
        checks=["checksums: ..."],
    )
    for _ in range(
        2
    ):  # as if maintenance were killed between the INSERT and the unlink
        path = spool.write_pending(site.pgb.root, "drill", record)
        res = site.run("pgbackman_maintenance", "--once")
        assert res.returncode == 0, res.stdout + res.stderr
        assert not path.exists()
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR" and run["checks"] == ["checksums: ..."]
    assert run["duration"] == dt.timedelta(minutes=3)
