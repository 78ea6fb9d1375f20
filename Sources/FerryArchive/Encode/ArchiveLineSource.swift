import FerryBlocks
import FerryCore
import FerryIngest
import Foundation

/// What an archive record is written from: an ``Event``, or an event of a block read in
/// place (``BlockEventSource``), whose message and field values are bytes of the block, never
/// copied into strings.
protocol ArchiveLineSource {
  var time: Date { get }
  var fetcherID: String { get }
  var logType: String { get }
  var sourceKey: String { get }
  var sourceOffset: Int64 { get }
  func withMessageUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
  var fieldCount: Int { get }
  func fieldKey(at position: Int) -> String
  func withFieldValueUTF8<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
  /// Whether the field keys, in order, are `keys`.
  func fieldKeys(equal keys: [String]) -> Bool
}

extension ArchiveLineSource {
  /// Whether the message gives the fields back (``MessageFields``).
  var fieldsFromMessage: Bool {
    MessageFields.derivable(logType: logType, count: fieldCount, name: fieldKey(at:))
  }
}

extension Event: ArchiveLineSource {
  func withMessageUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    var message = message
    return message.withUTF8(body)
  }
  var fieldCount: Int { fields.count }
  func fieldKey(at position: Int) -> String { fields.key(at: position) }
  func withFieldValueUTF8<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    fields.withValueUTF8(at: position, body)
  }
  func fieldKeys(equal keys: [String]) -> Bool { fields.keys(equal: keys) }
}

/// Event `index` of a decompressed block; the fetcher comes from the block's row.
struct BlockEventSource: ArchiveLineSource {
  let view: BlockView
  let index: Int
  let fetcherID: String

  var time: Date { view.time(index) }
  var logType: String { view.logType(index) }
  var sourceKey: String { view.sourceKey(index) }
  var sourceOffset: Int64 { view.offset(index) }
  func withMessageUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    view.withMessageUTF8(index, body)
  }
  var fieldCount: Int { view.fieldCount(index) }
  func fieldKey(at position: Int) -> String { view.fieldName(index, position) }
  func withFieldValueUTF8<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    view.withFieldValueUTF8(index, position, body)
  }
  func fieldKeys(equal keys: [String]) -> Bool {
    let count = view.fieldCount(index)
    guard count == keys.count else { return false }
    for position in 0..<count where view.fieldName(index, position) != keys[position] {
      return false
    }
    return true
  }
}
