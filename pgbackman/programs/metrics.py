"""pgbackman_metrics: Prometheus metrics of this backup server.

    pgbackman_metrics [--config FILE] [-b FQDN] [--output FILE] [--listen HOST:PORT]

Default: print the text exposition on stdout (e.g. for node_exporter's textfile collector).
``--output FILE`` writes it atomically instead (the collector never reads half a file).
``--listen HOST:PORT`` serves it over HTTP (``/metrics``) until SIGTERM/SIGINT; every
scrape reads the catalog anew. Metric names: :mod:`pgbackman.monitoring.metrics`.
Reads views only: a login with pgbackman_role_ro is enough.
"""

from __future__ import annotations

import argparse
import logging
import sys

from prometheus_client import exposition
from prometheus_client.registry import CollectorRegistry

from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import PgBackManError
from pgbackman.infra.daemon import SignalFlags
from pgbackman.infra.fsutil import atomic_write
from pgbackman.monitoring.metrics import registry
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_metrics"
log = logging.getLogger(PROGRAM)


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    # ":9187" means every interface, as the operator asked (documented for --listen).
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM, description="Prometheus metrics of a PgBackMan backup server."
    )
    p.add_config_option()
    p.add_argument(
        "-b",
        "--backup-server",
        metavar="FQDN",
        help="backup server (default: this host's [backup_server])",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--output", metavar="FILE", help="write the exposition to FILE atomically"
    )
    out.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_listen,
        help="serve the metrics over HTTP on HOST:PORT until stopped",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.getLogger().addHandler(logging.NullHandler())
    return run_main(PROGRAM, argv, parse_args, _body)


def _serve(reg: CollectorRegistry, host: str, port: int) -> int:
    try:
        server, thread = exposition.start_http_server(port, host, reg)
    except OSError as exc:
        raise PgBackManError(f"cannot listen on {host}:{port}: {exc}") from None
    print(
        f"{PROGRAM}: serving on http://{host}:{server.server_port}/metrics",
        file=sys.stderr,
        flush=True,
    )
    with SignalFlags().installed() as flags:
        while not flags.sleep(3600):
            pass
    server.shutdown()
    thread.join(5)
    return 0


def _body(cfg: Config, args: argparse.Namespace) -> int:
    cat = Catalog(cfg.database, application_name=PROGRAM)
    reg = registry(cfg, cat, args.backup_server)
    try:
        if args.listen:
            return _serve(reg, *args.listen)
        text = exposition.generate_latest(reg)
        if args.output:
            atomic_write(args.output, text, 0o644)
        else:
            sys.stdout.buffer.write(text)
            sys.stdout.flush()
        return 0
    finally:
        cat.close()


if __name__ == "__main__":
    sys.exit(main())
