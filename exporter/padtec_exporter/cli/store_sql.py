"""``padtec-exporter store init-sql``: the PostgreSQL set-up the store needs, as a psql script.

Run once by a superuser on a plain PostgreSQL (docs/install.md): the store's owner role and
database, and the read-only ``grafana_reader`` role with SELECT on every table the store
creates later. Idempotent (roles and database are created only when missing). Passwords are
psql variables, never written in the script.
"""

from __future__ import annotations

import click


def init_sql(database: str, owner: str, reader: str) -> str:
    def exists(catalog: str, column: str, name: str) -> str:
        return f"WHERE NOT EXISTS (SELECT FROM {catalog} WHERE {column} = '{name}')"

    return f"""\\set ON_ERROR_STOP on
-- padtec store: owner role, database, read-only Grafana role. Run as a superuser:
--   psql -v owner_password=... -v reader_password=... -f this.sql
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '{owner}', :'owner_password')
  {exists("pg_roles", "rolname", owner)} \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '{database}', '{owner}')
  {exists("pg_database", "datname", database)} \\gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '{reader}', :'reader_password')
  {exists("pg_roles", "rolname", reader)} \\gexec
GRANT CONNECT ON DATABASE "{database}" TO "{reader}";
\\connect "{database}"
GRANT USAGE ON SCHEMA public TO "{reader}";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}";
-- Tables and partitions the store creates later are readable too.
ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public GRANT SELECT ON TABLES TO "{reader}";
"""


_NAME = r"^[a-z_][a-z0-9_]*$"


def _identifier(ctx: click.Context, param: click.Parameter, value: str) -> str:
    import re

    if not re.match(_NAME, value):
        raise click.BadParameter("lower-case letters, digits and '_' only")
    return value


@click.command("init-sql")
@click.option("--database", default="padtec", show_default=True, callback=_identifier)
@click.option("--owner", default="padtec", show_default=True, callback=_identifier)
@click.option("--reader", default="grafana_reader", show_default=True, callback=_identifier)
def init_sql_command(database: str, owner: str, reader: str) -> None:
    """Print the psql script creating the store's role, database and Grafana's read-only role."""
    click.echo(init_sql(database, owner, reader), nl=False)
