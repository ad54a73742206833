#!/usr/bin/env python3
"""Runs ssprlens's reports (queries/*.sql) in DuckDB against the Delta tables `ssprlens publish` wrote.

    pip install duckdb==1.5.5 duckdb-extension-delta==1.5.5 duckdb-extension-azure==1.5.5 duckdb-extensions==1.5.5
    python3 scripts/lake_report.py --lake abfss://lake@ACCOUNT.dfs.core.windows.net/ssprlens channels
    python3 scripts/lake_report.py --lake az://lake/ssprlens --tenant TENANT_ID --sql my.sql

The views it makes, as the reports expect them: `attempts` and `events` (the lake's tables, one tenant's
rows with --tenant, every tenant's without), `channel_order` (the channels of --channels, a rules file, else
the built-in rules of data/channels.toml, then `unknown` and `admin`). Reports that read `calendar` or
`params` need ssprlens itself. Storage: AZURE_STORAGE_CONNECTION_STRING when set (Azurite's included), else
Azure's credential chain (az login, managed identity, environment) for the account of the location. For the
Azurite emulator also set AZURE_STORAGE_USE_EMULATOR=true and AZURITE_BLOB_STORAGE_URL: the delta extension
reads the log through an object store of its own, which finds the emulator by them.
Prints the result as CSV on standard output.
"""
import argparse
import csv
import os
import re
import sys
import tomllib
from pathlib import Path

import duckdb
from duckdb_extensions import import_extension

ROOT = Path(__file__).resolve().parent.parent


def channel_order(rules_file):
    """The channels in the order the reports list them: the rules' order, then unknown and admin."""
    rules = tomllib.loads(Path(rules_file).read_text())
    channels = []
    for name in [rule["channel"] for rule in rules.get("rule", [])] + ["unknown", "admin"]:
        if name not in channels:
            channels.append(name)
    return channels


def table_url(lake, table):
    return lake.rstrip("/") + "/" + table


def connect(lake):
    con = duckdb.connect()
    for extension in ("azure", "delta"):
        import_extension(extension, con=con)
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection_string:
        con.execute("CREATE SECRET lake (TYPE azure, CONNECTION_STRING ?)", [connection_string])
    else:
        account = re.search(r"@([^.]+)\.dfs\.core\.windows\.net|https://([^.]+)\.", lake)
        name = next((group for group in account.groups() if group), None) if account else None
        name = name or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not name:
            sys.exit("name the storage account: an abfss:// or https:// location, or AZURE_STORAGE_ACCOUNT_NAME")
        con.execute("CREATE SECRET lake (TYPE azure, PROVIDER credential_chain, ACCOUNT_NAME ?)", [name])
    return con


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", required=True, help="the location given to `ssprlens publish --to`")
    parser.add_argument("--tenant", help="one tenant's rows only (the tenant_id partition)")
    parser.add_argument("--channels", default=ROOT / "data" / "channels.toml", help="the rules file published with")
    parser.add_argument("--sql", type=Path, help="a query file of one's own instead of a built-in report")
    parser.add_argument("report", nargs="?", help="a report of queries/, e.g. channels")
    args = parser.parse_args()
    if bool(args.sql) == bool(args.report):
        parser.error("give a report name or --sql FILE")
    con = connect(args.lake)
    where = ""
    if args.tenant:
        where = " WHERE tenant_id = '{}'".format(args.tenant.lower().replace("'", "''"))
    for table in ("attempts", "events"):
        con.sql(f"CREATE VIEW {table} AS SELECT * FROM delta_scan('{table_url(args.lake, table)}'){where}")
    order = channel_order(args.channels)
    con.sql("CREATE TABLE channel_order (channel VARCHAR, position INTEGER)")
    con.executemany("INSERT INTO channel_order VALUES (?, ?)", [[c, i + 1] for i, c in enumerate(order)])
    sql_file = args.sql or ROOT / "queries" / f"{args.report}.sql"
    result = con.sql(Path(sql_file).read_text())
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(result.columns)
    out.writerows(result.fetchall())


if __name__ == "__main__":
    main()
