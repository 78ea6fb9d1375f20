"""Checks an archive tree that the AWS CLI downloaded, with independent readers: zstd (the
command) for each object, Python's json and hashlib for each record, DuckDB (PyPI) with
hive_partitioning for the whole tree. Prints one JSON summary.

Usage: check_archive.py DIR EVENTS
DIR is the archive's root (the folder that holds account=...); EVENTS is how many events
the test committed: event i has the message {"n":i,...} the test wrote (see
ArchiveFlowTests.message)."""
import hashlib, json, os, re, subprocess, sys

root, expected = sys.argv[1], int(sys.argv[2])
summary = {"objects": 0, "manifests": 0, "events": 0, "distinctIds": 0, "badIds": 0,
           "unlisted": [], "missing": [], "digestMismatch": 0, "countMismatch": 0,
           "unexpectedMessages": 0, "missingMessages": 0, "badPaths": [], "perHour": {},
           "duckdb": None, "duckdbPerHour": {}, "duckdbDistinctIds": None, "manifestEvents": 0,
           "schema": set(), "compactLines": 0, "fullLines": 0,
           "derivedFields": 0}
listed = {}
objects = []
for folder, _, files in os.walk(root):
    for name in files:
        path = os.path.join(folder, name)
        rel = os.path.relpath(path, root)
        for segment in rel.split("/"):
            if segment.startswith("_") or segment.startswith(".") or ":" in segment:
                summary["badPaths"].append(rel)
        if name == "manifest.json":
            summary["manifests"] += 1
            manifest = json.load(open(path))
            summary["schema"].add(manifest["schemaVersion"])
            hour = re.search(r"year=(\d+)/month=(\d+)/day=(\d+)/hour=(\d+)", rel).groups()
            for entry in manifest["objects"]:
                listed[entry["key"]] = entry
                summary["manifestEvents"] += entry["events"]
                key = "-".join(hour)
                summary["perHour"][key] = summary["perHour"].get(key, 0) + entry["events"]
        elif name.endswith(".json.zst"):
            objects.append(rel)

prefix = None
ids = set()
seen = set()
for rel in sorted(objects):
    summary["objects"] += 1
    data = open(os.path.join(root, rel), "rb").read()
    # Manifest keys are full keys; find the entry by its ending.
    entry = next((e for k, e in listed.items() if k.endswith("/" + rel) or k == rel), None)
    if entry is None:
        summary["unlisted"].append(rel)
    elif hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["bytes"]:
        summary["digestMismatch"] += 1
    text = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    lines = text.decode().splitlines()
    if entry is not None and (len(lines) != entry["events"] or len(text) != entry["rawBytes"]):
        summary["countMismatch"] += 1
    for line in lines:
        record = json.loads(line)
        summary["events"] += 1
        source = record["source"]
        # The documented event ID: SHA-256 of fetcher, key, ETag and offset, NUL between;
        # compact lines (the manifest says "lines": "compact") leave it to the reader.
        raw = "\0".join([record["fetcher"], source["key"], source["etag"], str(source["offset"])])
        derived = hashlib.sha256(raw.encode()).hexdigest()[:32]
        compact = entry is not None and entry.get("lines") == "compact"
        if compact:
            summary["compactLines"] += 1
            if "eventId" in record:
                summary["badIds"] += 1
        else:
            summary["fullLines"] += 1
            if derived != record.get("eventId"):
                summary["badIds"] += 1
        ids.add(derived)
        message = json.loads(record["message"])
        n = message.get("n")
        # A line without "fields" (its manifest entry says "fieldsFrom": "message") takes
        # them from its message: a JSON line's top-level scalars, as text.
        if "fields" in record:
            fields = record["fields"]
        elif entry is not None and entry.get("fieldsFrom") == "message":
            summary["derivedFields"] += 1
            fields = {k: (json.dumps(v) if isinstance(v, bool) or v is None else str(v))
                      for k, v in message.items() if not isinstance(v, (dict, list))}
        else:
            fields = {}
        if not isinstance(n, int) or not (0 <= n < expected) or fields.get("n") != str(n):
            summary["unexpectedMessages"] += 1
        else:
            seen.add(n)
for key in listed:
    if not any(key.endswith("/" + rel) for rel in objects):
        summary["missing"].append(key)
summary["distinctIds"] = len(ids)
summary["missingMessages"] = expected - len(seen)
summary["schema"] = sorted(summary["schema"])

import duckdb
con = duckdb.connect()
rows = con.execute(
    "SELECT year, month, day, hour, count(*) FROM read_json_auto(?, hive_partitioning = true, "
    "format = 'newline_delimited') GROUP BY ALL ORDER BY ALL",
    [os.path.join(root, "**", "*.json.zst")]).fetchall()
summary["duckdb"] = sum(r[4] for r in rows)
summary["duckdbPerHour"] = {"-".join(str(v).zfill(2) if i else str(v) for i, v in enumerate(r[:4])): r[4] for r in rows}
# The event ID derived in SQL, as docs/archive-format.md shows it.
summary["duckdbDistinctIds"] = con.execute(
    "SELECT count(DISTINCT substr(sha256(fetcher || chr(0) || source.key || chr(0) || "
    "source.etag || chr(0) || CAST(source.offset AS VARCHAR)), 1, 32)) "
    "FROM read_json_auto(?, hive_partitioning = true, format = 'newline_delimited')",
    [os.path.join(root, "**", "*.json.zst")]).fetchone()[0]
print(json.dumps(summary))
