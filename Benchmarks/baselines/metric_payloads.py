#!/usr/bin/env python3
"""Metric shipping's benchmark data and its Python baselines.

  metric_payloads.py make OUTDIR POINTS     writes Firehose bodies of CloudWatch metric
      streams in the JSON and OpenTelemetry 1.0.0 formats (OUTDIR/json-N.json,
      OUTDIR/otel-N.json), the same data points in both: realistic ones (5,000 series of
      40 metrics in 8 namespaces with unique instance and function IDs and 0-3 dimensions,
      p99 and p99.9 on a third of them, each series one point a minute with random
      values); each body 500 records of up to 20 points, as Firehose buffers them.
  metric_payloads.py decode OUTDIR json|otel  decodes every body of that format as plainly
      as Python can (json.loads per line; opentelemetry-proto's ParseFromString, the upb
      C implementation) and prints {"points", "cpu_seconds", "points_per_cpu_second"}.
"""
import base64
import json
import os
import random
import sys
import time

NAMESPACES = {
    "AWS/EC2": (["CPUUtilization", "NetworkIn", "NetworkOut", "DiskReadOps", "StatusCheckFailed"],
                "InstanceId", "Percent"),
    "AWS/Lambda": (["Invocations", "Duration", "Errors", "Throttles", "ConcurrentExecutions"],
                   "FunctionName", "Milliseconds"),
    "AWS/DynamoDB": (["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits",
                      "SuccessfulRequestLatency", "ThrottledRequests", "ReturnedItemCount"],
                     "TableName", "Count"),
    "AWS/ApplicationELB": (["RequestCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count",
                            "ActiveConnectionCount", "ProcessedBytes"], "LoadBalancer", "Count"),
    "AWS/RDS": (["CPUUtilization", "FreeableMemory", "ReadLatency", "WriteIOPS",
                 "DatabaseConnections"], "DBInstanceIdentifier", "Bytes"),
    "AWS/SQS": (["NumberOfMessagesSent", "ApproximateAgeOfOldestMessage",
                 "NumberOfMessagesReceived", "SentMessageSize", "NumberOfEmptyReceives"],
                "QueueName", "Count"),
    "AWS/S3": (["BucketSizeBytes", "NumberOfObjects", "AllRequests", "4xxErrors",
                "FirstByteLatency"], "BucketName", "Bytes"),
    "Custom/Checkout": (["OrderLatency", "CartSize", "PaymentFailures", "QueueDepth",
                         "CacheHitRatio"], "Service", "Seconds"),
}
UCUM = {"Percent": "%", "Milliseconds": "ms", "Count": "{Count}", "Bytes": "By", "Seconds": "s"}
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]


def points(n, rng, series_count=5000):
    """n points of series_count series, each series one point a minute, as streams send."""
    start = 1_767_225_600_000
    series = []
    for _ in range(series_count):
        namespace = rng.choice(list(NAMESPACES))
        metrics, dimension, unit = NAMESPACES[namespace]
        dims = {}
        for d in range(rng.randint(0, 3)):
            name = dimension if d == 0 else rng.choice(["AvailabilityZone", "Stage", "Version"])
            dims[name] = "%s-%016x" % (name[:3].lower(), rng.getrandbits(64))
        series.append((namespace, rng.choice(metrics), dims, unit, rng.choice(REGIONS),
                       rng.random() < 1 / 3))
    for i in range(n):
        namespace, metric, dims, unit, region, percentiles = series[i % series_count]
        count = rng.randint(1, 5000)
        low = rng.random() * 100
        high = low + rng.random() * 1000
        stats = {"count": float(count), "sum": round((low + high) / 2 * count, 6),
                 "min": round(low, 6), "max": round(high, 6)}
        if percentiles:
            stats["p99"] = round(high * 0.97, 6)
            stats["p99.9"] = round(high * 0.995, 6)
        yield {"namespace": namespace, "metric": metric, "dimensions": dims, "unit": unit,
               "timestamp": start + (i // series_count) * 60_000, "value": stats,
               "region": region}


def json_record(batch):
    lines = [json.dumps({
        "metric_stream_name": "ferry-metrics", "account_id": "123456789012",
        "region": p["region"], "namespace": p["namespace"], "metric_name": p["metric"],
        "dimensions": p["dimensions"], "timestamp": p["timestamp"], "value": p["value"],
        "unit": p["unit"]}, separators=(",", ":")) for p in batch]
    return ("\n".join(lines) + "\n").encode()


def otel_record(batch):
    from google.protobuf.internal.encoder import _VarintBytes
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    request = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    for key, value in (("cloud.provider", "aws"), ("cloud.account.id", "123456789012"),
                       ("cloud.region", batch[0]["region"]),
                       ("aws.exporter.arn",
                        "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/ferry-metrics")):
        a = rm.resource.attributes.add()
        a.key = key
        a.value.string_value = value
    scope = rm.scope_metrics.add()
    for p in batch:
        m = scope.metrics.add()
        m.name = "amazonaws.com/%s/%s" % (p["namespace"], p["metric"])
        m.unit = UCUM[p["unit"]]
        dp = m.summary.data_points.add()
        for key, value in (("Namespace", p["namespace"]), ("MetricName", p["metric"])):
            a = dp.attributes.add()
            a.key = key
            a.value.string_value = value
        d = dp.attributes.add()
        d.key = "Dimensions"
        for key, value in sorted(p["dimensions"].items()):
            kv = d.value.kvlist_value.values.add()
            kv.key = key
            kv.value.string_value = value
        dp.start_time_unix_nano = p["timestamp"] * 1_000_000
        dp.time_unix_nano = (p["timestamp"] + 60_000) * 1_000_000
        v = p["value"]
        dp.count = int(v["count"])
        dp.sum = v["sum"]
        for q, name in ((0.0, "min"), (0.99, "p99"), (0.999, "p99.9"), (1.0, "max")):
            if name in v:
                e = dp.quantile_values.add()
                e.quantile = q
                e.value = v[name]
    data = request.SerializeToString()
    return _VarintBytes(len(data)) + data


def make(outdir, n):
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(7)
    all_points = list(points(n, rng))
    per_record, per_body = 20, 500
    body_no = 0
    for b in range(0, n, per_record * per_body):
        chunk = all_points[b:b + per_record * per_body]
        batches = [chunk[r:r + per_record] for r in range(0, len(chunk), per_record)]
        for kind, encode in (("json", json_record), ("otel", otel_record)):
            body = {"requestId": "bench-%d" % body_no, "timestamp": 1_767_225_660_000,
                    "records": [{"data": base64.b64encode(encode(x)).decode()} for x in batches]}
            with open(os.path.join(outdir, "%s-%04d.json" % (kind, body_no)), "w") as f:
                json.dump(body, f)
        body_no += 1


def decode(outdir, kind):
    files = sorted(os.path.join(outdir, f) for f in os.listdir(outdir) if f.startswith(kind + "-"))
    bodies = [open(f, "rb").read() for f in files]
    if kind == "otel":
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from google.protobuf.internal.decoder import _DecodeVarint32
    count = 0
    start = time.process_time()
    for body in bodies:
        for record in json.loads(body)["records"]:
            data = base64.b64decode(record["data"])
            if kind == "json":
                for line in data.splitlines():
                    if line:
                        p = json.loads(line)
                        count += 1 if p["value"]["count"] >= 0 else 0
            else:
                offset = 0
                while offset < len(data):
                    length, offset = _DecodeVarint32(data, offset)
                    request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(
                        data[offset:offset + length])
                    offset += length
                    for rm in request.resource_metrics:
                        for sm in rm.scope_metrics:
                            for m in sm.metrics:
                                for dp in m.summary.data_points:
                                    count += 1 if dp.count >= 0 else 0
    cpu = time.process_time() - start
    print(json.dumps({"points": count, "cpu_seconds": cpu, "points_per_cpu_second": count / cpu}))


if sys.argv[1] == "make":
    make(sys.argv[2], int(sys.argv[3]))
else:
    decode(sys.argv[2], sys.argv[3])
