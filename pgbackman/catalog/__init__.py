"""The only code that speaks SQL to the catalog database: the connection (with its
client-side deadline), the listings read from the show_* views, and one module per domain."""
