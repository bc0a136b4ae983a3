"""Connections to the store's database, and its schema brought up to date at connect.

Migrations are the numbered .sql files beside this module, applied once each, in
order, under an advisory lock so that app servers and workers starting together
do not race. An unreachable database or a server without pgvector is reported
in words a user can act on.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 4_711_2026  # pg_advisory_xact_lock key: one migrator at a time
POOL_SIZE = 4


from reportqa.stores import StoreUnavailable


def redacted(uri: str) -> str:
    """The URI without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", uri)


def connect(uri: str) -> psycopg.Connection:
    """One connection, for workers and builds. Autocommit: every transaction is an explicit
    conn.transaction() block, so a worker's lock lasts exactly as long as its report's write."""
    try:
        return psycopg.connect(uri, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"无法连接数据库 {redacted(uri)}（{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}）。"
            "请检查 REPORTQA_STORE 的地址、端口、用户名和密码，以及 PostgreSQL 是否在运行。"
        ) from None


def open_pool(uri: str) -> ConnectionPool:
    """A small pool for an app server: each search borrows a connection for its queries. Statements are
    not prepared (psycopg would after five runs): the server's generic plan, made once for any scope and
    word list, made filtered BM25 searches at 10^6 chunks cost up to 8× the CPU (eval/reports/bench_stores.md)."""
    migrate(uri)
    kwargs = {"connect_timeout": 10, "autocommit": True, "prepare_threshold": None}
    return ConnectionPool(uri, min_size=1, max_size=POOL_SIZE, kwargs=kwargs, open=True)


def migrate(uri: str) -> list[str]:
    """Apply the migrations this database has not seen; returns their names."""
    applied: list[str] = []
    with connect(uri) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
                done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
                for path in sorted(MIGRATIONS.glob("*.sql")):
                    if path.name not in done:
                        conn.execute(path.read_text(encoding="utf-8"))
                        conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
                        applied.append(path.name)
        except psycopg.errors.FeatureNotSupported as exc:
            raise StoreUnavailable(f"数据库 {redacted(uri)} 不支持所需功能（{exc}）。请使用 PostgreSQL 13 以上版本。") from None
        except psycopg.errors.UndefinedFile as exc:
            raise StoreUnavailable(
                f"数据库 {redacted(uri)} 没有安装 pgvector 扩展（{str(exc).strip()}）。请在服务器上安装 pgvector（0.5 以上）后重试。"
            ) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreUnavailable(f"数据库用户无权建表或启用 pgvector（{str(exc).strip()}）。请让管理员授予权限或先执行 CREATE EXTENSION vector。") from None
    return applied
