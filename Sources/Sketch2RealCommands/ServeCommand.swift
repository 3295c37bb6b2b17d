import ArgumentParser
import Foundation
import Sketch2Real
import Sketch2RealServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Sketch2Real Studio: a drawing page and a JSON/HTTP API on a local web server.",
        discussion: """
        Serves every exported model (*.safetensors) of --models: the studio page at /, the API at \
        /api/models, /api/translate and /api/sample (described at /openapi.yaml), /healthz and \
        Prometheus metrics at /metrics. Inference runs on --workers threads, each with its own copy \
        of the models; at most --queue requests wait for them, more are answered 503 with Retry-After. \
        Binds to 127.0.0.1 unless --host says otherwise, answers only to loopback names and IP \
        addresses unless --allow-host names more, and refuses other sites' pages unless --allow-origin \
        names them. Ctrl-C (or SIGTERM) stops taking \
        connections, finishes the requests in flight, then exits.
        """
    )

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Folder of exported models (default: the bundled models folder, or $\(BundledModels.environmentKey)).")
    var models: String?

    @Option(help: "Inference worker threads, each with its own copy of every model (libtorch already uses every core for one; more help on many cores, with --threads).")
    var workers = 1

    @Option(help: "Requests that may wait for a worker before new ones get 503.")
    var queue = 16

    @Option(help: "Largest request body in MiB.")
    var maxUploadMb = 10

    @Option(help: "Largest width or height of a sketch, in pixels.")
    var maxSide = 1024

    @Option(help: "Seconds a request may wait for and run inference before it gets 504.")
    var timeout = 30.0

    @Option(help: "Seconds a 503 \"busy\" answer is held back, so clients that retry at once cannot keep the cores busy with refusals (0 to answer at once).")
    var busyAnswerDelay = 0.25

    @Option(name: .customLong("allow-host"), help: ArgumentHelp(
        "A host name the server answers to, besides loopback names and IP addresses (repeatable; * for any).",
        discussion: "Other Host headers get 403, which keeps web pages from reaching the studio through DNS rebinding."))
    var allowedHosts: [String] = []

    @Option(name: .customLong("allow-origin"), help: ArgumentHelp(
        "An origin (http://host:port) whose pages may call the API (repeatable; * for any).",
        discussion: "Other pages' cross-origin requests get 403."))
    var allowedOrigins: [String] = []

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let problem = studioConfiguration().problem() { throw ValidationError(problem.prefix(1).uppercased() + problem.dropFirst() + ".") }
        guard maxUploadMb >= 1 else { throw ValidationError("--max-upload-mb must be at least 1.") }
    }

    func studioConfiguration() -> StudioConfiguration {
        var c = StudioConfiguration()
        c.host = host
        c.port = port
        c.workers = workers
        c.queueCapacity = queue
        c.maxBodyBytes = maxUploadMb << 20
        c.maxImageSide = maxSide
        c.inferenceTimeout = timeout
        c.allowedHosts = allowedHosts
        c.allowedOrigins = allowedOrigins
        c.busyAnswerDelay = busyAnswerDelay
        return c
    }

    func run() async throws {
        try runtime.apply()
        let folder = models ?? BundledModels.directory()
        let server: StudioServer
        do {
            server = try StudioServer(configuration: studioConfiguration(), modelsFolder: folder)
        } catch {
            throw ModelError("\(error); pass --models with a folder of models made by `sketch2real export`")
        }
        for failure in server.models.failures { say("skipped \(failure)") }
        if server.models.infos.isEmpty {
            say("warning: no usable models in \(folder); make one with `sketch2real export RUN --out \(folder)/NAME.safetensors`")
        }
        for info in server.models.infos {
            var line = "model \(info.name): \(info.kind)\(info.multimodal ? ", multimodal (nz \(info.latentSize))" : ""), trained at \(info.trainingSize) px"
            if let rate = info.secondsPerMegapixel {
                let side = Int((timeout / rate * 1e6).squareRoot())
                line += String(format: "; %.2f s per megapixel here, so one image up to about %d×%d fits in the %.0f s limit", rate, side, side, timeout)
            }
            say(line)
        }
        let running = try await server.start(gracefulShutdownSignals: [.sigterm, .sigint])
        say("Sketch2Real Studio at \(running.url)/  (API: \(running.url)/openapi.yaml; Ctrl-C stops)")
        try await running.wait()
        say("stopped")
    }
}
