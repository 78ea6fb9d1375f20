"""Writes the ingest benchmark's objects to an S3 endpoint with boto3: gzip JSON lines and
gzip CloudTrail files, about MIB MiB compressed of each kind, in objects of about 4 MiB.
Usage: make_ingest_data.py ENDPOINT BUCKET MIB. Prints {"json": [keys], "cloudtrail": [keys]}."""
import gzip, json, random, sys

import boto3

endpoint, bucket, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
rng = random.Random(11)
keys = {"json": [], "cloudtrail": []}


def hexid(n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def json_line(i):
    return json.dumps({"ts": "2024-11-24T%02d:%02d:%02d.%03dZ" % (i // 3600000 % 24, i // 60000 % 60, i // 1000 % 60, i % 1000),
                       "level": rng.choice(["info", "info", "info", "warn", "error"]), "service": rng.choice(["checkout", "search", "auth"]),
                       "trace_id": hexid(32), "span_id": hexid(16), "msg": rng.choice(["request served", "cache miss", "upstream timeout"]),
                       "user_id": "u-%d" % rng.randrange(100000), "http": {"method": "GET", "path": "/api/orders", "status": 200},
                       "duration_ms": rng.randrange(900)})


def trail_record(i):
    return {"eventVersion": "1.08", "userIdentity": {"type": "AssumedRole", "principalId": "AROA%s:s" % hexid(16).upper(),
            "arn": "arn:aws:sts::123456789012:assumed-role/app/s", "accountId": "123456789012", "accessKeyId": "ASIA" + hexid(16).upper()},
            "eventTime": "2024-11-24T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60), "eventSource": "s3.amazonaws.com",
            "eventName": rng.choice(["GetObject", "PutObject", "HeadObject"]), "awsRegion": "us-east-1",
            "sourceIPAddress": "10.0.%d.%d" % (rng.randrange(250), rng.randrange(250)), "userAgent": "aws-sdk-go-v2/1.30.1",
            "requestParameters": {"bucketName": "logs", "key": "data/part-%d.parquet" % rng.randrange(100000)},
            "responseElements": None, "requestID": hexid(16).upper(), "eventID": "%s-%s-%s-%s-%s" % (hexid(8), hexid(4), hexid(4), hexid(4), hexid(12)),
            "readOnly": True, "eventType": "AwsApiCall", "managementEvent": False, "recipientAccountId": "123456789012"}


for kind in ("json", "cloudtrail"):
    written, n, i = 0, 0, 0
    while written < mib << 20:
        if kind == "json":
            lines = [json_line(i + k) for k in range(40000)]
            body = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)
            i += len(lines)
        else:
            records = [trail_record(i + k) for k in range(8000)]
            body = gzip.compress(json.dumps({"Records": records}).encode(), compresslevel=6)
            i += len(records)
        key = "%s/2024/11/24/part-%04d.gz" % (kind, n)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        keys[kind].append(key)
        written += len(body)
        n += 1
print(json.dumps(keys))
