import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Sketch2Real

// What a translation or sampling request carries: the sketch (a PNG or JPEG body, or a
// multipart form), its parameters, the model and the answer's format, each checked with an
// answer that says what to send instead.
extension StudioServer {
    struct Upload: Sendable {
        let image: [UInt8]
        let header: ImageHeader
        let parameters: RequestParameters
    }

    /// The sketch from a PNG/JPEG body or a multipart form, with the query's and the form's
    /// parameters, after the size, type and dimension checks.
    func readUpload(_ request: Request) async throws -> Upload {
        var parameters = RequestParameters(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        let imageTypes = ["image/png", "image/jpeg", "image/jpg"]
        guard imageTypes.contains(mediaType) || mediaType == "multipart/form-data" else {
            throw StudioError(.unsupportedMediaType, contentType.isEmpty
                ? "The request has no Content-Type; send the sketch as an image/png or image/jpeg body, or as multipart/form-data with a file field named 'image'."
                : "Content-Type '\(contentType)' is not accepted; send the sketch as an image/png or image/jpeg body, or as multipart/form-data with a file field named 'image'.")
        }
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw StudioError(.contentTooLarge, "The request body is \(declared) bytes, above the limit of \(limit) bytes; send a smaller image.")
        }
        let body: ByteBuffer
        do {
            body = try await withDeadline(seconds: configuration.bodyTimeout) { try await request.body.collect(upTo: limit) }
        } catch is DeadlineExceeded {
            throw StudioError(.requestTimeout, "The request body did not arrive within \(Self.format(configuration.bodyTimeout)) s.")
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw StudioError(.contentTooLarge, "The request body is larger than the limit of \(limit) bytes; send a smaller image.")
        }
        var bytes = Array(body.readableBytesView)
        if mediaType == "multipart/form-data" {
            let parsed: MultipartForm?
            do {
                parsed = try MultipartForm.boundary(in: contentType).flatMap { try MultipartForm.parse(bytes, boundary: $0) }
            } catch {
                throw StudioError.badRequest("The form has more than \(MultipartForm.maximumParts) parts; send the image and a few fields.")
            }
            guard let form = parsed else {
                throw StudioError.badRequest("The multipart/form-data body could not be parsed; send a well-formed form with a file field named 'image'.")
            }
            guard let file = form.part(named: "image") ?? form.parts.first(where: { $0.filename != nil }) else {
                throw StudioError.badRequest("The form has no file field named 'image'; put the sketch there.")
            }
            if let type = file.contentType?.split(separator: ";").first?.trimmingWhitespace().lowercased(),
               !imageTypes.contains(type), type != "application/octet-stream" {
                throw StudioError(.unsupportedMediaType, "The form's image is '\(type)'; send a PNG or JPEG file.")
            }
            for part in form.parts where part.filename == nil && part.name != "image" && parameters[part.name] == nil {
                parameters[part.name] = part.text
            }
            bytes = file.body
        }
        if bytes.isEmpty { throw StudioError.unprocessable("The image is empty (0 bytes); send a PNG or JPEG file.") }
        guard let header = ImageHeader.read(bytes) else {
            throw StudioError.unprocessable("The body is not a PNG or JPEG image (or its header is damaged); send a PNG or JPEG file.")
        }
        let side = configuration.maxImageSide
        guard header.width >= 1, header.height >= 1 else {
            throw StudioError.unprocessable("The image says it is \(header.width)×\(header.height) pixels; send a picture with at least one pixel.")
        }
        guard header.width <= side, header.height <= side else {
            throw StudioError.unprocessable("The image is \(header.width)×\(header.height) pixels; the limit is \(side) pixels on each side. Scale it down and send it again.")
        }
        return Upload(image: bytes, header: header, parameters: parameters)
    }

    /// 422 before queueing when the model's measured speed says the request cannot finish within
    /// the time limit: the side limit and the sample limit, bounded by what this machine does.
    func refuseIfTooSlow(model name: String, header: ImageHeader, images: Int) throws {
        guard let rate = models.info(named: name)?.secondsPerMegapixel else { return }
        let megapixels = Double(header.width * header.height) / 1e6
        let seconds = rate * megapixels * Double(images)
        guard seconds > configuration.inferenceTimeout else { return }
        let largest = Int((configuration.inferenceTimeout / (rate * Double(images)) * 1e6).squareRoot())
        throw StudioError.unprocessable(
            "\(images) image(s) of \(header.width)×\(header.height) with '\(name)' would take about \(Self.format(seconds)) s on this server, above its limit of \(Self.format(configuration.inferenceTimeout)) s; send a sketch of at most about \(largest)×\(largest) pixels" + (images > 1 ? " or ask for fewer samples." : "."))
    }

    func modelName(_ p: RequestParameters, multimodal: Bool) throws -> String {
        if let name = p["model"], !name.isEmpty {
            guard models.info(named: name) != nil else {
                let names = models.infos.map(\.name).joined(separator: ", ")
                throw StudioError(.notFound, "There is no model named '\(name)'; this server has \(names.isEmpty ? "none" : names). GET /api/models lists them.")
            }
            return name
        }
        // Without a name: for sampling the first multimodal model; for translation the first
        // one-to-one model, as `sketch2real translate` uses the SRAGAN, else the first of any kind.
        let preferred = multimodal ? models.infos.first(where: \.multimodal)
            : models.infos.first(where: { !$0.multimodal }) ?? models.infos.first
        guard let first = preferred else {
            throw StudioError(.notFound, models.infos.isEmpty
                ? "This server has no models; start it with --models pointing at a folder of exported .safetensors files."
                : "This server has no multimodal model (lsragan, bicyclegan or msgan) to sample from; use POST /api/translate.")
        }
        return first.name
    }

    enum ResponseFormat { case png, json }

    func responseFormat(_ request: Request, _ p: RequestParameters) throws -> ResponseFormat {
        switch p["format"]?.lowercased() {
        case "png": return .png
        case "json": return .json
        case nil, "":
            let accept = request.headers[.accept] ?? ""
            return accept.contains("application/json") && !accept.contains("image/png") ? .json : .png
        case let other?: throw StudioError.badRequest("format must be png or json, got '\(other)'.")
        }
    }
}

/// Query and form parameters, query first.
struct RequestParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ pairs: [(String, String)]) {
        for (k, v) in pairs where values[k] == nil { values[k] = v }
    }

    subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    func integer(_ name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let n = Int(text.trimmingWhitespace()), range.contains(n) else {
            throw StudioError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'.")
        }
        return n
    }

    func number(_ name: String, in range: ClosedRange<Double>, default value: Double) throws -> Double {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let x = Double(text.trimmingWhitespace()), x.isFinite, range.contains(x) else {
            throw StudioError.badRequest("\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'.")
        }
        return x
    }

    /// A latent code: `size` comma-separated finite numbers; nil when absent.
    func code(_ name: String, size: Int) throws -> [Float]? {
        guard let text = values[name], !text.isEmpty else { return nil }
        let numbers = text.split(separator: ",").map { Float($0.trimmingWhitespace()) }
        guard numbers.count == size, numbers.allSatisfy({ $0?.isFinite == true && abs($0!) <= 100 }) else {
            throw StudioError.badRequest("\(name) must be \(size) comma-separated numbers from -100 to 100 (a latent code of this model), got '\(text.prefix(200))'.")
        }
        return numbers.map { $0! }
    }
}
