"""Writes a customer's log bucket for the fetcher test with boto3 (an independent client),
and prints a manifest: every event the good objects hold, as the SHA-256 of the sorted
messages, and their count. Usage: make_logs.py ENDPOINT BUCKET OBJECTS LINES | v2"""
import gzip, hashlib, json, random, sys

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
rng = random.Random(7)
messages = []


def put(key, body):
    s3.put_object(Bucket=bucket, Key=key, Body=body)


if sys.argv[3] == "v2":
    # A new version of part-000: a new ETag, so it is ingested again as a new version.
    lines = [json.dumps({"ts": "2024-11-25T00:00:%02dZ" % i, "id": "v2-%d" % i, "msg": "replaced"}) for i in range(30)]
    put("app/json/2024/11/24/part-000.json.gz", gzip.compress(("\n".join(lines) + "\n").encode()))
    print(json.dumps({"count": len(lines), "sha256": hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()}))
    sys.exit(0)

objects, per_object = int(sys.argv[3]), int(sys.argv[4])
for n in range(objects):
    lines = [
        json.dumps({"ts": "2024-11-24T%02d:%02d:%02dZ" % (n % 24, i % 60, n % 60), "level": "error" if i % 10 == 0 else "info",
                    "id": "evt-%d-%d" % (n, i), "msg": "request %d of object %d" % (i, n)})
        for i in range(per_object)]
    messages += lines
    if n == 7:  # two gzip members, as some AWS services write them
        half = len(lines) // 2
        body = gzip.compress(("\n".join(lines[:half]) + "\n").encode()) + gzip.compress(("\n".join(lines[half:]) + "\n").encode())
    else:
        body = gzip.compress(("\n".join(lines) + "\n").encode())
    put("app/json/2024/11/24/part-%03d.json.gz" % n, body)

for n in range(5):
    records = [{"eventVersion": "1.08", "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/app/s%d" % i},
                "eventTime": "2024-11-24T10:%02d:%02dZ" % (n, i), "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.%d" % i, "eventID": "ct-%d-%d" % (n, i)} for i in range(50)]
    messages += [json.dumps(r) for r in records]
    put("app/cloudtrail/2024/11/24/trail-%d.json.gz" % n, gzip.compress(json.dumps({"Records": records}).encode()))

text = ["2024-11-24T12:00:00Z first note", "a line with no time", "2024-11-24T12:00:02Z last note"]
messages += text
put("app/text/notes.log", ("\n".join(text) + "\n").encode())

# One 100 MiB line (gzip makes it ~100 KiB): cut at 1 MiB and kept, marked; the rest is
# skipped as it streams, never held.
put("app/long/one-line.log.gz", gzip.compress(b"x" * (100 << 20) + b"\n", compresslevel=6))

# Objects that cannot be read: each recorded as failed, the rest go on.
good = gzip.compress(("\n".join(json.dumps({"id": "trunc-%d" % i}) for i in range(2000)) + "\n").encode())
put("app/bad/truncated.json.gz", good[: len(good) * 6 // 10])
put("app/bad/corrupt.json.gz", good[:10] + bytes(rng.randrange(256) for _ in range(4000)))
put("app/bad/binary.bin", bytes([0]) + bytes(rng.randrange(256) for _ in range(5000)))
put("app/bad/empty.log", b"")

print(json.dumps({"count": len(messages), "sha256": hashlib.sha256("\n".join(sorted(messages)).encode()).hexdigest()}))
