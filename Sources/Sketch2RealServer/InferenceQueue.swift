import Foundation

/// Why the queue did not run a piece of work.
public enum InferenceQueueError: Error, Equatable, Sendable {
    /// Every worker is busy and `capacity` jobs already wait; try again after about this many seconds.
    case full(retryAfterSeconds: Int)
    /// The queue is shutting down and takes no new work.
    case shuttingDown
}

/// A bounded work queue served by a fixed set of worker threads, each owning its own `Context`
/// (its own copies of the models). libtorch keeps autograd mode and error capture per thread,
/// and inference blocks a core for its whole duration, so it runs on these dedicated threads
/// rather than on Swift's cooperative pool or NIO's event loops.
///
/// At most `capacity` jobs wait for a busy worker; a submission beyond that fails at once with `.full`, so an
/// overload produces quick 503s instead of a growing pile. A waiting job whose submitter is
/// cancelled (timed out, client gone) is dropped without running; a running one is told through
/// its `InferenceCancellation`, which the work checks between its stages and samples.
public final class InferenceQueue<Context>: @unchecked Sendable {
    public let capacity: Int
    public let workerCount: Int

    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var running = 0
    private var accepting = true
    private var finishedWorkers = 0
    /// Exponential moving average of a job's run time, for Retry-After.
    private var averageSeconds = 0.5
    private var threads: [Thread] = []

    final class Job: @unchecked Sendable {
        let run: (Context) -> Void
        init(run: @escaping (Context) -> Void) { self.run = run }
    }

    /// Starts one thread per context.
    public init(contexts: [Context], capacity: Int, name: String = "sketch2real-inference") {
        precondition(!contexts.isEmpty, "an inference queue needs at least one worker")
        precondition(capacity >= 0, "queue capacity cannot be negative")
        self.capacity = capacity
        self.workerCount = contexts.count
        for (i, context) in contexts.enumerated() {
            let box = UncheckedBox(context)
            let thread = Thread { [self] in self.serve(box.value) }
            thread.name = "\(name)-\(i)"
            // Large enough for deep networks' recursion in libtorch and OpenCV.
            thread.stackSize = 8 << 20
            threads.append(thread)
        }
        threads.forEach { $0.start() }
    }

    /// Jobs waiting for a worker.
    public var depth: Int { condition.withLock { waiting.count } }
    /// Jobs running now.
    public var inProgress: Int { condition.withLock { running } }

    /// Whether a submission now would be refused with `.full`: a cheap check before a request's
    /// body is read, so an overloaded server spends nothing on requests it cannot take.
    public var isFull: Bool {
        condition.withLock { accepting && waiting.count >= capacity + (workerCount - running) }
    }

    /// The seconds a refused client should wait before trying again.
    public var retryAfterSeconds: Int { condition.withLock { retryAfterLocked() } }

    private func retryAfterLocked() -> Int {
        let perWorker = Double(waiting.count + running) / Double(workerCount)
        let seconds = Int((averageSeconds * max(1, perWorker)).rounded(.up))
        return min(max(seconds, 1), 60)
    }

    /// Runs `work` on a worker and returns its result. Throws `InferenceQueueError.full` at once
    /// when `capacity` jobs already wait, `CancellationError` when the calling task is cancelled
    /// first (a job not yet started is then never run), or what `work` throws.
    public func submit<T: Sendable>(_ work: @escaping @Sendable (Context) throws -> T) async throws -> T {
        try await submit { context, _ in try work(context) }
    }

    /// `submit` for work that stops early when its submitter is cancelled: `work` receives the
    /// job's `InferenceCancellation` and calls `check()` between its stages.
    public func submit<T: Sendable>(_ work: @escaping @Sendable (Context, InferenceCancellation) throws -> T) async throws -> T {
        let state = ResumeOnce<T>()
        let cancellation = InferenceCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                state.set(continuation)
                let job = Job(run: { context in
                    let started = Date()
                    let result = Result { try cancellation.check(); return try work(context, cancellation) }
                    self.record(seconds: Date().timeIntervalSince(started))
                    state.resume(with: result)
                })
                let refusal: (any Error)? = condition.withLock {
                    guard accepting else { return InferenceQueueError.shuttingDown }
                    if state.isCancelled { return CancellationError() }
                    // Idle workers are about to take jobs that wait, so they add to the room.
                    guard waiting.count < capacity + (workerCount - running) else {
                        return InferenceQueueError.full(retryAfterSeconds: retryAfterLocked())
                    }
                    waiting.append(job)
                    state.job = job
                    condition.signal()
                    return nil
                }
                if let refusal { state.resume(with: .failure(refusal)) }
            }
        } onCancel: {
            // A waiting job leaves the queue; a running one is asked to stop at its next check,
            // and whatever it still returns is dropped. Either way the submitter returns now.
            cancellation.cancel()
            condition.withLock {
                state.isCancelled = true
                if let job = state.job as? Job, let i = waiting.firstIndex(where: { $0 === job }) {
                    waiting.remove(at: i)
                }
            }
            state.resume(with: .failure(CancellationError()))
        }
    }

    /// Stops taking work, lets the workers finish every job already queued, and waits for them.
    public func shutdown() {
        condition.withLock {
            accepting = false
            condition.broadcast()
        }
        condition.withLock {
            while finishedWorkers < workerCount { condition.wait() }
        }
    }

    /// `shutdown()` without holding a Swift concurrency thread while the workers finish.
    public func shutdown() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread { [self] in
                shutdown()
                done.resume()
            }.start()
        }
    }

    private func record(seconds: Double) {
        condition.withLock { averageSeconds = 0.8 * averageSeconds + 0.2 * seconds }
    }

    private func serve(_ context: Context) {
        while true {
            let next: Job? = condition.withLock {
                while waiting.isEmpty && accepting { condition.wait() }
                guard !waiting.isEmpty else { return nil }
                running += 1
                return waiting.removeFirst()
            }
            guard let job = next else { break }
            job.run(context)
            condition.withLock { running -= 1 }
        }
        condition.withLock {
            finishedWorkers += 1
            condition.broadcast()
        }
    }
}

/// Tells a running job that nobody waits for its result any more (the client went away or the
/// deadline passed). The job calls `check()` between stages and samples, which throws
/// `CancellationError` once cancelled, so its worker is free for the next request.
public final class InferenceCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() { lock.withLock { cancelled = true } }

    public var isCancelled: Bool { lock.withLock { cancelled } }

    public func check() throws {
        if isCancelled { throw CancellationError() }
    }

    /// Sleeps up to `seconds`, returning early once cancelled (tests' stand-in for slow work).
    public func sleep(seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !isCancelled, Date() < end { Thread.sleep(forTimeInterval: min(0.01, max(0, end.timeIntervalSinceNow))) }
    }
}

/// A continuation resumed at most once, whichever of worker, refusal or cancellation comes first.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var pending: Result<T, any Error>?
    private var done = false
    // Guarded by the queue's lock.
    var isCancelled = false
    var job: AnyObject?

    func set(_ c: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = lock.withLock {
            if let pending { return pending }
            continuation = c
            return nil
        }
        if let early { c.resume(with: early) }
    }

    func resume(with result: Result<T, any Error>) {
        let c: CheckedContinuation<T, any Error>? = lock.withLock {
            guard !done else { return nil }
            done = true
            guard let c = continuation else {
                pending = result
                return nil
            }
            continuation = nil
            return c
        }
        c?.resume(with: result)
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
