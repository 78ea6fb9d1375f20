"""Writes the ingest benchmark's objects: gzip JSON lines and gzip CloudTrail files, about
MIB MiB compressed of each kind, in objects of about 4 MiB, into LOCAL_DIR/json/ and
LOCAL_DIR/cloudtrail/ and, with boto3, into the bucket at ENDPOINT (the same keys).
Usage: make_ingest_data.py ENDPOINT BUCKET MIB LOCAL_DIR
Prints {"json": [keys], "cloudtrail": [keys], "probes": {...}}: per kind a token carried by
one event only (a trace ID), a common word and the start of one hour of the data, which the
store benchmarks search for.

The data has the entropy of real logs, so that no compressor is flattered: a unique
128-bit trace ID and 64-bit span ID per event, random numbers (user IDs, durations, sizes,
addresses), messages of a few words from a vocabulary of a few dozen, 40 services and
hundreds of hosts; CloudTrail records with unique event and request IDs, dozens of event
names, ten regions and thousands of sessions."""
import gzip, json, os, random, sys

import boto3

endpoint, bucket, mib, local = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
rng = random.Random(11)
keys = {"json": [], "cloudtrail": []}

VOCABULARY = ("request served cache miss upstream timeout connection reset by peer retry scheduled "
              "order created payment authorized user login failed token expired queue depth high slow "
              "query detected").split()
SERVICES = ["svc-%s" % name for name in (
    "checkout payments search inventory auth billing catalog cart shipping pricing reviews "
    "recommendations notifications email sms gateway profile session ledger fraud tax coupons "
    "orders returns warehouse delivery tracking analytics reporting export import media images "
    "thumbnails uploads feeds ads experiments flags config audit").split()]
ROUTES = ["/api/v1/orders", "/api/v1/cart", "/api/v1/search", "/api/v1/users", "/api/v1/items",
          "/api/v2/checkout", "/api/v2/payments", "/health", "/metrics", "/api/v1/sessions"]
TRAIL_NAMES = ["GetObject", "PutObject", "HeadObject", "ListObjects", "DeleteObject", "AssumeRole",
               "GetCallerIdentity", "DescribeInstances", "RunInstances", "TerminateInstances",
               "CreateTags", "DescribeVolumes", "GetParameter", "PutParameter", "Decrypt",
               "GenerateDataKey", "Encrypt", "SendMessage", "ReceiveMessage", "DeleteMessage",
               "PutItem", "GetItem", "Query", "Scan", "UpdateItem", "Invoke", "GetFunction",
               "CreateLogStream", "PutLogEvents", "ConsoleLogin"]
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-south-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]
DAY_MS = 86_400_000


def hexid(n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def stamp(ms):
    return "2024-11-24T%02d:%02d:%02d.%03dZ" % (ms // 3600000 % 24, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def json_line(ms, trace):
    level = rng.choices(["debug", "info", "warn", "error"], [10, 70, 14, 6])[0]
    words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(3, 9)))
    return json.dumps({"ts": stamp(ms), "level": level, "service": rng.choice(SERVICES),
                       "host": "ip-10-%d-%d-%d" % (rng.randrange(4), rng.randrange(16), rng.randrange(250)),
                       "trace_id": trace, "span_id": hexid(16), "msg": words,
                       "user_id": "u-%d" % rng.randrange(1_000_000),
                       "http": {"method": rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE"]),
                                "path": "%s/%d" % (rng.choice(ROUTES), rng.randrange(100000)),
                                "status": rng.choice([200, 200, 200, 201, 204, 304, 400, 404, 500, 503]),
                                "bytes": rng.randrange(50, 200000)},
                       "duration_ms": round(rng.random() * 900, 3)}, separators=(",", ":"))


def trail_record(ms, trace):
    name = rng.choice(TRAIL_NAMES)
    session = "session-%d" % rng.randrange(5000)
    when = stamp(ms)[:19] + "Z"
    record = {"eventVersion": "1.09",
              "userIdentity": {"type": "AssumedRole", "principalId": "AROA%s:%s" % (hexid(16).upper(), session),
                               "arn": "arn:aws:sts::123456789012:assumed-role/app-%d/%s" % (rng.randrange(30), session),
                               "accountId": "123456789012", "accessKeyId": "ASIA" + hexid(16).upper()},
              "eventTime": when, "eventSource": "%s.amazonaws.com" % rng.choice(["s3", "ec2", "sts", "kms", "ssm", "sqs", "dynamodb", "lambda", "logs"]),
              "eventName": name, "awsRegion": rng.choice(REGIONS),
              "sourceIPAddress": "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(256)),
              "userAgent": "aws-sdk-go-v2/1.%d.%d os/linux lang/go#1.22" % (rng.randrange(40), rng.randrange(10)),
              "requestParameters": {"bucketName": "logs-%d" % rng.randrange(50), "key": "data/2024/11/24/part-%d.parquet" % rng.randrange(1_000_000)},
              "responseElements": None, "requestID": hexid(16).upper(),
              "eventID": "%s-%s-%s-%s-%s" % (trace[:8], trace[8:12], trace[12:16], trace[16:20], trace[20:32]),
              "readOnly": rng.random() < 0.7, "eventType": "AwsApiCall", "managementEvent": rng.random() < 0.3,
              "recipientAccountId": "123456789012"}
    if rng.random() < 0.04:
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = "User is not authorized to perform %s" % name
    return record


os.makedirs(os.path.join(local, "json"), exist_ok=True)
os.makedirs(os.path.join(local, "cloudtrail"), exist_ok=True)
per_object = {"json": 20000, "cloudtrail": 6000}
probes = {}


def body_of(kind, times, traces):
    if kind == "json":
        return gzip.compress(("\n".join(json_line(t, tr) for t, tr in zip(times, traces)) + "\n").encode(), compresslevel=6)
    return gzip.compress(json.dumps({"Records": [trail_record(t, tr) for t, tr in zip(times, traces)]}).encode(), compresslevel=6)


for kind in ("json", "cloudtrail"):
    # One sample object sets the object count for the size asked; the day is spread over
    # all of them.
    count = per_object[kind]
    sample = body_of(kind, [0] * count, [hexid(32) for _ in range(count)])
    objects = max(1, round((mib << 20) / len(sample)))
    total = objects * per_object[kind]
    rng.seed(11 if kind == "json" else 13)
    for n in range(objects):
        traces = [hexid(32) for _ in range(count)]
        times = [(n * count + k) * DAY_MS // total for k in range(count)]
        body = body_of(kind, times, traces)
        key = "%s/2024/11/24/part-%04d.gz" % (kind, n)
        with open(os.path.join(local, kind, "part-%04d.gz" % n), "wb") as f:
            f.write(body)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        keys[kind].append(key)
        if n == objects // 2:
            middle = times[count // 2]
            probes[kind] = {"rare": traces[count // 2] if kind == "json" else traces[count // 2][:8],
                            "common": "timeout" if kind == "json" else "accessdenied",
                            "hour_start": "2024-11-24T%02d:00:00Z" % (middle // 3600000)}
keys["probes"] = probes
print(json.dumps(keys))
