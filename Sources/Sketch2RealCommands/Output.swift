import Foundation

/// Prints a line at once, even when standard output is a pipe or file (where `print` buffers),
/// so progress of long commands shows up in logs as it happens.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
