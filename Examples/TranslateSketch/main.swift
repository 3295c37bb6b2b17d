// The library from a Swift program: one sketch → one image with the bundled SRAGAN, then six
// variations of it with the bundled LSRAGAN. `make test` builds and runs it, so it stays in step
// with the library.
//
//   swift run TranslateSketch examples/mountain-lake.png out
import Foundation
import Sketch2Real

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: TranslateSketch SKETCH OUT-FOLDER\n".utf8))
    exit(2)
}
let (sketchPath, out) = (arguments[0], arguments[1])
let name = ((sketchPath as NSString).lastPathComponent as NSString).deletingPathExtension

do {
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let sketch = try Image.load(path: sketchPath)

    // An exported model file, a checkpoint or a run folder loads the same way.
    let (generator, _) = try GeneratorFile.load(try BundledModels.path(BundledModels.translation))
    try Translator(generator: generator).translate(sketch).save(path: "\(out)/\(name).png")

    // The codes `sketch2real sample --seed 1` draws for a first sketch: the same six images as
    // `sample --seed 1 --precision fp32` (the library computes in float32 unless told otherwise).
    let sampler = MultimodalSampler(model: try GeneratorFile.loadMultimodal(try BundledModels.path(BundledModels.sampling)))
    let codes = LatentCodes.tensor(seed: 1, sketch: 0, count: 6, size: sampler.latentChannels)
    for (k, image) in try sampler.images(for: sketch, codes: codes).enumerated() {
        try image.save(path: "\(out)/\(name)-\(k).png")
    }
    print("wrote \(out)/\(name).png and \(out)/\(name)-0.png … \(name)-5.png")
} catch {
    FileHandle.standardError.write(Data("TranslateSketch: \(error)\n".utf8))
    exit(1)
}
