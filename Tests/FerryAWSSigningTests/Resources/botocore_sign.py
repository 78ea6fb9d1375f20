#!/usr/bin/env python3
"""Signs one request with botocore, the AWS SDK for Python, as an independent reference.

Reads a JSON request on stdin; prints botocore's canonical request, signature and
Authorization header as JSON.
"""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
when = datetime.datetime.strptime(spec["timestamp"], "%Y%m%dT%H%M%SZ")
botocore.auth.get_current_datetime = lambda: when

credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("token"))
auth_class = S3SigV4Auth if spec["service"] == "s3" else SigV4Auth
auth = auth_class(credentials, spec["service"], spec["region"])
request = AWSRequest(
    method=spec["method"], url=spec["url"], data=base64.b64decode(spec["body"]), headers=spec["headers"]
)
auth.add_auth(request)
# Recompute the canonical request with the headers botocore signed, for diagnosis.
canonical = auth.canonical_request(request)
print(json.dumps({
    "authorization": request.headers["Authorization"],
    "canonical_request": canonical,
    "headers": {k: v for k, v in request.headers.items()},
}))
