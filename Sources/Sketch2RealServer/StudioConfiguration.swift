/// Settings of the studio server; `sketch2real serve` fills them from its options.
public struct StudioConfiguration: Sendable {
    /// Address to bind; loopback unless the user asks for more.
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one (tests).
    public var port = 8080
    /// Inference worker threads, each with its own copy of every model. libtorch already spreads
    /// one forward pass over every core, so one worker is fastest on small machines; more pay off
    /// with many cores (with `--threads` splitting them).
    public var workers = 1
    /// Jobs that may wait for a worker; one more is refused with 503 and Retry-After.
    public var queueCapacity = 16
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes = 10 << 20
    /// Largest width or height of an uploaded sketch (422 above it).
    public var maxImageSide = 1024
    /// Most images one `/api/sample` request may ask for.
    public var maxSamples = 16
    /// Seconds a request may wait for and run inference before it is answered 504.
    public var inferenceTimeout = 30.0
    /// Seconds a client may take to send its request body (408 after it).
    public var bodyTimeout = 15.0
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout = 60.0

    /// Host names the server answers to besides loopback names and IP addresses (`*`: any);
    /// other Host headers get 403, against DNS rebinding.
    public var allowedHosts: [String] = []
    /// Origins (`http://host:port`) whose pages may POST to the API (`*`: any); other
    /// cross-origin requests get 403.
    public var allowedOrigins: [String] = []
    /// Seconds a 503 "busy" answer is held back, so clients that retry at once, ignoring
    /// Retry-After, send at most a few requests a second each and leave the cores to the workers.
    public var busyAnswerDelay = 0.25

    /// Seconds each job sleeps on its worker before running: lets tests hold a worker busy.
    var workerDelayForTesting = 0.0

    public init() {}

    /// A message for the first setting out of range, or nil.
    public func problem() -> String? {
        if workers < 1 { return "workers must be at least 1, got \(workers)" }
        if queueCapacity < 0 { return "the queue capacity cannot be negative, got \(queueCapacity)" }
        if maxBodyBytes < 1024 { return "the body limit must be at least 1024 bytes, got \(maxBodyBytes)" }
        if maxImageSide < 1 { return "the image side limit must be at least 1, got \(maxImageSide)" }
        if maxSamples < 1 { return "the sample limit must be at least 1, got \(maxSamples)" }
        if !(inferenceTimeout > 0) || !(bodyTimeout > 0) || !(idleTimeout > 0) { return "timeouts must be positive" }
        if !(0 ... 10).contains(busyAnswerDelay) { return "the delay of busy answers must be from 0 to 10 s, got \(busyAnswerDelay)" }
        for origin in allowedOrigins where origin != "*" && !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            return "an allowed origin is a scheme, a host and a port, like http://example.com:8000 (or *), got '\(origin)'"
        }
        if !(0 ... 65535).contains(port) { return "the port must be between 0 and 65535, got \(port)" }
        return nil
    }
}
