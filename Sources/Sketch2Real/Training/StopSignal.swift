import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM so a training loop can save a checkpoint and exit cleanly.
public enum StopSignal {
    static let requested = Atomic<Bool>(false)
    /// CLOCK_MONOTONIC nanoseconds of the first signal (0: none yet).
    static let firstSignal = Atomic<UInt64>(0)
    /// Repeated signals this soon after the first are taken as the same request: a key pressed
    /// two or three times in a row still gets its checkpoint.
    public static let graceNanoseconds: UInt64 = 2_000_000_000

    public static var isRequested: Bool { requested.load(ordering: .relaxed) }

    public static func request() { requested.store(true, ordering: .relaxed) }

    public static func reset() {
        requested.store(false, ordering: .relaxed)
        firstSignal.store(0, ordering: .relaxed)
    }

    /// Routes SIGINT and SIGTERM to `request()`. Another signal more than `graceNanoseconds`
    /// after the first exits at once (status 130) without waiting for the checkpoint.
    public static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                // Only async-signal-safe work here: clock_gettime, atomics and _exit.
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let ns = UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
                let (exchanged, first) = StopSignal.firstSignal.compareExchange(expected: 0, desired: max(ns, 1), ordering: .relaxed)
                StopSignal.requested.store(true, ordering: .relaxed)
                if !exchanged, ns &- first > StopSignal.graceNanoseconds { _exit(130) }
            }
        }
    }
}
