"""pgbackman_restore's work: resolve a restore definition (spec), decide the steps (plan),
run them against the target node (runner, cluster) and produce one result record."""
