/// One permission Ferry needs for a purpose: an action on a resource, why, and sample
/// requests that a policy must allow for the permission to count as granted.
public struct RequiredPermission: Sendable, Hashable {
  public var action: String
  /// The resource as a policy would name it (`arn:aws:s3:::b/logs/*`).
  public var resource: String
  public var reason: String
  /// The condition under which Ferry makes the calls (the `s3:prefix` it lists with).
  public var condition: ConditionBlock?
  /// Concrete requests that stand for every call Ferry makes with this permission.
  public var probes: [AuthorizationRequest]

  /// A statement that grants exactly this permission.
  public var grantingStatement: Statement {
    Statement(effect: .allow, action: [action], resource: [resource], condition: condition)
  }
}

extension RequiredPermission: Equatable {
  public static func == (a: RequiredPermission, b: RequiredPermission) -> Bool {
    a.action == b.action && a.resource == b.resource
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(action)
    hasher.combine(resource)
  }
}

/// The permissions to deploy, update and delete the metric-shipping stack
/// (``MetricStreamTemplate``): exactly what CloudFormation calls for the resources the
/// template declares (``MetricStreamTemplate/deployActions``), scoped so that they cannot
/// escalate privileges: every resource the stack creates is named after the stack, which
/// starts with ``namePrefix``; roles may be passed only to the services that use them, and
/// only the stack's own policies attached. The public guide's list has more (Lambda,
/// `cloudwatch:PutMetricData`, Firehose's and S3's data actions, `logs:PutLogEvents`):
/// the stack needs none of them, so they are left out; it lacks what CloudFormation needs
/// to read, update and delete what it created (docs/metrics.md says which, and why).
/// Only `logs:DescribeLogGroups`, which AWS authorizes on the account's log groups as a
/// whole, names every log group.
public enum MetricShipping {
  /// Every bucket, stream, role, policy and stack of metric shipping starts with it.
  public static let namePrefix = "ferry-metrics-"

  /// The services a metric-shipping role is passed to: Firehose (its role writes failed
  /// deliveries to the backup bucket) and CloudWatch's metric streams (their role puts
  /// records into the delivery stream).
  public static let passedToServices = [
    "firehose.amazonaws.com", "streams.metrics.cloudwatch.amazonaws.com",
  ]

  /// One grant: actions on resources, with an optional condition.
  public struct Grant: Sendable {
    public var sid: String
    public var actions: [String]
    public var resources: [String]
    public var condition: ConditionBlock?
    /// Condition keys and sample values that Ferry's calls carry, for the probes.
    var context: [String: [String]] = [:]
  }

  public static var grants: [Grant] {
    let p = namePrefix
    return [
      Grant(
        sid: "S3Buckets",
        actions: [
          "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation",
          "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
          "s3:PutLifecycleConfiguration",
        ],
        resources: ["arn:aws:s3:::\(p)*"]),
      Grant(
        sid: "CloudWatchMetricStreams",
        actions: [
          "cloudwatch:PutMetricStream", "cloudwatch:GetMetricStream",
          "cloudwatch:DeleteMetricStream",
        ],
        resources: ["arn:aws:cloudwatch:*:*:metric-stream/\(p)*"]),
      Grant(
        sid: "Logs",
        actions: [
          "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
          "logs:CreateLogStream", "logs:DeleteLogStream", "logs:DescribeLogStreams",
        ],
        resources: ["arn:aws:logs:*:*:log-group:/aws/kinesisfirehose/\(p)*"]),
      Grant(
        sid: "LogsDescribe", actions: ["logs:DescribeLogGroups"],
        resources: ["arn:aws:logs:*:*:log-group:*"]),
      Grant(
        sid: "Firehose",
        actions: [
          "firehose:CreateDeliveryStream", "firehose:DeleteDeliveryStream",
          "firehose:DescribeDeliveryStream", "firehose:UpdateDestination",
        ],
        resources: ["arn:aws:firehose:*:*:deliverystream/\(p)*"]),
      Grant(
        sid: "IAMRoles",
        actions: [
          "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateAssumeRolePolicy",
          "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
        ],
        resources: ["arn:aws:iam::*:role/\(p)*"]),
      Grant(
        sid: "IAMAttachOwnPolicies", actions: ["iam:AttachRolePolicy"],
        resources: ["arn:aws:iam::*:role/\(p)*"],
        condition: ConditionBlock([
          .init(
            ConditionOperator(.arnLike), "iam:PolicyARN", [.string("arn:aws:iam::*:policy/\(p)*")],
            isSingle: true)
        ]),
        context: ["iam:PolicyARN": ["arn:aws:iam::123456789012:policy/\(p)probe"]]),
      Grant(
        sid: "IAMPolicies",
        actions: [
          "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
          "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
          "iam:ListEntitiesForPolicy",
        ],
        resources: ["arn:aws:iam::*:policy/\(p)*"]),
      Grant(
        sid: "IAMPassRoleToServices", actions: ["iam:PassRole"],
        resources: ["arn:aws:iam::*:role/\(p)*"],
        condition: ConditionBlock([
          .init(.stringEquals, "iam:PassedToService", passedToServices.map(ConditionValue.string))
        ]),
        context: ["iam:PassedToService": ["firehose.amazonaws.com"]]),
      Grant(
        sid: "CloudFormation",
        actions: [
          "cloudformation:CreateStack", "cloudformation:DeleteStack",
          "cloudformation:UpdateStack", "cloudformation:DescribeStacks",
          "cloudformation:DescribeStackEvents", "cloudformation:ListStackResources",
        ],
        resources: ["arn:aws:cloudformation:*:*:stack/\(p)*/*"]),
    ]
  }

  /// A concrete resource a pattern stands for, for probes: wildcards filled with sample
  /// region, account and name text.
  static func sample(_ pattern: String) -> String {
    var parts = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
      .map(String.init)
    guard parts.count == 6 else { return "*" }
    if parts[3] == "*" { parts[3] = "us-east-1" }
    if parts[4] == "*" { parts[4] = "123456789012" }
    parts[5] = parts[5].split(separator: "*", omittingEmptySubsequences: false).joined(
      separator: "probe")
    return parts.joined(separator: ":")
  }
}

extension AccessScope {
  /// Every permission Ferry needs for this scope, in the order a person would read them.
  public var requiredPermissions: [RequiredPermission] {
    var out: [RequiredPermission] = []
    switch purpose {
    case .metrics:
      for grant in MetricShipping.grants {
        for action in grant.actions {
          for resource in grant.resources {
            out.append(
              RequiredPermission(
                action: action, resource: resource, reason: "set up metric shipping",
                condition: grant.condition,
                probes: [
                  AuthorizationRequest(
                    action: action, resource: MetricShipping.sample(resource),
                    context: RequestContext(grant.context))
                ]))
          }
        }
      }
      return out
    case .fetcher, .archive:
      out.append(listPermission)
      out.append(
        objectPermission(
          "s3:GetObject",
          reason: purpose == .fetcher ? "download log files" : "read archives back to restore them")
      )
      if purpose == .archive {
        out.append(
          objectPermission(
            "s3:PutObject", reason: "write archive files (single and multipart uploads)"))
        out.append(
          objectPermission(
            "s3:AbortMultipartUpload", reason: "clean up an interrupted multipart upload"))
        out.append(
          objectPermission(
            "s3:RestoreObject",
            reason:
              "thaw archives in a Glacier storage class before a restore reads them (ferry restore start --thaw)"
          ))
      }
      if let queue = queueARN {
        for (action, reason) in Self.queueActions {
          out.append(
            RequiredPermission(
              action: action, resource: queue, reason: reason,
              probes: [AuthorizationRequest(action: action, resource: queue)]))
        }
      }
      if let key = kmsKeyARN {
        out.append(
          kmsPermission(
            "kms:Decrypt", key: key, reason: "read objects encrypted with the key (SSE-KMS)"))
        if purpose == .archive {
          out.append(
            kmsPermission(
              "kms:GenerateDataKey", key: key,
              reason: "write archives encrypted with the key (SSE-KMS)"))
        }
      }
      return out
    }
  }

  /// What a fetcher does with its queue of S3 event notifications (AWS: "Amazon SQS API
  /// permissions: Actions and resources reference").
  static let queueActions: [(String, String)] = [
    ("sqs:ReceiveMessage", "receive the bucket's S3 event notifications"),
    ("sqs:DeleteMessage", "delete a notification once its object is stored"),
    ("sqs:ChangeMessageVisibility", "keep a notification hidden while a large object is read"),
  ]

  private var listPermission: RequiredPermission {
    var condition: ConditionBlock?
    var context = RequestContext()
    if !prefix.isEmpty {
      condition = ConditionBlock([.init(.stringLike, "s3:prefix", [.string(listPrefixPattern)])])
      context.set("s3:prefix", [prefix])
    }
    return RequiredPermission(
      action: "s3:ListBucket", resource: bucketARN,
      reason: prefix.isEmpty
        ? "find new objects in the bucket" : "find new objects under \(prefix)",
      condition: condition,
      probes: [AuthorizationRequest(action: "s3:ListBucket", resource: bucketARN, context: context)]
    )
  }

  private func objectPermission(_ action: String, reason: String) -> RequiredPermission {
    // Two sample keys, one shallow and one deep, stand for "every object under the prefix".
    let keys = ["ferry-check.log", "2024/01/01/ferry-check.log.gz"]
    return RequiredPermission(
      action: action, resource: objectsResource, reason: reason,
      probes: keys.map {
        AuthorizationRequest(action: action, resource: "\(bucketARN)/\(prefix)\($0)")
      })
  }

  private func kmsPermission(_ action: String, key: String, reason: String) -> RequiredPermission {
    RequiredPermission(
      action: action, resource: key, reason: reason,
      probes: [AuthorizationRequest(action: action, resource: key)])
  }
}
