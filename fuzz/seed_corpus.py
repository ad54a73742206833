#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target from data/sample/ (small pieces of each export
shape); run once from the repository root before the first fuzzing run. The committed corpus is
this, grown by fuzzing and minimised with `cargo fuzz cmin`."""
import gzip, json, os, random, struct

random.seed(6)
root = os.path.join(os.path.dirname(__file__), "corpus")
sample = "data/sample"


def write(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


def lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


ndjson = lines(f"{sample}/audit.ndjson")
with_errors = lines(f"{sample}/shapes/with-errors.ndjson.gz")
broken = [line for line in with_errors if line not in set(ndjson)]
monitor = json.load(gzip.open(f"{sample}/shapes/monitor.json.gz"))["records"]
portal = json.load(gzip.open(f"{sample}/shapes/portal.json.gz"))
page = json.load(gzip.open(f"{sample}/shapes/graph/page-0003.json.gz"))  # PascalCase keys

# Distinct record shapes: one line per (activity, result reason) pair, a few dozen in all.
seen, records = set(), []
for line in ndjson + lines("tests/fixtures/golden.ndjson"):
    record = json.loads(line)
    key = (record.get("activityDisplayName"), record.get("resultReason"), len(line) // 400)
    if key not in seen:
        seen.add(key)
        records.append(line)
records = records[:60]
records += [json.dumps(r).encode() for r in monitor[:3] + page["value"][:2]]
records += broken[:10]

files = {
    "ndjson": b"\n".join(ndjson[:3]) + b"\n",
    "ndjson-crlf-bom": b"\xef\xbb\xbf" + b"\r\n".join(ndjson[3:5]) + b"\r\n",
    "with-errors": b"\n".join(broken[:3] + ndjson[:1]) + b"\n",
    "monitor": json.dumps({"records": monitor[:2]}, indent=2).encode(),
    "portal": json.dumps(portal[:2], indent=2).encode(),
    "graph-page": json.dumps(dict(page, value=page["value"][:2]), indent=2).encode(),
    "graph-empty-page": gzip.decompress(open(f"{sample}/shapes/graph/page-0004.json.gz", "rb").read()),
}
for name, data in files.items():
    write("read_export", name, data)
    write("read_export", name + ".gz", gzip.compress(data, mtime=0))
    write("parallel_reader", name, data)
    write("framer_chunks", name, bytes([random.randrange(256)]) + data)
for n, record in enumerate(records):
    write("lean_vs_full", f"record-{n:02}", record)
    write("normalize", f"record-{n:02}", record)
for n, text in enumerate([b"2026-10-01T08:00:00.1234567Z", b"2026-10-01 08:00:00", b"2026-10-01T08:00:00+05:30",
                          b"::ffff:198.51.100.7", b"[2001:db8::1]:443", b"198.51.100.7:8080"]):
    write("normalize", f"text-{n}", text)
write("channel_rules", "builtin.toml", open("data/channels.toml", "rb").read())
write("channel_rules", "small.toml", b'[[rule]]\nchannel = "windows"\nclient_type = ["logon"]\nuser_agent = ["Windows NT"]\n')
for n in range(8):
    rows = random.randrange(1, 24)
    write("attempt_fold", f"rows-{n}", bytes(random.randrange(256) for _ in range(8 * rows)))
