#!/usr/bin/env python3
"""Rewrites the module map of docs/ARCHITECTURE.md from the `//!` headers of src/ (run after adding a module)."""
import pathlib, re

root = pathlib.Path(__file__).resolve().parent.parent
rows = []
for path in sorted((root / "src").rglob("*.rs")):
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("//!"):
            break
        text = line[3:].strip()
        if not text or (header and text.startswith("- ")):
            break
        header.append(text)
    summary = " ".join(header)
    summary = re.split(r"(?<=\.)\s", summary, maxsplit=1)[0]
    rows.append(f"| `{path.relative_to(root)}` | {summary.replace('|', '/')} |")
doc = root / "docs" / "ARCHITECTURE.md"
text = doc.read_text()
begin, end = "<!-- module map: begin -->", "<!-- module map: end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
table = "\n| module | what it is |\n|---|---|\n" + "\n".join(rows) + "\n"
doc.write_text(head + begin + table + end + tail)
