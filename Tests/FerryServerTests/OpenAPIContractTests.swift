import FerryAWS
import FerryAWSSigning
import FerryServer
import FerryTesting
import Foundation
import Logging
import Testing

/// The OpenAPI document is the contract: every route the router answers is in it and
/// every operation in it is routed, and real answers of a running server (success and
/// problem documents) match the schemas the document gives for their status.
@Suite("OpenAPI document and server agree")
struct OpenAPIContractTests {
  static let documentURL = TestPaths.packageRoot.appendingPathComponent(
    "Sources/FerryServer/Resources/openapi.json")

  static func document() throws -> [String: Any] {
    try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: documentURL)) as? [String: Any])
  }

  @Test func everyRouteIsDocumentedAndEveryOperationIsRouted() throws {
    let server = FerryServer(
      configuration: ServerConfiguration(platformAccountID: "111122223333"),
      store: try TestStore.sqlite(), awsClient: AWSClient(),
      platformCredentials: StaticCredentialProvider(
        .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "unused")),
      logger: Logger(label: "test"))
    let routed = Set(server.routeDescriptions())
    let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
    let documented = Set(
      paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
    #expect(
      routed == documented,
      "routed only: \(routed.subtracting(documented)); documented only: \(documented.subtracting(routed))"
    )
  }

  @Test func theValidatorRefusesWhatTheDocumentDoesNotSay() throws {
    let validator = try SchemaValidator(document: Self.document())
    func response(_ status: Int, _ text: String) -> APIResponse {
      APIResponse(status: status, headers: [("Content-Type", "application/json")], text: text)
    }
    #expect(
      validator.validate(response(200, #"{"status":"ok"}"#), path: "/healthz", method: "get")
        .isEmpty)
    #expect(
      !validator.validate(response(200, #"{"status":1}"#), path: "/healthz", method: "get").isEmpty)
    #expect(
      !validator.validate(response(200, #"{"status":"ok","x":1}"#), path: "/healthz", method: "get")
        .isEmpty)
    #expect(
      !validator.validate(response(418, #"{"status":"ok"}"#), path: "/healthz", method: "get")
        .isEmpty)
    #expect(
      !validator.validate(
        response(200, #"{"awsAccountId":"1","principalArn":"a","externalId":true}"#),
        path: "/api/v1/connection-info", method: "get"
      ).isEmpty)
  }

  @Test func answersOfARunningServerMatchTheirSchemas() async throws {
    let world = try await ConnectFlowTests.world.get()
    let api = API(world.server.url)
    let token = try #require(world.server.firstToken)
    let validator = try SchemaValidator(document: Self.document())
    var checked: [(String, String, APIResponse)] = [
      ("/healthz", "get", try await api.get("/healthz", token: nil)),
      ("/readyz", "get", try await api.get("/readyz", token: nil)),
      ("/api/v1/me", "get", try await api.get("/api/v1/me", token: token)),
      (
        "/api/v1/connection-info", "get", try await api.get("/api/v1/connection-info", token: token)
      ),
      (
        "/api/v1/role-policy", "post",
        try await api.post(
          "/api/v1/role-policy", token: token, ["bucket": world.bucket, "prefix": "app"])
      ),
      (
        "/api/v1/role-policy", "post",
        try await api.post("/api/v1/role-policy", token: token, ["bucket": "No_Such"])
      ),
      ("/api/v1/connections", "get", try await api.get("/api/v1/connections", token: token)),
      ("/api/v1/connections", "get", try await api.get("/api/v1/connections", token: nil)),
      ("/api/v1/audit", "get", try await api.get("/api/v1/audit?limit=5", token: token)),
      ("/api/v1/tokens", "get", try await api.get("/api/v1/tokens", token: token)),
      ("/api/v1/users", "get", try await api.get("/api/v1/users", token: token)),
      ("/api/v1/search", "get", try await api.get("/api/v1/search?q=error&from=1h", token: token)),
      ("/api/v1/search", "get", try await api.get("/api/v1/search?q=%28", token: token)),
      (
        "/api/v1/search/histogram", "get",
        try await api.get("/api/v1/search/histogram?from=1h&buckets=4", token: token)
      ),
      ("/api/v1/accounts", "get", try await api.get("/api/v1/accounts", token: token)),
      (
        "/api/v1/connections/{id}", "get",
        try await api.get("/api/v1/connections/conn_missing", token: token)
      ),
      (
        "/api/v1/connections", "post",
        try await api.post(
          "/api/v1/connections", token: token,
          [
            "bucket": world.bucket, "region": "us-east-1", "prefix": "app",
            "roleArn": "arn:aws:iam::\(world.aws.customerAccount):role/no-such-role-for-openapi",
          ])
      ),
    ]
    let issued = try await api.post(
      "/api/v1/tokens", token: token, ["name": "openapi", "role": "member"])
    checked.append(("/api/v1/tokens", "post", issued))
    for (path, method, response) in checked {
      let problems = validator.validate(response, path: path, method: method)
      #expect(
        problems.isEmpty,
        "\(method.uppercased()) \(path) → \(response.status): \(problems)\n\(response.text.prefix(600))"
      )
    }
  }
}

/// Checks a response against the document: the status must be documented for the
/// operation, and the body must match that response's schema (types, required and only
/// the listed properties, enums, items, `$ref`, `oneOf`).
struct SchemaValidator {
  let document: [String: Any]

  init(document: [String: Any]) throws { self.document = document }

  func validate(_ response: APIResponse, path: String, method: String) -> [String] {
    guard
      let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method]
        as? [String: Any],
      let responses = operation["responses"] as? [String: Any]
    else { return ["\(method) \(path) is not in the document"] }
    guard let documented = responses[String(response.status)] as? [String: Any] else {
      return ["status \(response.status) is not documented"]
    }
    guard let content = documented["content"] as? [String: Any] else {
      return response.text.isEmpty ? [] : ["a body where none is documented"]
    }
    let type = response.header("Content-Type") ?? ""
    guard let media = content[type] as? [String: Any], let schema = media["schema"] else {
      return ["content type \(type) is not documented (\(content.keys.sorted()))"]
    }
    guard
      let body = try? JSONSerialization.jsonObject(
        with: Data(response.text.utf8), options: [.fragmentsAllowed])
    else {
      return ["the body is not JSON"]
    }
    return check(body, schema, at: "$")
  }

  /// Foundation reads JSON booleans as NSNumbers of a boolean class (`__NSCFBoolean`).
  static func isBoolean(_ value: Any) -> Bool {
    String(describing: type(of: value)).contains("Boolean") || type(of: value) == Bool.self
  }

  func resolve(_ schema: Any) -> [String: Any] {
    guard let object = schema as? [String: Any] else { return [:] }
    guard let ref = object["$ref"] as? String else { return object }
    let name = ref.replacingOccurrences(of: "#/components/schemas/", with: "")
    let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
    return resolve(schemas?[name] ?? [:])
  }

  func check(_ value: Any, _ raw: Any, at path: String) -> [String] {
    let schema = resolve(raw)
    if let options = schema["oneOf"] as? [Any] {
      let matching = options.filter { check(value, $0, at: path).isEmpty }
      return matching.count == 1 ? [] : ["\(path): matches \(matching.count) of oneOf"]
    }
    if let allowed = schema["enum"] as? [String], let text = value as? String,
      !allowed.contains(text)
    {
      return ["\(path): \(text) is not one of \(allowed)"]
    }
    switch schema["type"] as? String {
    case "object":
      guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
      var problems: [String] = []
      let properties = schema["properties"] as? [String: Any] ?? [:]
      for name in schema["required"] as? [String] ?? [] where object[name] == nil {
        problems.append("\(path).\(name) is required")
      }
      for (name, item) in object {
        if let property = properties[name] {
          problems += check(item, property, at: "\(path).\(name)")
        } else if schema["additionalProperties"] as? Bool == false {
          problems.append("\(path).\(name) is not in the schema")
        }
      }
      return problems
    case "array":
      guard let items = value as? [Any] else { return ["\(path): not an array"] }
      return items.enumerated().flatMap { check($1, schema["items"] ?? [:], at: "\(path)[\($0)]") }
    case "string": return value is String ? [] : ["\(path): not a string"]
    case "boolean": return Self.isBoolean(value) ? [] : ["\(path): not a boolean"]
    case "integer":
      guard let number = value as? NSNumber, !Self.isBoolean(value) else {
        return ["\(path): not an integer"]
      }
      return number.doubleValue.rounded() == number.doubleValue ? [] : ["\(path): not an integer"]
    case "null": return value is NSNull ? [] : ["\(path): not null"]
    default: return []
    }
  }
}
