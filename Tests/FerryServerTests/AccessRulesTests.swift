import FerryTesting
import Foundation
import Testing

/// Who may do what, over real HTTP: members read but change nothing, another account's
/// connection answers 404, operators alone manage accounts, the external ID is never taken
/// from a request, and bad requests get problem documents (400 with the position, 404,
/// 413), never a 5xx.
@Suite("ferry serve: access rules and bad requests", .serialized)
struct AccessRulesTests {
  func setUp() async throws -> (ConnectWorld, API, admin: String) {
    let world = try await ConnectFlowTests.world.get()
    return (world, API(world.server.url), try #require(world.server.firstToken))
  }

  @Test func membersReadButChangeNothing() async throws {
    let (world, api, admin) = try await setUp()
    let issued = try await api.post(
      "/api/v1/tokens", token: admin, ["name": "reader", "role": "member"])
    #expect(issued.status == 201, "\(issued.text)")
    let member = try #require(issued.json["secret"] as? String)
    #expect(try await api.get("/api/v1/connections", token: member).status == 200)
    #expect(try await api.get("/api/v1/connection-info", token: member).status == 200)
    let create = try await api.post(
      "/api/v1/connections", token: member,
      [
        "bucket": world.bucket, "region": "us-east-1",
        "roleArn": "arn:aws:iam::222233334444:role/x",
      ])
    #expect(create.status == 403, "\(create.text)")
    #expect(try await api.post("/api/v1/tokens", token: member, ["name": "more"]).status == 403)
    #expect(try await api.get("/api/v1/audit", token: member).status == 403)
    #expect(try await api.get("/api/v1/accounts", token: member).status == 403)
    // Fetchers: members see them, never create one (refused before the body is looked at).
    #expect(try await api.get("/api/v1/fetchers", token: member).status == 200)
    let fetcher = try await api.post(
      "/api/v1/fetchers", token: member, ["connectionId": "conn_x", "name": "x"])
    #expect(fetcher.status == 403, "\(fetcher.text)")
    // The listing of tokens never shows a secret.
    let tokens = try await api.get("/api/v1/tokens", token: admin)
    #expect(!tokens.text.contains(member))
    #expect(!tokens.text.contains(admin))
  }

  @Test func anotherAccountsConnectionDoesNotExistForIt() async throws {
    let (world, api, admin) = try await setUp()
    let made = try await api.post(
      "/api/v1/accounts", token: admin, ["name": "globex-\(UUID().uuidString.prefix(6))"])
    #expect(made.status == 201, "\(made.text)")
    let other = try #require(made.json["adminToken"] as? String)
    let connections = try await api.get("/api/v1/connections", token: admin)
    let mine =
      (connections.json["connections"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
      ?? []
    // A connection of the first account, made in the flow test or made here.
    var id = mine.first
    if id == nil {
      try await ConnectFlowTests.runFlow(
        world: world, server: world.server, roleName: "ferry-access-fetcher")
      let again = try await api.get("/api/v1/connections", token: admin)
      id = (again.json["connections"] as? [[String: Any]])?.first?["id"] as? String
    }
    let connection = try #require(id)
    let theirs = try await api.get("/api/v1/connections/\(connection)", token: other)
    #expect(theirs.status == 404, "\(theirs.text)")
    #expect(
      try await api.call(.DELETE, "/api/v1/connections/\(connection)", token: other).status == 404)
    #expect(
      try await api.call(.POST, "/api/v1/connections/\(connection)/check", token: other).status
        == 404)
    #expect(
      (try await api.get("/api/v1/connections", token: other).json["connections"] as? [Any])?
        .isEmpty == true)
    // Its own external ID, not the first account's.
    let infoA = try await api.get("/api/v1/connection-info", token: admin)
    let infoB = try await api.get("/api/v1/connection-info", token: other)
    #expect(infoA.json["externalId"] as? String != infoB.json["externalId"] as? String)
    // Still there for its owner; not an operator, the other admin cannot list accounts.
    #expect(try await api.get("/api/v1/connections/\(connection)", token: admin).status == 200)
    #expect(try await api.get("/api/v1/accounts", token: other).status == 403)
  }

  @Test func theExternalIDIsNeverTakenFromARequest() async throws {
    let (world, api, admin) = try await setUp()
    let answer = try await api.post(
      "/api/v1/connections", token: admin,
      [
        "bucket": world.bucket, "region": "us-east-1", "externalId": "ferry:aws:extid:mine",
        "roleArn": "arn:aws:iam::222233334444:role/ferry-s3-fetcher",
      ])
    #expect(answer.status == 400, "\(answer.text)")
    #expect(answer.json["field"] as? String == "externalId")
  }

  @Test func badRequestsGetProblemDocuments() async throws {
    let (_, api, admin) = try await setUp()
    let malformed = try await api.call(
      .POST, "/api/v1/role-policy", token: admin, body: "{\"bucket\": \"b\",\n \"prefix\": }")
    #expect(malformed.status == 400)
    #expect((malformed.json["detail"] as? String)?.contains("line 2") == true, "\(malformed.text)")
    let unknown = try await api.get("/api/v1/nothing-here", token: admin)
    #expect(unknown.status == 404)
    #expect(unknown.header("Content-Type") == "application/problem+json")
    let huge = String(repeating: "a", count: 2 << 20)
    let large = try await api.call(
      .POST, "/api/v1/role-policy", token: admin, body: "{\"bucket\": \"\(huge)\"}")
    #expect(large.status == 413, "\(large.text.prefix(300))")
    let typo = try await api.post("/api/v1/role-policy", token: admin, ["bukket": "x"])
    #expect(typo.status == 400)
    #expect(typo.json["field"] as? String == "bukket")
    let badBucket = try await api.post("/api/v1/role-policy", token: admin, ["bucket": "My_Logs"])
    #expect(badBucket.status == 400)
    #expect(badBucket.json["field"] as? String == "bucket")
    #expect(try await api.get("/api/v1/connections", token: nil).status == 401)
    #expect(try await api.get("/api/v1/connections", token: "fry_not-a-token").status == 401)
    // Every answer names its request, for support.
    #expect(unknown.header("X-Request-ID")?.isEmpty == false)
  }

  @Test func healthReadinessAndMetricsAnswerWithoutAToken() async throws {
    let (_, api, _) = try await setUp()
    #expect(try await api.get("/healthz", token: nil).status == 200)
    let ready = try await api.get("/readyz", token: nil)
    #expect(ready.status == 200, "\(ready.text)")
    let metrics = try await api.get("/metrics", token: nil)
    #expect(metrics.status == 200)
    #expect(metrics.text.contains("ferry_http_requests_total"))
    #expect(metrics.text.contains("ferry_http_request_duration_seconds_bucket"))
  }
}
