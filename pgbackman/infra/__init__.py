"""The only code that touches the operating system: starting programs (proc), atomic
files (fsutil, cronfile, cache, spool), locks, at jobs and daemons."""
