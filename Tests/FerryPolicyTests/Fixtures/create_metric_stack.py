"""Creates Ferry's metric-shipping stack in moto's server, as far as moto supports its
resource types, and checks what it created through the IAM, S3, Logs and Firehose APIs.

moto's CloudFormation has no AWS::KinesisFirehose::DeliveryStream, AWS::Logs::LogStream or
AWS::CloudWatch::MetricStream: those resources are taken out of the stack (and the one
reference to the delivery stream's ARN replaced by the ARN it would have); the delivery
stream is then created through Firehose's own API with the template's destination, which
moto does support. moto has no metric streams at all.

Usage: create_metric_stack.py ENDPOINT_URL TEMPLATE.json
"""

import json
import sys
import time

import boto3

UNSUPPORTED = {
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Logs::LogStream",
    "AWS::CloudWatch::MetricStream",
}
STACK = "ferry-metrics-test"
REGION = "us-east-1"
KEY = "frm_" + "k" * 40


def fail(message):
    print(message)
    sys.exit(1)


def main():
    url, path = sys.argv[1], sys.argv[2]
    template = json.load(open(path))
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    account = boto3.client("sts", **kw).get_caller_identity()["Account"]
    resources = template["Resources"]
    delivery = resources["DeliveryStream"]["Properties"]
    left_out = sorted(name for name, r in resources.items() if r["Type"] in UNSUPPORTED)
    for name in left_out:
        del resources[name]
    stream_arn = f"arn:aws:firehose:{REGION}:{account}:deliverystream/{STACK}"
    statement = resources["MetricStreamPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    statement["Resource"] = [stream_arn]
    for name in ("DependsOn",):
        resources["MetricStreamPolicy"].pop(name, None)
    template["Outputs"] = {k: v for k, v in template["Outputs"].items() if k == "BackupBucketName"}

    cfn = boto3.client("cloudformation", **kw)
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "DeliveryKey", "ParameterValue": KEY},
            {"ParameterKey": "Namespaces", "ParameterValue": "AWS/EC2,AWS/RDS"},
        ],
    )
    for _ in range(30):
        status = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(1)
    if status != "CREATE_COMPLETE":
        fail(f"stack is {status}")
    created = {
        r["LogicalResourceId"]: r
        for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    expected = set(resources)
    if set(created) != expected:
        fail(f"created {sorted(created)}, expected {sorted(expected)}")

    iam = boto3.client("iam", **kw)
    for role, service, policy in (
        (f"{STACK}-firehose", "firehose.amazonaws.com", f"{STACK}-firehose"),
        (f"{STACK}-stream", "streams.metrics.cloudwatch.amazonaws.com", f"{STACK}-stream"),
    ):
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(trust)
        principal = trust["Statement"][0]["Principal"]["Service"]
        if principal != service:
            fail(f"{role} trusts {principal}, not {service}")
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
        if attached != [policy]:
            fail(f"{role} has {attached} attached, not {policy}")

    s3 = boto3.client("s3", **kw)
    bucket = created["BackupBucket"]["PhysicalResourceId"]
    if not bucket.startswith(STACK):
        fail(f"the backup bucket {bucket} does not start with the stack's name")
    # moto's CloudFormation creates the bucket but applies neither its lifecycle rule nor
    # its public access block; the Swift test checks those properties in the template.
    s3.head_bucket(Bucket=bucket)

    logs = boto3.client("logs", **kw)
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/kinesisfirehose/{STACK}")["logGroups"]
    if [g.get("retentionInDays") for g in groups] != [14]:
        fail(f"log groups {groups}")
    logs.create_log_stream(logGroupName=groups[0]["logGroupName"], logStreamName="HttpEndpointDelivery")

    # The delivery stream, through Firehose's API, with the template's destination resolved.
    role_arn = iam.get_role(RoleName=f"{STACK}-firehose")["Role"]["Arn"]
    destination = json.loads(json.dumps(delivery["HttpEndpointDestinationConfiguration"]))
    destination["EndpointConfiguration"]["Url"] = "https://ferry.example.com/api/v1/firehose/metrics"
    destination["EndpointConfiguration"]["AccessKey"] = KEY
    destination["RoleARN"] = role_arn
    destination["S3Configuration"]["BucketARN"] = f"arn:aws:s3:::{bucket}"
    destination["S3Configuration"]["RoleARN"] = role_arn
    destination["CloudWatchLoggingOptions"]["LogGroupName"] = groups[0]["logGroupName"]
    destination["CloudWatchLoggingOptions"]["LogStreamName"] = "HttpEndpointDelivery"
    firehose = boto3.client("firehose", **kw)
    arn = firehose.create_delivery_stream(
        DeliveryStreamName=STACK,
        DeliveryStreamType=delivery["DeliveryStreamType"],
        HttpEndpointDestinationConfiguration=destination,
    )["DeliveryStreamARN"]
    if arn != stream_arn:
        fail(f"the delivery stream is {arn}, the stream role's policy names {stream_arn}")
    described = firehose.describe_delivery_stream(DeliveryStreamName=STACK)["DeliveryStreamDescription"]
    http = described["Destinations"][0].get("HttpEndpointDestinationDescription", {})
    if http.get("EndpointConfiguration", {}).get("Url") != destination["EndpointConfiguration"]["Url"]:
        fail(f"the delivery stream's destination is {described['Destinations']}")
    print(json.dumps({"created": sorted(created), "leftOutOfTheStack": left_out}))


main()
