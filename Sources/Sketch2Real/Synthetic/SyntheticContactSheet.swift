/// A picture of what a synthetic data set looks like: one row per scene, its sketch and then
/// the scene in each palette.
public enum SyntheticContactSheet {
    /// Rows for the first `scenes` scenes of the data set with seed `seed`.
    public static func make(seed: UInt64, scenes: Int, modes: Int, size: Int) -> Image {
        let palettes = SyntheticPalette.first(modes)
        let rows = (0 ..< scenes).map { i -> [Image] in
            let scene = SyntheticScene(seed: SyntheticDataset.sceneSeed(datasetSeed: seed, scene: i))
            return [scene.sketch(size: size)] + palettes.map { scene.render($0, size: size) }
        }
        return ImageGrid.make(rows)
    }
}
