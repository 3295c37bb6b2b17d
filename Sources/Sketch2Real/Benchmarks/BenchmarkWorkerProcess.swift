import Foundation

/// A benchmark worker in its own process (the Swift worker subcommand or the PyTorch peer
/// script), so that each side's peak memory is its own. The two speak the same line protocol:
/// the worker prints `{"ready": true}` once set up, then answers each command line on stdin
/// with one JSON object on stdout:
///
///     parity          {"losses": {name: value}, "output": path}   generator outputs before and after
///                     one step from the initial state, in a safetensors file ("before", "output");
///                     the Swift worker adds the step's and the inference pass's FLOPs
///     train N         {"seconds": [...]}                          N timed training steps
///     infer N         {"seconds": [...]}                          N timed inference passes
///     rss             {"peakBytes": n}                            peak resident memory (VmHWM)
///     quit            (exits)
///
/// A reply `{"error": message}` reports a failure.
public final class BenchmarkWorkerProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let name: String
    let process = Process()
    let input = Pipe(), output = Pipe()
    var buffer = Data()

    public init(name: String, executable: String, arguments: [String], environment: [String: String] = [:]) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw Failure(description: "\(name): cannot start \(executable): \(error.localizedDescription)")
        }
        _ = try reply()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Sends one command and returns the worker's reply.
    @discardableResult
    public func send(_ command: String) throws -> [String: Any] {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        return try reply()
    }

    func reply() throws -> [String: Any] {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex ..< newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw Failure(description: "\(name): unexpected output: \(String(decoding: line, as: UTF8.self))")
                }
                if let message = object["error"] as? String { throw Failure(description: "\(name): \(message)") }
                return object
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw Failure(description: "\(name) exited with status \(process.terminationStatus) (its messages are above)")
            }
            buffer.append(chunk)
        }
    }

    public func seconds(_ command: String) throws -> [Double] {
        guard let s = try send(command)["seconds"] as? [Double] else {
            throw Failure(description: "\(name): no timings in the reply to \(command)")
        }
        return s
    }

    /// Asks the worker to exit and waits for it.
    public func finish() {
        if process.isRunning {
            input.fileHandleForWriting.write(Data("quit\n".utf8))
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }
}
