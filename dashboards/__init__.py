"""Grafana dashboards generated from code (grafana-foundation-sdk) and their provisioning files.

``envmon dashboards build`` (or :func:`dashboards.build.build`) writes ``json/`` and
``provisioning/`` here; docker-compose mounts both into the Grafana container.
``envmon dashboards publish`` (:mod:`dashboards.publish`) pushes the same tree through Grafana's
HTTP API; ``python -m dashboards.render`` (:mod:`dashboards.render`) draws the panels to PNG from
the same SQL, expanded by :mod:`dashboards.macros` as Grafana would.
"""
