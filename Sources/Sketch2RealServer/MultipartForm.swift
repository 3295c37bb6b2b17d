/// A `multipart/form-data` body (RFC 7578) split into its parts.
struct MultipartForm {
    struct Part {
        let name: String
        let filename: String?
        let contentType: String?
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let parts: [Part]

    func part(named name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary parameter of a multipart content type.
    static func boundary(in contentType: String) -> String? {
        parameter("boundary", in: contentType).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The most parts a form may have: the studio's forms have an image and a few fields.
    static let maximumParts = 32
    /// The longest a part's header block or its delimiter line may be, so that finding their
    /// ends never scans far ahead: the parser's work stays linear in the body's size.
    static let maximumHeaderBytes = 8192

    struct TooManyParts: Error {}

    /// Parses `body`; nil when it is not well-formed multipart with this boundary. Throws
    /// `TooManyParts` when it has more than `maximumParts` parts.
    static func parse(_ body: [UInt8], boundary: String) throws -> MultipartForm? {
        let delimiter = Array(("--" + boundary).utf8)
        guard var position = find(delimiter, in: body, from: 0) else { return nil }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            // "--" after a delimiter closes the body.
            if position + 1 < body.count, body[position] == 0x2D, body[position + 1] == 0x2D { break }
            guard parts.count < maximumParts else { throw TooManyParts() }
            guard let lineEnd = find([0x0D, 0x0A], in: body, from: position, within: maximumHeaderBytes) else { return nil }
            let headerStart = lineEnd + 2
            guard let headerEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: headerStart, within: maximumHeaderBytes) else { return nil }
            let contentStart = headerEnd + 4
            guard let next = find([0x0D, 0x0A] + delimiter, in: body, from: contentStart) else { return nil }
            let headers = String(decoding: body[headerStart ..< headerEnd], as: UTF8.self)
            var name: String?, filename: String?, contentType: String?
            for line in headers.split(separator: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2 else { continue }
                let field = pair[0].trimmingWhitespace().lowercased(), value = pair[1].trimmingWhitespace()
                if field == "content-disposition" {
                    name = parameter("name", in: value)
                    filename = parameter("filename", in: value)
                } else if field == "content-type" {
                    contentType = value
                }
            }
            guard let name else { return nil }
            parts.append(Part(name: name, filename: filename, contentType: contentType, body: Array(body[contentStart ..< next])))
            position = next + 2
        }
        return MultipartForm(parts: parts)
    }

    /// `key="value"` or `key=value` in a header's parameters.
    static func parameter(_ key: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == key else { continue }
            var value = pair[1].trimmingWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// The first index ≥ `start` where `needle` begins, looking at most `within` bytes ahead.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int, within: Int = .max) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let end = within >= haystack.count ? haystack.count - needle.count : Swift.min(haystack.count - needle.count, start + within)
        while i <= end {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
