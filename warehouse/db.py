"""Connections to the warehouse: psycopg 3 for COPY and SQL, SQLAlchemy 2 for Alembic and pandas."""

from __future__ import annotations

from functools import lru_cache

import psycopg
import sqlalchemy as sa

from envmon.settings import database_url


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://`` (SQLAlchemy form) → ``postgresql://`` (libpq form)."""
    scheme, sep, rest = url.partition("://")
    return ("postgresql" + sep + rest) if scheme.startswith("postgresql") else url


def sqlalchemy_url(url: str) -> str:
    scheme, sep, rest = libpq_url(url).partition("://")
    return "postgresql+psycopg" + sep + rest


def connect(url: str | None = None, autocommit: bool = True) -> psycopg.Connection:
    """Autocommit, so that every ``with conn.transaction()`` block is a real, committed transaction."""
    return psycopg.connect(libpq_url(url or database_url()), autocommit=autocommit)


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True)


def engine(url: str | None = None) -> sa.Engine:
    return _engine(libpq_url(url or database_url()))
