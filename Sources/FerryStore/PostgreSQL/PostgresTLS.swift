import FerryCore
import Foundation
import NIOSSL
import PostgresNIO

/// TLS to PostgreSQL, from the URL's `sslmode` and `sslrootcert`, as libpq reads them.
/// Without `sslmode`, a server on loopback is reached in plain text and any other server
/// over TLS with its certificate verified (`verify-full`) against the system's trust
/// store or `sslrootcert`: a database password never crosses a network in the clear unless
/// the URL says so.
public struct PostgresTLS: Sendable, Equatable {
  public enum Mode: String, Sendable, Equatable, CaseIterable {
    /// Plain text.
    case disable
    /// TLS when the server offers it, else plain text; the certificate is not checked.
    case prefer
    /// TLS, the certificate not checked (protects against eavesdroppers only).
    case require
    /// TLS, the certificate must be signed by a trusted authority.
    case verifyCA = "verify-ca"
    /// TLS, trusted certificate, and it must name the host.
    case verifyFull = "verify-full"
  }

  public var mode: Mode
  /// A PEM file of the certificate authorities to trust (`sslrootcert`).
  public var rootCertificate: String?

  init(_ components: URLComponents) throws {
    let items = components.queryItems ?? []
    func value(_ name: String) -> String? {
      items.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }
    rootCertificate = value("sslrootcert")
    if let text = value("sslmode") {
      if text == "allow" {
        mode = .prefer
      } else if let mode = Mode(rawValue: text) {
        self.mode = mode
      } else {
        throw StoreError.rejected(
          "sslmode=\(text) is not a PostgreSQL sslmode; use disable, prefer, require, verify-ca or verify-full"
        )
      }
    } else {
      mode = Self.isLoopback(components.host ?? "") ? .disable : .verifyFull
    }
    if let rootCertificate, !FileManager.default.isReadableFile(atPath: rootCertificate) {
      throw StoreError.rejected(
        "sslrootcert=\(rootCertificate) cannot be read; give the path of the PEM file of the certificate authority that signed the server's certificate"
      )
    }
  }

  static func isLoopback(_ host: String) -> Bool {
    let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    return h == "localhost" || h == "::1" || h.hasPrefix("127.")
  }

  /// The same TLS for one direct connection (the store's first, which reports a refused
  /// or untrusted server at once instead of the pool retrying it until the deadline).
  func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
    guard let tls = try tlsConfiguration() else { return .disable }
    let context = try NIOSSLContext(configuration: tls)
    return mode == .prefer ? .prefer(context) : .require(context)
  }

  func configuration() throws -> PostgresClient.Configuration.TLS {
    guard let tls = try tlsConfiguration() else { return .disable }
    return mode == .prefer ? .prefer(tls) : .require(tls)
  }

  private func tlsConfiguration() throws -> TLSConfiguration? {
    var tls = TLSConfiguration.makeClientConfiguration()
    if let rootCertificate {
      do {
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
      } catch {
        throw StoreError.rejected(
          "sslrootcert=\(rootCertificate) is not a PEM certificate file (\(error))")
      }
    }
    switch mode {
    case .disable: return nil
    case .prefer, .require: tls.certificateVerification = .none
    case .verifyCA: tls.certificateVerification = .noHostnameVerification
    case .verifyFull: tls.certificateVerification = .fullVerification
    }
    return tls
  }
}
