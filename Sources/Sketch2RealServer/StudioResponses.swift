import Foundation

/// The JSON bodies the studio answers with, as types: the OpenAPI document describes these.

/// `GET /healthz`.
struct HealthResponse: Encodable {
    let status: String
    let models: Int
    let workers: Int
    let queueDepth: Int
    let inProgress: Int
}

/// The server's limits, in `GET /api/models`.
struct StudioLimits: Encodable {
    let maxBodyBytes: Int
    let maxImageSide: Int
    let maxSamples: Int
    let timeoutSeconds: Double
    let queueCapacity: Int
    let workers: Int
}

/// `GET /api/models`.
struct ModelsResponse: Encodable {
    let models: [StudioModelInfo]
    let limits: StudioLimits
}

/// `POST /api/translate` with `format=json`.
struct TranslateResponse: Encodable {
    let model: String
    let width: Int
    let height: Int
    let latencyMs: Double
    /// The PNG, base64.
    let image: String
}

/// `POST /api/sample` with `format=json`.
struct SampleResponse: Encodable {
    struct Sample: Encodable {
        /// The PNG, base64.
        let image: String
        /// The latent code it was drawn from.
        let code: [Float]
    }
    let model: String
    let seed: Int
    let width: Int
    let height: Int
    let latencyMs: Double
    let images: [Sample]
}

/// Every error: `{"error": {"message": …, "status": …}}`.
struct ErrorResponse: Encodable {
    struct Detail: Encodable {
        let status: Int
        let message: String
    }
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
