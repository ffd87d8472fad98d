"""National standards as data plus small pure functions; no I/O."""
