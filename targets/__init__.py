"""The bureau's plan targets: registry (``config/targets.yaml``), methodologies, status engine.

* :mod:`targets.registry` loads and validates the human-edited registry and syncs ``registry.target``;
* :mod:`targets.methodologies` computes each target's actual value from the derived tables;
* :mod:`targets.status` (pure) turns actual, target, deadline and as-of date into a status;
* :mod:`targets.refresh` computes every status for an as-of date into ``derived.target_status``.

The criterion (the plan's number) and the methodology (how the number is measured) are kept
apart: the YAML names the methodology by key, the code implements it once.
"""
