"""Stage runners the DAGs and the CLI call: they wire ingest → quality → warehouse for a set of files."""
