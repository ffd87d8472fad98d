"""TimescaleDB warehouse: schema migrations, registries, bulk loads, load log and quarantine."""
