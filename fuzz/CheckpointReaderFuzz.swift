import Foundation

// libFuzzer target: any bytes given to the checkpoint reader (zip archive, pickle machine,
// tensor records) either fail with an InteropError or give tensors whose bytes match their
// shapes, within the reader's memory bound. A trap, a crash, a hang or a leak fails the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpointReader(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let tensors = try? CheckpointReader.stateDict(data, source: "fuzz.pth") else { return 0 }
    var total = 0
    for (_, t) in tensors {
        let elements = t.shape.reduce(1, *)
        precondition(t.bytes.count == elements * t.type.byteSize, "a tensor whose bytes do not match its shape")
        total += t.bytes.count
    }
    precondition(total <= CheckpointReader.maximumBytes(fileSize: count), "tensors beyond the memory bound")
    return 0
}
