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
    func namespaces(_ parameter: String) -> JSONValue {
      // A filter per namespace in the comma-separated list (at most 10 here; more can be
      // given by editing the template).
      .array(
        (0..<10).map { index in
          ifThen(
            "\(parameter)\(index)",
            .object([
              (
                "Namespace",
                .object([
                  ("Fn::Select", .array([.number(Double(index)), ref(parameter)]))
                ])
              )
            ]))
        })
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
        "IncludeNamespaces",
        .object([
          ("Type", .string("CommaDelimitedList")), ("Default", .string("")),
          (
            "Description",
            .string(
              "Only these namespaces (e.g. AWS/EC2,AWS/RDS), at most 10; empty: all. Give either this or ExcludeNamespaces."
            )
          ),
        ])
      ),
      (
        "ExcludeNamespaces",
        .object([
          ("Type", .string("CommaDelimitedList")), ("Default", .string("")),
          ("Description", .string("Every namespace but these, at most 10; empty: none left out.")),
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
    for parameter in ["IncludeNamespaces", "ExcludeNamespaces"] {
      let joined: JSONValue = .object([
        ("Fn::Join", .array([.string(","), ref(parameter)]))
      ])
      conditions.append(
        (
          "Has\(parameter)",
          .object([
            ("Fn::Not", .array([.object([("Fn::Equals", .array([joined, .string("")]))])]))
          ])
        ))
      // The list has more than `index` entries: `Fn::Select` of it is defined.
      for index in 0..<10 {
        let atLeast: JSONValue = .object([
          (
            "Fn::Not",
            .array([
              .object([
                (
                  "Fn::Equals",
                  .array([
                    .object([
                      (
                        "Fn::Select",
                        .array([
                          .number(Double(index)),
                          .object([
                            (
                              "Fn::Split",
                              .array([
                                .string(","),
                                .object([
                                  (
                                    "Fn::Join",
                                    .array([
                                      .string(","),
                                      .array([
                                        .object([
                                          ("Fn::Join", .array([.string(","), ref(parameter)]))
                                        ]),
                                        .string(String(repeating: ",", count: 10)),
                                      ]),
                                    ])
                                  )
                                ]),
                              ])
                            )
                          ]),
                        ])
                      )
                    ]),
                    .string(""),
                  ])
                )
              ])
            ])
          )
        ])
        conditions.append(("\(parameter)\(index)", atLeast))
      }
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
      (
        "MetricStream",
        .object([
          ("Type", .string("AWS::CloudWatch::MetricStream")),
          ("DependsOn", .array([.string("MetricStreamPolicy")])),
          (
            "Properties",
            .object([
              ("Name", ref("AWS::StackName")),
              ("FirehoseArn", getAtt("DeliveryStream", "Arn")),
              ("RoleArn", getAtt("MetricStreamRole", "Arn")),
              ("OutputFormat", ref("OutputFormat")),
              ("IncludeFilters", ifThen("HasIncludeNamespaces", namespaces("IncludeNamespaces"))),
              ("ExcludeFilters", ifThen("HasExcludeNamespaces", namespaces("ExcludeNamespaces"))),
            ])
          ),
        ])
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
        .object([("Description", .string("The metric stream.")), ("Value", ref("MetricStream"))])
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
