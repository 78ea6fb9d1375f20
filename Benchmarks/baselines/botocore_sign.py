#!/usr/bin/env python3
"""Baseline for the signing benchmark: botocore's SigV4 signer on the same requests as
ferry-bench (an S3 GetObject, an STS AssumeRole, an SQS ReceiveMessage). Prints requests
signed per second as JSON."""
import datetime
import json
import sys
import time

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

seconds = float(sys.argv[1])
botocore.auth.get_current_datetime = lambda: datetime.datetime(2024, 11, 24, 4, 0, 0)
creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token")
requests = [
    (S3SigV4Auth(creds, "s3", "us-east-1"), "GET", "https://my-logs.s3.us-east-1.amazonaws.com/AWSLogs/2024/11/24/app.log.gz", b"", {"Range": "bytes=0-"}),
    (SigV4Auth(creds, "sts", "us-east-1"), "POST", "https://sts.us-east-1.amazonaws.com/",
     b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999988887777%3Arole%2Fferry&RoleSessionName=ferry-acme&ExternalId=ferry%3Aaws%3Aextid%3Aabc",
     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    (SigV4Auth(creds, "sqs", "us-east-1"), "POST", "https://sqs.us-east-1.amazonaws.com/",
     b'{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/ferry","MaxNumberOfMessages":10}',
     {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"}),
]
count = 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    for auth, method, url, body, headers in requests:
        auth.add_auth(AWSRequest(method=method, url=url, data=body, headers=dict(headers)))
        count += 1
print(json.dumps({"signs_per_second": count / (time.perf_counter() - start)}))
