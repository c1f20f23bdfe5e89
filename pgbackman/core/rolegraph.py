"""Which roles a database's backup must carry, from the node's role memberships.

Start: the roles the database itself names (owners, grantees and grantors of privileges,
policy roles, roles with ``ALTER ROLE ... IN DATABASE ... SET``; read on the node by
``pgnode/globals.py``). Then:

* **down**: every member of those roles, transitively. ``GRANT reader TO report_user`` is
  how most users reach a database: a LOGIN role whose only link to it is a group must come
  back with the group, or a restore onto an empty server loses the user;
* **up**: every role those roles are members of, transitively (their privileges and
  settings come through them);
* **grantors**: the role recorded as having granted a membership between carried roles,
  with its own upward closure, so the grant can be restored ``GRANTED BY`` it.

Up and grantors repeat until nothing is added; down runs once, from the starting roles only
(the members of a role reached going up or as a grantor do not reach this database through
it). Predefined ``pg_*`` roles are never walked down: their members reach every database
of the cluster, not this one. The bootstrap superuser (OID 10) is never added as a grantor:
a grant it made is restored as made by the restoring superuser.

Pure: the caller passes the membership edges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

BOOTSTRAP_SUPERUSER_OID = 10


@dataclass(frozen=True)
class Edge:
    """One row of pg_auth_members: ``member`` is a member of ``role``, granted by
    ``grantor`` (None when no existing role is recorded)."""

    role: int
    member: int
    grantor: int | None = None


def closure(
    start: Iterable[int], edges: Iterable[Edge], predefined: Iterable[int] = ()
) -> set[int]:
    """The roles to carry (see the module docstring)."""
    edges = list(edges)
    members: dict[int, set[int]] = defaultdict(set)
    parents: dict[int, set[int]] = defaultdict(set)
    for e in edges:
        members[e.role].add(e.member)
        parents[e.member].add(e.role)
    skip_down = set(predefined)
    roles = set(start)
    todo = [r for r in roles if r not in skip_down]
    while todo:
        for m in members[todo.pop()]:
            if m not in roles:
                roles.add(m)
                todo.append(m)
    while True:
        todo = list(roles)
        while todo:
            for p in parents[todo.pop()]:
                if p not in roles:
                    roles.add(p)
                    todo.append(p)
        grantors = {
            e.grantor
            for e in edges
            if e.role in roles
            and e.member in roles
            and e.grantor is not None
            and e.grantor != BOOTSTRAP_SUPERUSER_OID
            and e.grantor not in roles
        }
        if not grantors:
            return roles
        roles |= grantors
