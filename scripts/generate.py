#!/usr/bin/env python3
"""Synthetic Entra ID audit records for ssprlens, written together with the ground truth they were built from.

Why: ssprlens counts self-service password reset (SSPR) attempts by channel (Windows login screen, web, other,
unknown; helpdesk resets as `admin`). Its tests and benchmarks need records whose right answer is known without
running ssprlens. This generator first decides every attempt (kind, channel, client type, outcome, deepest step,
times, user, IP) and only then writes the audit rows that express it; the truth files are those decisions.

    python3 scripts/generate.py sample [--out data/sample] [--seed N]
        The committed sample tenant (150 users, 90 resets, 9 unlocks, 27 portal and 10 helpdesk-tool resets, portal echoes,
        reset-service side effects, `Authentication Methods` rows, noise; about 1 MB in all):
        audit.ndjson (shuffled, ~3 % verbatim duplicates), the same records as Graph pages (newest first), a portal
        download, an Azure Monitor export (oldest first) and gzip NDJSON (with and without three malformed lines)
        under shapes/, plus truth.json and attempts.truth.csv. Ends with a self-check (below).
    python3 scripts/generate.py big --attempts N --out FILE.ndjson [--truth FILE.json] [--attempts-csv FILE.csv]
                                    [--seed N] [--gzip] [--check] [--order grouped|shuffled|time]
                                    [--schema lean|full] [--chunk-attempts N]
        A large NDJSON written as it is generated, about 3 % of its lines verbatim duplicates. --order grouped
        (default) keeps an attempt's lines close together (a local shuffle); shuffled puts the lines in a uniformly
        random order; time writes them newest first, as Graph pages arrive. --schema lean (default) writes the fields
        ssprlens reads; full writes every field of Graph's directoryAudit on every record (null where there is no
        value, Graph's field order) and the ~5 % Log Analytics records as complete AuditLogs rows (PascalCase
        columns, dynamic columns as objects or as JSON text). Generation and ordering go by chunks of
        --chunk-attempts attempts (100,000) of consecutive time, like several exports concatenated: memory holds one
        chunk, so 1,000,000 attempts (~6 GB) stream in bounded memory; shuffled shuffles within each chunk, time
        writes the chunks in reverse through part files next to the output. The truth depends on the seed and
        --attempts alone: every order, schema and chunk size of the same records gives the same truth.

The self-check re-reads the written records, dedupes them by id, rebuilds the attempts with a plain reading of
the documented rules in data/channels.toml and asserts that they equal the intended truth. Output is
byte-identical for a given seed: one random.Random drives everything, gzip headers carry mtime 0.
"""
import argparse
import contextlib
import csv
import gzip
import io
import ipaddress
import json
import random
import re
import shutil
import sys
import time
import tomllib
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "data" / "channels.toml"
DEFAULT_SEED = 20261015

# ---------------------------------------------------------------------------------------------- time

TICKS = 10_000_000  # 100 ns ticks per second: Entra writes up to 7 fractional digits
HOUR = 3600 * TICKS
DAY = 24 * HOUR


def ticks(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()) * TICKS


def seconds_text(t: int) -> str:
    return datetime.fromtimestamp(t // TICKS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def micro_text(t: int) -> str:
    """RFC 3339 UTC with microseconds, truncated (not rounded) from 100 ns ticks."""
    return f"{seconds_text(t)}.{t % TICKS // 10:06d}Z"


TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(?:Z|\+00:00)$")


def parse_time(text: str) -> int:
    """The exact instant of an activityDateTime as written here (0-7 fractional digits, `Z` or `+00:00`)."""
    m = TIME_RE.match(text)
    assert m, text
    return ticks(m[1] + "Z") + int((m[2] or "").ljust(7, "0"))


FRACTION_DIGITS = [7] * 8 + [6] * 3 + [0, 1, 2, 3, 4, 5]


def stamp(rng: random.Random, t: int) -> tuple[int, str]:
    """Write t with 0 to 7 fractional digits and `Z` or `+00:00`; return the instant actually written."""
    digits = rng.choice(FRACTION_DIGITS)
    t -= t % 10 ** (7 - digits)
    text = seconds_text(t)
    if digits:
        text += "." + f"{t % TICKS:07d}"[:digits]
    return t, text + ("Z" if rng.random() < 0.8 else "+00:00")


PERIOD_START = ticks("2026-09-01T00:00:00Z")
PERIOD_END = ticks("2026-11-20T00:00:00Z")
ROLLOUT = ticks("2026-10-15T00:00:00Z")  # the Windows login-screen reset link is switched on for everyone
WINDOWS = [
    ("october", "2026-10-01T00:00:00Z", "2026-10-31T23:59:59Z"),
    ("before_rollout", "2026-09-01T00:00:00Z", "2026-10-14T23:59:59Z"),
    ("after_rollout", "2026-10-15T00:00:00Z", "2026-11-19T23:59:59Z"),
]
# No attempt starts inside the last second of a window (until < t < until + 1 s) so inclusiveness is unambiguous;
# two attempts start exactly on the October window's edges instead.
EDGE_SECONDS = tuple(ticks(until) // TICKS for _, _, until in WINDOWS)
NIGHT_HOURS = [22, 23, 0, 1, 2, 3, 4, 5]


def random_time(rng: random.Random, night_share: float = 0.12) -> int:
    """A start time in the period: fewer on weekends, mostly office hours, some at night."""
    days = (PERIOD_END - PERIOD_START) // DAY
    while True:
        day = rng.randrange(days)
        weekend = datetime.fromtimestamp((PERIOD_START + day * DAY) // TICKS, timezone.utc).weekday() >= 5
        if not (weekend and rng.random() < 0.7):
            break
    hour = rng.choice(NIGHT_HOURS) if rng.random() < night_share else rng.randrange(7, 19)
    return PERIOD_START + day * DAY + hour * HOUR + rng.randrange(HOUR)


def off_edge(t: int) -> int:
    """Keep starts out of the fractional last second of a window; starts exactly on an edge stay."""
    return t - TICKS if t // TICKS in EDGE_SECONDS and t % TICKS else t


# ---------------------------------------------------------------------------------------------- vocabulary

SSPR = "Self-service Password Management"
CORE = "Core Directory"
AUTH_METHODS = "Authentication Methods"
FLOW = "Self-service password reset flow activity progress"
RESET = "Reset password (self-service)"
UNLOCK = "Unlock user account (self-service)"
ADMIN = "Reset password (by admin)"
BLOCKED = "Blocked from self-service password reset"

CHANNELS = ["login_screen", "web", "other", "unknown"]
ALL_CHANNELS = CHANNELS + ["admin"]
ONPREM_AGENTS = ["None", "Microsoft Entra Connect", "CloudSync"]
LEVELS = ["submitted_id", "shown_options", "verified", "submitted_password", "completed"]
METHODS = ["email", "mobile SMS", "mobile voice call", "office voice call", "security questions",
           "mobile app notification", "mobile app code"]
CLIENT_TYPE_KEYS = ["ClientType", "clientType", "Client Type", "CLIENTTYPE"]  # drawn 7 : 1 : 1 : 1

MOZILLA_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
]
SCRIPT_AGENT = "python-requests/2.31"

# How each channel is expressed: (client type or None, user agent kind or None). The login screen hosts the SSPR
# web page, so some of its rows carry a browser user agent too: the client type must win over it.
SIGNALS = {
    "login_screen": [("Logon", None), ("WinLogon", None), ("Windows Logon", None), ("CredentialProvider", None),
                     ("Logon", "mozilla_top"), ("CredentialProvider", "mozilla_detail")],
    "web": [("Web", None), ("Browser", None), ("WebBrowser", None), ("Web", "mozilla_top"),
            ("Browser", "mozilla_detail"), (None, "mozilla_top"), (None, "mozilla_detail"), (None, "mozilla_top")],
    "other": [("MobileApp", None), ("AuthenticatorApp", None), ("MobileApp", "mozilla_detail")],
    "unknown": [(None, None), (None, "script"), ("Kiosk", None), ("unknownFutureValue", None)],
}
# Two different client types on one attempt: the value on the earliest row is the truth, so is its channel.
CONFLICTS = [("Logon", "Web", "login_screen"), ("Web", "CredentialProvider", "web"),
             ("MobileApp", "WinLogon", "other"), ("Browser", "Windows Logon", "web"), ("Kiosk", "Web", "unknown")]
CHANNEL_WEIGHTS_BEFORE = [6, 72, 8, 14]
CHANNEL_WEIGHTS_AFTER = [62, 25, 5, 8]
PLACEMENTS = {"first": 30, "last": 20, "middle": 15, "reset_row": 10, "all": 15, "empty_first": 10}


class Step(NamedTuple):
    activity: str
    result: str
    reason: str
    level: str | None


def progress(reason: str, level: str | None = None) -> Step:
    return Step(FLOW, "success", reason, level)


def failure(reason: str) -> Step:
    return Step(FLOW, "failure", reason, None)


SUBMIT = progress("User submitted their user ID", "submitted_id")
PRESENT = progress("User was presented with verification options", "shown_options")
ALL_VERIFIED = progress("User completed all verification steps required", "verified")
NEW_PASSWORD = progress("User submitted a new password", "submitted_password")
RESET_DONE = progress("User successfully reset password", "completed")
RESET_OK = Step(RESET, "success", "Successfully completed reset.", "completed")


def verification(rng: random.Random) -> list[Step]:
    word = " option" if rng.random() < 0.8 else ""
    steps = []
    for method in rng.sample(METHODS, 2 if rng.random() < 0.15 else 1):
        steps += [progress(f"User started the {method} verification{word}"),
                  progress(f"User completed the {method} verification{word}")]
    return steps


EMAIL_STARTED = progress("User started the email verification option")
ONPREM_TEXT = ("We could not reach your on-premises password reset service. "
               "Contact your admin to check password writeback.")
FAILURE_TEXT = {
    "abandoned": "User abandoned after completing the email verification option",
    "canceled_methods": "User canceled before passing the required authentication methods",
    "canceled_password": "User canceled before submitting a new password",
    "blocked": "User entered too many invalid mobile SMS codes and is blocked for 24 hours",
    "insufficient_methods": "User's account has insufficient authentication methods defined. "
                            "Add authentication methods to reset this user's password.",
    "not_enabled": "Password reset is not enabled for this user. Contact your admin to enable password reset.",
    "not_licensed": "User does not have a license for this feature.",
    "not_in_group": "This user is not a member of the password reset users group. Add this user to that group.",
    "contacted_admin": "User contacted an admin after trying the email verification option",
}
# How often each planned reset outcome is drawn; both `canceled_*` are the outcome `canceled` in the truth.
OUTCOME_WEIGHTS = {"completed": 55, "abandoned": 7, "canceled_methods": 5, "canceled_password": 4, "blocked": 4,
                   "insufficient_methods": 5, "not_enabled": 3, "not_licensed": 2, "not_in_group": 3,
                   "onprem_failure": 3, "banned_password": 5, "contacted_admin": 4}


def outcome_steps(rng: random.Random, planned: str) -> list[Step]:
    """The SSPR rows of a reset attempt that ends in `planned`, in time order."""
    fail = failure(FAILURE_TEXT.get(planned, ""))
    match planned:
        case "completed":
            return [SUBMIT, PRESENT, *verification(rng), ALL_VERIFIED, NEW_PASSWORD, RESET_DONE, RESET_OK]
        case "abandoned":
            return [SUBMIT, PRESENT, EMAIL_STARTED, progress("User completed the email verification option"), fail]
        case "canceled_methods":
            return [SUBMIT, PRESENT, *[EMAIL_STARTED][: rng.randrange(2)], fail]
        case "canceled_password":
            return [SUBMIT, PRESENT, *verification(rng), ALL_VERIFIED, fail]
        case "blocked":
            return [SUBMIT, PRESENT, progress("User started the mobile SMS verification option"), fail]
        case "contacted_admin":
            return [SUBMIT, PRESENT, EMAIL_STARTED, fail]
        case "onprem_failure":
            return [SUBMIT, PRESENT, *verification(rng), ALL_VERIFIED, NEW_PASSWORD, failure(ONPREM_TEXT),
                    Step(RESET, "failure", ONPREM_TEXT, None)]
        case "banned_password":
            return [SUBMIT, PRESENT, *verification(rng), ALL_VERIFIED, NEW_PASSWORD,
                    Step(RESET, "failure", "FuzzyPolicyViolationInvalidPassword", None)]
        case _:  # refused right after the user ID: methods, licence, policy, group
            return [SUBMIT, fail]


# ---------------------------------------------------------------------------------------------- rules


def load_rules(path: Path = RULES_FILE) -> list[dict]:
    with open(path, "rb") as f:
        return tomllib.load(f)["rule"]


def classify(rules: list[dict], client_type: str, user_agent: str) -> str:
    """The documented semantics: client type first (rule order), then user agent (rule order), else unknown."""
    for field, value in (("client_type", client_type), ("user_agent", user_agent)):
        if value:
            for rule in rules:
                if any(p.lower() in value.lower() for p in rule.get(field, [])):
                    return rule["channel"]
    return "unknown"


# ---------------------------------------------------------------------------------------------- tenant

FIRST_NAMES = [("Anna", "anna"), ("Jürgen", "jurgen"), ("Zoë", "zoe"), ("José", "jose"), ("Maria", "maria"),
               ("Liam", "liam"), ("Noah", "noah"), ("Emma", "emma"), ("Olivia", "olivia"), ("Lukas", "lukas"),
               ("Sofia", "sofia"), ("Mateo", "mateo"), ("Åsa", "asa"), ("Priya", "priya"), ("Chen", "chen"),
               ("Fatima", "fatima"), ("Oskar", "oskar"), ("Ines", "ines"), ("Tomás", "tomas"), ("Hana", "hana")]
LAST_NAMES = [("Berg", "berg"), ("Müller", "muller"), ("Lindqvist", "lindqvist"), ("García", "garcia"),
              ("Novak", "novak"), ("Smith", "smith"), ("Rossi", "rossi"), ("Łukasik", "lukasik"), ("Dubois", "dubois"),
              ("Tanaka", "tanaka"), ("Okafor", "okafor"), ("Silva", "silva"), ("Jensen", "jensen"), ("Kowalski", "kowalski"),
              ("Haddad", "haddad")]
HQ_NAT = "203.0.113.10"  # office egress shared by many devices
BRANCH_NAT = "198.51.100.20"
HELPDESK_IP = "192.0.2.10"
BURST_IP = "192.0.2.66"  # one address trying many accounts within minutes at night


class User(NamedTuple):
    id: str
    name: str
    upn: str
    home_ip: str  # canonical


@dataclass
class Tenant:
    id: str
    users: list[User]
    admins: list[User]


def new_guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def home_ip(rng: random.Random) -> str:
    if rng.random() < 0.3:
        a, b, c = (rng.randrange(1, 0xffff) for _ in range(3))  # no zero group: one canonical form everywhere
        return f"2001:db8:{a:x}:{b:x}::{c:x}"
    reserved = (HQ_NAT, BRANCH_NAT, HELPDESK_IP, BURST_IP)
    while (ip := f"{rng.choice(['198.51.100', '203.0.113', '192.0.2'])}.{rng.randrange(1, 255)}") in reserved:
        pass
    return ip


def make_tenant(rng: random.Random, n_users: int) -> Tenant:
    combos = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
    picks = [(combos[i % len(combos)], i // len(combos)) for i in rng.sample(range(max(n_users, len(combos))), n_users)]
    users = [User(new_guid(rng), f"{f[0]} {l[0]}", f"{f[1]}.{l[1]}{n or ''}@contoso.example", home_ip(rng))
             for (f, l), n in picks]
    return Tenant(new_guid(rng), users, users[:4])


def written_ip(rng: random.Random, ip: str) -> str:
    """Some exports print IPv6 upper-case or fully expanded; the truth holds the canonical form."""
    if ":" in ip and rng.random() < 0.4:
        return ipaddress.IPv6Address(ip).exploded.upper() if rng.random() < 0.5 else ip.upper()
    return ip


# ---------------------------------------------------------------------------------------------- records

ABSENT = object()


def record_id(rng: random.Random, service: str, corr: str, seq: int) -> str:
    tag = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=5))
    if service == CORE:
        return f"Directory_{corr}_{tag}_{seq}"
    return f"{'SSPR' if service == SSPR else 'AuthMethods'}_{corr.replace('-', '')}_{tag}_{seq}"


def user_initiator(tenant: Tenant, user: User, upn: str, ip) -> dict:
    who = {"id": user.id, "displayName": user.name, "userPrincipalName": upn}
    if ip is not ABSENT:
        who["ipAddress"] = ip
    who |= {"userType": None, "homeTenantId": tenant.id}
    return {"user": who, "app": None}


APP_INITIATOR = {"user": None, "app": {"appId": None, "displayName": SSPR, "servicePrincipalId": None,
                                       "servicePrincipalName": None}}


def target(user: User, upn: str, modified: list | None = None) -> list[dict]:
    return [{"id": user.id, "displayName": user.name, "type": "User", "userPrincipalName": upn,
             "modifiedProperties": modified or [], "groupType": None}]


def empty_details(rng: random.Random):
    r = rng.random()
    return [] if r < 0.6 else None if r < 0.9 else ABSENT


def record(rng: random.Random, *, service: str, activity: str, corr: str, seq: int, when: str, result, reason,
           initiated_by: dict, targets: list, details, user_agent=ABSENT, operation: str = "Update") -> dict:
    """One directoryAudit record with the format noise real exports show."""
    rec = {"id": record_id(rng, service, corr, seq), "category": "UserManagement", "correlationId": corr,
           "result": result, "resultReason": reason, "activityDisplayName": activity, "activityDateTime": when,
           "loggedByService": service, "operationType": operation, "initiatedBy": initiated_by,
           "targetResources": targets}
    if details is not ABSENT:
        rec["additionalDetails"] = details
    if user_agent is ABSENT and rng.random() < 0.3:
        user_agent = None if rng.random() < 0.9 else ""  # beta shape: the field exists, mostly empty
    if user_agent is not ABSENT:
        rec["userAgent"] = user_agent
    if rng.random() < 0.05:
        rec["@odata.type"] = "#microsoft.graph.directoryAudit"
    if rng.random() < 0.03:
        rec["someFutureField"] = {"nested": [1, 2]}
    if rng.random() < 0.05:  # Log Analytics style column names
        rec = {k if k.startswith("@") else k[0].upper() + k[1:]: v for k, v in rec.items()}
    return rec


# ---------------------------------------------------------------------------------------------- attempts


@dataclass
class Attempt:
    """One row of attempts.truth.csv: what the generator intended, before writing any record."""
    attempt_id: str
    kind: str  # reset | unlock | admin
    channel: str  # empty for unlocks: only resets (and admin resets) have channels
    client_type: str
    user_agent: str
    completed: bool
    outcome: str
    max_step: str
    first_time: int  # ticks
    user: str
    ip: str

    def csv_row(self) -> list[str]:
        return [self.attempt_id, self.kind, self.channel, self.client_type, self.user_agent,
                "true" if self.completed else "false", self.outcome, self.max_step, micro_text(self.first_time),
                self.user, self.ip]


CSV_HEADER = ["attempt_id", "kind", "channel", "client_type", "user_agent", "completed", "outcome", "max_step",
              "first_time", "user", "ip"]


class Slot(NamedTuple):
    """A planned event: when it starts, what it is, and any decisions fixed in advance (coverage, scenarios)."""
    time: int
    seq: int
    kind: str  # reset | unlock | admin | noise
    fixed: dict


def pick_signal(rng: random.Random, t: int, fixed: dict) -> tuple[str, str | None, str | None, str | None]:
    """(channel, client type, later conflicting client type, user agent kind), channel chosen first."""
    if "conflict" in fixed:
        first, later, channel = fixed["conflict"]
        return channel, first, later, None
    if "signal" in fixed:
        channel, (client_type, agent) = fixed["signal"]
    else:
        weights = CHANNEL_WEIGHTS_BEFORE if t < ROLLOUT else CHANNEL_WEIGHTS_AFTER
        channel = fixed.get("channel") or rng.choices(CHANNELS, weights)[0]
        client_type, agent = rng.choice(SIGNALS[channel])
    return channel, client_type, None, agent


def agent_string(rng: random.Random, kind: str | None, channel: str) -> str:
    if kind is None:
        return ""
    if kind == "script":
        return SCRIPT_AGENT
    return MOZILLA_AGENTS[0] if channel == "login_screen" else rng.choice(MOZILLA_AGENTS)  # Windows' own web view


def place_client_type(rng: random.Random, carriers: list[Step], client_type, later, placement: str) -> dict[int, str]:
    """Row index -> ClientType value written on that row. The first non-empty value by time is `client_type`."""
    n = len(carriers)
    if later is not None:
        i = rng.randrange(n - 1)
        return {i: client_type, rng.randrange(i + 1, n): later}
    if client_type is None:
        return {rng.randrange(n): ""} if rng.random() < 0.2 else {}
    if n == 1 or placement == "first":
        return {0: client_type}
    if placement == "empty_first":
        return {0: "", rng.randrange(1, n): client_type}
    if placement == "all":
        return {i: client_type for i in range(n)}
    resets = [i for i, s in enumerate(carriers) if s.activity == RESET]
    index = {"last": n - 1, "middle": n // 2, "reset_row": resets[0] if resets else n - 1}[placement]
    return {index: client_type}


def details_for(rng: random.Random, step: Step, key: str, client_type: str | None, agent: str):
    """additionalDetails of one row: the ClientType entry (if any) among other entries, or null / [] / absent."""
    entries = []
    if step.level == "verified" and rng.random() < 0.5:
        entries.append({"key": "MethodsUsed", "value": rng.choice(["Email", "Mobile SMS", "Email, Mobile app code"])})
    if step.activity in (RESET, UNLOCK):
        entries.append({"key": "OnPremisesAgent", "value": rng.choice(ONPREM_AGENTS)})
    if agent:
        entries.append({"key": "User-Agent", "value": agent})
    if client_type is not None:
        entries.insert(rng.randrange(len(entries) + 1), {"key": key, "value": client_type})
    return entries or empty_details(rng)


def plan_steps(rng: random.Random, slot: Slot, placement: str) -> tuple[list[Step], str, bool]:
    """The SSPR rows of a reset or unlock attempt in time order, its outcome and whether it completed."""
    if slot.kind == "unlock":
        unlocked = rng.random() < 0.8
        unlock = (Step(UNLOCK, "success", "Successfully completed unlock.", None) if unlocked
                  else Step(UNLOCK, "failure", ONPREM_TEXT, None))
        steps = [SUBMIT, PRESENT, *verification(rng), ALL_VERIFIED, unlock]
        return steps, "completed" if unlocked else "failed", unlocked
    fixed = slot.fixed
    planned = fixed.get("outcome") or ("completed" if placement == "reset_row" else
                                       rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0])
    steps = outcome_steps(rng, planned)
    if planned != "completed":
        return steps, "canceled" if planned.startswith("canceled_") else planned, False
    # A completed reset may show only the `Reset password (self-service)` row or only the flow rows.
    variant = fixed.get("variant") or ("normal" if "conflict" in fixed or placement == "empty_first"
                                       else rng.choices(["normal", "reset_only", "flow_only"], [90, 5, 5])[0])
    return {"normal": steps, "reset_only": [RESET_OK], "flow_only": steps[:-1]}[variant], "completed", True


def render_sspr(rng: random.Random, tenant: Tenant, slot: Slot) -> tuple[Attempt, list[dict]]:
    """A reset or unlock attempt: one correlationId, its flow rows, its reset/unlock row, side effects."""
    fixed = slot.fixed
    user = fixed.get("user") or rng.choice(tenant.users)
    upn = user.upn if rng.random() < 0.9 else user.upn.title().replace("@Contoso.Example", "@contoso.example")
    placement = fixed.get("placement") or rng.choices(list(PLACEMENTS), list(PLACEMENTS.values()))[0]
    steps, outcome, completed = plan_steps(rng, slot, placement)

    channel, client_type, later, agent_kind = pick_signal(rng, slot.time, fixed)
    agent = agent_string(rng, agent_kind, channel)
    assert classify(RULES, client_type or "", agent) == channel, (client_type, agent, channel)
    client_types = place_client_type(rng, steps, client_type, later, placement)
    ct_key = fixed.get("ct_key") or rng.choices(CLIENT_TYPE_KEYS, [7, 1, 1, 1])[0]
    every_row = set(range(len(steps)))
    agent_rows = every_row if rng.random() < 0.3 else {rng.randrange(len(steps))}
    agent_in_details = agent_kind == "mozilla_detail" or (agent_kind == "script" and rng.random() < 0.5)
    ip = fixed.get("ip") or pick_ip(rng, user, channel)
    ip_rows = every_row if rng.random() < 0.75 else {i for i in every_row if rng.random() < 0.5} or {0}

    corr = new_guid(rng)
    records, times, t = [], [], slot.time
    for i, step in enumerate(steps):
        when, text = stamp(rng, t)
        times.append(when)
        t = when + rng.randrange(2 * TICKS, 45 * TICKS)
        row_agent = agent if i in agent_rows else ""
        written = written_ip(rng, ip) if i in ip_rows and ip else rng.choice(["", None, ABSENT])
        records.append(record(
            rng, service=SSPR, activity=step.activity, corr=corr, seq=i, when=text, result=step.result,
            reason=step.reason, initiated_by=user_initiator(tenant, user, upn, written), targets=target(user, upn),
            details=details_for(rng, step, ct_key, client_types.get(i), row_agent if agent_in_details else ""),
            user_agent=row_agent if row_agent and not agent_in_details else ABSENT))
    if completed and slot.kind == "reset" and rng.random() < 0.4:
        records += side_effects(rng, user, upn, corr, t)
    if outcome == "blocked":
        records.append(blocked_row(rng, tenant, user, upn, t + 5 * TICKS, written_ip(rng, ip) if ip else ""))
    max_step = max((s.level for s in steps if s.level), key=LEVELS.index)
    attempt = Attempt(corr, slot.kind, channel if slot.kind == "reset" else "", client_type or "", agent,
                      completed, outcome, max_step, times[0], user.upn.lower(), ip)
    return attempt, records


def pick_ip(rng: random.Random, user: User, channel: str) -> str:
    if rng.random() < 0.08:
        return ""
    shares = {"login_screen": [50, 25, 25], "web": [20, 20, 60]}.get(channel, [0, 10, 90])
    return rng.choices([HQ_NAT, BRANCH_NAT, user.home_ip], shares)[0]


def side_effects(rng: random.Random, user: User, upn: str, corr: str, t: int) -> list[dict]:
    """Core Directory rows the reset writes under the same correlationId: never attempts themselves."""
    rows = []
    for seq, activity in enumerate(["Reset user password", "Update StsRefreshTokenValidFrom Timestamp"]):
        _, text = stamp(rng, t + rng.randrange(TICKS))
        modified = [{"displayName": "StsRefreshTokensValidFrom", "oldValue": "[]", "newValue": json.dumps([text])}]
        modified = modified if seq else []
        rows.append(record(rng, service=CORE, activity=activity, corr=corr, seq=seq, when=text, result="success",
                           reason="", initiated_by=APP_INITIATOR, targets=target(user, upn, modified),
                           details=empty_details(rng)))
    return rows


def blocked_row(rng: random.Random, tenant: Tenant, user: User, upn: str, t: int, ip: str) -> dict:
    """`Blocked from self-service password reset` has its own correlationId and is never an attempt."""
    _, text = stamp(rng, t)
    return record(rng, service=SSPR, activity=BLOCKED, corr=new_guid(rng), seq=0, when=text, result="success",
                  reason="User entered too many invalid codes and is blocked for 24 hours",
                  initiated_by=user_initiator(tenant, user, upn, ip), targets=target(user, upn),
                  details=empty_details(rng))


def render_admin(rng: random.Random, tenant: Tenant, slot: Slot) -> tuple[Attempt, list[dict]]:
    """A helpdesk reset: one row, initiated by an admin, targeting the user."""
    admin, user = rng.choice(tenant.admins), rng.choice(tenant.users)
    ok = rng.random() < 0.9
    ip = rng.choices([HELPDESK_IP, admin.home_ip, ""], [75, 15, 10])[0]
    when, text = stamp(rng, slot.time)
    rec = record(rng, service=SSPR, activity=ADMIN, corr=new_guid(rng), seq=0, when=text,
                 result="success" if ok else "failure",
                 reason="Successfully completed reset." if ok else "PasswordPolicyViolation",
                 initiated_by=user_initiator(tenant, admin, admin.upn,
                                             written_ip(rng, ip) if ip else rng.choice(["", None])),
                 targets=target(user, user.upn),
                 details=[{"key": "OnPremisesAgent", "value": rng.choice(ONPREM_AGENTS)}])
    attempt = Attempt(get_key(rec, "id"), "admin", "admin", "", "", ok, "completed" if ok else "failed", "", when,
                      user.upn.lower(), ip)
    return attempt, [rec]


AM_STARTED = "User started password reset"  # the newer SSPR experience's start: an attempt of its own
NOISE = [  # (service, activity, weight): context rows, never attempts (but AM_STARTED, see render_noise)
    (SSPR, "Change password (self-service)", 25), (SSPR, BLOCKED, 5),
    (SSPR, "Security info saved for self-service password reset", 15),
    (AUTH_METHODS, "User registered security info", 15), (AUTH_METHODS, AM_STARTED, 10),
    (CORE, "Update user", 5), (CORE, "Change user password", 5),
]


def render_noise(rng: random.Random, tenant: Tenant, slot: Slot) -> tuple[Attempt | None, list[dict]]:
    """A context row; an `Authentication Methods` `User started password reset` row alone is a reset attempt that
    got no further (no client type, so `unknown`)."""
    rows = noise_rows(rng, tenant, slot)
    rec = rows[0]
    if get_key(rec, "activityDisplayName") != AM_STARTED:
        return None, rows
    ip = str(ipaddress.ip_address(record_ip(rec))) if record_ip(rec) else ""
    attempt = Attempt(get_key(rec, "correlationId"), "reset", classify(RULES, "", ""), "", "", False, "no_outcome",
                      "submitted_id", parse_time(get_key(rec, "activityDateTime")),
                      get_key(rec, "targetResources")[0]["userPrincipalName"].lower(), ip)
    return attempt, rows


def noise_rows(rng: random.Random, tenant: Tenant, slot: Slot) -> list[dict]:
    service, activity, _ = rng.choices(NOISE, [n[2] for n in NOISE])[0]
    user = rng.choice(tenant.users)
    _, text = stamp(rng, slot.time)
    details = empty_details(rng)
    if activity.startswith("Change password") and rng.random() < 0.3:
        details = [{"key": "ClientType", "value": "Web"}]  # a client type on a non-attempt: must not count
    by_app = service == CORE or rng.random() < 0.2
    initiated_by = APP_INITIATOR if by_app else user_initiator(tenant, user, user.upn, written_ip(rng, user.home_ip))
    nulls = rng.random() < 0.2
    return [record(rng, service=service, activity=activity, corr=new_guid(rng), seq=0, when=text,
                   result=None if nulls else "success", reason=None if nulls else "",
                   initiated_by=initiated_by, targets=target(user, user.upn), details=details,
                   operation="Add" if "registered" in activity or "saved" in activity else "Update")]


DIRECTORY_RESET = "Reset user password"  # Core Directory: helpdesk tools' resets, portal echoes, side effects
TOOL_APP = {"appId": "5d1c2b1e-0000-4000-8000-00000000c0de", "displayName": "Contoso Helpdesk Tool",
            "servicePrincipalId": None, "servicePrincipalName": None}
RESET_SERVICE_USER = "fim_password_service@support.onmicrosoft.com"
RESET_SERVICE_APP = "Microsoft password reset service"
SYNC_ACCOUNT = "Sync_DC01_5f2e9a1c0b7d@contoso.example"
ECHO_WINDOW = 5 * 60 * TICKS
TOOL_RESETS = 10


def service_initiator(upn: str | None, app: str | None) -> dict:
    """The reset service (or the sync account) as initiator: a user without address, or an app."""
    if app:
        return {"user": None, "app": {"appId": None, "displayName": app, "servicePrincipalId": None,
                                      "servicePrincipalName": None}}
    return {"user": {"id": None, "displayName": None, "userPrincipalName": upn, "ipAddress": None}, "app": None}


def helpdesk_tools_and_newer_experience(rng: random.Random, tenant: Tenant, attempts: list[Attempt],
                                        recs: list[dict]) -> tuple[list[Attempt], list[dict]]:
    """What the newer SSPR experience and helpdesk tools add to a tenant's log:
    - Core Directory `Reset user password` echoes of about half the portal resets (same admin and user, another
      correlationId, seconds to minutes later): the portal reset counts once;
    - helpdesk resets made with another tool (an app, or a helpdesk admin through Graph): Core Directory rows only,
      each an `admin` attempt, none within 5 minutes of a portal reset of the same user;
    - the reset service's own Core Directory rows (as `fim_password_service@...`, as an app) and the sync account's
      `Change user password`: side effects, never attempts;
    - `Authentication Methods` `User started password reset` rows inside some self-service attempts (same
      correlationId, one second after the first row, no client type: the attempt is unchanged), and the
      service's `Admin started password reset` / `User started password change`, never attempts."""
    users = {u.upn.lower(): u for u in tenant.users}
    new_attempts, rows = [], []
    portal = []  # (target upn, ticks) of portal resets
    for rec in recs:
        if get_key(rec, "activityDisplayName") != ADMIN:
            continue
        when, target_rows = parse_time(get_key(rec, "activityDateTime")), get_key(rec, "targetResources")
        portal.append((target_rows[0]["userPrincipalName"].lower(), when))
        if rng.random() < 0.5:
            _, text = stamp(rng, when + rng.randrange(5 * TICKS, 180 * TICKS))
            rows.append(record(rng, service=CORE, activity=DIRECTORY_RESET, corr=new_guid(rng), seq=0, when=text,
                               result=get_key(rec, "result"), reason="", initiated_by=get_key(rec, "initiatedBy"),
                               targets=target_rows, details=empty_details(rng)))
    for _ in range(TOOL_RESETS):
        user = rng.choice(tenant.users)
        when = admin_time(rng)
        while any(upn == user.upn.lower() and abs(t - when) <= 2 * ECHO_WINDOW for upn, t in portal):
            when = admin_time(rng)
        when, text = stamp(rng, when)
        ok = rng.random() < 0.9
        by_app = rng.random() < 0.5
        admin = rng.choice(tenant.admins)
        initiated_by = ({"user": None, "app": TOOL_APP} if by_app
                        else user_initiator(tenant, admin, admin.upn, HELPDESK_IP))
        rec = record(rng, service=CORE, activity=DIRECTORY_RESET, corr=new_guid(rng), seq=0, when=text,
                     result="success" if ok else "failure", reason="", initiated_by=initiated_by,
                     targets=target(user, user.upn), details=empty_details(rng))
        rows.append(rec)
        new_attempts.append(Attempt(get_key(rec, "id"), "admin", "admin", "", "", ok, "completed" if ok else "failed",
                                    "", when, user.upn.lower(), "" if by_app else HELPDESK_IP))
    completed = sorted((a for a in attempts if a.kind == "reset" and a.completed), key=lambda a: a.attempt_id)
    for n, a in enumerate(rng.sample(completed, 6)):
        user = users[a.user]
        upn, app = [(RESET_SERVICE_USER, None), (None, RESET_SERVICE_APP), (SYNC_ACCOUNT, None)][n % 3]
        _, text = stamp(rng, a.first_time + rng.randrange(30 * TICKS, 90 * TICKS))
        rows.append(record(rng, service=CORE, activity="Change user password" if upn == SYNC_ACCOUNT else DIRECTORY_RESET,
                           corr=new_guid(rng), seq=0, when=text, result="success", reason="",
                           initiated_by=service_initiator(upn, app), targets=target(user, user.upn),
                           details=empty_details(rng)))
    resets = sorted((a for a in attempts if a.kind == "reset" and a.channel != "unknown"), key=lambda a: a.attempt_id)
    for a in rng.sample(resets, 8):
        user = users[a.user]
        _, text = stamp(rng, a.first_time + TICKS)
        rows.append(record(rng, service=AUTH_METHODS, activity=rng.choice([AM_STARTED, AM_STARTED.lower()]),
                           corr=a.attempt_id, seq=90, when=text, result="success", reason="",
                           initiated_by=user_initiator(tenant, user, user.upn, a.ip or ABSENT),
                           targets=target(user, user.upn), details=empty_details(rng)))
    for activity in ["Admin started password reset"] * 3 + ["User started password change"] * 3:
        user, admin = rng.choice(tenant.users), rng.choice(tenant.admins)
        by = admin if activity.startswith("Admin") else user
        _, text = stamp(rng, random_time(rng))
        rows.append(record(rng, service=AUTH_METHODS, activity=activity, corr=new_guid(rng), seq=0, when=text,
                           result="success", reason="", initiated_by=user_initiator(tenant, by, by.upn, by.home_ip),
                           targets=target(user, user.upn), details=empty_details(rng)))
    return new_attempts, rows


# ---------------------------------------------------------------------------------------------- plan


def coverage() -> list[dict]:
    """Reset attempts every sample holds whatever the seed: each signal, outcome, variant, placement, key spelling
    and conflict at least once."""
    signals = [(ch, s) for ch in CHANNELS for s in SIGNALS[ch]]
    with_client_type = [x for x in signals if x[1][0]]
    shapes = [{"outcome": k} for k in OUTCOME_WEIGHTS]
    shapes += [{"outcome": "completed", "variant": v} for v in ("reset_only", "flow_only") for _ in range(3)]
    items = [a | b for a, b in zip_longest([{"signal": x} for x in signals], shapes, fillvalue={})]
    spread = len(with_client_type) // len(PLACEMENTS)
    items += [{"signal": with_client_type[i * spread], "placement": p, "ct_key": CLIENT_TYPE_KEYS[i % 4],
               "outcome": "completed", "variant": "normal"} for i, p in enumerate(PLACEMENTS)]
    return items + [{"conflict": c} for c in CONFLICTS]


def scenarios(rng: random.Random, tenant: Tenant, n_resets: int) -> list[tuple[int, dict]]:
    """Start times with fixed decisions: window edges, users retrying within 24 h, one IP spraying accounts."""
    plan = [(ticks("2026-10-01T00:00:00Z"), {"channel": "web"}),
            (ticks("2026-10-31T23:59:59Z"), {"channel": "login_screen"})]
    for _ in range(max(3, n_resets // 60)):
        user, t = rng.choice(tenant.users), random_time(rng)
        channel = "login_screen" if t >= ROLLOUT else "web"
        for outcome in rng.choice([["banned_password", "completed"], ["abandoned", "canceled_password", "completed"],
                                   ["contacted_admin", "completed"]]):
            plan.append((t, {"user": user, "outcome": outcome, "channel": channel}))
            t += rng.randrange(HOUR // 2, 7 * HOUR)
    for _ in range(max(1, n_resets // 400)):
        t = PERIOD_START + rng.randrange(20, 70) * DAY + 2 * HOUR + rng.randrange(HOUR)
        for user in rng.sample(tenant.users, 8):
            outcome = rng.choice(["not_enabled", "insufficient_methods", "not_in_group", "canceled_methods", "blocked"])
            plan.append((t, {"user": user, "ip": BURST_IP, "outcome": outcome,
                             "signal": ("unknown", rng.choice([(None, "script"), (None, None)]))}))
            t += rng.randrange(10 * TICKS, 90 * TICKS)
    return plan


def admin_time(rng: random.Random) -> int:
    """Helpdesk resets are more frequent before the login-screen rollout than after it."""
    while (t := random_time(rng, night_share=0.03)) >= ROLLOUT and rng.random() < 0.45:
        pass
    return t


def coverage_time(rng: random.Random, fixed: dict) -> int:
    """Coverage items that force the login-screen channel start after the rollout, so the rollout stays visible."""
    login = "login_screen" in (fixed.get("signal", ("",))[0], fixed.get("conflict", ("", "", ""))[2])
    while (t := random_time(rng)) < ROLLOUT and login:
        pass
    return t


def plan_slots(rng: random.Random, tenant: Tenant, resets: int, unlocks: int, admins: int, noise: int) -> list[Slot]:
    fixed_resets = scenarios(rng, tenant, resets) + [(coverage_time(rng, f), f) for f in coverage()]
    fixed_resets += [(random_time(rng), {}) for _ in range(resets - len(fixed_resets))]
    planned = [("reset", t, f) for t, f in fixed_resets]
    planned += [("unlock", random_time(rng), {}) for _ in range(unlocks)]
    planned += [("admin", admin_time(rng), {}) for _ in range(admins)]
    planned += [("noise", random_time(rng, night_share=0.2), {}) for _ in range(noise)]
    slots = [Slot(off_edge(t), i, kind, f) for i, (kind, t, f) in enumerate(planned)]
    return sorted(slots, key=lambda s: (s.time, s.seq))


SAMPLE_ATTEMPTS = 126  # 90 resets, 9 unlocks, 27 admin resets: keeps data/sample near 1 MB in all its shapes


def counts_for(attempts: int) -> tuple[int, int, int, int]:
    """Resets, unlocks, admin resets and noise rows in the proportions 100 : 10 : 30 (+30 noise rows)."""
    resets, unlocks = round(attempts * 100 / 140), round(attempts * 10 / 140)
    return resets, unlocks, attempts - resets - unlocks, round(attempts * 30 / 140)


def render(rng: random.Random, tenant: Tenant, slot: Slot) -> tuple[Attempt | None, list[dict]]:
    if slot.kind == "noise":
        return render_noise(rng, tenant, slot)
    return (render_admin if slot.kind == "admin" else render_sspr)(rng, tenant, slot)


# ---------------------------------------------------------------------------------------------- truth


def window_bounds() -> list[tuple[str, str, str, int, int]]:
    return [(name, since, until, ticks(since), ticks(until)) for name, since, until in WINDOWS]


class Aggregate:
    """Per-channel, per-client-type and per-window counts of attempts (the body of truth.json)."""

    def __init__(self):
        self.channels = {c: {"attempts": 0, "completed": 0, "users": set(), "ips": set()} for c in ALL_CHANNELS}
        self.client_types: dict[str, Counter] = {}
        self.unlocks = Counter()
        self.windows = [(w, {c: Counter() for c in ALL_CHANNELS}) for w in window_bounds()]

    def add(self, a: Attempt):
        if a.kind == "unlock":
            self.unlocks.update(attempts=1, completed=int(a.completed))
            return
        ch = self.channels[a.channel]
        ch["attempts"] += 1
        ch["completed"] += a.completed
        ch["users"].add(a.user)
        if a.ip:
            ch["ips"].add(a.ip)
        if a.kind == "reset":
            self.client_types.setdefault(a.client_type or "none", Counter()).update(
                {(a.channel, "attempts"): 1, (a.channel, "completed"): int(a.completed)})
        for (_, _, _, since, until), counts in self.windows:
            if since <= a.first_time <= until:
                counts[a.channel].update(attempts=1, completed=int(a.completed))

    def to_json(self) -> dict:
        def pair(c):
            return {"attempts": c["attempts"], "completed": c["completed"]}

        client_types = {}
        for value in sorted(self.client_types):
            counts = self.client_types[value]
            by_channel = {c: {"attempts": counts[(c, "attempts")], "completed": counts[(c, "completed")]}
                          for c in CHANNELS if counts[(c, "attempts")]}
            client_types[value] = {"channel": next(iter(by_channel)) if len(by_channel) == 1 else None,
                                   "attempts": sum(v["attempts"] for v in by_channel.values()),
                                   "completed": sum(v["completed"] for v in by_channel.values()),
                                   "by_channel": by_channel}
        return {
            "channels": {c: {**pair(v), "users": len(v["users"]), "ips": len(v["ips"])}
                         for c, v in self.channels.items()},
            "client_types": client_types,
            "unlocks": pair(self.unlocks),
            "windows": [{"name": name, "since": since, "until": until,
                         "channels": {c: pair(v) for c, v in counts.items()}}
                        for (name, since, until, _, _), counts in self.windows],
        }


def truth_json(seed: int, total: int, unique: int, aggregate: Aggregate, malformed: list[int] | None) -> dict:
    body = {"seed": seed, "records_total_lines": total, "unique_records": unique, "duplicate_lines": total - unique}
    body |= aggregate.to_json()
    if malformed is not None:
        body["with_errors"] = {"malformed_lines": malformed}
    return body


def write_attempts_csv(path: Path, attempts: list[Attempt]):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    w.writerows(a.csv_row() for a in sorted(attempts, key=lambda a: a.attempt_id))
    path.write_text(buf.getvalue(), encoding="utf-8")


# ---------------------------------------------------------------------------------------------- sample shapes

GRAPH_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"
GRAPH_NEXT = "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$top=100&$skiptoken="
PAGE_SIZE = 150
EMPTY_PAGE_AT = 3  # 0-based index of the page that has no records but still a nextLink


def compact(rec: dict) -> str:
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def pretty(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def with_duplicates(rng: random.Random, base: list[int], repeated: list[int]) -> list[int]:
    """`base` (an order of record indexes) with one more copy of each `repeated` index: every other copy right
    after its original, the rest one to two pages away (so in another Graph page file)."""
    position = {idx: pos for pos, idx in enumerate(base)}
    keyed = [((pos, 0), idx) for pos, idx in enumerate(base)]
    for j, idx in enumerate(repeated):
        pos = position[idx]
        if j % 2:
            away = PAGE_SIZE + rng.randrange(PAGE_SIZE)
            pos = pos + away if pos + away < len(base) else max(0, pos - away)
        keyed.append(((pos, 1 + j), idx))
    return [idx for _, idx in sorted(keyed)]


def get_key(rec: dict, name: str):
    """A top-level field whatever the export's key case (`initiatedBy` / `InitiatedBy`)."""
    return rec.get(name, rec.get(name[0].upper() + name[1:]))


def record_ip(rec: dict) -> str:
    user = (get_key(rec, "initiatedBy") or {}).get("user") or {}
    return user.get("ipAddress") or ""


def monitor_entry(tenant_id: str, rec: dict, strip_ip: bool) -> dict:
    ip = record_ip(rec)
    props = rec
    if strip_ip:  # only callerIpAddress carries the address: readers must fall back to it
        props = json.loads(json.dumps(rec))
        del get_key(props, "initiatedBy")["user"]["ipAddress"]
    return {"time": get_key(rec, "activityDateTime"), "resourceId": f"/tenants/{tenant_id}/providers/Microsoft.aadiam",
            "operationName": get_key(rec, "activityDisplayName"), "operationVersion": "1.0", "category": "AuditLogs",
            "tenantId": tenant_id, "resultSignature": "None", "durationMs": 0, "callerIpAddress": ip,
            "correlationId": get_key(rec, "correlationId"), "Level": 4, "properties": props}


def graph_pages(rng: random.Random, recs: list[dict]) -> list[bytes]:
    chunks = [recs[i:i + PAGE_SIZE] for i in range(0, len(recs), PAGE_SIZE)]
    chunks.insert(EMPTY_PAGE_AT, [])
    pages = []
    for i, chunk in enumerate(chunks):
        page = {"@odata.context": GRAPH_CONTEXT, "value": chunk}
        if i < len(chunks) - 1:
            page["@odata.nextLink"] = GRAPH_NEXT + f"{rng.getrandbits(128):032x}"
        pages.append(gz(pretty(page)))
    return pages


def with_errors(lines: list[str]) -> tuple[list[str], list[int]]:
    """audit.ndjson with a truncated object, plain text and a wrong-typed timestamp at fixed positions."""
    bad = {7: lines[0][: len(lines[0]) // 2],
           len(lines) // 2: "export interrupted: connection reset by peer, resuming",
           len(lines) + 2: '{"id": "SSPR_malformed_timestamp_0", "correlationId": "00000000-0000-4000-8000-000000000000", '
                           '"activityDisplayName": "Reset password (self-service)", "loggedByService": "Self-service '
                           'Password Management", "result": "success", "activityDateTime": 1791000000}'}
    out = list(lines)
    for line_no in sorted(bad):
        out.insert(line_no - 1, bad[line_no])
    return out, sorted(bad)


def write_sample(out: Path, seed: int):
    rng = random.Random(seed)
    tenant = make_tenant(rng, 150)
    attempts, recs = [], []
    for slot in plan_slots(rng, tenant, *counts_for(SAMPLE_ATTEMPTS)):
        attempt, rows = render(rng, tenant, slot)
        attempts += [attempt] if attempt else []
        recs += rows
    added, rows = helpdesk_tools_and_newer_experience(random.Random(seed + 16), tenant, attempts, recs)
    attempts += added
    recs += rows
    n = len(recs)
    repeated = rng.sample(range(n), round(n * 0.03))
    shuffled = rng.sample(range(n), n)
    # Graph (and the portal download) list newest first, Azure Monitor oldest first; audit.ndjson is shuffled.
    oldest_first = sorted(range(n), key=lambda i: parse_time(get_key(recs[i], "activityDateTime")))
    order = with_duplicates(rng, shuffled, repeated)
    newest = [recs[i] for i in with_duplicates(rng, oldest_first[::-1], repeated)]
    oldest = with_duplicates(rng, oldest_first, repeated)
    lines = [compact(recs[i]) for i in order]
    error_lines, malformed = with_errors(lines)
    strip = [bool(record_ip(r)) and rng.random() < 1 / 3 for r in recs]

    shapes = out / "shapes"
    (shapes / "graph").mkdir(parents=True, exist_ok=True)
    for old in (shapes / "graph").glob("page-*.json.gz"):
        old.unlink()
    ndjson = ("\n".join(lines) + "\n").encode("utf-8")
    (out / "audit.ndjson").write_bytes(ndjson)
    for page_no, page in enumerate(graph_pages(rng, newest), 1):
        (shapes / "graph" / f"page-{page_no:04d}.json.gz").write_bytes(page)
    (shapes / "portal.json.gz").write_bytes(gz(pretty(newest)))
    monitor = [monitor_entry(tenant.id, recs[i], strip[i]) for i in oldest]
    (shapes / "monitor.json.gz").write_bytes(gz(pretty({"records": monitor})))
    (shapes / "audit.ndjson.gz").write_bytes(gz(ndjson))
    (shapes / "with-errors.ndjson.gz").write_bytes(gz(("\n".join(error_lines) + "\n").encode("utf-8")))

    aggregate = Aggregate()
    for a in attempts:
        aggregate.add(a)
    truth = truth_json(seed, len(lines), n, aggregate, malformed)
    (out / "truth.json").write_bytes(pretty(truth))
    write_attempts_csv(out / "attempts.truth.csv", attempts)
    check_sample(out, truth, attempts)
    return truth


# ---------------------------------------------------------------------------------------------- big

# Graph's complete directoryAudit as /beta returns it (v1.0 lacks userAgent), every field on every record.
GRAPH_FIELDS = ("id", "category", "correlationId", "result", "resultReason", "activityDisplayName",
                "activityDateTime", "loggedByService", "operationType", "userAgent", "initiatedBy",
                "targetResources", "additionalDetails")
USER_FIELDS = ("id", "displayName", "userPrincipalName", "ipAddress", "userType", "homeTenantId", "homeTenantName")
APP_FIELDS = ("appId", "displayName", "servicePrincipalId", "servicePrincipalName")
TARGET_FIELDS = ("id", "displayName", "type", "userPrincipalName", "groupType", "modifiedProperties")
# The AuditLogs table of a Log Analytics workspace, in the table's column order.
AUDIT_LOGS_COLUMNS = ("TenantId", "SourceSystem", "TimeGenerated", "ResourceId", "OperationName", "OperationVersion",
                      "Category", "ResultType", "ResultSignature", "ResultDescription", "DurationMs", "CorrelationId",
                      "Resource", "ResourceGroup", "ResourceProvider", "Identity", "Level", "Location",
                      "AdditionalDetails", "Id", "InitiatedBy", "LoggedByService", "Result", "ResultReason",
                      "TargetResources", "AADTenantId", "ActivityDisplayName", "ActivityDateTime", "AADOperationType",
                      "Type")
DYNAMIC_COLUMNS = ("InitiatedBy", "TargetResources", "AdditionalDetails")


def filled(obj: dict | None, fields: tuple[str, ...]) -> dict | None:
    return None if obj is None else {f: obj.get(f) for f in fields}


def full_graph(rec: dict) -> dict:
    """A record with every field of Graph's schema in Graph's order, null where the record has no value; an
    `@odata.type` stays first and unknown newer fields last."""
    out = {"@odata.type": rec["@odata.type"]} if "@odata.type" in rec else {}
    by = rec.get("initiatedBy") or {}
    for field in GRAPH_FIELDS:
        if field == "initiatedBy":
            out[field] = {"app": filled(by.get("app"), APP_FIELDS), "user": filled(by.get("user"), USER_FIELDS)}
        elif field == "targetResources":
            out[field] = [filled(t, TARGET_FIELDS) for t in rec.get(field) or []]
        else:
            out[field] = rec.get(field)
    out |= {k: v for k, v in rec.items() if k not in out}
    return out


class AuditLogsRow:
    """A record spelled in PascalCase (a Log Analytics export) rewritten as a complete AuditLogs row: every column,
    the dynamic ones as JSON objects in half the rows and as JSON text (as the query API returns them) in the
    others, a beta `userAgent` moved into AdditionalDetails (the table has no such column)."""

    def __init__(self, rng: random.Random, tenant_id: str):
        self.rng, self.tenant_id, self.workspace_tenant = rng, tenant_id, new_guid(rng)

    def __call__(self, rec: dict) -> dict:
        graph = {k[0].lower() + k[1:]: v for k, v in rec.items()}
        details = graph.get("additionalDetails")
        if graph.get("userAgent"):
            details = (details or []) + [{"key": "User-Agent", "value": graph["userAgent"]}]
        by = graph["initiatedBy"]
        identity = (by.get("user") or by.get("app") or {}).get("displayName") or ""
        arrived = parse_time(graph["activityDateTime"]) + self.rng.randrange(1 * TICKS, 120 * TICKS)
        row = {"TenantId": self.workspace_tenant, "SourceSystem": "Azure AD",
               "TimeGenerated": f"{seconds_text(arrived)}.{arrived % TICKS:07d}Z",
               "ResourceId": f"/tenants/{self.tenant_id}/providers/Microsoft.aadiam",
               "OperationName": graph["activityDisplayName"], "OperationVersion": "1.0",
               "Category": graph["category"], "ResultType": "", "ResultSignature": "None",
               "ResultDescription": graph["resultReason"], "DurationMs": 0, "CorrelationId": graph["correlationId"],
               "Resource": "Microsoft.aadiam", "ResourceGroup": "Microsoft.aadiam",
               "ResourceProvider": "Microsoft.aadiam", "Identity": identity, "Level": "4", "Location": "",
               "AdditionalDetails": details, "Id": graph["id"],
               "InitiatedBy": {"app": filled(by.get("app"), APP_FIELDS), "user": filled(by.get("user"), USER_FIELDS)},
               "LoggedByService": graph["loggedByService"], "Result": graph["result"],
               "ResultReason": graph["resultReason"],
               "TargetResources": [filled(t, TARGET_FIELDS) for t in graph["targetResources"]],
               "AADTenantId": self.tenant_id, "ActivityDisplayName": graph["activityDisplayName"],
               "ActivityDateTime": graph["activityDateTime"], "AADOperationType": graph["operationType"],
               "Type": "AuditLogs"}
        assert tuple(row) == AUDIT_LOGS_COLUMNS
        if self.rng.random() < 0.5:
            for column in DYNAMIC_COLUMNS:
                row[column] = row[column] if row[column] is None else compact(row[column])
        return row


class ExportShape:
    """How a record is written: `lean` as rendered (the fields ssprlens reads, some absent), `full` with every field
    of Graph's schema and the PascalCase records as complete AuditLogs rows. The full shape draws from its own
    random stream, so the records' content, and the truth, are the same in both."""

    def __init__(self, schema: str, seed: int, tenant_id: str):
        self.full = schema == "full"
        self.audit_logs_row = AuditLogsRow(random.Random(f"{seed}-audit-logs"), tenant_id)

    def __call__(self, rec: dict) -> str:
        if self.full:
            rec = self.audit_logs_row(rec) if "Id" in rec else full_graph(rec)
        return compact(rec)


class StreamWriter:
    """Passes lines on with a local shuffle and duplicates drawn from a small window of recently passed lines: an
    attempt's lines stay close together (`grouped`)."""

    def __init__(self, rng: random.Random, out, buffer: int = 256, window: int = 64, dup_rate: float = 0.03):
        self.rng, self.out, self.size, self.dup_rate = rng, out, buffer, dup_rate
        self.buffer: list[bytes] = []
        self.recent: deque[bytes] = deque(maxlen=window)
        self.pending: list[bytes] = []
        self.unique = self.total = 0

    def push(self, line: str):
        self.unique += 1
        self.buffer.append(line.encode("utf-8") + b"\n")
        if len(self.buffer) > self.size:
            self._emit()

    def close(self):
        while self.buffer:
            self._emit()
        self.flush()

    def _emit(self):
        i = self.rng.randrange(len(self.buffer))
        self.buffer[i], self.buffer[-1] = self.buffer[-1], self.buffer[i]
        line = self.buffer.pop()
        self.pending.append(line)
        self.recent.append(line)
        if self.rng.random() < self.dup_rate:
            self.pending.append(self.rng.choice(self.recent))
        if len(self.pending) >= 4096:
            self.flush()

    def flush(self):
        self.total += len(self.pending)
        self.out.add(self.pending)
        self.pending.clear()


TIME_FIELD = re.compile(rb'"[Aa]ctivityDateTime":"([^"]*)"')


def newest_first(lines: list[bytes]) -> list[bytes]:
    times = [parse_time(TIME_FIELD.search(line)[1].decode()) for line in lines]
    return [lines[i] for i in sorted(range(len(lines)), key=lambda i: -times[i])]


class Arranger:
    """Puts the lines of each chunk in the chosen order: `grouped` as they come, `shuffled` in a uniformly random
    order of the chunk's lines, `time` newest first (the chunks in reverse, through part files next to the output,
    so only one chunk is ever held in memory). Its random stream is its own: the order changes no record."""

    def __init__(self, order: str, seed: int, sink, out: Path, chunks: int):
        self.order, self.sink = order, sink
        self.rng = random.Random(f"{seed}-order")
        self.lines: list[bytes] = []
        self.parts = ([out.with_name(f".{out.name}.part{k}") for k in range(chunks)]
                      if order == "time" and chunks > 1 else [])
        self.chunk = 0

    def add(self, lines: list[bytes]):
        if self.order == "grouped":
            self.sink.write(b"".join(lines))
        else:
            self.lines += lines

    def end_chunk(self):
        lines, self.lines = self.lines, []
        if self.order == "shuffled":
            self.rng.shuffle(lines)
            self.sink.write(b"".join(lines))
        elif self.parts:
            self.parts[self.chunk].write_bytes(b"".join(newest_first(lines)))
        elif self.order == "time":
            self.sink.write(b"".join(newest_first(lines)))
        self.chunk += 1

    def close(self):
        for part in reversed(self.parts):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, self.sink, 1 << 20)
            part.unlink()


def write_big(args):
    rng = random.Random(args.seed)
    resets, unlocks, admins, noise = counts_for(args.attempts)
    tenant = make_tenant(rng, max(150, args.attempts // 20))
    shape = ExportShape(args.schema, args.seed, tenant.id)
    aggregate, attempts = Aggregate(), []
    slots = plan_slots(rng, tenant, resets, unlocks, admins, noise)
    chunks = max(1, -(-args.attempts // args.chunk_attempts))
    chunk_ends = {len(slots) * k // chunks for k in range(1, chunks)}
    with open(args.out, "wb") as raw, (gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
                                       if args.gzip else contextlib.nullcontext(raw)) as sink:
        arranger = Arranger(args.order, args.seed, sink, args.out, chunks)
        writer = StreamWriter(rng, arranger)
        for n, slot in enumerate(slots):
            if n in chunk_ends:
                writer.flush()
                arranger.end_chunk()
            attempt, rows = render(rng, tenant, slot)
            if attempt:
                aggregate.add(attempt)
                if args.attempts_csv:
                    attempts.append(attempt)
            for rec in rows:
                writer.push(shape(rec))
        writer.close()
        arranger.end_chunk()
        arranger.close()
    truth = truth_json(args.seed, writer.total, writer.unique, aggregate, None)
    if args.truth:
        args.truth.write_bytes(pretty(truth))
    if args.attempts_csv:
        write_attempts_csv(args.attempts_csv, attempts)
    if args.check:
        with (gzip.open if args.gzip else open)(args.out, "rt", encoding="utf-8") as f:
            recomputed = rebuild_attempts(f.read().splitlines())
        compare_aggregates(recomputed, truth)
        print(f"check ok: {len(recomputed)} attempts recomputed from {args.out}", file=sys.stderr)
    return truth


# ---------------------------------------------------------------------------------------------- self-check

def rebuild_attempts(lines: list[str]) -> dict[str, Attempt]:
    """Attempts straight from raw records: dedupe by id, group SSPR rows by correlationId, apply the rules."""
    unique = {}
    for line in lines:
        rec = {k[0].lower() + k[1:]: json.loads(v) if k in DYNAMIC_COLUMNS and isinstance(v, str) else v
               for k, v in json.loads(line).items()}
        unique.setdefault(rec["id"], rec)
    groups: dict[str, list[dict]] = {}
    attempts = {}
    portal, directory = [], []
    for rec in unique.values():
        service, activity = rec.get("loggedByService"), rec.get("activityDisplayName")
        if service == SSPR and activity == ADMIN:
            attempts[rec["id"]] = attempt_from_rows("admin", rec["id"], [rec])
            portal.append((rec["targetResources"][0]["userPrincipalName"].lower(), parse_time(rec["activityDateTime"])))
        elif (service == SSPR and activity in (FLOW, RESET, UNLOCK)
              or service == AUTH_METHODS and activity.lower() == AM_STARTED.lower()):
            groups.setdefault(rec["correlationId"], []).append(rec)
        elif service == CORE and activity == DIRECTORY_RESET:
            directory.append(rec)
    for rec in directory:  # a helpdesk tool's reset: neither the reset service's nor a portal reset's echo
        by = rec["initiatedBy"]
        initiator = ((by.get("app") or {}).get("displayName") or (by.get("user") or {}).get("userPrincipalName")
                     or "").lower()
        service_made = initiator in (RESET_SERVICE_APP.lower(), SSPR.lower()) or initiator.startswith(
            (RESET_SERVICE_USER.split("@")[0] + "@", "sync_"))
        user, when = rec["targetResources"][0]["userPrincipalName"].lower(), parse_time(rec["activityDateTime"])
        echo = any(upn == user and abs(t - when) <= ECHO_WINDOW for upn, t in portal)
        if initiator and not service_made and not echo:
            attempts[rec["id"]] = attempt_from_rows("admin", rec["id"], [rec])
    for corr, rows in groups.items():
        kind = "unlock" if any(r["activityDisplayName"] == UNLOCK for r in rows) else "reset"
        attempts[corr] = attempt_from_rows(kind, corr, rows)
    return attempts


def attempt_from_rows(kind: str, attempt_id: str, rows: list[dict]) -> Attempt:
    rows = sorted(rows, key=lambda r: parse_time(r["activityDateTime"]))
    details = [d for r in rows for d in (r.get("additionalDetails") or [])]
    client_type = next((d["value"] for d in details
                        if d["key"].replace(" ", "").lower() == "clienttype" and d["value"]), "")
    agents = [r.get("userAgent") or next((d["value"] for d in (r.get("additionalDetails") or [])
                                          if d["key"].lower() == "user-agent"), "") for r in rows]
    ips = {str(ipaddress.ip_address(record_ip(r))) for r in rows if record_ip(r)}
    assert len(ips) <= 1, (attempt_id, ips)
    if kind == "admin":
        completed = rows[0]["result"] == "success"
    else:
        completed = any(r["result"] == "success" and (
            r["activityDisplayName"] in (RESET, UNLOCK) or r["resultReason"] == "User successfully reset password")
            for r in rows)
    agent = next((a for a in agents if a), "")
    channel = {"admin": "admin", "unlock": ""}[kind] if kind != "reset" else classify(RULES, client_type, agent)
    return Attempt(attempt_id, kind, channel, client_type, agent, completed, "", "",
                   parse_time(rows[0]["activityDateTime"]),
                   rows[0]["targetResources"][0]["userPrincipalName"].lower(), next(iter(ips), ""))


def compare_aggregates(recomputed: dict[str, Attempt], truth: dict):
    aggregate = Aggregate()
    for a in recomputed.values():
        aggregate.add(a)
    got = aggregate.to_json()
    for key in got:
        assert got[key] == truth[key], (key, got[key], truth[key])


def canonical(records: list[dict]) -> Counter:
    return Counter(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)


def read_shapes(out: Path) -> dict[str, list[dict]]:
    shapes = out / "shapes"
    pages = [json.loads(gzip.decompress(p.read_bytes())) for p in sorted((shapes / "graph").glob("page-*.json.gz"))]
    assert all("@odata.nextLink" in p for p in pages[:-1]) and "@odata.nextLink" not in pages[-1]
    assert any(not p["value"] for p in pages[:-1]), "an empty page with a nextLink"
    monitor = []
    for entry in json.loads(gzip.decompress((shapes / "monitor.json.gz").read_bytes()))["records"]:
        user = (get_key(entry["properties"], "initiatedBy") or {}).get("user") or {}
        if entry["callerIpAddress"] and "ipAddress" not in user:
            user["ipAddress"] = entry["callerIpAddress"]
        monitor.append(entry["properties"])
    return {"graph": [r for p in pages for r in p["value"]],
            "portal": json.loads(gzip.decompress((shapes / "portal.json.gz").read_bytes())),
            "monitor": monitor,
            "ndjson.gz": [json.loads(line) for line in
                          gzip.decompress((shapes / "audit.ndjson.gz").read_bytes()).splitlines()]}


def check_sample(out: Path, truth: dict, intended: list[Attempt]):
    lines = (out / "audit.ndjson").read_text(encoding="utf-8").splitlines()
    recomputed = rebuild_attempts(lines)
    assert recomputed.keys() == {a.attempt_id for a in intended}, "attempt ids differ"
    for a in intended:
        got = recomputed[a.attempt_id]
        assert (got.csv_row()[:6] + got.csv_row()[8:]) == (a.csv_row()[:6] + a.csv_row()[8:]), (got, a)
    compare_aggregates(recomputed, truth)
    assert truth["records_total_lines"] == len(lines)
    assert truth["unique_records"] == len({get_key(json.loads(line), "id") for line in lines})
    assert not any(until < a.first_time < until + TICKS for *_, until in window_bounds() for a in intended)

    expected = canonical([json.loads(l) for l in lines])
    for name, records in read_shapes(out).items():
        assert canonical(records) == expected, f"shape {name} holds other records"
    page_of = {}
    crossing = 0
    for n, p in enumerate(sorted((out / "shapes" / "graph").glob("page-*.json.gz"))):
        for r in json.loads(gzip.decompress(p.read_bytes()))["value"]:
            rid = get_key(r, "id")
            crossing += rid in page_of and page_of[rid] != n
            page_of.setdefault(rid, n)
    assert crossing, "no duplicate spans two Graph pages"

    err_lines = gzip.decompress((out / "shapes" / "with-errors.ndjson.gz").read_bytes()).decode("utf-8").splitlines()
    malformed = truth["with_errors"]["malformed_lines"]
    assert [l for i, l in enumerate(err_lines, 1) if i not in malformed] == lines
    for n in malformed:
        try:
            rec = json.loads(err_lines[n - 1])
            assert not isinstance(rec.get("activityDateTime"), str)
        except json.JSONDecodeError:
            pass
    print(f"check ok: {len(recomputed)} attempts recomputed from {len(lines)} lines; all shapes agree", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- cli

RULES = load_rules()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="write the committed sample tenant")
    s.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b = sub.add_parser("big", help="stream a large NDJSON for benchmarks")
    b.add_argument("--attempts", type=int, required=True)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--truth", type=Path)
    b.add_argument("--attempts-csv", type=Path)
    b.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b.add_argument("--gzip", action="store_true", help="gzip the output (level 6, mtime 0)")
    b.add_argument("--order", choices=["grouped", "shuffled", "time"], default="grouped",
                   help="line order within each chunk: an attempt's lines together (default), uniformly shuffled, "
                        "or newest first by activityDateTime as Graph pages arrive (the whole file)")
    b.add_argument("--schema", choices=["lean", "full"], default="lean",
                   help="lean: the fields ssprlens reads, some absent (default); full: every field of Graph's "
                        "directoryAudit on every record, mostly null, and complete AuditLogs rows for the "
                        "PascalCase records")
    b.add_argument("--chunk-attempts", type=int, default=100_000,
                   help="attempts generated and ordered together (default 100000): a larger file is several "
                        "exports of consecutive time ranges concatenated, and memory holds one chunk")
    b.add_argument("--check", action="store_true",
                   help="re-read the file and compare with the truth (holds it in memory)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    truth = write_sample(args.out, args.seed) if args.command == "sample" else write_big(args)
    summary = {c: (v["attempts"], v["completed"]) for c, v in truth["channels"].items()}
    print(f"{args.command}: {truth['records_total_lines']} lines, channels (attempts, completed) {summary}, "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
