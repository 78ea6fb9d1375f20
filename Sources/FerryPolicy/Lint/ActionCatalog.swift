/// The IAM actions of the services Ferry's policies use, to catch mistyped actions.
public enum ActionCatalog {
  /// What the catalog knows of an action or action pattern.
  public enum Lookup: Sendable, Equatable {
    /// A known action, or a pattern that matches known actions (their canonical names).
    case known([String])
    /// The service prefix is unknown to AWS; a close one if any.
    case unknownService(suggestion: String?)
    /// The service is cataloged but has no such action; a close one if any.
    case unknownAction(suggestion: String?)
    /// A wildcard pattern that matches no action of a cataloged service.
    case matchesNothing
    /// A real service Ferry does not catalog: not checked.
    case notCataloged
  }

  /// Lowercased action name to canonical name, by service: built once.
  private static let index: [String: [String: String]] = actionsByService.mapValues { actions in
    Dictionary(actions.map { ($0.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
  }
  private static let s3ObjectIndex = Set(s3ObjectActions.map { $0.lowercased() })
  private static let s3BucketIndex = Set(s3BucketActions.map { $0.lowercased() })

  /// Services whose actions are cataloged.
  public static var services: [String] { actionsByService.keys.sorted() }

  /// Looks up `service:Action` (wildcards allowed).
  public static func lookup(_ action: String) -> Lookup {
    let parts = action.split(separator: ":", maxSplits: 1)
    guard parts.count == 2 else { return .unknownService(suggestion: nil) }
    let service = parts[0].lowercased()
    let name = String(parts[1])
    guard let actions = actionsByService[service] else {
      if knownServicePrefixes.contains(service) || service.contains("*") { return .notCataloged }
      return .unknownService(
        suggestion: Suggestion.closest(to: service, in: knownServicePrefixes.sorted()))
    }
    if name.contains("*") || name.contains("?") {
      let matched = actions.filter { wildcardMatch(name, $0, caseInsensitive: true) }
      return matched.isEmpty ? .matchesNothing : .known(matched.map { "\(service):\($0)" })
    }
    if let exact = index[service]?[name.lowercased()] {
      return .known(["\(service):\(exact)"])
    }
    return .unknownAction(
      suggestion: Suggestion.closest(to: name, in: actions).map { "\(service):\($0)" })
  }

  /// Whether an S3 action applies to objects (its resource is `arn:aws:s3:::bucket/key`).
  public static func isS3ObjectAction(_ action: String) -> Bool {
    guard action.lowercased().hasPrefix("s3:") else { return false }
    let name = action.dropFirst(3).lowercased()
    return s3ObjectIndex.contains(String(name))
  }

  /// Whether an S3 action applies to buckets (its resource is `arn:aws:s3:::bucket`).
  public static func isS3BucketAction(_ action: String) -> Bool {
    guard action.lowercased().hasPrefix("s3:") else { return false }
    let name = action.dropFirst(3).lowercased()
    return s3BucketIndex.contains(String(name))
  }
}
