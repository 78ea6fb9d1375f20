import FerryCore
import FerryIngest
import FerryPolicy
import Foundation
import Hummingbird

/// The guide's flow: connection info, then "+ Add a bucket": the bucket's details → the
/// role's policies and set-up scripts → the role ARN → Save, with every check step shown
/// as it runs and, on failure, the diagnosis.
extension WebPages {
  func addConnect(to web: RouterGroup<FerryRequestContext>) {
    web.get("connect", use: connectionInfo)
    web.get("buckets/new", use: addBucket)
    web.get("buckets/new/download", use: download)
    web.post("buckets/new", use: save)
  }

  @Sendable func connectionInfo(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    var data: [String: Any] = ["externalId": caller.account.externalID]
    do {
      let platform = try await connections.platform()
      data["awsAccountId"] = platform.accountID
      data["principalArn"] = platform.principalARN
    } catch let problem as APIProblem {
      data["identityProblem"] = WebPage.problem(problem)
    }
    return try pages.page(
      "connect", title: "Connection info", context: context, data: data, section: .connect)
  }

  /// The fields of the "Add a bucket" form, beyond the connection's own.
  static let bucketFormFields: Set<String> = ["logType", "name"]

  /// The form's values as the page shows them again (defaults filled in).
  static func formValues(_ form: WebForm) -> [String: Any] {
    var values: [String: Any] = form.values
    let purpose = form.value("purpose") ?? "fetcher"
    values["purpose"] = purpose
    values["isArchive"] = purpose == "archive"
    values["region"] = form.value("region") ?? "us-east-1"
    let logType = form.value("logType") ?? "auto"
    values["logTypes"] = FerryIngest.LogFormat.choices.map {
      ["value": $0, "selected": $0 == logType] as [String: Any]
    }
    return values
  }

  /// The role's policies and scripts for the form's bucket, or the problem with its fields.
  func setupData(_ form: WebForm, caller: Caller) async throws -> [String: Any] {
    let answer = try await connections.roleSetup(
      form.body(known: ConnectionRoutes.roleSetupFields), caller: caller)
    var query: [String] = []
    for name in ConnectionRoutes.roleSetupFields.sorted() {
      if let value = form.value(name) {
        query.append("\(name)=\(Self.query(value))")
      }
    }
    let base = "/buckets/new/download?" + query.joined(separator: "&")
    let files: [(String, String, String, String)] = [
      (
        "permissions", "Permissions policy", "ferry-permissions-policy.json",
        answer.setup.permissions.jsonValue.serialized(pretty: true)
      ),
      (
        "trust", "Trust policy", "ferry-trust-policy.json",
        answer.setup.trust.jsonValue.serialized(pretty: true)
      ),
      ("script", "AWS CLI script", "create-ferry-role.sh", answer.setup.awsCLIScript),
      (
        "cloudformation", "CloudFormation template", "ferry-role.cfn.json",
        answer.setup.cloudFormationTemplate
      ),
    ]
    return [
      "roleName": answer.setup.roleName, "location": answer.scope.location,
      "files": files.map { id, title, filename, text in
        [
          "id": id, "title": title, "filename": filename, "text": text,
          "download": base + "&file=" + id, "open": id == "permissions",
        ] as [String: Any]
      },
    ]
  }

  @Sendable func addBucket(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = WebForm(
      pairs: request.formQuery.map { (String($0.key), String($0.value)) })
    var data: [String: Any] = ["form": Self.formValues(form)]
    if form.value("bucket") != nil {
      do {
        data["setup"] = try await setupData(form, caller: caller)
      } catch let problem as APIProblem {
        data["formProblem"] = WebPage.problem(problem)
      }
    }
    return try pages.page(
      "bucket-new", title: "Add a bucket", context: context, data: data, section: .buckets)
  }

  @Sendable func download(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    let form = WebForm(
      pairs: request.formQuery.map { (String($0.key), String($0.value)) })
    let data = try await setupData(form, caller: caller)
    let files = data["files"] as? [[String: Any]] ?? []
    guard let file = files.first(where: { $0["id"] as? String == form.value("file") }),
      let text = file["text"] as? String, let name = file["filename"] as? String
    else {
      throw APIProblem.badInput(
        field: "file", "names no file", fix: "Use permissions, trust, script or cloudformation.")
    }
    return Response(
      status: .ok,
      headers: [
        .contentType: name.hasSuffix(".sh") ? "text/x-shellscript" : "application/json",
        .contentDisposition: "attachment; filename=\"\(name)\"",
      ],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }

  /// What saving gave: the connection and its check, and the fetcher made with it.
  struct SaveOutcome: Sendable {
    var connection: Connection
    var check: ConnectionCheck
    var fetcher: Fetcher?
    var fetcherProblem: APIProblem?
  }

  /// Checks the role, saves the connection when every step passes and, for a fetch
  /// connection, adds its fetcher.
  func saveBucket(_ form: WebForm, caller: Caller, onStep: @Sendable (CheckStep) -> Void)
    async throws -> SaveOutcome
  {
    let body = form.body(known: ConnectionRoutes.connectionFields.subtracting(["externalId"]))
    let (connection, check) = try await connections.createConnection(
      body, caller: caller, onStep: onStep)
    var outcome = SaveOutcome(connection: connection, check: check)
    guard check.succeeded, connection.purpose == .fetcher else { return outcome }
    let name =
      form.value("name")
      ?? (connection.prefix.isEmpty
        ? connection.bucket : "\(connection.bucket)/\(connection.prefix)")
    let fetcherBody = WebForm(pairs: [
      ("connectionId", connection.id), ("name", String(name.prefix(64))),
      ("logType", form.value("logType") ?? "auto"),
    ]).body(known: ["connectionId", "name", "logType"])
    do {
      outcome.fetcher = try await fetchers.createFetcher(fetcherBody, caller: caller)
    } catch {
      outcome.fetcherProblem =
        (error as? APIProblem) ?? (error as? StoreError).map(APIProblem.storeRejected)
        ?? APIProblem.internalError()
    }
    return outcome
  }

  /// The result section of a save: each step, and the diagnosis or what comes next.
  func resultData(_ outcome: SaveOutcome) -> [String: Any] {
    var data = CheckView.data(outcome.check)
    data["connectionId"] = outcome.connection.id
    if let fetcher = outcome.fetcher {
      data["fetcherId"] = fetcher.id
      data["fetcherName"] = fetcher.name
    }
    if let problem = outcome.fetcherProblem { data["fetcherProblem"] = WebPage.problem(problem) }
    return data
  }

  @Sendable func save(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    if request.headers[.accept]?.contains("application/x-ndjson") == true {
      return streamedSave(form, caller: caller, context: context)
    }
    var data: [String: Any] = ["form": Self.formValues(form)]
    do {
      data["setup"] = try await setupData(form, caller: caller)
      data["result"] = resultData(try await saveBucket(form, caller: caller, onStep: { _ in }))
    } catch let problem as APIProblem {
      data["formProblem"] = WebPage.problem(problem)
    }
    return try pages.page(
      "bucket-new", title: "Add a bucket", context: context, data: data, section: .buckets)
  }

  /// The save for the page's script: one JSON line per step as it finishes, then the
  /// rendered result.
  func streamedSave(_ form: WebForm, caller: Caller, context: FerryRequestContext) -> Response {
    let (steps, continuation) = AsyncStream<CheckStep>.makeStream()
    let pages = self.pages
    let page = self
    let body = ResponseBody { writer in
      let result = Task { () -> String in
        defer { continuation.finish() }
        do {
          let outcome = try await page.saveBucket(
            form, caller: caller, onStep: { continuation.yield($0) })
          return try pages.render("check-result", page.resultData(outcome))
        } catch {
          let problem =
            (error as? APIProblem) ?? (error as? StoreError).map(APIProblem.storeRejected)
            ?? APIProblem.internalError()
          return try pages.render("problem", WebPage.problem(problem))
        }
      }
      for await step in steps {
        try await writer.write(ByteBuffer(string: CheckView.line(step) + "\n"))
      }
      let html = (try? await result.value) ?? ""
      let done = JSONValue.object([("type", .string("done")), ("html", .string(html))])
      try await writer.write(ByteBuffer(string: done.serialized(pretty: false) + "\n"))
      try await writer.finish(nil)
    }
    return Response(
      status: .ok,
      headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"], body: body)
  }
}

/// A connection check as pages show it.
enum CheckView {
  /// A diagnosis's fix cut into its sentence and, when its following lines are a JSON
  /// document (the trust policy to set), that document as its own block.
  static func fixLines(_ fix: String) -> (sentence: String, document: String?) {
    guard let newline = fix.firstIndex(of: "\n") else { return (fix, nil) }
    let rest = fix[fix.index(after: newline)...].trimmingCharacters(in: .whitespacesAndNewlines)
    guard rest.hasPrefix("{") else { return (fix, nil) }
    return (String(fix[..<newline]), rest)
  }

  static func data(_ check: ConnectionCheck) -> [String: Any] {
    var data: [String: Any] = [
      "ok": check.succeeded, "checkedAt": WebPage.time(check.checkedAt),
      "steps": check.steps.map(step),
    ]
    if let diagnosis = check.diagnosis {
      var d: [String: Any] = [
        "code": diagnosis.code, "step": diagnosis.step.title, "cause": diagnosis.cause,
        "fix": Self.fixLines(diagnosis.fix).sentence, "otherCauses": diagnosis.otherCauses,
        "hasOtherCauses": !diagnosis.otherCauses.isEmpty,
      ]
      // A fix that ends with a document (a trust policy) shows it indented, apart.
      if let document = Self.fixLines(diagnosis.fix).document { d["fixDocument"] = document }
      if let statement = diagnosis.statementToAdd { d["statement"] = statement }
      if let aws = diagnosis.awsError {
        d["aws"] = [
          "operation": aws.operation, "code": aws.code ?? "", "message": aws.message,
          "requestId": aws.requestID ?? "",
        ]
      }
      data["diagnosis"] = d
    }
    return data
  }

  static func step(_ step: CheckStep) -> [String: Any] {
    [
      "title": step.name.title, "status": step.status.rawValue, "detail": step.detail,
      "passed": step.status == .passed, "failed": step.status == .failed,
    ]
  }

  /// One step as the streamed save sends it.
  static func line(_ step: CheckStep) -> String {
    JSONValue.object([
      ("type", .string("step")), ("name", .string(step.name.rawValue)),
      ("title", .string(step.name.title)), ("status", .string(step.status.rawValue)),
      ("detail", .string(step.detail)),
    ]).serialized(pretty: false)
  }
}
