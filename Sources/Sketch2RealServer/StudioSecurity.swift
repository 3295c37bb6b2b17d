import Foundation
import HTTPTypes
import Hummingbird

/// What a browser may do with the studio, decided per request:
/// - **Host allow-list** (against DNS rebinding): a request is answered only when its Host is a
///   loopback name (`localhost`, `*.localhost`), an IP address (a rebinding attack needs a name),
///   or a name given with `--allow-host` (`*` allows any).
/// - **No cross-origin use**: a POST (or preflight) whose `Origin` is not the server itself, or
///   that a browser marks `Sec-Fetch-Site: cross-site`/`same-site`, is refused unless the origin
///   was given with `--allow-origin` (`*` allows any); allowed origins get CORS headers.
///   Clients that are not browsers (curl, scripts) send neither header and are not affected.
/// - **Response headers** on every answer: nosniff, a content security policy that allows only
///   the page's own script and style (and generated images as data/blob URLs), no framing, no
///   referrer.
struct StudioSecurity: Sendable {
    let allowedHosts: Set<String>
    let allowedOrigins: Set<String>

    init(allowedHosts: [String], allowedOrigins: [String]) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.allowedOrigins = Set(allowedOrigins.map { Self.normalizedOrigin($0) })
    }

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

    static let responseHeaders: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    // MARK: Host

    /// The host part of an authority (`name:port`, `[v6]:port`), lowercased.
    static func hostName(ofAuthority authority: String) -> String {
        var text = Substring(authority.lowercased())
        if text.hasPrefix("[") {
            if let close = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex) ..< close]) }
            return String(text)
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { text = text[..<colon] }
        return String(text.hasSuffix(".") ? text.dropLast() : text)
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    func allowsHost(_ authority: String?) -> Bool {
        // HTTP/1.0 clients may send no Host; a browser always does.
        guard let authority, !authority.isEmpty else { return true }
        let host = Self.hostName(ofAuthority: authority)
        return host == "localhost" || host.hasSuffix(".localhost") || Self.isIPAddress(host)
            || allowedHosts.contains(host) || allowedHosts.contains("*")
    }

    // MARK: Origin

    static func normalizedOrigin(_ origin: String) -> String {
        var text = origin.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// nil when the request may go on; otherwise why not.
    func crossOriginRefusal(_ request: Request) -> String? {
        if let origin = request.headers[.origin] {
            let normalized = Self.normalizedOrigin(origin)
            if isSameOrigin(normalized, authority: request.head.authority) || allowsOrigin(normalized) { return nil }
            return "Requests from pages of other sites are refused, and this one came from \(origin.prefix(200)). Use the studio's own page, or start the server with --allow-origin \(origin.prefix(200)) to let that page use it."
        }
        if let site = request.headers[.secFetchSite]?.lowercased(), site == "cross-site" || site == "same-site" {
            return "Requests from pages of other sites are refused (Sec-Fetch-Site: \(site)). Use the studio's own page, or start the server with --allow-origin naming that page's origin."
        }
        return nil
    }

    func isSameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let authority, let range = origin.range(of: "://") else { return false }
        return origin[range.upperBound...] == authority.lowercased()
    }

    func allowsOrigin(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}

/// Applies `StudioSecurity` to every request and answer; outside the JSON error middleware, so
/// refusals and errors carry the same headers.
struct SecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    let security: StudioSecurity
    let port: @Sendable () -> Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if !security.allowsHost(request.head.authority) {
            let host = request.head.authority.map { StudioSecurity.hostName(ofAuthority: $0) } ?? ""
            response = StudioError.response(status: .forbidden, message:
                "This server does not answer to the host name '\(host.prefix(200))' (a protection against DNS rebinding). Open it as http://127.0.0.1:\(port())/, or start it with --allow-host \(host.prefix(200)).")
        } else if request.method != .get && request.method != .head, let refusal = security.crossOriginRefusal(request) {
            response = StudioError.response(status: .forbidden, message: refusal)
        } else if request.method == .options {
            response = Response(status: .noContent, headers: [.allow: "GET, HEAD, POST, OPTIONS"])
        } else {
            response = try await next(request, context)
        }
        for (name, value) in StudioSecurity.responseHeaders {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        if let origin = request.headers[.origin], security.allowsOrigin(StudioSecurity.normalizedOrigin(origin)) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.vary] = "Origin"
            if request.method == .options {
                response.headers[.accessControlAllowMethods] = "GET, POST"
                response.headers[.accessControlAllowHeaders] = "Content-Type, Accept"
                response.headers[.accessControlMaxAge] = "600"
            }
        }
        if request.headers[.connection]?.lowercased() == "close" { response.headers[.connection] = "close" }
        return response
    }
}
