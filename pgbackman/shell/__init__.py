"""PgBackMan shell: framework (app, context, render, registry, completion) and commands/.

Command modules register with :func:`pgbackman.shell.registry.command`; see docs/DESIGN.md
"Shell framework API".
"""
