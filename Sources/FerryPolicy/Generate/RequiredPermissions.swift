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

/// The minimum permissions for metric shipping, as the public guide lists them, by service.
public enum MetricShipping {
  public static let permissionsByService: [(sid: String, actions: [String])] = [
    (
      "S3",
      [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject",
        "s3:ListBucket", "s3:AbortMultipartUpload", "s3:GetBucketLocation",
      ]
    ),
    (
      "Lambda",
      [
        "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:InvokeFunction",
        "lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
        "lambda:AddPermission", "lambda:RemovePermission", "lambda:ListFunctions",
      ]
    ),
    (
      "CloudWatch",
      [
        "cloudwatch:PutMetricData", "cloudwatch:PutMetricStream", "logs:CreateLogGroup",
        "logs:CreateLogStream", "logs:PutLogEvents", "logs:DeleteLogGroup", "logs:DeleteLogStream",
      ]
    ),
    (
      "Firehose",
      [
        "firehose:CreateDeliveryStream", "firehose:DeleteDeliveryStream", "firehose:PutRecord",
        "firehose:PutRecordBatch",
      ]
    ),
    (
      "IAM",
      [
        "iam:PassRole", "iam:CreateRole", "iam:DeleteRole", "iam:AttachRolePolicy",
        "iam:DetachRolePolicy", "iam:GetRole", "iam:CreatePolicy", "iam:DeletePolicy",
        "iam:GetPolicy",
      ]
    ),
    (
      "CloudFormation",
      [
        "cloudformation:CreateStack", "cloudformation:DeleteStack", "cloudformation:UpdateStack",
        "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
        "cloudformation:ListStackResources",
      ]
    ),
  ]
}

extension AccessScope {
  /// Every permission Ferry needs for this scope, in the order a person would read them.
  public var requiredPermissions: [RequiredPermission] {
    var out: [RequiredPermission] = []
    switch purpose {
    case .metrics:
      for (_, actions) in MetricShipping.permissionsByService {
        for action in actions {
          out.append(
            RequiredPermission(
              action: action, resource: "*", reason: "metric shipping",
              probes: [AuthorizationRequest(action: action, resource: "*")]))
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
