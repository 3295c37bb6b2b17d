/// A running total that layers add to while a `count` scope is open; scopes nest, and the
/// outermost one resets it. Not thread-safe: count on one thread while nothing else runs layers.
public final class LayerTally: @unchecked Sendable {
    private var active = false
    private var total = 0.0

    init() {}

    /// Runs `body` with counting on; returns its result and what was added meanwhile.
    public func count<T>(_ body: () throws -> T) rethrows -> (result: T, total: Double) {
        let (wasActive, before) = (active, total)
        active = true
        defer { active = wasActive }
        let result = try body()
        let counted = total - before
        if !wasActive { total = 0 }
        return (result, counted)
    }

    var isActive: Bool { active }

    @inline(__always)
    func add(_ amount: @autoclosure () -> Double) {
        if active { total += amount() }
    }
}
