"""Shared key/value rows of the three *_stats commands (definition and catalog counters)."""

from __future__ import annotations

from typing import Any


def counters(s: dict[str, Any]) -> list[tuple[str, Any]]:
    """Definition and catalog counters, in upstream's order, from a catalog/stats.py row."""
    return [
        ("Different databases", s["different_databases"]),
        ("Active Backup job defs", s["active_defs"]),
        ("Stopped Backup job defs", s["stopped_defs"]),
        ("Backup job defs with CLUSTER code", s["cluster_defs"]),
        ("Backup job defs with DATA code", s["data_defs"]),
        ("Backup job defs with FULL code", s["full_defs"]),
        ("Backup job defs with SCHEMA code", s["schema_defs"]),
        ("Backup job defs with RDS code", s["rds_defs"]),
        ("###", ""),
        ("Succeeded backups in catalog", s["succeeded"]),
        ("Faulty backups in catalog", s["faulty"]),
        ("Total size of backups in catalog", s["total_size_pretty"]),
        ("Total running time of backups in catalog", s["total_duration"]),
        ("Oldest backup in catalog", s["oldest"]),
        ("Newest backup in catalog", s["newest"]),
    ]
