import Foundation

/// Terminal progress for long work: a line rewritten in place on a terminal, or a plain line
/// every `every` updates when output goes to a file or pipe.
public final class ProgressReporter: @unchecked Sendable {
    public let isTerminal: Bool
    /// Prints nothing (the other ranks of a data-parallel run; rank 0 reports).
    public let silent: Bool
    let every: Int
    private var updates = 0
    private var lastLength = 0

    public init(every: Int = 10, isTerminal: Bool = isatty(STDOUT_FILENO) != 0, silent: Bool = false) {
        self.every = max(1, every)
        self.isTerminal = isTerminal
        self.silent = silent
    }

    /// Shows `line`; on a terminal it replaces the previous progress line.
    public func update(_ line: String, force: Bool = false) {
        updates += 1
        if isTerminal {
            let padding = max(0, lastLength - line.count)
            write("\r" + line + String(repeating: " ", count: padding))
            lastLength = line.count
        } else if force || updates % every == 0 {
            write(line + "\n")
        }
    }

    /// Prints a message on its own line, keeping the progress line intact below it.
    public func message(_ text: String) {
        if isTerminal && lastLength > 0 {
            write("\r" + String(repeating: " ", count: lastLength) + "\r")
            lastLength = 0
        }
        write(text + "\n")
    }

    public func finish() {
        if isTerminal && lastLength > 0 { write("\n") }
        lastLength = 0
    }

    private func write(_ s: String) {
        if !silent { FileHandle.standardOutput.write(Data(s.utf8)) }
    }

    /// "1:02:03" / "2:03".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
