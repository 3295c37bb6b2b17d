import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// An API failure: its status and a sentence the caller can act on, sent as
/// `{"error": {"status": 422, "message": "..."}}` (the shape Hummingbird's own errors use, with the status added).
public struct StudioError: HTTPResponseError, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.response(status: status, message: message, headers: headers)
    }

    static func response(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody(status: status.code, message: message))))
    }

    /// `{"error": {"message": ..., "status": ...}}` as bytes.
    static func jsonBody(status: Int, message: String) -> [UInt8] {
        ErrorResponse(error: .init(status: status, message: message)).studioJSON()
    }

    static func badRequest(_ message: String) -> StudioError { StudioError(.badRequest, message) }
    static func unprocessable(_ message: String) -> StudioError { StudioError(.unprocessableContent, message) }
}

/// Turns every error, Hummingbird's own included (unknown route, body too large), into the JSON
/// error shape, so clients see one format.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StudioError {
            return StudioError.response(status: error.status, message: error.message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            let message: String
            switch error.status {
            case .notFound: message = "There is nothing at \(request.method) \(request.uri.path); the studio is at /, the API is described at /openapi.yaml."
            case .contentTooLarge: message = "The request body is larger than the limit of \(maxBodyBytes) bytes; send a smaller image."
            case .methodNotAllowed: message = "\(request.method) is not allowed on \(request.uri.path); see /openapi.yaml."
            default: message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            }
            return StudioError.response(status: error.status, message: message)
        } catch let error as HTTPParserError {
            return StudioError.response(status: .badRequest, message: "The request body is not valid HTTP/1.1 (\(error)); check the chunk sizes and the Content-Length.",
                                        headers: [.connection: "close"])
        } catch is CancellationError {
            return StudioError.response(status: .serviceUnavailable, message: "The request was cancelled.")
        } catch {
            context.logger.error("request failed: \(error)")
            return StudioError.response(status: .internalServerError, message: "The server failed: \(error)")
        }
    }
}
