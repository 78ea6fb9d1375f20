import FerryPolicy
import Foundation

func policyBenchmarks(fixtures: URL, seconds: Double) throws -> [String: Double] {
  let data = try Data(contentsOf: fixtures.appendingPathComponent("policy-10.json"))
  let policy = try PolicyDocument.parse(data)
  let context = RequestContext([
    "aws:RequestedRegion": ["us-east-1"], "s3:prefix": ["logs/"],
    "kms:ViaService": ["s3.us-east-1.amazonaws.com"],
  ])
  let requests = [
    ("s3:GetObject", "arn:aws:s3:::bucket-8/logs/2024/app.log"),
    ("s3:ListBucket", "arn:aws:s3:::bucket-4"),
    ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k5"),
    ("s3:PutObject", "arn:aws:s3:::bucket-8/logs/x"),
  ].map { AuthorizationRequest(action: $0.0, resource: $0.1, context: context) }
  var i = 0
  let evals = measure(seconds: seconds) {
    let result = PolicyEvaluator.evaluate(policy, request: requests[i & 3])
    sink &+= result.decision == .allow ? 1 : 0
    i &+= 1
  }

  // A 100-statement policy: the 10-statement one repeated with distinct Sids and buckets.
  var big = policy
  big.statements = (0..<100).map { n in
    var s = policy.statements[n % 10]
    s.sid = "S\(n)"
    s.resource = s.resource.map {
      StringList($0.values.map { $0.replacingOccurrences(of: "bucket-", with: "b\(n)-") })
    }
    return s
  }
  let bigJSON = Data(big.json().utf8)
  let lints = measure(seconds: seconds, batch: 5) {
    sink &+= PolicyLinter.lint(big).count
  }
  // Baseline in the same run: Foundation parsing the same 100-statement document.
  let parses = measure(seconds: seconds, batch: 5) {
    sink &+= ((try? JSONSerialization.jsonObject(with: bigJSON)) as? [String: Any])?.count ?? 0
  }
  return [
    "evaluations_per_second": evals,
    "lint_100_statements_ms": 1000 / lints,
    "json_parse_100_statements_ms": 1000 / parses,
  ]
}
