import FerryAWSSigning
import Foundation
import Synchronization

/// Credentials from the shared files `~/.aws/credentials` and `~/.aws/config`
/// (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, profile `AWS_PROFILE`): static keys,
/// `role_arn` with `source_profile` (and `external_id`), `credential_process`, or
/// `web_identity_token_file`.
public struct ProfileCredentialProvider: CredentialProvider {
  let client: AWSClient
  let profile: String
  let environment: [String: String]

  public init(
    client: AWSClient, profile: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.client = client
    self.environment = environment
    self.profile =
      profile ?? environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
  }

  var home: String { environment["HOME"] ?? NSHomeDirectory() }
  var credentialsFile: String {
    environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
  }
  var configFile: String { environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config" }

  /// Settings by profile, credentials file over config file.
  func profiles() -> [String: [String: String]] {
    var merged: [String: [String: String]] = [:]
    for (name, settings) in INIFile.parse(path: configFile, isConfig: true) {
      merged[name, default: [:]].merge(settings) { $1 }
    }
    for (name, settings) in INIFile.parse(path: credentialsFile, isConfig: false) {
      merged[name, default: [:]].merge(settings) { $1 }
    }
    return merged
  }

  /// Whether the profile exists and says how to get credentials.
  var isConfigured: Bool {
    guard let settings = profiles()[profile] else { return false }
    return ["aws_access_key_id", "role_arn", "credential_process"].contains { settings[$0] != nil }
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    try await resolve(profile, profiles: profiles(), visited: [])
  }

  private func resolve(_ name: String, profiles: [String: [String: String]], visited: Set<String>)
    async throws(AWSError)
    -> AWSCredentials
  {
    let operation = "Profile"
    guard let settings = profiles[name] else {
      throw AWSError(
        kind: .credentials, operation: operation,
        message: "profile \"\(name)\" is not in \(credentialsFile) or \(configFile)")
    }
    guard !visited.contains(name) else {
      throw AWSError(
        kind: .credentials, operation: operation,
        message: "profile \"\(name)\" is part of a source_profile loop")
    }
    if let roleARN = settings["role_arn"] {
      let source: any CredentialProvider
      if let sourceName = settings["source_profile"] {
        let sourceCredentials =
          sourceName == name && settings["aws_access_key_id"] != nil
          ? try staticKeys(settings, name)
          : try await resolve(sourceName, profiles: profiles, visited: visited.union([name]))
        source = StaticCredentialProvider(sourceCredentials)
      } else if let tokenFile = settings["web_identity_token_file"] {
        let sts = STSClient(
          client: client, credentials: nil, region: settings["region"] ?? "us-east-1")
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
          throw AWSError(
            kind: .credentials, operation: operation,
            message: "cannot read web_identity_token_file \(tokenFile)")
        }
        return try await sts.assumeRoleWithWebIdentity(
          roleARN: roleARN, sessionName: settings["role_session_name"] ?? "ferry", token: token
        ).credentials
      } else {
        throw AWSError(
          kind: .credentials, operation: operation,
          message: "profile \"\(name)\" has role_arn but no source_profile")
      }
      let sts = STSClient(
        client: client, credentials: source, region: settings["region"] ?? "us-east-1")
      return try await sts.assumeRole(
        roleARN: roleARN, sessionName: settings["role_session_name"] ?? "ferry",
        externalID: settings["external_id"],
        durationSeconds: Int(settings["duration_seconds"] ?? "") ?? 3600
      ).credentials
    }
    if let command = settings["credential_process"] {
      return try await CredentialProcess.run(command)
    }
    return try staticKeys(settings, name)
  }

  private func staticKeys(_ settings: [String: String], _ name: String) throws(AWSError)
    -> AWSCredentials
  {
    guard let key = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"]
    else {
      throw AWSError(
        kind: .credentials, operation: "Profile",
        message:
          "profile \"\(name)\" has neither aws_access_key_id/aws_secret_access_key, role_arn nor credential_process"
      )
    }
    return AWSCredentials(
      accessKeyID: key, secretAccessKey: secret, sessionToken: settings["aws_session_token"])
  }
}

/// Runs a `credential_process` command and reads its JSON (Version 1). The command runs
/// on a thread of its own, never one of Swift's cooperative threads, and is killed when it
/// takes longer than the timeout.
enum CredentialProcess {
  static let defaultTimeout: TimeInterval = 60

  static func run(_ command: String, timeout: TimeInterval = defaultTimeout) async throws(AWSError)
    -> AWSCredentials
  {
    let operation = "CredentialProcess"
    let outcome: Result<Data, AWSError> = await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(returning: runBlocking(command, timeout: timeout))
      }
    }
    return try CredentialDocument.decode(try outcome.get(), operation: operation)
  }

  static func runBlocking(_ command: String, timeout: TimeInterval) -> Result<
    Data, AWSError
  > {
    let operation = "CredentialProcess"
    let process = Process()
    // In a session of its own (setsid), so that a timeout stops the command and everything
    // it started, and nothing keeps its output open.
    let setsid = "/usr/bin/setsid"
    let ownGroup = FileManager.default.isExecutableFile(atPath: setsid)
    process.executableURL = URL(fileURLWithPath: ownGroup ? setsid : "/bin/sh")
    process.arguments = ownGroup ? ["/bin/sh", "-c", command] : ["-c", command]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      return .failure(
        AWSError(
          kind: .credentials, operation: operation,
          message: "cannot run credential_process: \(error)"))
    }
    // Read on another thread, so that a command whose children keep the pipe open cannot
    // hold this call past its timeout.
    let output = Mutex<Data?>(nil)
    let finished = DispatchSemaphore(value: 0)
    let reader = out.fileHandleForReading
    Thread.detachNewThread {
      let data = reader.readDataToEndOfFile()
      process.waitUntilExit()
      output.withLock { $0 = data }
      finished.signal()
    }
    if finished.wait(timeout: .now() + timeout) == .timedOut {
      let pid = process.processIdentifier
      if ownGroup { kill(-pid, SIGKILL) }
      kill(pid, SIGKILL)
      return .failure(
        AWSError(
          kind: .credentials, operation: operation,
          message:
            "credential_process did not finish within \(Int(timeout)) s and was stopped; check the command in your AWS config"
        ))
    }
    guard process.terminationStatus == 0 else {
      return .failure(
        AWSError(
          kind: .credentials, operation: operation,
          message: "credential_process exited with status \(process.terminationStatus)"))
    }
    return .success(output.withLock { $0 } ?? Data())
  }
}

/// The AWS shared config format: `[section]` headers, `key = value` lines, `#`/`;` comments.
enum INIFile {
  static func parse(path: String, isConfig: Bool) -> [String: [String: String]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
    var result: [String: [String: String]] = [:]
    var section: String?
    for raw in text.split(whereSeparator: \.isNewline) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("["), line.hasSuffix("]") {
        var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if isConfig {
          if name.hasPrefix("profile ") {
            name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces)
          } else if name != "default" {
            section = nil  // sso-session and services sections are not profiles
            continue
          }
        }
        section = name
        continue
      }
      guard let section, let eq = line.firstIndex(of: "=") else { continue }
      let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
      let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      result[section, default: [:]][key] = value
    }
    return result
  }
}
