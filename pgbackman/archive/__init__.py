"""What a backup is on disk, shared by the dump, the restore and maintenance: the staging
directory, the SHA-256 manifest and the final rename (files.py), and the ROLES / DBCONFIG
files written beside a dump (globalsfile.py)."""
