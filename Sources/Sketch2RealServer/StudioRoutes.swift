import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import Sketch2Real

// The studio's routes: the page, health, metrics, the model list, and translation and sampling
// through the inference queue, with the answers they build. StudioServer.swift starts and stops
// the server.
extension StudioServer {
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
