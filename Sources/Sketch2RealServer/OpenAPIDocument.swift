/// The API's description, served at `/openapi.yaml` (OpenAPI 3.0.3). `StudioAPITests` checks
/// that it parses and names every route and error status the server answers with.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.0.3
info:
  title: Sketch2Real Studio API
  version: "1.0"
  description: |
    Turn sketches into images with the models the server loaded (`sketch2real serve --models DIR`).
    Send the sketch as the request body (`Content-Type: image/png` or `image/jpeg`, parameters in
    the query) or as `multipart/form-data` with the file in a field named `image` (parameters may
    then also be form fields; the query wins when both are given).

    Results come back as a PNG (the default) or, with `format=json` or `Accept: application/json`,
    as JSON with base64-encoded PNGs.

    Inference runs on a fixed number of workers behind a bounded queue: when it is full the server
    answers 503 with `Retry-After` (after a quarter of a second, without reading the body) instead
    of piling requests up. Work whose client disconnects or whose time runs out is cancelled
    between samples. Every error is JSON:
    `{"error": {"status": 422, "message": "a sentence saying what to change"}}`; so is a request
    that is not valid HTTP/1.1 (400, or 431 for oversized headers).

    The server answers only to loopback host names and IP addresses unless started with
    `--allow-host`, and refuses POSTs from other sites' pages (by `Origin` or `Sec-Fetch-Site`)
    unless started with `--allow-origin`; both answer 403. Every response carries
    `X-Content-Type-Options: nosniff`, a content security policy that allows only the server's
    own script and style, and `frame-ancestors 'none'`.
servers:
  - url: http://127.0.0.1:8080
paths:
  /api/models:
    get:
      summary: The models this server can use
      operationId: listModels
      responses:
        "200":
          description: Models and the server's limits.
          content:
            application/json:
              schema:
                type: object
                required: [models, limits]
                properties:
                  models:
                    type: array
                    items: {$ref: "#/components/schemas/Model"}
                  limits: {$ref: "#/components/schemas/Limits"}
  /api/translate:
    post:
      summary: One image for a sketch
      description: |
        One-to-one translation. Multimodal models take the latent code z = 0 (the prior's mean).
        Any size up to the side limit works: the sketch is padded to the network's multiple and the
        result cropped back to the sketch's size.
      operationId: translate
      parameters:
        - $ref: "#/components/parameters/model"
        - $ref: "#/components/parameters/format"
      requestBody:
        $ref: "#/components/requestBodies/Sketch"
      responses:
        "200":
          description: The generated image.
          headers:
            X-Sketch2Real-Latency-Ms: {$ref: "#/components/headers/Latency"}
            X-Sketch2Real-Model: {$ref: "#/components/headers/Model"}
          content:
            image/png:
              schema: {type: string, format: binary}
            application/json:
              schema: {$ref: "#/components/schemas/Translation"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "403": {$ref: "#/components/responses/Forbidden"}
        "404": {$ref: "#/components/responses/UnknownModel"}
        "408": {$ref: "#/components/responses/RequestTimeout"}
        "413": {$ref: "#/components/responses/TooLarge"}
        "415": {$ref: "#/components/responses/UnsupportedType"}
        "422": {$ref: "#/components/responses/BadImage"}
        "500": {$ref: "#/components/responses/ServerError"}
        "503": {$ref: "#/components/responses/Busy"}
        "504": {$ref: "#/components/responses/Timeout"}
  /api/sample:
    post:
      summary: Several images for a sketch from a multimodal model
      description: |
        Draws `n` images with random latent codes made from `seed` (the same seed gives the same
        codes and images). With `code`, draws `n` codes around that code ("more like this":
        code + spread · N(0, I)). With `from` and `to`, returns `steps` images on the straight line
        between two codes, ends included. Codes are `latentSize` comma-separated numbers from
        -100 to 100, as returned in the JSON of an earlier call. As PNG, several images come side by side in one
        sheet (4 px apart).
      operationId: sample
      parameters:
        - $ref: "#/components/parameters/model"
        - $ref: "#/components/parameters/format"
        - name: n
          in: query
          description: Number of images (random or around `code`).
          schema: {type: integer, minimum: 1, maximum: 16, default: 4}
        - name: seed
          in: query
          description: Seed of the random codes; a random one is chosen (and returned) when absent.
          schema: {type: integer, minimum: 0, maximum: 9007199254740992}
        - name: code
          in: query
          description: Centre code for "more like this".
          schema: {type: string, example: "0.1,-1.2,0.4,0,0.9,-0.3,1.1,0.2"}
        - name: spread
          in: query
          description: Standard deviation of the codes drawn around `code`.
          schema: {type: number, minimum: 0, maximum: 4, default: 0.5}
        - name: from
          in: query
          description: First code of an interpolation.
          schema: {type: string}
        - name: to
          in: query
          description: Last code of an interpolation.
          schema: {type: string}
        - name: steps
          in: query
          description: Images on the line from `from` to `to`, ends included.
          schema: {type: integer, minimum: 2, maximum: 16, default: 8}
      requestBody:
        $ref: "#/components/requestBodies/Sketch"
      responses:
        "200":
          description: The generated images.
          headers:
            X-Sketch2Real-Latency-Ms: {$ref: "#/components/headers/Latency"}
            X-Sketch2Real-Model: {$ref: "#/components/headers/Model"}
            X-Sketch2Real-Seed:
              description: The seed of the codes.
              schema: {type: integer}
          content:
            image/png:
              schema: {type: string, format: binary}
            application/json:
              schema: {$ref: "#/components/schemas/Samples"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "403": {$ref: "#/components/responses/Forbidden"}
        "404": {$ref: "#/components/responses/UnknownModel"}
        "408": {$ref: "#/components/responses/RequestTimeout"}
        "413": {$ref: "#/components/responses/TooLarge"}
        "415": {$ref: "#/components/responses/UnsupportedType"}
        "422": {$ref: "#/components/responses/BadImage"}
        "500": {$ref: "#/components/responses/ServerError"}
        "503": {$ref: "#/components/responses/Busy"}
        "504": {$ref: "#/components/responses/Timeout"}
  /healthz:
    get:
      summary: Liveness and load
      operationId: health
      responses:
        "200":
          description: The server is up.
          content:
            application/json:
              schema:
                type: object
                properties:
                  status: {type: string, enum: [ok]}
                  models: {type: integer}
                  workers: {type: integer}
                  queueDepth: {type: integer}
                  inProgress: {type: integer}
  /metrics:
    get:
      summary: Prometheus metrics
      description: |
        Text exposition format 0.0.4: `sketch2real_http_requests_total{route,method,status}`,
        the latency histogram `sketch2real_http_request_duration_seconds{route}`, the worker time
        histogram `sketch2real_inference_duration_seconds{route}`, the gauges
        `sketch2real_queue_depth`, `sketch2real_queue_capacity`, `sketch2real_inference_in_progress`,
        `sketch2real_inference_workers`, `sketch2real_http_requests_in_flight`,
        `sketch2real_models_loaded`, and the counters `sketch2real_queue_rejected_total` (503s) and
        `sketch2real_request_timeouts_total` (504s).
      operationId: metrics
      responses:
        "200":
          description: The metrics.
          content:
            text/plain:
              schema: {type: string}
  /openapi.yaml:
    get:
      summary: This document
      operationId: openapi
      responses:
        "200":
          description: The OpenAPI description.
          content:
            application/yaml:
              schema: {type: string}
  /:
    get:
      summary: The studio page (drawing canvas; everything it needs is served from here)
      operationId: studio
      responses:
        "200":
          description: The page.
          content:
            text/html:
              schema: {type: string}
components:
  parameters:
    model:
      name: model
      in: query
      description: A model's name from /api/models; by default, for translation the first one-to-one model (the first of any kind when there is none) and for sampling the first multimodal model.
      schema: {type: string}
    format:
      name: format
      in: query
      description: "png (default) or json; without it, `Accept: application/json` selects JSON."
      schema: {type: string, enum: [png, json]}
  requestBodies:
    Sketch:
      required: true
      description: The sketch, at most `limits.maxBodyBytes` bytes and `limits.maxImageSide` pixels a side. Dark lines on white, like the training sketches.
      content:
        image/png:
          schema: {type: string, format: binary}
        image/jpeg:
          schema: {type: string, format: binary}
        multipart/form-data:
          schema:
            type: object
            required: [image]
            properties:
              image: {type: string, format: binary, description: PNG or JPEG file}
              model: {type: string}
              format: {type: string}
              n: {type: integer}
              seed: {type: integer}
              code: {type: string}
              spread: {type: number}
              from: {type: string}
              to: {type: string}
              steps: {type: integer}
  headers:
    Latency:
      description: Milliseconds the server spent on the request.
      schema: {type: number}
    Model:
      description: The model that answered.
      schema: {type: string}
  schemas:
    Model:
      type: object
      properties:
        name: {type: string, description: The file name without .safetensors; requests use it.}
        file: {type: string}
        kind: {type: string, enum: [sragan, pix2pix, lsragan, bicyclegan, msgan]}
        multimodal: {type: boolean, description: Whether /api/sample accepts it.}
        latentSize: {type: integer, description: Numbers in a latent code (0 for one-to-one models).}
        hasEncoder: {type: boolean}
        inputChannels: {type: integer}
        trainingSize: {type: integer, description: Side of the training crops; sketches of this size suit the model best.}
    Limits:
      type: object
      properties:
        maxBodyBytes: {type: integer}
        maxImageSide: {type: integer}
        maxSamples: {type: integer}
        timeoutSeconds: {type: number}
        queueCapacity: {type: integer}
        workers: {type: integer}
    Translation:
      type: object
      properties:
        model: {type: string}
        width: {type: integer}
        height: {type: integer}
        latencyMs: {type: number}
        image: {type: string, format: byte, description: base64 PNG}
    Samples:
      type: object
      properties:
        model: {type: string}
        seed: {type: integer}
        width: {type: integer}
        height: {type: integer}
        latencyMs: {type: number}
        images:
          type: array
          items:
            type: object
            properties:
              image: {type: string, format: byte, description: base64 PNG}
              code:
                type: array
                items: {type: number}
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [status, message]
          properties:
            status: {type: integer}
            message: {type: string}
  responses:
    BadRequest:
      description: A parameter is out of range or malformed, the form lacks an `image` file, or a one-to-one model was asked to sample.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Forbidden:
      description: The Host is not a loopback name, an IP address or a name given with `--allow-host`, or the request came from another site's page whose origin was not given with `--allow-origin`.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    UnknownModel:
      description: No model of that name (or no model at all).
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    RequestTimeout:
      description: The request body did not arrive in time.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    TooLarge:
      description: The body exceeds `limits.maxBodyBytes`.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    UnsupportedType:
      description: The Content-Type (or the form file's type) is not PNG, JPEG or multipart/form-data.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    BadImage:
      description: The body is not a decodable PNG or JPEG, is empty, or is larger than `limits.maxImageSide` on a side.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    ServerError:
      description: The model failed on this input.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Busy:
      description: Every worker is busy and the queue is full (or the server is shutting down); retry after `Retry-After` seconds.
      headers:
        Retry-After:
          description: Seconds to wait before retrying.
          schema: {type: integer}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Timeout:
      description: Waiting for and running inference took longer than `limits.timeoutSeconds`.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
"""#
}
