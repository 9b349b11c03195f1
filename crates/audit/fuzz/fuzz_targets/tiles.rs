//! Arbitrary bytes through the tlog-tiles parsers of sentinel-audit: as a tile
//! or entry-bundle path and as an entry bundle. Each input is refused with a
//! code or accepted, never a panic. An accepted path must be exactly the path
//! its tile writes (one name per resource) and must describe a tile the
//! constructors accept; an accepted bundle must be written back byte for byte
//! by `entry_bundle` from its own entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_audit::tiles::{entry_bundle, parse_entry_bundle, Tile};

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(tile) = Tile::parse(path) {
            assert_eq!(tile.path(), path);
            let again = if tile.is_entries() {
                Tile::entries(tile.index(), tile.width())
            } else {
                Tile::hashes(tile.level(), tile.index(), tile.width())
            };
            assert_eq!(again.as_ref(), Ok(&tile));
        }
    }
    if let Ok(entries) = parse_entry_bundle(data) {
        let width = u16::try_from(entries.len()).unwrap();
        assert_eq!(entry_bundle(&entries, 0, width).unwrap(), data);
    }
});
