import Foundation

// libFuzzer target: the studio's multipart/form-data parser on any body, with boundaries taken
// from the input's first byte, never traps, and every part it returns lies inside the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipartForm(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: bytes, count: count))
    let boundaries = ["b", "s2r-boundary-1234", "----WebKitFormBoundary7MA4YWxkTrZu0gW"]
    let boundary = boundaries[Int(input.first ?? 0) % boundaries.count]
    let body = Array(input.dropFirst())
    if let form = (try? MultipartForm.parse(body, boundary: boundary)) ?? nil {
        for part in form.parts { precondition(part.body.count <= body.count, "a part larger than the body") }
        _ = form.part(named: "image")
    }
    _ = MultipartForm.boundary(in: String(decoding: body.prefix(200), as: UTF8.self))
    return 0
}
