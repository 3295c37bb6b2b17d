import Foundation
import Sketch2RealProtos
import SwiftProtobuf
import Torch

/// Writes a TensorBoard event file: `events.out.tfevents.<seconds>.<host>.sketch2real` in a
/// folder, TFRecord-framed `Event` messages (TensorBoard's schema, proto/tensorboard.proto):
/// first the file version, then scalars and PNG images by tag and step. Each event is written
/// and flushed whole, so a run stopped at any moment leaves a readable file.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        path = (folder as NSString).appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).sketch2real")
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw InteropError("\(path): cannot create the event file (is the folder writable?)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var version = Tensorboard_Event()
        version.wallTime = Date().timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        try write(version)
    }

    deinit { try? handle.close() }

    /// One scalar per tag at `step`.
    public func scalars(_ values: [String: Double], step: Int, wallTime: Date = Date()) throws {
        var summary = Tensorboard_Summary()
        summary.value = values.sorted { $0.key < $1.key }.map { tag, v in
            var value = Tensorboard_Summary.Value()
            value.tag = tag
            value.simpleValue = Float(v)
            return value
        }
        try write(summary, step: step, wallTime: wallTime)
    }

    /// A PNG image under `tag` at `step`.
    public func image(_ png: [UInt8], width: Int, height: Int, channels: Int, tag: String, step: Int, wallTime: Date = Date()) throws {
        var image = Tensorboard_Summary.Image()
        (image.width, image.height, image.colorspace) = (Int32(width), Int32(height), Int32(channels))
        image.encodedImageString = Data(png)
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.image = image
        var summary = Tensorboard_Summary()
        summary.value = [value]
        try write(summary, step: step, wallTime: wallTime)
    }

    private func write(_ summary: Tensorboard_Summary, step: Int, wallTime: Date) throws {
        var event = Tensorboard_Event()
        event.wallTime = wallTime.timeIntervalSince1970
        event.step = Int64(step)
        event.summary = summary
        try write(event)
    }

    private func write(_ event: Tensorboard_Event) throws {
        let bytes: [UInt8] = try event.serializedBytes()
        try handle.write(contentsOf: TFRecord.frame(bytes))
        try handle.synchronize()
    }
}
