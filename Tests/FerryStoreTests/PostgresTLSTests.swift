import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// PostgreSQL over TLS, as libpq's `sslmode` and `sslrootcert` say, against a throwaway
/// server with a self-signed certificate for localhost and 127.0.0.1.
@Suite("PostgreSQL over TLS", .serialized)
struct PostgresTLSTests {
  static let cluster = Result { try ThrowawayPostgres.start(ssl: true) }

  func url(_ query: String, host: String = "127.0.0.1") throws -> String {
    let cluster = try Self.cluster.get()
    let base = cluster.url.replacingOccurrences(of: "127.0.0.1", with: host)
    return base + "?" + query
  }

  /// Whether the store's own connection is encrypted, as the server sees it.
  func encrypted(_ store: PostgresStore) async throws -> Bool {
    let rows = try await store.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    return try rows.first?["ssl"].decode(Bool.self) ?? false
  }

  @Test func requireEncryptsWithoutCheckingTheCertificate() async throws {
    let store = try await PostgresStore(url: try url("sslmode=require"))
    defer { store.close() }
    #expect(try await encrypted(store))
  }

  @Test func verifyFullTrustsTheGivenAuthorityAndChecksTheName() async throws {
    let cert = try Self.cluster.get().certificate
    let store = try await PostgresStore(
      url: try url("sslmode=verify-full&sslrootcert=\(cert)", host: "localhost"))
    defer { store.close() }
    #expect(try await encrypted(store))
  }

  @Test func anUntrustedCertificateIsRefusedWithTheFix() async throws {
    await #expect {
      try await PostgresStore(url: try url("sslmode=verify-full"), callTimeout: .seconds(5))
    } throws: { error in
      let text = "\(error)"
      return text.contains("TLS") && text.contains("sslrootcert")
    }
  }

  @Test func aServerWithoutTLSIsRefusedWhenTLSIsRequired() async throws {
    let plain = try await ThrowawayPostgres.shared()
    await #expect {
      try await PostgresStore(url: plain.url + "?sslmode=require", callTimeout: .seconds(5))
    } throws: { error in
      "\(error)".contains("does not offer TLS")
    }
  }

  @Test func modesDefaultToTLSExceptOnLoopback() throws {
    #expect(
      try PostgresTLS(URLComponents(string: "postgres://u@db.example.com/x")!).mode == .verifyFull)
    #expect(try PostgresTLS(URLComponents(string: "postgres://u@127.0.0.1/x")!).mode == .disable)
    #expect(try PostgresTLS(URLComponents(string: "postgres://u@localhost/x")!).mode == .disable)
    #expect(
      try PostgresTLS(URLComponents(string: "postgres://u@127.0.0.1/x?sslmode=require")!).mode
        == .require)
    #expect(throws: StoreError.self) {
      try PostgresTLS(URLComponents(string: "postgres://u@h/x?sslmode=sometimes")!)
    }
  }
}
