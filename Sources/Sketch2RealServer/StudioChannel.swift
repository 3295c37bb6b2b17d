import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 channel with one handler added where the HTTP version is still known
/// (before the conversion to Swift HTTP Types):
/// - an HTTP/1.0 request without `Connection: keep-alive` is marked `Connection: close`, so the
///   connection closes after its answer instead of idling until the timeout;
/// - a request that cannot be parsed (bad request line, header, or chunk size between requests)
///   is answered 400 (431 for oversized headers) with the API's JSON error body, then closed;
/// - the client's hanging up (its side of the connection closed) is reported to whoever asked
///   with `whenClientLeaves`, so the work it asked for can be cancelled.
struct StudioHTTPChannel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let inner: HTTP1Channel
    var responder: Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(HTTP1RequestGuard(), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }

    static func builder(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            StudioHTTPChannel(inner: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}

/// See `StudioHTTPChannel`.
final class HTTP1RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Between a request's head and its end: a parse error belongs to the request being read,
    /// and the handler reading its body answers it.
    private var readingRequest = false
    /// Between a response's head and its end.
    private var writingResponse = false
    private var clientLeft = false
    private var leaveHandlers: [@Sendable () -> Void] = []

    /// Runs `handler` once the client has closed its side of the connection (at once if it
    /// already has). Call on the channel's event loop.
    func whenClientLeaves(_ handler: @escaping @Sendable () -> Void) {
        if clientLeft { handler() } else { leaveHandlers.append(handler) }
    }

    private func clientHasLeft() {
        guard !clientLeft else { return }
        clientLeft = true
        let handlers = leaveHandlers
        leaveHandlers = []
        handlers.forEach { $0() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { clientHasLeft() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientHasLeft()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        switch part {
        case .head(var head):
            readingRequest = true
            if head.version == .http1_0,
               !head.headers["connection"].contains(where: { $0.lowercased().contains("keep-alive") }) {
                head.headers.replaceOrAdd(name: "Connection", value: "close")
                part = .head(head)
            }
        case .end:
            readingRequest = false
        case .body:
            break
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: writingResponse = true
        case .end: writingResponse = false
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, !readingRequest, !writingResponse else {
            context.fireErrorCaught(error)
            return
        }
        let tooLarge = parseError == .headerOverflow
        let status: HTTPResponseStatus = tooLarge ? .requestHeaderFieldsTooLarge : .badRequest
        let message = tooLarge
            ? "The request's headers are too large; send fewer or shorter headers."
            : "The request is not valid HTTP/1.1 (\(parseError)); check the request line, the headers and any chunk sizes."
        let body = StudioError.jsonBody(status: Int(status.code), message: message)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        for (name, value) in StudioSecurity.responseHeaders { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
