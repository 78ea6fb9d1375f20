#!/usr/bin/env python3
"""Baseline for the policy evaluation benchmark: moto's IAM policy evaluator (Python), on
the same policy and requests as ferry-bench. Prints evaluations per second as JSON."""
import json
import sys
import time

from moto.iam.access_control import IAMPolicy

policy_file, seconds = sys.argv[1], float(sys.argv[2])
# Parsed once, outside the timed loop, as in ferry-bench.
policy = IAMPolicy(open(policy_file).read())
requests = [
    ("s3:GetObject", "arn:aws:s3:::bucket-8/logs/2024/app.log"),
    ("s3:ListBucket", "arn:aws:s3:::bucket-4"),
    ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k5"),
    ("s3:PutObject", "arn:aws:s3:::bucket-8/logs/x"),
]
context = {"aws:RequestedRegion": "us-east-1", "s3:prefix": "logs/", "kms:ViaService": "s3.us-east-1.amazonaws.com"}
count = 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    for action, resource in requests:
        policy.is_action_permitted(action, resource, incoming_condition_values=context)
        count += 1
elapsed = time.perf_counter() - start
print(json.dumps({"evaluations_per_second": count / elapsed}))
