import AsyncHTTPClient
import FerryCore
import FerryStore
import FerryTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Password sign-in cannot be used to wear the server down or to guess a password: checks
/// run a few at a time and the rest are refused at once (429) rather than each taking a
/// thread and 32 MiB; an email that keeps failing is locked out for a while (429 with
/// Retry-After), even with the right password; each failure is on the record of the
/// account the email belongs to.
@Suite("ferry serve: password sign-in limits", .serialized)
struct SignInLimitTests {
  /// `ferry serve` on a new data directory, its first token and account, and a member of
  /// that account with a password, set the way an invitation sets it.
  static func serverWithUser(_ name: String, email: String, password: String) async throws -> (
    ServerProcess, API, String, AccountID, SQLiteStore, User, String
  ) {
    let data = try TestPaths.temporaryDirectory(name)
    let server = try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--aws-endpoint", "http://127.0.0.1:9", "--platform-account-id",
        "111122223333", "--recheck-interval", "off",
      ], environment: ["AWS_EC2_METADATA_DISABLED": "true"])
    let api = API(server.url)
    let token = try #require(server.firstToken)
    let me = try await api.get("/api/v1/me", token: token)
    let account = AccountID(
      rawValue: try #require((me.json["account"] as? [String: Any])?["id"] as? String))
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    let user = User(accountID: account, email: email, role: .member)
    try await store.addUser(user, actor: "test")
    let invitation = try #require(
      try await store.inviteUser(
        user.id, of: account, expiresAt: Date().addingTimeInterval(3600), actor: "test"))
    _ = try await store.acceptInvitation(
      secret: invitation.revealed, passwordHash: try PasswordHash.make(password), at: Date())
    return (server, api, token, account, store, user, password)
  }

  @Test func signInsAreBoundedLockedOutAfterFailuresAndAudited() async throws {
    let (server, api, _, account, store, user, password) = try await Self.serverWithUser(
      "ferry-sign-in", email: "dana@example.com", password: "a ferry across the river")
    defer { _ = server.stop() }

    // The sign-in form's token comes with its cookie.
    let page = try await api.get("/sign-in", token: nil)
    let cookie = try #require(
      page.headers.first { $0.0.lowercased() == "set-cookie" && $0.1.hasPrefix("ferry_signin=") }?
        .1.split(separator: ";").first.map(String.init))
    let csrf = String(cookie.dropFirst("ferry_signin=".count))
    func signIn(_ email: String, _ password: String) async throws -> APIResponse {
      let form = [("csrf", csrf), ("email", email), ("password", password)].map {
        "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
      }.joined(separator: "&")
      return try await api.call(
        .POST, "/sign-in/user", token: nil, body: form,
        headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)])
    }

    // A burst of sign-ins, each on its own connection: a few are checked at a time, those
    // past the queue are refused at once, and the server answers everyone.
    var pool = HTTPClient.Configuration()
    pool.connectionPool = .init(
      idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
    let burst = HTTPClient(eventLoopGroupProvider: .singleton, configuration: pool)
    let answers = try await withThrowingTaskGroup(of: Int.self) { group in
      for n in 0..<48 {
        group.addTask {
          var request = HTTPClientRequest(url: server.url + "/sign-in/user")
          request.method = .POST
          request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
          request.headers.add(name: "Cookie", value: cookie)
          request.body = .bytes(
            ByteBuffer(string: "csrf=\(csrf)&email=nobody\(n)%40example.com&password=wrong\(n)"))
          let response = try await burst.execute(request, timeout: .seconds(120))
          _ = try await response.body.collect(upTo: 1 << 20)
          return Int(response.status.code)
        }
      }
      return try await group.reduce(into: [Int]()) { $0.append($1) }
    }
    try await burst.shutdown()
    #expect(Set(answers).isSubset(of: [401, 429]), "\(answers)")
    #expect(answers.contains(429), "past the queue, sign-ins are refused at once: \(answers)")
    #expect(try await api.get("/healthz", token: nil).status == 200)

    // Ten wrong passwords for an email lock it out, even for the right one.
    for attempt in 1...10 {
      let wrong = try await signIn(user.email, "not it \(attempt)")
      #expect(wrong.status == 401, "attempt \(attempt): \(wrong.status)")
    }
    let locked = try await signIn(user.email, password)
    #expect(locked.status == 429, "\(locked.status)")
    #expect(Int(locked.header("Retry-After") ?? "") ?? 0 > 60)
    #expect(locked.text.contains("too many sign-ins failed"))
    // Each failure is on the account's record, never with the password.
    let audit = try await store.auditLog(of: account, limit: 50)
    let failures = audit.filter { $0.action == "user.sign-in-failed" && $0.target == user.id }
    #expect(failures.count == 10, "\(audit.map(\.action))")
    #expect(!audit.contains { ($0.after ?? "").contains("not it") })
  }

  /// A disabled user's browser session ends at once; an enabled one signs in again; the
  /// API refuses to disable the account's last admin credential.
  @Test func disablingAUserEndsTheirSessionAtOnce() async throws {
    let (server, api, token, account, store, user, password) = try await Self.serverWithUser(
      "ferry-disable", email: "eve@example.com", password: "the ferryman's long password")
    defer { _ = server.stop() }

    // A browser's view: redirects are answers, not followed.
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    defer { _ = browser.shutdown() }
    func send(_ method: HTTPMethod, _ path: String, cookie: String, form: String? = nil)
      async throws -> APIResponse
    {
      var request = HTTPClientRequest(url: server.url + path)
      request.method = method
      request.headers.add(name: "Cookie", value: cookie)
      if let form {
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
      }
      let response = try await browser.execute(request, timeout: .seconds(60))
      let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
      return APIResponse(
        status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
        text: text)
    }
    func cookie(_ response: APIResponse, _ name: String) -> String? {
      response.headers.first { $0.0.lowercased() == "set-cookie" && $0.1.hasPrefix(name + "=") }?
        .1.split(separator: ";").first.map(String.init)
    }
    func signIn() async throws -> String? {
      let page = try await api.get("/sign-in", token: nil)
      let signInCookie = try #require(cookie(page, "ferry_signin"))
      let csrf = String(signInCookie.dropFirst("ferry_signin=".count))
      let form =
        "csrf=\(csrf)&email=eve%40example.com&password="
        + (password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
      let answer = try await send(.POST, "/sign-in/user", cookie: signInCookie, form: form)
      return cookie(answer, "ferry_session")
    }
    let session = try #require(try await signIn(), "Eve signs in")
    let before = try await send(.GET, "/buckets", cookie: session)
    #expect(before.status == 200)

    let disabled = try await api.call(
      .PATCH, "/api/v1/users/\(user.id)", token: token, body: #"{"disabled":true}"#)
    #expect(disabled.status == 200, "\(disabled.text)")
    #expect(disabled.json["disabled"] as? Bool == true)
    let after = try await send(.GET, "/buckets", cookie: session)
    #expect(after.status == 303, "the session ended: \(after.status)")
    #expect(try await signIn() == nil, "a disabled user cannot sign in")

    let enabled = try await api.call(
      .PATCH, "/api/v1/users/\(user.id)", token: token, body: #"{"disabled":false}"#)
    #expect(enabled.status == 200)
    #expect(try await signIn() != nil, "enabled again, Eve signs in")
    let removed = try await api.call(.DELETE, "/api/v1/users/\(user.id)", token: token)
    #expect(removed.status == 204)
    #expect(try await api.call(.DELETE, "/api/v1/users/\(user.id)", token: token).status == 404)
    let audit = try await store.auditLog(of: account, limit: 20).map(\.action)
    #expect(audit.contains("user.update") && audit.contains("user.remove"), "\(audit)")
  }
}
