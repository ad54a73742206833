#!/usr/bin/env python3
"""The channel report computed by DuckDB, the competitor of scripts/bench.py: from NDJSON, or from a store's Parquet.

Usage: python3 scripts/duckdb_channels.py [--graph-only | --store] PATH [RULES.toml] [THREADS]

Hand-written SQL as an analyst would write it: read_ndjson with only the needed columns (in Graph's camelCase and
in Log Analytics' PascalCase, which the generator mixes as real exports do), activity names compared ignoring case,
the rows of each attempt grouped by correlationId, the first non-empty ClientType and user agent by time, the rules
of data/channels.toml (client type first, then user agent, first match wins). A reset attempt is a correlationId with
a flow row, a `Reset password (self-service)` row or a `User started password reset` row and no unlock row; portal
resets (`Reset password (by admin)`) count one each as `admin`. (ssprlens also counts helpdesk tools' Core Directory
resets as `admin`; the benchmark input has none, so these queries leave that rule out.) Prints {channel: {attempts,
completed}} as JSON; scripts/bench.py checks it against the generator's truth, as it checks ssprlens.

--graph-only reads the camelCase spelling alone, one scan of the file: the query an analyst with a pure Graph export
would write, and the fastest DuckDB gets here. It misses the PascalCase records, so its counts fall short of the
truth; the benchmark times it as the stricter reference.

--store reads PATH/events/*/*.parquet, the events of a store written by `ssprlens import` (one row per record,
deduplicated, client type and user agent already taken out of the record): the same question over the same Parquet
files `ssprlens report --store` reads.
"""
import json
import sys
import tomllib
from pathlib import Path

import duckdb

args = sys.argv[1:]
mode = args.pop(0) if args[:1] in (["--graph-only"], ["--store"]) else ""
graph_only = mode == "--graph-only"
path = args[0]
rules_path = args[1] if len(args) > 1 else Path(__file__).resolve().parent.parent / "data" / "channels.toml"
threads = args[2] if len(args) > 2 else "2"
with open(rules_path, "rb") as f:
    rules = tomllib.load(f)["rule"]


def like_any(column, patterns):
    return " OR ".join(f"lower({column}) LIKE '%{p.lower()}%'" for p in patterns)


whens = [f"WHEN {like_any('f.ct', r['client_type'])} THEN '{r['channel']}'" for r in rules if r.get("client_type")]
whens += [f"WHEN {like_any('f.ua', r['user_agent'])} THEN '{r['channel']}'" for r in rules if r.get("user_agent")]
case = " ".join(whens)
DETAILS_TYPE = "STRUCT(key VARCHAR, value VARCHAR)[]"
# additionalDetails as a JSON list, or as text holding one (Log Analytics' dynamic columns)
DETAILS_OF_TEXT = f"""CAST(json(CASE WHEN det LIKE '"%' THEN json_extract_string(det, '$') ELSE det END) AS {DETAILS_TYPE})"""
con = duckdb.connect()
con.execute(f"SET threads={threads}")
RESET_ACTIVITIES = ("'self-service password reset flow activity progress', 'reset password (self-service)', "
                    "'user started password reset'")
# Per correlationId: completed, unlock, reset, and the channel of its first client type or user agent (by time).
ATTEMPTS = f"""
att AS (
  SELECT corr,
    bool_or(act = 'reset password (self-service)' AND result = 'success')
      OR bool_or(act = 'self-service password reset flow activity progress' AND reason = 'User successfully reset password') AS done,
    bool_or(act = 'unlock user account (self-service)') AS unlock,
    bool_or(act IN ({RESET_ACTIVITIES})) AS reset
  FROM ev WHERE corr IS NOT NULL GROUP BY corr
),
chan AS (
  SELECT a.corr, a.done, CASE {case} ELSE 'unknown' END AS channel
  FROM att a LEFT JOIN (SELECT corr, ct.ct, ua.ua FROM ct FULL JOIN ua USING (corr)) f USING (corr)
  WHERE a.reset AND NOT a.unlock
)
SELECT channel, count(*) AS attempts, count(*) FILTER (WHERE done) AS completed FROM chan GROUP BY channel
UNION ALL
SELECT 'admin', count(*), count(*) FILTER (WHERE result = 'success') FROM ev WHERE act = 'reset password (by admin)'
ORDER BY channel
"""
STORE_QUERY = f"""
WITH ev AS (
  SELECT id, correlation_id AS corr, lower(trim(activity)) AS act, lower(trim(result)) AS result,
         trim(result_reason) AS reason, time AS ts, nullif(trim(client_type), '') AS ct, nullif(trim(user_agent), '') AS ua
  FROM read_parquet('{path}/events/*/*.parquet')
),
ct AS (SELECT corr, arg_min(ct, (ts, id)) AS ct FROM ev WHERE ct IS NOT NULL GROUP BY corr),
ua AS (SELECT corr, arg_min(ua, (ts, id)) AS ua FROM ev WHERE ua IS NOT NULL GROUP BY corr),
{ATTEMPTS}"""
NDJSON_QUERY = f"""
WITH camel AS (
  SELECT id, correlationId AS corr, activityDisplayName AS act, result, resultReason AS reason,
         activityDateTime AS ts, userAgent AS ua, additionalDetails AS det
  FROM read_ndjson('{path}', columns={{id:'VARCHAR', correlationId:'VARCHAR', activityDisplayName:'VARCHAR',
        result:'VARCHAR', resultReason:'VARCHAR', activityDateTime:'TIMESTAMPTZ', userAgent:'VARCHAR',
        additionalDetails:'{DETAILS_TYPE if graph_only else "VARCHAR"}'}}, ignore_errors=true)
  WHERE id IS NOT NULL
), pascal AS (
  -- Log Analytics exports spell the same fields in PascalCase (DuckDB matches JSON keys exactly).
  SELECT Id, CorrelationId, ActivityDisplayName, Result, ResultReason, ActivityDateTime, UserAgent, AdditionalDetails
  FROM read_ndjson('{path}', columns={{Id:'VARCHAR', CorrelationId:'VARCHAR', ActivityDisplayName:'VARCHAR',
        Result:'VARCHAR', ResultReason:'VARCHAR', ActivityDateTime:'TIMESTAMPTZ', UserAgent:'VARCHAR',
        AdditionalDetails:'VARCHAR'}}, ignore_errors=true)
  WHERE Id IS NOT NULL
), raw AS (
  SELECT id, corr, lower(trim(act)) AS act, lower(trim(result)) AS result, trim(reason) AS reason, ts, ua,
         {"det" if graph_only else DETAILS_OF_TEXT} AS det
  FROM ({"SELECT * FROM camel" if graph_only else "SELECT * FROM camel UNION ALL SELECT * FROM pascal"})
), ev AS (SELECT DISTINCT ON (id) * FROM raw),
details AS (SELECT corr, ts, id, unnest(det) AS d FROM ev),
ct AS (
  SELECT corr, arg_min(d.value, (ts, id)) AS ct FROM details
  WHERE replace(lower(d.key), ' ', '') = 'clienttype' AND trim(d.value) <> '' GROUP BY corr
),
ua AS (
  SELECT corr, arg_min(coalesce(nullif(trim(ua), ''), nullif(trim(d.value), '')), (ts, id)) AS ua FROM (
    SELECT corr, ts, id, ua, NULL AS d FROM ev WHERE ua IS NOT NULL AND trim(ua) <> ''
    UNION ALL
    SELECT corr, ts, id, NULL, d FROM details WHERE lower(d.key) IN ('user-agent', 'useragent') AND trim(d.value) <> ''
  ) GROUP BY corr
),
{ATTEMPTS}"""
rows = con.execute(STORE_QUERY if mode == "--store" else NDJSON_QUERY).fetchall()
print(json.dumps({r[0]: {"attempts": r[1], "completed": r[2]} for r in rows}, sort_keys=True))
