import Foundation
import HTTPTypes
import Hummingbird
import Prometheus

/// Request counts, latency histograms and queue gauges for `/metrics`, kept in a
/// swift-prometheus registry, which writes Prometheus' text format (0.0.4).
public final class StudioMetrics: Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    public static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    let registry = PrometheusCollectorRegistry()
    private let inFlight, queueDepth, queueCapacity, inProgress, workers, models: Gauge
    private let rejected, timedOut: Counter

    public init() {
        inFlight = registry.makeGauge(name: "sketch2real_http_requests_in_flight", help: "Requests being answered now.")
        queueDepth = registry.makeGauge(name: "sketch2real_queue_depth", help: "Inference jobs waiting for a worker.")
        queueCapacity = registry.makeGauge(name: "sketch2real_queue_capacity",
                                           help: "Jobs that may wait for a busy worker before requests are refused with 503.")
        inProgress = registry.makeGauge(name: "sketch2real_inference_in_progress", help: "Inference jobs running now.")
        workers = registry.makeGauge(name: "sketch2real_inference_workers", help: "Inference worker threads.")
        rejected = registry.makeCounter(name: "sketch2real_queue_rejected_total", help: "Requests refused with 503 because the queue was full.")
        timedOut = registry.makeCounter(name: "sketch2real_request_timeouts_total",
                                        help: "Requests answered 504 because inference took longer than the timeout.")
        models = registry.makeGauge(name: "sketch2real_models_loaded", help: "Models the server can use.")
    }

    func requestStarted() { inFlight.increment() }

    func requestFinished(route: String, method: String, status: Int, seconds: Double) {
        inFlight.decrement()
        registry.makeCounter(name: "sketch2real_http_requests_total",
                             labels: [("route", route), ("method", method), ("status", String(status))],
                             help: "HTTP requests answered, by route, method and status code.").increment()
        registry.makeValueHistogram(name: "sketch2real_http_request_duration_seconds", labels: [("route", route)], buckets: Self.buckets,
                                    help: "Time from a request's arrival to its response, by route.").record(seconds)
    }

    func inferenceFinished(route: String, seconds: Double) {
        registry.makeValueHistogram(name: "sketch2real_inference_duration_seconds", labels: [("route", route)], buckets: Self.buckets,
                                    help: "Time a worker spent on one job (decode, generate, encode), by route.").record(seconds)
    }

    func queueRejected() { rejected.increment() }
    func requestTimedOut() { timedOut.increment() }

    /// The exposition text; queue figures are read at call time.
    func text(queueDepth depth: Int, queueCapacity capacity: Int, inProgress running: Int, workers count: Int, models loaded: Int) -> String {
        queueDepth.set(Int64(depth))
        queueCapacity.set(Int64(capacity))
        inProgress.set(Int64(running))
        workers.set(Int64(count))
        models.set(Int64(loaded))
        return registry.emitToString()
    }
}

/// Counts every request and its latency, by route pattern (not by raw path, to keep the label
/// set bounded); unknown paths share the route "unmatched".
struct MetricsRecorder<Context: RequestContext>: RouterMiddleware {
    let metrics: StudioMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.requestStarted()
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            metrics.requestFinished(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                                    status: status, seconds: seconds)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
