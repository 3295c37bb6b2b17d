import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sketch2Real
import UnixSignals

/// Sketch2Real Studio: the drawing page, the JSON/HTTP API, metrics, and the bounded inference
/// queue behind them.
public final class StudioServer: Sendable {
    public let configuration: StudioConfiguration
    public let models: StudioModelSet
    let queue: InferenceQueue<UncheckedBox<WorkerModels>>
    let metrics = StudioMetrics()
    let logger: Logger
    /// The port once bound (the configuration may say 0), for messages.
    let boundPort = NIOLockedValueBox(0)

    /// Starts the inference workers; `models` must hold one copy per worker.
    public init(configuration: StudioConfiguration, models: StudioModelSet, logger: Logger? = nil) {
        precondition(models.perWorker.count == configuration.workers, "load the models once per worker")
        self.configuration = configuration
        self.models = models
        self.queue = InferenceQueue(contexts: models.perWorker, capacity: configuration.queueCapacity)
        self.logger = logger ?? Logger(label: "sketch2real.studio")
    }

    /// Loads every model of `configuration`'s folder once per worker and starts the workers.
    public convenience init(configuration: StudioConfiguration, modelsFolder: String, logger: Logger? = nil) throws {
        if let problem = configuration.problem() { throw ModelError(problem) }
        let models = try StudioModelSet.load(folder: modelsFolder, workers: configuration.workers)
        self.init(configuration: configuration, models: models, logger: logger)
    }

    // MARK: Running

    /// Binds and serves until `shutdown()` or, with `signals`, one of those signals. Returns once
    /// the port is bound; a failure to bind is thrown here.
    public func start(gracefulShutdownSignals signals: [UnixSignal] = []) async throws -> RunningStudio {
        let bound = OneShot<Int>()
        let app = Application(
            router: makeRouter(resources: try StudioResources.load()),
            server: StudioHTTPChannel.builder(configuration: .init(idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sketch2real"),
            onServerRunning: { [boundPort] channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.withLockedValue { $0 = port }
                bound.resolve(.success(port))
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: logger))
        let queue = self.queue
        let task = Task {
            do {
                try await group.run()
            } catch {
                bound.resolve(.failure(error))
                await queue.shutdown()
                throw error
            }
            bound.resolve(.failure(StudioError(.serviceUnavailable, "the server stopped before it was listening")))
            await queue.shutdown()
        }
        let port = try await bound.value()
        return RunningStudio(host: configuration.host, port: port, group: group, task: task)
    }

    // MARK: Routes

    func makeRouter(resources: StudioResources) -> Router<StudioRequestContext> {
        let router = Router(context: StudioRequestContext.self)
        router.add(middleware: MetricsRecorder(metrics: metrics))
        let security = StudioSecurity(allowedHosts: configuration.allowedHosts, allowedOrigins: configuration.allowedOrigins)
        let port = boundPort
        router.add(middleware: SecurityMiddleware(security: security, port: { port.withLockedValue { $0 } }))
        router.add(middleware: JSONErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes))
        router.get("/") { _, _ in Self.text(resources.html, type: "text/html; charset=utf-8") }
        router.get("/studio.js") { _, _ in Self.text(resources.script, type: "text/javascript; charset=utf-8") }
        router.get("/studio.css") { _, _ in Self.text(resources.style, type: "text/css; charset=utf-8") }
        router.get("/openapi.yaml") { _, _ in Self.text(resources.openAPI, type: "application/yaml; charset=utf-8") }
        router.get("/healthz") { [self] _, _ in
            Self.json(HealthResponse(status: "ok", models: models.infos.count, workers: configuration.workers,
                                     queueDepth: queue.depth, inProgress: queue.inProgress))
        }
        router.get("/metrics") { [self] _, _ in
            Self.text(metrics.text(queueDepth: queue.depth, queueCapacity: configuration.queueCapacity, inProgress: queue.inProgress,
                                   workers: configuration.workers, models: models.infos.count),
                      type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/models") { [self] _, _ in
            Self.json(ModelsResponse(models: models.infos, limits: limits()))
        }
        router.post("/api/translate") { [self] request, context in
            try await whileConnected(request, context: context) { [self] in try await translate($0, context: context) }
        }
        router.post("/api/sample") { [self] request, context in
            try await whileConnected(request, context: context) { [self] in try await sample($0, context: context) }
        }
        return router
    }

    func limits() -> StudioLimits {
        StudioLimits(maxBodyBytes: configuration.maxBodyBytes, maxImageSide: configuration.maxImageSide,
                     maxSamples: configuration.maxSamples, timeoutSeconds: configuration.inferenceTimeout,
                     queueCapacity: configuration.queueCapacity, workers: configuration.workers)
    }

    /// Answers a request whose work should stop when its client goes away: the handler runs in
    /// a task that is cancelled when the client closes its side of the connection, which cancels queued and running
    /// inference. A full queue is answered before the body is read.
    func whileConnected(_ request: Request, context: StudioRequestContext,
                        _ handler: @escaping @Sendable (Request) async throws -> Response) async throws -> Response {
        try await refuseEarlyWhenBusy()
        let task = Task { try await handler(request) }
        let channel = context.channel
        channel.eventLoop.execute {
            if let watch = try? channel.pipeline.syncOperations.handler(type: HTTP1RequestGuard.self) {
                watch.whenClientLeaves { task.cancel() }
            }
        }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// The busy answer without reading the body or decoding anything, held back by
    /// `busyAnswerDelay` so clients that ignore Retry-After cannot spin on it.
    func refuseEarlyWhenBusy() async throws {
        guard queue.isFull else { return }
        try await busy(retryAfter: queue.retryAfterSeconds)
    }

    func busy(retryAfter: Int) async throws -> Never {
        metrics.queueRejected()
        if configuration.busyAnswerDelay > 0 {
            try? await Task.sleep(for: .milliseconds(Int64(configuration.busyAnswerDelay * 1000)))
        }
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfter)
        throw StudioError(.serviceUnavailable, "The server is busy: all \(configuration.workers) workers are generating and \(configuration.queueCapacity) requests are waiting. Try again in \(retryAfter) s.", headers: headers)
    }

    func translate(_ request: Request, context: StudioRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let upload = try await readUpload(request)
        let name = try modelName(upload.parameters, multimodal: false)
        let format = try responseFormat(request, upload.parameters)
        try refuseIfTooSlow(model: name, header: upload.header, images: 1)
        let image = try await infer(route: "/api/translate") { models, cancellation in
            try StudioInference.translate(upload.image, model: name, models: models.value, cancellation: cancellation)
        }
        let latency = Self.milliseconds(since: start)
        switch format {
        case .png:
            return Self.png(image.png, headers: [(.latency, Self.format(latency)), (.model, name)])
        case .json:
            return Self.json(TranslateResponse(model: name, width: image.width, height: image.height, latencyMs: latency,
                                               image: Data(image.png).base64EncodedString()))
        }
    }

    func sample(_ request: Request, context: StudioRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let upload = try await readUpload(request)
        let p = upload.parameters
        let name = try modelName(p, multimodal: true)
        guard let info = models.info(named: name) else { throw StudioError(.notFound, "There is no model named '\(name)'; GET /api/models lists them.") }
        guard info.multimodal else {
            throw StudioError.badRequest("The model '\(name)' maps each sketch to one image; use POST /api/translate, or choose a multimodal model for sampling.")
        }
        let format = try responseFormat(request, p)
        let seed = try p.integer("seed", in: 0 ... (1 << 53), default: Int.random(in: 0 ... (1 << 31)))
        let source: CodeSource
        if p["from"] != nil || p["to"] != nil {
            guard let from = try p.code("from", size: info.latentSize), let to = try p.code("to", size: info.latentSize) else {
                throw StudioError.badRequest("Interpolation needs both 'from' and 'to': two codes of \(info.latentSize) comma-separated numbers.")
            }
            source = .between(from: from, to: to, steps: try p.integer("steps", in: 2 ... configuration.maxSamples, default: 8))
        } else if let center = try p.code("code", size: info.latentSize) {
            source = .around(center: center, spread: Float(try p.number("spread", in: 0 ... 4, default: 0.5)),
                             count: try p.integer("n", in: 1 ... configuration.maxSamples, default: 4))
        } else {
            source = .random(count: try p.integer("n", in: 1 ... configuration.maxSamples, default: 4))
        }
        let codes = source.codes(size: info.latentSize, seed: UInt64(seed))
        try refuseIfTooSlow(model: name, header: upload.header, images: codes.count)
        let result = try await infer(route: "/api/sample") { models, cancellation in
            try StudioInference.sample(upload.image, model: name, codes: codes, sheet: format == .png, models: models.value,
                                       cancellation: cancellation)
        }
        let images = result.images
        let latency = Self.milliseconds(since: start)
        switch format {
        case .png:
            return Self.png(result.sheet ?? images[0].png, headers: [(.latency, Self.format(latency)), (.model, name), (.seed, String(seed))])
        case .json:
            return Self.json(SampleResponse(model: name, seed: seed, width: images[0].width, height: images[0].height, latencyMs: latency,
                                            images: images.map { .init(image: Data($0.png).base64EncodedString(), code: $0.code ?? []) }))
        }
    }

    /// Runs work on the queue within the inference timeout, mapping queue states to HTTP answers.
    func infer<T: Sendable>(route: String, _ work: @escaping @Sendable (UncheckedBox<WorkerModels>, InferenceCancellation) throws -> T) async throws -> T {
        let timeout = configuration.inferenceTimeout
        let metrics = self.metrics
        let queue = self.queue
        let delay = configuration.workerDelayForTesting
        let started = StartedFlag()
        do {
            return try await withDeadline(seconds: timeout) {
                try await queue.submit { models, cancellation in
                    started.set()
                    if delay > 0 { cancellation.sleep(seconds: delay) }
                    let start = ContinuousClock.now
                    defer { metrics.inferenceFinished(route: route, seconds: Self.milliseconds(since: start) / 1000) }
                    return try work(models, cancellation)
                }
            }
        } catch InferenceQueueError.full(let retryAfter) {
            try await busy(retryAfter: retryAfter)
        } catch InferenceQueueError.shuttingDown {
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            throw StudioError(.serviceUnavailable, "The server is shutting down; try again shortly.", headers: headers)
        } catch is DeadlineExceeded {
            metrics.requestTimedOut()
            guard started.isSet else {
                throw StudioError(.gatewayTimeout, "The request waited the server's limit of \(Self.format(timeout)) s behind other work without starting: the server is busy. Try again shortly.")
            }
            throw StudioError(.gatewayTimeout, "Generating took longer than the server's limit of \(Self.format(timeout)) s; try a smaller sketch or fewer samples.")
        }
    }

    /// Whether a queued job has begun, so a timeout can say whether the time went to waiting.
    struct StartedFlag: Sendable {
        private let value = NIOLockedValueBox(false)
        func set() { value.withLockedValue { $0 = true } }
        var isSet: Bool { value.withLockedValue { $0 } }
    }

    // MARK: Request bodies

    struct Upload: Sendable {
        let image: [UInt8]
        let header: ImageHeader
        let parameters: RequestParameters
    }

    /// The sketch from a PNG/JPEG body or a multipart form, with the query's and the form's
    /// parameters, after the size, type and dimension checks.
    func readUpload(_ request: Request) async throws -> Upload {
        var parameters = RequestParameters(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        let imageTypes = ["image/png", "image/jpeg", "image/jpg"]
        guard imageTypes.contains(mediaType) || mediaType == "multipart/form-data" else {
            throw StudioError(.unsupportedMediaType, contentType.isEmpty
                ? "The request has no Content-Type; send the sketch as an image/png or image/jpeg body, or as multipart/form-data with a file field named 'image'."
                : "Content-Type '\(contentType)' is not accepted; send the sketch as an image/png or image/jpeg body, or as multipart/form-data with a file field named 'image'.")
        }
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw StudioError(.contentTooLarge, "The request body is \(declared) bytes, above the limit of \(limit) bytes; send a smaller image.")
        }
        let body: ByteBuffer
        do {
            body = try await withDeadline(seconds: configuration.bodyTimeout) { try await request.body.collect(upTo: limit) }
        } catch is DeadlineExceeded {
            throw StudioError(.requestTimeout, "The request body did not arrive within \(Self.format(configuration.bodyTimeout)) s.")
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw StudioError(.contentTooLarge, "The request body is larger than the limit of \(limit) bytes; send a smaller image.")
        }
        var bytes = Array(body.readableBytesView)
        if mediaType == "multipart/form-data" {
            let parsed: MultipartForm?
            do {
                parsed = try MultipartForm.boundary(in: contentType).flatMap { try MultipartForm.parse(bytes, boundary: $0) }
            } catch {
                throw StudioError.badRequest("The form has more than \(MultipartForm.maximumParts) parts; send the image and a few fields.")
            }
            guard let form = parsed else {
                throw StudioError.badRequest("The multipart/form-data body could not be parsed; send a well-formed form with a file field named 'image'.")
            }
            guard let file = form.part(named: "image") ?? form.parts.first(where: { $0.filename != nil }) else {
                throw StudioError.badRequest("The form has no file field named 'image'; put the sketch there.")
            }
            if let type = file.contentType?.split(separator: ";").first?.trimmingWhitespace().lowercased(),
               !imageTypes.contains(type), type != "application/octet-stream" {
                throw StudioError(.unsupportedMediaType, "The form's image is '\(type)'; send a PNG or JPEG file.")
            }
            for part in form.parts where part.filename == nil && part.name != "image" && parameters[part.name] == nil {
                parameters[part.name] = part.text
            }
            bytes = file.body
        }
        if bytes.isEmpty { throw StudioError.unprocessable("The image is empty (0 bytes); send a PNG or JPEG file.") }
        guard let header = ImageHeader.read(bytes) else {
            throw StudioError.unprocessable("The body is not a PNG or JPEG image (or its header is damaged); send a PNG or JPEG file.")
        }
        let side = configuration.maxImageSide
        guard header.width >= 1, header.height >= 1 else {
            throw StudioError.unprocessable("The image says it is \(header.width)×\(header.height) pixels; send a picture with at least one pixel.")
        }
        guard header.width <= side, header.height <= side else {
            throw StudioError.unprocessable("The image is \(header.width)×\(header.height) pixels; the limit is \(side) pixels on each side. Scale it down and send it again.")
        }
        return Upload(image: bytes, header: header, parameters: parameters)
    }

    /// 422 before queueing when the model's measured speed says the request cannot finish within
    /// the time limit: the side limit and the sample limit, bounded by what this machine does.
    func refuseIfTooSlow(model name: String, header: ImageHeader, images: Int) throws {
        guard let rate = models.info(named: name)?.secondsPerMegapixel else { return }
        let megapixels = Double(header.width * header.height) / 1e6
        let seconds = rate * megapixels * Double(images)
        guard seconds > configuration.inferenceTimeout else { return }
        let largest = Int((configuration.inferenceTimeout / (rate * Double(images)) * 1e6).squareRoot())
        throw StudioError.unprocessable(
            "\(images) image(s) of \(header.width)×\(header.height) with '\(name)' would take about \(Self.format(seconds)) s on this server, above its limit of \(Self.format(configuration.inferenceTimeout)) s; send a sketch of at most about \(largest)×\(largest) pixels" + (images > 1 ? " or ask for fewer samples." : "."))
    }

    func modelName(_ p: RequestParameters, multimodal: Bool) throws -> String {
        if let name = p["model"], !name.isEmpty {
            guard models.info(named: name) != nil else {
                let names = models.infos.map(\.name).joined(separator: ", ")
                throw StudioError(.notFound, "There is no model named '\(name)'; this server has \(names.isEmpty ? "none" : names). GET /api/models lists them.")
            }
            return name
        }
        // Without a name: for sampling the first multimodal model; for translation the first
        // one-to-one model, as `sketch2real translate` uses the SRAGAN, else the first of any kind.
        let preferred = multimodal ? models.infos.first(where: \.multimodal)
            : models.infos.first(where: { !$0.multimodal }) ?? models.infos.first
        guard let first = preferred else {
            throw StudioError(.notFound, models.infos.isEmpty
                ? "This server has no models; start it with --models pointing at a folder of exported .safetensors files."
                : "This server has no multimodal model (lsragan, bicyclegan or msgan) to sample from; use POST /api/translate.")
        }
        return first.name
    }

    enum ResponseFormat { case png, json }

    func responseFormat(_ request: Request, _ p: RequestParameters) throws -> ResponseFormat {
        switch p["format"]?.lowercased() {
        case "png": return .png
        case "json": return .json
        case nil, "":
            let accept = request.headers[.accept] ?? ""
            return accept.contains("application/json") && !accept.contains("image/png") ? .json : .png
        case let other?: throw StudioError.badRequest("format must be png or json, got '\(other)'.")
        }
    }

    // MARK: Responses

    static func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ body: some Encodable) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: body.studioJSON())))
    }

    static func png(_ bytes: [UInt8], headers extra: [(HTTPField.Name, String)]) -> Response {
        var headers: HTTPFields = [.contentType: "image/png", .cacheControl: "no-store"]
        for (name, value) in extra { headers[name] = value }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

extension HTTPField.Name {
    static let latency = HTTPField.Name("X-Sketch2Real-Latency-Ms")!
    static let model = HTTPField.Name("X-Sketch2Real-Model")!
    static let seed = HTTPField.Name("X-Sketch2Real-Seed")!
}

/// Hummingbird's basic context plus the connection, so a handler can stop when it closes.
struct StudioRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// A started server: its port, and the way to stop it.
public struct RunningStudio: Sendable {
    public let host: String
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// Stops accepting connections, lets requests in flight finish, then stops the workers.
    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Waits until the server has stopped (after a signal or `shutdown()`).
    public func wait() async throws { try await task.value }
}

/// Query and form parameters, query first.
struct RequestParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ pairs: [(String, String)]) {
        for (k, v) in pairs where values[k] == nil { values[k] = v }
    }

    subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    func integer(_ name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let n = Int(text.trimmingWhitespace()), range.contains(n) else {
            throw StudioError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'.")
        }
        return n
    }

    func number(_ name: String, in range: ClosedRange<Double>, default value: Double) throws -> Double {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let x = Double(text.trimmingWhitespace()), x.isFinite, range.contains(x) else {
            throw StudioError.badRequest("\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'.")
        }
        return x
    }

    /// A latent code: `size` comma-separated finite numbers; nil when absent.
    func code(_ name: String, size: Int) throws -> [Float]? {
        guard let text = values[name], !text.isEmpty else { return nil }
        let numbers = text.split(separator: ",").map { Float($0.trimmingWhitespace()) }
        guard numbers.count == size, numbers.allSatisfy({ $0?.isFinite == true && abs($0!) <= 100 }) else {
            throw StudioError.badRequest("\(name) must be \(size) comma-separated numbers from -100 to 100 (a latent code of this model), got '\(text.prefix(200))'.")
        }
        return numbers.map { $0! }
    }
}
