"""Restore drills reach monitoring: a drill whose newest run failed makes pgbackman_check
CRITICAL and sets pgbackman_restore_drill_last_run_failed; an overdue drill is a WARNING
and pgbackman_restore_drill_overdue; both within the check's scope options, both readable
by pgbackman_role_ro."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families
from support.alerting import set_config
from support.richdb import RichDb
from support.site import Site

NO_DISK = ("--disk-warning", "0", "--disk-critical", "0")


def _gauge(site: Site, name: str) -> dict[str, float]:
    res = site.run("pgbackman_metrics")
    assert res.returncode == 0, res.stderr
    fams = {f.name: f for f in text_string_to_metric_families(res.stdout)}
    return {s.labels["def_id"]: s.value for s in fams[name].samples}


def _check(site: Site, *args: str) -> tuple[int, str]:
    res = site.run("pgbackman_check", *NO_DISK, *args)
    assert res.stderr == ""
    return res.returncode, res.stdout


def test_a_failed_drill_is_critical_and_a_metric_until_the_drill_is_stopped(
    site: Site, rich: RichDb
) -> None:
    healthy = site.definition(rich.dbname)
    site.backup(healthy)
    # The archive holds no rows of app.customers: the drill's check catches it.
    def_id = site.definition(rich.dbname, extra="--exclude-table-data=app.customers")
    site.backup(def_id)
    assert _check(site)[0] == 0  # no drill yet: nothing to say
    drill_id = site.register_drill(def_id)
    assert site.drill(drill_id).returncode == 1
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR"

    status, out = _check(site)
    assert status == 2, out
    [line] = out.splitlines()
    assert line.startswith("PGBACKMAN CRITICAL - backup01.pgbackman.test: 2 active")
    assert "1 active restore drill(s): 1 failed, 0 overdue" in line
    assert (
        f"DRILL FAILED {rich.dbname}@127.0.0.1 (DefID {def_id}, DrillID {drill_id} on "
        f"127.0.0.1): newest drill run {run['drill_run_id']} failed: Restore drill check "
        "failed"
    ) in line
    assert "drill_failed=1;1;1;0;" in line
    doc = json.loads(site.run("pgbackman_check", "-o", "json", *NO_DISK).stdout)
    assert [p["kind"] for p in doc["problems"]] == ["drill_failed"]
    assert doc["problems"][0]["drill_run_id"] == run["drill_run_id"]
    [drill] = doc["drills"]
    assert (drill["drill_id"], drill["failed"], drill["last_run_status"]) == (
        drill_id,
        True,
        "ERROR",
    )
    # The scope is the definition's: the healthy one alone is OK, the drilled one is not.
    assert _check(site, "--def-id", str(healthy))[0] == 0
    assert _check(site, "--def-id", str(def_id))[0] == 2
    assert _check(site, "--dbname", rich.dbname)[0] == 2
    assert _check(site, "--node", str(site.node2_id))[0] == 0  # only the drill node
    assert _check(site, "--drill-failed-critical", "0")[0] == 1  # a threshold option
    assert _gauge(site, "pgbackman_restore_drill_last_run_failed") == {str(def_id): 1.0}
    assert _gauge(site, "pgbackman_restore_drill_overdue") == {str(def_id): 0.0}

    # Stopping the drill is the operator's "known": nothing is judged any more.
    res = site.shell(f"update_restore_drill {drill_id} '' '' STOPPED")
    assert res.returncode == 0, res.stdout + res.stderr
    status, out = _check(site)
    assert status == 0, out
    assert "restore drill" not in out and "drill_failed=0;1;1;0;" in out
    assert _gauge(site, "pgbackman_restore_drill_last_run_failed") == {}


def _backdate(site: Site, drill_id: int, registered: str) -> None:
    """The drill registered ``registered`` ago (the catalog's clock)."""
    site.pgb.su_query(
        "UPDATE restore_drill SET registered = now() - %s::interval WHERE drill_id = %s",
        (registered, drill_id),
    )


def test_an_overdue_drill_is_a_warning_and_a_metric_also_for_the_read_only_role(
    site: Site, rich: RichDb
) -> None:
    def_id = site.definition(rich.dbname)
    site.backup(def_id)
    drill_id = site.register_drill(def_id, "1 hour")
    _backdate(site, drill_id, "119 minutes")  # due, but not twice over yet
    assert _check(site)[0] == 0
    assert _gauge(site, "pgbackman_restore_drill_overdue") == {str(def_id): 0.0}

    _backdate(
        site, drill_id, "3 hours"
    )  # never run, twice its interval after registering
    set_config(site.pgb.config_path, "pgbackman_database", user="pgbackman_role_ro")
    status, out = _check(site)
    assert status == 1, out
    assert (
        f"DRILL OVERDUE {rich.dbname}@127.0.0.1 (DefID {def_id}, DrillID {drill_id} on "
        "127.0.0.1): never run since the drill was registered"
    ) in out
    assert "(interval 1 hour)" in out and "drill_overdue=1;1;;0;" in out
    assert _gauge(site, "pgbackman_restore_drill_overdue") == {str(def_id): 1.0}
    assert _gauge(site, "pgbackman_restore_drill_last_run_failed") == {str(def_id): 0.0}

    # A run (here by hand) ends it: the drill is not due again for an interval.
    set_config(site.pgb.config_path, "pgbackman_database", user="pgbackman_role_server")
    res = site.drill(drill_id)
    assert res.returncode == 0, res.stderr
    assert _check(site)[0] == 0
    assert _gauge(site, "pgbackman_restore_drill_overdue") == {str(def_id): 0.0}
