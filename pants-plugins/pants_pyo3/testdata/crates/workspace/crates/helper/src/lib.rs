/// A workspace member the extension doesn't use: cargo still reads its manifest.
pub fn unused() -> u8 {
    7
}
