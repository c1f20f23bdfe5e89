"""Run a PgBackMan program's main() and record the peak RSS of *this* Python process apart
from that of its children (pg_dump, pg_dumpall, pg_restore).

    python bench/rss_wrap.py OUT.json pgbackman.programs.dump --def-id 1 --config X

The figure is VmHWM of /proc/self/status: the peak RSS of this process's memory since its
exec, children excluded. getrusage(RUSAGE_SELF).ru_maxrss is not usable: Linux carries the
peak of the pre-exec image into it, i.e. that of the (possibly large) Python process that
spawned us with vfork. Importing the module by name costs the same as the console script
(which does exactly this import and call).
"""

from __future__ import annotations

import importlib
import json
import resource
import sys


def vm_hwm_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    out, module, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    rc = 1
    try:
        rc = int(importlib.import_module(module).main(args) or 0)
    finally:
        data = {
            "self_maxrss_kib": vm_hwm_kib(),
            "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "children_maxrss_kib": resource.getrusage(
                resource.RUSAGE_CHILDREN
            ).ru_maxrss,
            "rc": rc,
        }
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    return rc


if __name__ == "__main__":
    sys.exit(main())
