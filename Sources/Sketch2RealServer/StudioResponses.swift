import Foundation

/// The JSON bodies the studio answers with, as types: the OpenAPI document describes these.

/// `GET /healthz`.
struct HealthResponse: Encodable {
    let status: String
    let models, workers, queueDepth, inProgress: Int
}

/// The server's limits, in `GET /api/models`.
struct StudioLimits: Encodable {
    let maxBodyBytes, maxImageSide, maxSamples: Int
    let timeoutSeconds: Double
    let queueCapacity, workers: Int
}

/// `GET /api/models`.
struct ModelsResponse: Encodable {
    let models: [StudioModelInfo]
    let limits: StudioLimits
}

/// `POST /api/translate` with `format=json`; `image` is the PNG in base64.
struct TranslateResponse: Encodable {
    let model: String
    let width, height: Int
    let latencyMs: Double
    let image: String
}

/// `POST /api/sample` with `format=json`: each image (PNG, base64) with the code it was drawn from.
struct SampleResponse: Encodable {
    struct Sample: Encodable { let image: String; let code: [Float] }
    let model: String
    let seed, width, height: Int
    let latencyMs: Double
    let images: [Sample]
}

/// Every error: `{"error": {"message": …, "status": …}}`.
struct ErrorResponse: Encodable {
    struct Detail: Encodable { let status: Int; let message: String }
    let error: Detail
}

extension Encodable {
    /// Sorted keys, slashes unescaped: the bytes the studio sends.
    func studioJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(self))) ?? Array("{}".utf8)
    }
}
