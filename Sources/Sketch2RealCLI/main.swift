// The `sketch2real` program: everything it does lives in the Sketch2RealCommands library, so
// tests run the same commands in-process.
import Sketch2RealCommands

await Sketch2RealCommand.launch()
