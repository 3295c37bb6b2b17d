enum StudioPage {
    static let html = "<!doctype html><title>Sketch2Real Studio</title>"
}
