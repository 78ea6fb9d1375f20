"""What a user would write to ingest the same objects: boto3, gzip, json and sqlite3 (rows
with the message and a few fields, one transaction per object). Usage: python_ingest.py
ENDPOINT BUCKET KIND KEY... Prints events, seconds and CPU seconds."""
import gzip, json, os, sqlite3, sys, tempfile, time

import boto3

endpoint, bucket, kind, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
# The database lives only as long as this run (it holds as much text as the objects do).
workdir = tempfile.TemporaryDirectory()
db = sqlite3.connect(os.path.join(workdir.name, "events.db"))
db.execute("CREATE TABLE events (key TEXT, offset INTEGER, time TEXT, message TEXT, fields TEXT)")
start, cpu = time.perf_counter(), time.process_time()
events = 0
for key in keys:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with gzip.GzipFile(fileobj=body) as stream:
        rows = []
        if kind == "json":
            offset = 0
            for line in stream:
                record = json.loads(line)
                rows.append((key, offset, record.get("ts"), line.decode().rstrip("\n"),
                             json.dumps({k: v for k, v in record.items() if not isinstance(v, (dict, list))})))
                offset += len(line)
        else:
            for n, record in enumerate(json.load(stream)["Records"]):
                rows.append((key, n, record.get("eventTime"), json.dumps(record),
                             json.dumps({k: record.get(k) for k in ("eventName", "eventSource", "awsRegion")})))
    with db:
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    events += len(rows)
print(json.dumps({"events": events, "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}))
db.close()
workdir.cleanup()
