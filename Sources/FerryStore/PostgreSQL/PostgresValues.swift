import FerryCore
import Foundation
import NIOCore
import PostgresNIO

/// A value that can be bound to a query parameter (optionals bind as NULL).
protocol PGBindable: Sendable {
  func bind(into binds: inout PostgresBindings)
}

extension String: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int64: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Bool: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Optional: PGBindable where Wrapped == String {
  func bind(into binds: inout PostgresBindings) {
    if let value = self { binds.append(value) } else { binds.appendNull() }
  }
}
extension ByteBuffer: PGBindable {
  /// `bytea`.
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Double: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Array: PGBindable where Element == Int64 {
  /// A PostgreSQL array (for `UNNEST` and `= ANY`).
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
/// Arrays of other element types, bound the same way.
struct PGArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable & Sendable>:
  PGBindable
{
  var values: [Element]
  init(_ values: [Element]) { self.values = values }
  func bind(into binds: inout PostgresBindings) { binds.append(values) }
}
