import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A small XML tree for AWS responses (list pages, errors, STS results): names without
/// namespaces, text, children.
struct XMLNode: Sendable {
  var name: String
  var text: String
  var children: [XMLNode]

  func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
  func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
  /// The text of a direct child, or nil.
  func string(_ name: String) -> String? { child(name)?.text }
  /// The first element with this name at any depth (including self).
  func find(_ name: String) -> XMLNode? {
    if self.name == name { return self }
    for child in children { if let found = child.find(name) { return found } }
    return nil
  }

  static func parse(_ data: Data) -> XMLNode? {
    let delegate = TreeBuilder()
    let parser = XMLParser(data: data)
    parser.delegate = delegate
    guard parser.parse(), let root = delegate.root else { return nil }
    return root
  }

  private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?

    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      let local = name.split(separator: ":").last.map(String.init) ?? name
      stack.append(XMLNode(name: local, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      guard !stack.isEmpty else { return }
      stack[stack.count - 1].text += string
    }

    func parser(
      _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
    ) {
      guard var node = stack.popLast() else { return }
      if !node.children.isEmpty {
        node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
      }
      if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
    }
  }
}

/// Escapes text for an XML body (CompleteMultipartUpload).
func xmlEscape(_ text: String) -> String {
  var out = ""
  for c in text {
    switch c {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&apos;"
    default: out.append(c)
    }
  }
  return out
}
