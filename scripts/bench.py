#!/usr/bin/env python3
"""ssprlens against DuckDB on the same large export: wall time, CPU time, peak RSS, and the ratios.

    python3 scripts/bench.py [--attempts 100000] [--runs 5] [--dir target/bench]

Generates the input once with the repository's deterministic generator (scripts/generate.py big), builds the
release binary, then runs the jobs in turn, --runs rounds, and prints the medians. The jobs:
  duckdb        scripts/duckdb_channels.py on the NDJSON (hand-written SQL over read_ndjson): the complete query,
                which reads both spellings of the fields and finds the true counts, and --graph-only, one scan
                of the camelCase spelling alone (counts short of the truth; the fastest DuckDB gets here)
  ndjson        ssprlens report --input big.ndjson --report channels --format csv
  gzip          the same on big.ndjson.gz, next to `gzip -dc` alone (the decompression floor)
  store         ssprlens report --store (the file imported with `ssprlens import` by the binary under test)
Both tools' counts are checked against the generator's truth. Peak RSS is the whole process as the OS reports it
(GNU time's maximum resident set size). This is a benchmark, not a test: it does not run in CI.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(command):
    """(wall s, cpu s, peak RSS MiB) of one run, and its output."""
    with tempfile.NamedTemporaryFile() as report:
        result = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %U %S %M"] + command,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        wall, user, system, rss_kib = Path(report.name).read_text().split()[-4:]
    return (float(wall), float(user) + float(system), int(rss_kib) / 1024), result.stdout


def measure(jobs, runs):
    """Medians of (wall s, cpu s, peak RSS MiB) of every job, and its last output. The jobs take turns, run after
    run, so that a slow spell of the machine falls on all of them alike."""
    samples = {name: [] for name in jobs}
    outputs = {}
    for _ in range(runs):
        for name, command in jobs.items():
            sample, outputs[name] = run_once(command)
            samples[name].append(sample)
    medians = {name: tuple(statistics.median(column) for column in zip(*taken)) for name, taken in samples.items()}
    return medians, outputs


def ssprlens_counts(csv_text):
    lines = csv_text.decode().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    return {row["channel"]: (int(row["attempts"]), int(row["completed"])) for row in rows if int(row["attempts"]) > 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=ROOT / "target" / "bench")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    big, truth_path, big_gz = args.dir / "big.ndjson", args.dir / "big.truth.json", args.dir / "big.ndjson.gz"
    if not big.exists():
        subprocess.run([sys.executable, ROOT / "scripts/generate.py", "big", "--attempts", str(args.attempts),
                        "--out", big, "--truth", truth_path], check=True)
    if not big_gz.exists():
        subprocess.run(["sh", "-c", f"gzip -c -6 '{big}' > '{big_gz}'"], check=True)
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    binary = str(ROOT / "target" / "release" / "ssprlens")
    # The store is imported anew by the binary under test, so that it has the parts that version writes.
    store = args.dir / "store"
    shutil.rmtree(store, ignore_errors=True)
    subprocess.run([binary, "import", "--store", store, "--input", big, "-q"], check=True)
    truth = {channel: (numbers["attempts"], numbers["completed"])
             for channel, numbers in json.loads(truth_path.read_text())["channels"].items() if numbers["attempts"]}

    print(f"input: {big} ({big.stat().st_size / 2**20:.0f} MiB, {sum(1 for _ in big.open('rb'))} records), "
          f"{os.cpu_count()} cores, medians of {args.runs} runs")
    jobs = {
        "duckdb ndjson": [sys.executable, str(ROOT / "scripts/duckdb_channels.py"), str(big)],
        "duckdb graph-only": [sys.executable, str(ROOT / "scripts/duckdb_channels.py"), "--graph-only", str(big)],
        "ssprlens ndjson": [binary, "report", "--input", str(big), "--report", "channels", "--format", "csv", "-q"],
        "gzip -dc alone": ["gzip", "-dc", str(big_gz)],
        "ssprlens gzip": [binary, "report", "--input", str(big_gz), "--report", "channels", "--format", "csv", "-q"],
        "ssprlens store": [binary, "report", "--store", str(store), "--report", "channels", "--format", "csv", "-q"],
    }
    results, outputs = measure(jobs, args.runs)
    for name, output in outputs.items():
        if name.startswith("ssprlens"):
            counts = ssprlens_counts(output)
        elif name.startswith("duckdb"):
            counts = {channel: (numbers["attempts"], numbers["completed"])
                      for channel, numbers in json.loads(output).items() if numbers["attempts"]}
        else:
            counts = None
        if counts is None:
            status = ""
        elif counts == truth:
            status = "counts = truth"
        elif name == "duckdb graph-only":
            status = f"counts short of the truth ({sum(a for a, _ in counts.values())} attempts): camelCase only"
        else:
            status = f"COUNTS DIFFER: {counts} != {truth}"
        wall, cpu, rss = results[name]
        print(f"{name:17} wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak RSS {rss:7.0f} MiB   {status}")
    wall, _, rss = results["ssprlens ndjson"]
    for duck in ("duckdb ndjson", "duckdb graph-only"):
        duck_wall, _, duck_rss = results[duck]
        print(f"against {duck}:")
        print(f"  ndjson: wall {wall / duck_wall:.2f}x (target <= 0.5), peak RSS {rss / duck_rss:.2f}x (target <= 0.5)")
        print(f"  store:  wall {results['ssprlens store'][0] / duck_wall:.2f}x DuckDB's on the NDJSON (target <= 0.1)")
    print(f"gzip:   wall {results['ssprlens gzip'][0] / results['gzip -dc alone'][0]:.2f}x the decompression alone")


if __name__ == "__main__":
    main()
