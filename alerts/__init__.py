"""Alert conditions over the derived tables: evaluated in the pipeline and exported as Grafana rules."""
