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
