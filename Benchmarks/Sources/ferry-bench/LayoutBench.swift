import FerryBlocks
import FerryCore
import FerryIngest
import Foundation

/// `ferry-bench layout DIR json|cloudtrail`: the block layout's choices measured on the
/// gzip objects of the ingest benchmark (parsed as the fetcher parses them): per zstd
/// level and block size, the bytes per event (data and filter) and the CPU of encoding.
/// What docs/storage.md says about the level and the block size comes from here.
func layoutBenchmark(directory: URL, kind: String) throws -> [String: Double] {
  let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    .filter { $0.hasSuffix(".gz") }.sorted().prefix(8)
  var objects: [[Event]] = []
  for name in files {
    let compressed = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    var gzip = try GzipDecompressor()
    var parser = (kind == "json" ? LogFormat.jsonLines : .cloudTrail).parser()
    var events: [Event] = []
    func emit(_ record: ParsedRecord) {
      events.append(
        Event(
          accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: kind,
          time: record.time ?? Date(), sourceKey: name, sourceOffset: record.offset,
          message: record.text, fields: record.fields))
    }
    try compressed.withUnsafeBytes { raw in
      try gzip.feed(raw) { try parser.feed($0) { emit($0) } }
    }
    try gzip.finish { try parser.feed($0) { emit($0) } }
    try parser.finish { emit($0) }
    events.sort { ($0.time, $0.sourceOffset) < ($1.time, $1.sourceOffset) }
    objects.append(events)
  }
  let count = Double(objects.reduce(0) { $0 + $1.count })
  var out: [String: Double] = ["events": count]
  let levels: [Int32] =
    ProcessInfo.processInfo.environment["FERRY_BENCH_LEVELS"].map {
      $0.split(separator: ",").compactMap { Int32($0) }
    } ?? [1, 3, 6]
  for level in levels {
    for target in [1 << 20, 4 << 20] {
      let start = processCPUSeconds()
      var data = 0
      var filters = 0
      for object in objects {
        for block in try BlockCodec.encode(object, targetBytes: target, level: level) {
          data += block.data.count
          filters += block.filter.count
        }
      }
      let name = "level\(level)_\(target >> 20)mib"
      out["\(name)_data_bytes_per_event"] = Double(data) / count
      out["\(name)_filter_bytes_per_event"] = Double(filters) / count
      out["\(name)_encode_us_per_event"] = (processCPUSeconds() - start) / count * 1e6
    }
  }
  // The messages alone, zstd'd per block-sized run at the store's level: what the rest of
  // a block (times, offsets, fields' names, places and lengths) costs beside them.
  var messagesOnly = 0
  for object in objects {
    var run: [UInt8] = []
    for event in object {
      run += Array(event.message.utf8)
      if run.count >= 1 << 20 {
        messagesOnly += try Zstd.compress(run).count
        run.removeAll(keepingCapacity: true)
      }
    }
    if !run.isEmpty { messagesOnly += try Zstd.compress(run).count }
  }
  out["messages_only_bytes_per_event"] = Double(messagesOnly) / count
  return out
}
