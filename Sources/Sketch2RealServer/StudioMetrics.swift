import Foundation
import HTTPTypes
import Hummingbird

/// Request counts, latency histograms and queue gauges in Prometheus' text format (0.0.4),
/// written by hand: a few counters need no metrics framework.
public final class StudioMetrics: @unchecked Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    public static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    struct RequestKey: Hashable, Comparable {
        let route: String, method: String, status: Int
        static func < (a: Self, b: Self) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    struct Histogram {
        var counts = [Int](repeating: 0, count: StudioMetrics.buckets.count)
        var sum = 0.0
        var count = 0
        mutating func observe(_ seconds: Double) {
            for (i, bound) in StudioMetrics.buckets.enumerated() where seconds <= bound { counts[i] += 1 }
            sum += seconds
            count += 1
        }
    }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var latency: [String: Histogram] = [:]
    private var inference: [String: Histogram] = [:]
    private var inFlight = 0
    private var rejected = 0
    private var timedOut = 0

    public init() {}

    func requestStarted() { lock.withLock { inFlight += 1 } }

    func requestFinished(route: String, method: String, status: Int, seconds: Double) {
        lock.withLock {
            inFlight -= 1
            requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            latency[route, default: Histogram()].observe(seconds)
        }
    }

    func inferenceFinished(route: String, seconds: Double) {
        lock.withLock { inference[route, default: Histogram()].observe(seconds) }
    }

    func queueRejected() { lock.withLock { rejected += 1 } }
    func requestTimedOut() { lock.withLock { timedOut += 1 } }

    /// The exposition text; queue figures are read at call time.
    func text(queueDepth: Int, queueCapacity: Int, inProgress: Int, workers: Int, models: Int) -> String {
        lock.withLock {
            var out = ""
            func header(_ name: String, _ type: String, _ help: String) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            }
            func histogram(_ name: String, _ values: [String: Histogram]) {
                for (route, h) in values.sorted(by: { $0.key < $1.key }) {
                    for (i, bound) in Self.buckets.enumerated() {
                        out += "\(name)_bucket{route=\"\(route)\",le=\"\(Self.format(bound))\"} \(h.counts[i])\n"
                    }
                    out += "\(name)_bucket{route=\"\(route)\",le=\"+Inf\"} \(h.count)\n"
                    out += "\(name)_sum{route=\"\(route)\"} \(Self.format(h.sum))\n"
                    out += "\(name)_count{route=\"\(route)\"} \(h.count)\n"
                }
            }
            header("sketch2real_http_requests_total", "counter", "HTTP requests answered, by route, method and status code.")
            for (key, n) in requests.sorted(by: { $0.key < $1.key }) {
                out += "sketch2real_http_requests_total{route=\"\(key.route)\",method=\"\(key.method)\",status=\"\(key.status)\"} \(n)\n"
            }
            header("sketch2real_http_request_duration_seconds", "histogram", "Time from a request's arrival to its response, by route.")
            histogram("sketch2real_http_request_duration_seconds", latency)
            header("sketch2real_inference_duration_seconds", "histogram", "Time a worker spent on one job (decode, generate, encode), by route.")
            histogram("sketch2real_inference_duration_seconds", inference)
            func single(_ name: String, _ type: String, _ help: String, _ value: Int) {
                header(name, type, help)
                out += "\(name) \(value)\n"
            }
            single("sketch2real_http_requests_in_flight", "gauge", "Requests being answered now.", inFlight)
            single("sketch2real_queue_depth", "gauge", "Inference jobs waiting for a worker.", queueDepth)
            single("sketch2real_queue_capacity", "gauge", "Jobs that may wait for a busy worker before requests are refused with 503.", queueCapacity)
            single("sketch2real_inference_in_progress", "gauge", "Inference jobs running now.", inProgress)
            single("sketch2real_inference_workers", "gauge", "Inference worker threads.", workers)
            single("sketch2real_queue_rejected_total", "counter", "Requests refused with 503 because the queue was full.", rejected)
            single("sketch2real_request_timeouts_total", "counter", "Requests answered 504 because inference took longer than the timeout.", timedOut)
            single("sketch2real_models_loaded", "gauge", "Models the server can use.", models)
            return out
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
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
