import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM so a training loop can save a checkpoint and exit cleanly.
public enum StopSignal {
    static let requested = Atomic<Bool>(false)

    public static var isRequested: Bool { requested.load(ordering: .relaxed) }

    public static func request() { requested.store(true, ordering: .relaxed) }

    public static func reset() { requested.store(false, ordering: .relaxed) }

    /// Routes SIGINT and SIGTERM to `request()`; a second signal exits at once.
    public static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if StopSignal.requested.exchange(true, ordering: .relaxed) { _exit(130) }
            }
        }
    }
}
