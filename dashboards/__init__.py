"""Grafana dashboards generated from code (grafana-foundation-sdk) and their provisioning files.

``python -m envmon.cli dashboards build`` (or :func:`dashboards.build.build`) writes ``json/`` and
``provisioning/`` here; docker-compose mounts both into the Grafana container.
"""
