import FerryCore
import FerryIngest
import FerryPolicy
import Foundation

/// One request of Amazon Data Firehose's HTTP endpoint delivery, read as the protocol
/// specifies it: a JSON body `{"requestId", "timestamp", "records": [{"data": base64}]}`,
/// optionally gzip'd (`Content-Encoding: gzip`), whose `requestId` equals the
/// `X-Amz-Firehose-Request-Id` header.
public struct FirehoseRequest: Sendable {
  public var requestID: String
  /// Firehose's timestamp of the request (milliseconds).
  public var timestamp: Int64
  /// Each record's data, base64-decoded.
  public var records: [[UInt8]]

  /// The protocol's limits: at most 64 MiB of body before gzip, 1 to 10,000 records, each
  /// at most 1,024,000 bytes once decoded.
  public static let maxBodyBytes = 64 << 20
  public static let maxRecords = 10_000
  public static let maxRecordBytes = 1_024_000

  /// Why a request cannot be read at all: answered with `status` and the message, which
  /// Firehose shows the customer in its delivery errors.
  public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 (Firehose retries it, then backs the data up to S3) or 413 (the body is over the
    /// limit; Firehose does not retry it).
    public var status: Int
    public var message: String
    public var description: String { message }

    static func bad(_ message: String) -> Problem { Problem(status: 400, message: message) }
  }

  /// Reads a request from its body as sent and its headers' values.
  public static func read(
    body: Data, contentEncoding: String?, headerRequestID: String?
  ) throws(Problem) -> FirehoseRequest {
    let json: Data
    switch contentEncoding?.lowercased().trimmingCharacters(in: .whitespaces) {
    case nil, "", "identity": json = body
    case "gzip": json = try gunzip(body)
    case let other?:
      throw .bad(
        "Content-Encoding \(Shown.quoted(other)) is not supported: send the body plain or gzip'd")
    }
    if json.count > maxBodyBytes {
      throw Problem(
        status: 413,
        message:
          "the body is \(json.count) bytes, over Firehose's limit of \(maxBodyBytes) bytes (64 MiB)"
      )
    }
    let envelope: Envelope
    do {
      envelope = try JSONDecoder().decode(Envelope.self, from: json)
    } catch {
      throw .bad(
        "the body is not a Firehose delivery: \(DecodingText.describe(error)). Expected {\"requestId\": ..., \"timestamp\": ..., \"records\": [{\"data\": base64}]}"
      )
    }
    guard let headerRequestID, !headerRequestID.isEmpty else {
      throw .bad("the X-Amz-Firehose-Request-Id header is missing")
    }
    guard headerRequestID == envelope.requestId else {
      throw .bad(
        "the body's requestId \(Shown.quoted(envelope.requestId)) is not the X-Amz-Firehose-Request-Id header's \(Shown.quoted(headerRequestID))"
      )
    }
    guard (1...maxRecords).contains(envelope.records.count) else {
      throw .bad(
        "the request holds \(envelope.records.count) records; Firehose sends 1 to \(maxRecords)")
    }
    var records: [[UInt8]] = []
    records.reserveCapacity(envelope.records.count)
    for (index, record) in envelope.records.enumerated() {
      guard let data = Data(base64Encoded: record.data) else {
        throw .bad("record \(index): data is not base64")
      }
      guard data.count <= maxRecordBytes else {
        throw .bad(
          "record \(index) is \(data.count) bytes once decoded, over Firehose's limit of \(maxRecordBytes)"
        )
      }
      records.append([UInt8](data))
    }
    return FirehoseRequest(
      requestID: envelope.requestId, timestamp: envelope.timestamp, records: records)
  }

  struct Envelope: Decodable {
    var requestId: String
    var timestamp: Int64
    var records: [Record]
    struct Record: Decodable { var data: String }
  }

  /// A gzip'd body, inflated up to the limit (a larger one is refused as it inflates, so a
  /// small bomb cannot take the memory).
  static func gunzip(_ body: Data) throws(Problem) -> Data {
    var out = Data()
    do {
      var inflater = try GzipDecompressor()
      let emit: ([UInt8]) throws -> Void = { chunk in
        out += chunk
        if out.count > maxBodyBytes { throw TooLarge() }
      }
      try body.withUnsafeBytes { try inflater.feed($0, emit: emit) }
      try inflater.finish(emit: emit)
    } catch is TooLarge {
      throw Problem(
        status: 413,
        message: "the body inflates to more than Firehose's limit of \(maxBodyBytes) bytes (64 MiB)"
      )
    } catch {
      throw .bad("the body says Content-Encoding: gzip but does not inflate: \(error)")
    }
    return out
  }

  struct TooLarge: Error {}

}

/// The answer Firehose expects: `{"requestId", "timestamp"}` and, when not every record
/// was stored, `errorMessage`; never `Content-Encoding`.
public enum FirehoseAnswer {
  public static func body(requestID: String, timestamp: Date = Date(), errorMessage: String?)
    -> [UInt8]
  {
    var pairs: [(key: String, value: JSONValue)] = [
      ("requestId", .string(requestID)), ("timestamp", .number(Double(timestamp.millis))),
    ]
    if let errorMessage {
      pairs.append(("errorMessage", .string(String(errorMessage.prefix(8192)))))
    }
    return Array(JSONValue.object(pairs).serialized(pretty: false).utf8)
  }
}

/// A value from a request quoted in a message: escaped (control characters as `\n`,
/// `\u{1B}`) and cut to 100 characters, so that it cannot fake lines or run long.
public enum Shown {
  public static func quoted(_ text: String) -> String {
    let cut = text.count > 100 ? String(text.prefix(100)) + "…" : text
    return String(reflecting: cut)
  }
}
