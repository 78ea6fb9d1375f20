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
    let name = "globex-\(UUID().uuidString.prefix(6))"
    let made = try await api.post("/api/v1/accounts", token: admin, ["name": name])
    #expect(made.status == 201, "\(made.text)")
    let other = try #require(made.json["adminToken"] as? String)
    // A name that is taken is a conflict; one that is not valid is bad input.
    let taken = try await api.post("/api/v1/accounts", token: admin, ["name": name.uppercased()])
    #expect(taken.status == 409 && taken.text.contains("exists already"), "\(taken.text)")
    let invalid = try await api.post("/api/v1/accounts", token: admin, ["name": "bad\u{7}name"])
    #expect(invalid.status == 400 && invalid.text.contains("control"), "\(invalid.text)")
    // A retention past any Int is refused, not a crash (found by schemathesis).
    let huge = try await api.call(
      .POST, "/api/v1/accounts", token: admin,
      body: #"{"name": "huge-retention", "retentionDays": 1143892394881503545262080}"#)
    #expect(huge.status == 400 && huge.json["field"] as? String == "retentionDays", "\(huge.text)")
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

  @Test func anAccountKeepsAnAdminAndOperatorsHaveAWayBackIn() async throws {
    let (_, api, admin) = try await setUp()
    let made = try await api.post(
      "/api/v1/accounts", token: admin, ["name": "initech-\(UUID().uuidString.prefix(6))"])
    #expect(made.status == 201, "\(made.text)")
    let account = try #require(made.json["id"] as? String)
    let only = try #require(made.json["adminToken"] as? String)
    let me = try await api.get("/api/v1/me", token: only)
    let onlyID = try #require((me.json["token"] as? [String: Any])?["id"] as? String)
    // Its only admin token cannot be revoked, by itself or anyone.
    let refused = try await api.call(.DELETE, "/api/v1/tokens/\(onlyID)", token: only)
    #expect(refused.status == 409, "\(refused.text)")
    #expect((refused.json["detail"] as? String)?.contains("last admin credential") == true)
    #expect(try await api.get("/api/v1/tokens", token: only).status == 200, "still works")
    // An operator issues a token into the account (audited there); an admin of another
    // account cannot.
    let intruder = try await api.post(
      "/api/v1/accounts/\(account)/tokens", token: only, ["name": "x", "role": "admin"])
    #expect(intruder.status == 403, "\(intruder.text)")
    let missing = try await api.post(
      "/api/v1/accounts/acct_nothing/tokens", token: admin, ["name": "x", "role": "admin"])
    #expect(missing.status == 404, "\(missing.text)")
    let rescue = try await api.post(
      "/api/v1/accounts/\(account)/tokens", token: admin, ["name": "recovery", "role": "admin"])
    #expect(rescue.status == 201, "\(rescue.text)")
    let second = try #require(rescue.json["secret"] as? String)
    let secondMe = try await api.get("/api/v1/me", token: second)
    #expect((secondMe.json["account"] as? [String: Any])?["id"] as? String == account)
    let audit = try await api.get("/api/v1/audit", token: second)
    let entries = audit.json["entries"] as? [[String: Any]] ?? []
    #expect(entries.first?["action"] as? String == "token.issue", "\(audit.text.prefix(400))")
    // Now the first may go, and the second is the last.
    #expect(try await api.call(.DELETE, "/api/v1/tokens/\(onlyID)", token: second).status == 204)
    let secondID = try #require((secondMe.json["token"] as? [String: Any])?["id"] as? String)
    #expect(try await api.call(.DELETE, "/api/v1/tokens/\(secondID)", token: second).status == 409)
  }

  @Test func hostileQueriesAnswer400AndTheServerStaysUp() async throws {
    let (_, api, admin) = try await setUp()
    func nested(_ depth: Int) -> String {
      String(repeating: "(", count: depth) + "x" + String(repeating: ")", count: depth)
    }
    func encoded(_ text: String) -> String {
      text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
    for (what, path) in [
      ("3,000 nested parentheses", "/api/v1/search?q=\(encoded(nested(3000)))"),
      ("a span of 99999999999 days", "/api/v1/search?from=99999999999d"),
      ("a relative end past any date", "/api/v1/search?to=99999999999w"),
      ("a leading wildcard", "/api/v1/search?q=\(encoded("*rror"))"),
    ] {
      let answer = try await api.get(path, token: admin)
      #expect(answer.status == 400, "\(what): \(answer.status) \(answer.text.prefix(300))")
    }
    let restore = try await api.post(
      "/api/v1/restores", token: admin,
      ["from": "1d", "to": "now", "dryRun": true, "query": nested(100_000)])
    #expect(restore.status == 400, "\(restore.text.prefix(300))")
    #expect(restore.json["field"] as? String == "query", "\(restore.text.prefix(300))")
    #expect(try await api.get("/healthz", token: nil).status == 200)
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
    #expect(large.header("Connection") == "close", "the unread rest of the body is not kept")
    let typo = try await api.post("/api/v1/role-policy", token: admin, ["bukket": "x"])
    #expect(typo.status == 400)
    #expect(typo.json["field"] as? String == "bukket")
    let badBucket = try await api.post("/api/v1/role-policy", token: admin, ["bucket": "My_Logs"])
    #expect(badBucket.status == 400)
    #expect(badBucket.json["field"] as? String == "bucket")
    #expect(try await api.get("/api/v1/connections", token: nil).status == 401)
    let unknown401 = try await api.get("/api/v1/connections", token: "fry_not-a-token")
    #expect(unknown401.status == 401)
    #expect(unknown401.json["title"] as? String == "Ferry does not know that token")
    let missing401 = try await api.get("/api/v1/connections", token: nil)
    #expect((missing401.json["detail"] as? String)?.contains("needs an API token") == true)
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
