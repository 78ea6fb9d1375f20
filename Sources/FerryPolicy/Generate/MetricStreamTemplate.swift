/// The CloudFormation stack a customer deploys to ship CloudWatch metrics to Ferry: a
/// CloudWatch metric stream → an Amazon Data Firehose delivery stream with an HTTP endpoint
/// destination (Ferry's `/api/v1/firehose/metrics`, the account's delivery key as its
/// access key) → Ferry; failed deliveries backed up to an S3 bucket of the stack, delivery
/// errors logged to a log group. Every name the stack gives starts with the stack's name,
/// which must start with ``MetricShipping/namePrefix``, so the minimum permissions
/// (``MetricShipping/grants``) cover exactly it. JSON, which CloudFormation reads as well
/// as YAML and which needs no quoting rules.
public enum MetricStreamTemplate {
  /// The formats a metric stream can send, as its `OutputFormat` says them.
  public static let outputFormats = ["json", "opentelemetry1.0", "opentelemetry0.7"]

  /// Firehose's buffering for an HTTP endpoint: 60 seconds or 1 MiB, whichever first.
  public static let bufferSeconds = 60
  public static let bufferMiB = 1
  /// How long Firehose retries a delivery Ferry did not accept before backing it up to S3.
  public static let retrySeconds = 3600
  /// Days the backup bucket keeps failed deliveries.
  public static let backupDays = 14

  /// What CloudFormation calls to create, update and delete each resource type the
  /// template declares, as the types' published resource schemas list their handlers'
  /// permissions, narrowed to the properties the template sets (no tags, no inline
  /// policies, no KMS key); `AWS::CloudFormation::Stack` is the stack itself. The
  /// minimum permissions (``MetricShipping/grants``) are exactly their union (a test
  /// holds both to it). Taken from AWS's schemas by hand: CloudFormation cannot run here,
  /// so the list is not proven against AWS itself.
  public static let deployActions: [String: [String]] = [
    "AWS::CloudFormation::Stack": [
      "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
      "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
      "cloudformation:ListStackResources",
    ],
    // BucketEncryption, LifecycleConfiguration, PublicAccessBlockConfiguration; the
    // delete handler lists the bucket to see it is empty.
    "AWS::S3::Bucket": [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation",
      "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
      "s3:PutBucketPublicAccessBlock",
    ],
    "AWS::Logs::LogGroup": [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
      "logs:DescribeLogGroups",
    ],
    "AWS::Logs::LogStream": [
      "logs:CreateLogStream", "logs:DeleteLogStream", "logs:DescribeLogStreams",
    ],
    "AWS::IAM::Role": [
      "iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
      "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    ],
    // Roles: attaches itself to the stack's roles.
    "AWS::IAM::ManagedPolicy": [
      "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:DeletePolicy",
      "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
      "iam:ListEntitiesForPolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    ],
    // RoleARN: the Firehose role is passed to firehose.amazonaws.com.
    "AWS::KinesisFirehose::DeliveryStream": [
      "firehose:CreateDeliveryStream", "firehose:DescribeDeliveryStream",
      "firehose:UpdateDestination", "firehose:DeleteDeliveryStream", "iam:PassRole",
    ],
    // RoleArn: the stream role is passed to streams.metrics.cloudwatch.amazonaws.com.
    "AWS::CloudWatch::MetricStream": [
      "cloudwatch:PutMetricStream", "cloudwatch:GetMetricStream", "cloudwatch:DeleteMetricStream",
      "iam:PassRole",
    ],
  ]

  /// Whether `text` is what the FerryEndpoint parameter accepts: `https://` and a host
  /// (and port), no path, query or space (its AllowedPattern).
  public static func isEndpoint(_ text: String) -> Bool {
    guard text.hasPrefix("https://") else { return false }
    let host = text.dropFirst("https://".count)
    return !host.isEmpty && host.count <= 253
      && !host.contains { "/?#".contains($0) || $0.isWhitespace || $0.asciiValue == nil }
  }

  /// The template, with `endpoint` (Ferry's public base URL, `https://…`) as the default of
  /// its `FerryEndpoint` parameter when given.
  public static func template(endpoint: String?) -> JSONValue {
    func ref(_ name: String) -> JSONValue { .object([("Ref", .string(name))]) }
    func sub(_ text: String) -> JSONValue { .object([("Fn::Sub", .string(text))]) }
    func getAtt(_ resource: String, _ attribute: String) -> JSONValue {
      .object([("Fn::GetAtt", .array([.string(resource), .string(attribute)]))])
    }
    func ifThen(_ condition: String, _ then: JSONValue) -> JSONValue {
      .object([("Fn::If", .array([.string(condition), then, ref("AWS::NoValue")]))])
    }
    func trust(_ service: String) -> JSONValue {
      .object([
        ("Version", .string("2012-10-17")),
        (
          "Statement",
          .array([
            .object([
              ("Effect", .string("Allow")),
              ("Principal", .object([("Service", .string(service))])),
              ("Action", .string("sts:AssumeRole")),
              (
                "Condition",
                .object([
                  ("StringEquals", .object([("aws:SourceAccount", ref("AWS::AccountId"))]))
                ])
              ),
            ])
          ])
        ),
      ])
    }
    func policy(_ statements: [(sid: String, actions: [String], resources: [JSONValue])])
      -> JSONValue
    {
      .object([
        ("Version", .string("2012-10-17")),
        (
          "Statement",
          .array(
            statements.map { s in
              .object([
                ("Sid", .string(s.sid)), ("Effect", .string("Allow")),
                ("Action", .array(s.actions.map(JSONValue.string))),
                ("Resource", .array(s.resources)),
              ])
            })
        ),
      ])
    }
    func namespaces() -> JSONValue {
      // A filter per namespace in the comma-separated list (at most 10 here; more can be
      // given by editing the template).
      .array(
        (0..<10).map { index in
          ifThen(
            "Namespace\(index)",
            .object([
              (
                "Namespace",
                .object([
                  ("Fn::Select", .array([.number(Double(index)), ref("Namespaces")]))
                ])
              )
            ]))
        })
    }

    func metricStream(condition: String, filters: String) -> JSONValue {
      .object([
        ("Type", .string("AWS::CloudWatch::MetricStream")),
        ("Condition", .string(condition)),
        ("DependsOn", .array([.string("MetricStreamPolicy")])),
        (
          "Properties",
          .object([
            ("Name", ref("AWS::StackName")),
            ("FirehoseArn", getAtt("DeliveryStream", "Arn")),
            ("RoleArn", getAtt("MetricStreamRole", "Arn")),
            ("OutputFormat", ref("OutputFormat")),
            (
              filters,
              condition == "StreamsIncluded"
                ? ifThen("IncludesNamespaces", namespaces()) : namespaces()
            ),
          ])
        ),
      ])
    }

    var endpointParameter: [(key: String, value: JSONValue)] = [
      ("Type", .string("String")),
      (
        "Description",
        .string("Ferry's public HTTPS base URL, e.g. https://ferry.example.com (no path).")
      ),
      ("AllowedPattern", .string("^https://[^/?#\\s]+$")),
      (
        "ConstraintDescription",
        .string(
          "must be https:// and a host (and port), without a path: Firehose delivers only over HTTPS"
        )
      ),
    ]
    if let endpoint { endpointParameter.append(("Default", .string(endpoint))) }

    let parameters: JSONValue = .object([
      ("FerryEndpoint", .object(endpointParameter)),
      (
        "DeliveryKey",
        .object([
          ("Type", .string("String")), ("NoEcho", .bool(true)), ("MinLength", .number(36)),
          (
            "Description",
            .string(
              "The account's delivery key (ferry metrics key create): Firehose sends it as X-Amz-Firehose-Access-Key."
            )
          ),
        ])
      ),
      (
        "Namespaces",
        .object([
          ("Type", .string("CommaDelimitedList")), ("Default", .string("")),
          (
            "Description",
            .string(
              "Namespaces to stream (e.g. AWS/EC2,AWS/RDS), at most 10; empty: every namespace. NamespaceFilter says whether they are the only ones or the ones left out."
            )
          ),
        ])
      ),
      (
        "NamespaceFilter",
        .object([
          ("Type", .string("String")), ("Default", .string("include")),
          ("AllowedValues", .array([.string("include"), .string("exclude")])),
          (
            "Description",
            .string("include: stream only Namespaces; exclude: stream every namespace but them.")
          ),
        ])
      ),
      (
        "OutputFormat",
        .object([
          ("Type", .string("String")), ("Default", .string("json")),
          ("AllowedValues", .array(outputFormats.map(JSONValue.string))),
          ("Description", .string("The metric stream's format. Ferry reads json.")),
        ])
      ),
    ])

    var conditions: [(key: String, value: JSONValue)] = []
    let joined: JSONValue = .object([("Fn::Join", .array([.string(","), ref("Namespaces")]))])
    let hasNamespaces: JSONValue = .object([
      ("Fn::Not", .array([.object([("Fn::Equals", .array([joined, .string("")]))])]))
    ])
    for mode in ["include", "exclude"] {
      conditions.append(
        (
          mode == "include" ? "IncludesNamespaces" : "ExcludesNamespaces",
          .object([
            (
              "Fn::And",
              .array([
                hasNamespaces,
                .object([("Fn::Equals", .array([ref("NamespaceFilter"), .string(mode)]))]),
              ])
            )
          ])
        ))
    }
    conditions.append(
      (
        "StreamsIncluded",
        .object([("Fn::Not", .array([.object([("Condition", .string("ExcludesNamespaces"))])]))])
      ))
    // The list has more than `index` entries, so that `Fn::Select` of it is defined: the
    // entry at `index` of the list padded with ten empty ones is not empty.
    let padded: JSONValue = .object([
      (
        "Fn::Split",
        .array([
          .string(","),
          .object([
            (
              "Fn::Join",
              .array([.string(","), .array([joined, .string(String(repeating: ",", count: 10))])])
            )
          ]),
        ])
      )
    ])
    for index in 0..<10 {
      let entry: JSONValue = .object([("Fn::Select", .array([.number(Double(index)), padded]))])
      conditions.append(
        (
          "Namespace\(index)",
          .object([
            ("Fn::Not", .array([.object([("Fn::Equals", .array([entry, .string("")]))])]))
          ])
        ))
    }

    let resources: JSONValue = .object([
      (
        "BackupBucket",
        .object([
          ("Type", .string("AWS::S3::Bucket")),
          (
            "Properties",
            .object([
              (
                "PublicAccessBlockConfiguration",
                .object([
                  ("BlockPublicAcls", .bool(true)), ("BlockPublicPolicy", .bool(true)),
                  ("IgnorePublicAcls", .bool(true)), ("RestrictPublicBuckets", .bool(true)),
                ])
              ),
              (
                "BucketEncryption",
                .object([
                  (
                    "ServerSideEncryptionConfiguration",
                    .array([
                      .object([
                        (
                          "ServerSideEncryptionByDefault",
                          .object([("SSEAlgorithm", .string("AES256"))])
                        )
                      ])
                    ])
                  )
                ])
              ),
              (
                "LifecycleConfiguration",
                .object([
                  (
                    "Rules",
                    .array([
                      .object([
                        ("Id", .string("expire-failed-deliveries")), ("Status", .string("Enabled")),
                        ("ExpirationInDays", .number(Double(backupDays))),
                      ])
                    ])
                  )
                ])
              ),
            ])
          ),
        ])
      ),
      (
        "DeliveryLogGroup",
        .object([
          ("Type", .string("AWS::Logs::LogGroup")),
          (
            "Properties",
            .object([
              ("LogGroupName", sub("/aws/kinesisfirehose/${AWS::StackName}")),
              ("RetentionInDays", .number(14)),
            ])
          ),
        ])
      ),
      (
        "DeliveryLogStream",
        .object([
          ("Type", .string("AWS::Logs::LogStream")),
          (
            "Properties",
            .object([
              ("LogGroupName", ref("DeliveryLogGroup")),
              ("LogStreamName", .string("HttpEndpointDelivery")),
            ])
          ),
        ])
      ),
      (
        "FirehoseRole",
        .object([
          ("Type", .string("AWS::IAM::Role")),
          (
            "Properties",
            .object([
              ("RoleName", sub("${AWS::StackName}-firehose")),
              ("AssumeRolePolicyDocument", trust("firehose.amazonaws.com")),
            ])
          ),
        ])
      ),
      (
        "FirehosePolicy",
        .object([
          ("Type", .string("AWS::IAM::ManagedPolicy")),
          (
            "Properties",
            .object([
              ("ManagedPolicyName", sub("${AWS::StackName}-firehose")),
              ("Roles", .array([ref("FirehoseRole")])),
              (
                "PolicyDocument",
                policy([
                  (
                    "BackUpFailedDeliveries",
                    [
                      "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject",
                      "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject",
                    ],
                    [getAtt("BackupBucket", "Arn"), sub("${BackupBucket.Arn}/*")]
                  ),
                  (
                    "LogDeliveryErrors", ["logs:PutLogEvents"],
                    [
                      sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${DeliveryLogGroup}:log-stream:*"
                      )
                    ]
                  ),
                ])
              ),
            ])
          ),
        ])
      ),
      (
        "DeliveryStream",
        .object([
          ("Type", .string("AWS::KinesisFirehose::DeliveryStream")),
          ("DependsOn", .array([.string("FirehosePolicy")])),
          (
            "Properties",
            .object([
              ("DeliveryStreamName", ref("AWS::StackName")),
              ("DeliveryStreamType", .string("DirectPut")),
              (
                "HttpEndpointDestinationConfiguration",
                .object([
                  (
                    "EndpointConfiguration",
                    .object([
                      ("Name", .string("Ferry")),
                      ("Url", sub("${FerryEndpoint}/api/v1/firehose/metrics")),
                      ("AccessKey", ref("DeliveryKey")),
                    ])
                  ),
                  (
                    "BufferingHints",
                    .object([
                      ("IntervalInSeconds", .number(Double(bufferSeconds))),
                      ("SizeInMBs", .number(Double(bufferMiB))),
                    ])
                  ),
                  (
                    "RequestConfiguration",
                    .object([("ContentEncoding", .string("GZIP"))])
                  ),
                  (
                    "RetryOptions",
                    .object([("DurationInSeconds", .number(Double(retrySeconds)))])
                  ),
                  ("RoleARN", getAtt("FirehoseRole", "Arn")),
                  ("S3BackupMode", .string("FailedDataOnly")),
                  (
                    "S3Configuration",
                    .object([
                      ("BucketARN", getAtt("BackupBucket", "Arn")),
                      ("RoleARN", getAtt("FirehoseRole", "Arn")),
                      ("CompressionFormat", .string("GZIP")),
                      ("Prefix", .string("failed/")),
                      ("ErrorOutputPrefix", .string("failed-errors/")),
                    ])
                  ),
                  (
                    "CloudWatchLoggingOptions",
                    .object([
                      ("Enabled", .bool(true)), ("LogGroupName", ref("DeliveryLogGroup")),
                      ("LogStreamName", ref("DeliveryLogStream")),
                    ])
                  ),
                ])
              ),
            ])
          ),
        ])
      ),
      (
        "MetricStreamRole",
        .object([
          ("Type", .string("AWS::IAM::Role")),
          (
            "Properties",
            .object([
              ("RoleName", sub("${AWS::StackName}-stream")),
              ("AssumeRolePolicyDocument", trust("streams.metrics.cloudwatch.amazonaws.com")),
            ])
          ),
        ])
      ),
      (
        "MetricStreamPolicy",
        .object([
          ("Type", .string("AWS::IAM::ManagedPolicy")),
          (
            "Properties",
            .object([
              ("ManagedPolicyName", sub("${AWS::StackName}-stream")),
              ("Roles", .array([ref("MetricStreamRole")])),
              (
                "PolicyDocument",
                policy([
                  (
                    "PutToTheDeliveryStream", ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    [getAtt("DeliveryStream", "Arn")]
                  )
                ])
              ),
            ])
          ),
        ])
      ),
      // One of the two: a stream of the listed namespaces (or of all), or of all but them.
      ("MetricStream", metricStream(condition: "StreamsIncluded", filters: "IncludeFilters")),
      (
        "MetricStreamExcluding",
        metricStream(condition: "ExcludesNamespaces", filters: "ExcludeFilters")
      ),
    ])

    let outputs: JSONValue = .object([
      (
        "DeliveryStreamArn",
        .object([
          (
            "Description",
            .string(
              "The delivery stream (Ferry records it with each delivery); nothing needs pasting back into Ferry."
            )
          ),
          ("Value", getAtt("DeliveryStream", "Arn")),
        ])
      ),
      (
        "BackupBucketName",
        .object([
          ("Description", .string("Where deliveries Ferry did not accept are kept (14 days).")),
          ("Value", ref("BackupBucket")),
        ])
      ),
      (
        "MetricStreamName",
        .object([
          ("Description", .string("The metric stream.")),
          (
            "Value",
            .object([
              (
                "Fn::If",
                .array([
                  .string("ExcludesNamespaces"), ref("MetricStreamExcluding"), ref("MetricStream"),
                ])
              )
            ])
          ),
        ])
      ),
    ])

    return .object([
      ("AWSTemplateFormatVersion", .string("2010-09-09")),
      (
        "Description",
        .string(
          "Ferry metric shipping: a CloudWatch metric stream to an Amazon Data Firehose HTTP endpoint (Ferry), failed deliveries backed up to S3. Name the stack \(MetricShipping.namePrefix)... so the minimum permissions cover it."
        )
      ),
      ("Parameters", parameters),
      ("Conditions", .object(conditions)),
      ("Resources", resources),
      ("Outputs", outputs),
    ])
  }
}
