"""Version numbers: the software release and the catalog schema version it expects."""

SOFTWARE_VERSION = "2.0.0"
# Compared with max(pgbackman_version.version) in the catalog; sql/pgbackman_<n>.sql upgrades.
SCHEMA_VERSION = 5
SCHEMA_TAG = "v_2_0_0"
