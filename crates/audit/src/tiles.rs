//! C2SP `tlog-tiles` (c2sp.org/tlog-tiles, `tlog-tiles.md` @ 0ad71eb1f1b9 of
//! the C2SP/C2SP repository): the log served as static files. The tree is cut
//! into tiles of height 8: the tile at level `L`, index `N` holds up to 256
//! consecutive hashes, hash `i` being `MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L])`
//! (level 0: the leaf hashes). A full tile is 256 hashes (8,192 bytes); the
//! rightmost tile of a level is partial, `floor(size / 256^L) mod 256` hashes,
//! and is never hashed into the level above. The entries themselves are served
//! in entry bundles, each entry a big-endian `u16` length and the entry bytes.
//! Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, `N` written
//! in zero-padded groups of three digits, all but the last prefixed by `x`
//! (1234067 → `x001/x234/067`).
//!
//! [`Tile::parse`] is strict, like Go's `sumdb/tlog.ParseTilePath`: it accepts
//! exactly the paths [`Tile::path`] writes (no leading zeros, no `x000` lead
//! group, no `.p/256`), so one resource has one name and a cache or a file
//! system cannot hold two copies. Tile contents are pure functions of the leaf
//! hashes: [`hash_tile`] computes one tile from them, [`TileTree`] keeps every
//! tile row as leaves are appended (each hash computed once, about
//! `size · 257/256` hashes held), and [`entry_bundle`] / [`parse_entry_bundle`]
//! write and read bundles. Every hash in a tile is the root of a full subtree,
//! so a tile never changes once written: a partial tile of width `W` stays
//! valid (and computable here) in every larger tree; [`tile_width`] says which
//! width a tree of a given size publishes. Go's `sumdb/tlog` and trillian-tessera's `api` / `api/layout` /
//! `client` read what this module writes (`tests/interop_go.rs`).

use crate::error::{err, Error, ErrorCode};
use crate::merkle::{self, Hash, MAX_TREE_SIZE};

/// Levels of the tree one tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile, entries in a full bundle.
pub const TILE_WIDTH: u16 = 1 << TILE_HEIGHT;
/// Highest level a path may name (the spec's bound; trees of at most 2^63 − 1
/// leaves have tiles up to level 7 only).
pub const MAX_LEVEL: u8 = 63;
/// Longest entry a bundle can hold (its length is a `u16`).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;
/// Longest valid path: `tile/entries/` and the seven groups of `u64::MAX`, partial.
const MAX_PATH_LEN: usize = "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255".len();

/// What a tile holds: Merkle tree hashes at a level, or the entries themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// A hash tile at this level (`tile/<L>/...`).
    Hashes { level: u8 },
    /// An entry bundle (`tile/entries/...`), the entries of the level-0 tile of the same index.
    Entries,
}

/// One tile or entry bundle: kind, index within its level and width
/// (1 to 256; 256 is a full tile). Made only by [`Tile::hashes`],
/// [`Tile::entries`] and [`Tile::parse`], so the fields are always in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tile {
    kind: TileKind,
    index: u64,
    width: u16,
}

fn invalid_path(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::TilePathInvalid, format!("tile path: {why}"))
}

fn check_width(width: u16) -> Result<(), Error> {
    if width == 0 || width > TILE_WIDTH {
        return err(ErrorCode::TilePathInvalid, format!("tile width must be 1 to {TILE_WIDTH}, got {width}"));
    }
    Ok(())
}

/// Whether `s` is a decimal number as the spec writes them: digits, no leading zero.
fn is_canonical_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

impl Tile {
    /// The hash tile at `level` (at most [`MAX_LEVEL`]), `index`, `width`
    /// hashes (1 to 256). Error: `AUDIT_TILE_PATH_INVALID`.
    pub fn hashes(level: u8, index: u64, width: u16) -> Result<Self, Error> {
        if level > MAX_LEVEL {
            return err(ErrorCode::TilePathInvalid, format!("tile level must be 0 to {MAX_LEVEL}, got {level}"));
        }
        check_width(width)?;
        Ok(Self { kind: TileKind::Hashes { level }, index, width })
    }

    /// The entry bundle `index` of `width` entries (1 to 256).
    /// Error: `AUDIT_TILE_PATH_INVALID`.
    pub fn entries(index: u64, width: u16) -> Result<Self, Error> {
        check_width(width)?;
        Ok(Self { kind: TileKind::Entries, index, width })
    }

    /// Hashes or entries.
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// The level (0 for an entry bundle, which pairs with the level-0 tile).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        }
    }

    /// Whether this is an entry bundle.
    pub fn is_entries(&self) -> bool {
        self.kind == TileKind::Entries
    }

    /// Index within the level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of hashes (or entries), 1 to 256.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile is narrower than 256.
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The path, without a prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let mut n = self.index;
        let mut groups = format!("{:03}", n % 1000);
        n /= 1000;
        while n > 0 {
            groups = format!("x{:03}/{groups}", n % 1000);
            n /= 1000;
        }
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let partial = if self.is_partial() { format!(".p/{}", self.width) } else { String::new() };
        format!("tile/{level}/{groups}{partial}")
    }

    /// Parses a path as [`Tile::path`] writes it, and nothing else.
    /// Error: `AUDIT_TILE_PATH_INVALID`, naming the part at fault.
    pub fn parse(path: &str) -> Result<Self, Error> {
        if path.len() > MAX_PATH_LEN {
            return Err(invalid_path(format!("longer than {MAX_PATH_LEN} bytes")));
        }
        let rest = path.strip_prefix("tile/").ok_or_else(|| invalid_path("must start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| invalid_path("no index after the level"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            if !is_canonical_decimal(level) {
                return Err(invalid_path("level must be `entries` or decimal without leading zeros"));
            }
            match level.parse::<u8>() {
                Ok(level) if level <= MAX_LEVEL => TileKind::Hashes { level },
                _ => return Err(invalid_path(format!("level must be 0 to {MAX_LEVEL}"))),
            }
        };
        let mut groups: Vec<&str> = rest.split('/').collect();
        let mut width = TILE_WIDTH;
        if let [.., before, w] = groups[..] {
            if let Some(last) = before.strip_suffix(".p") {
                if !is_canonical_decimal(w) {
                    return Err(invalid_path("width must be decimal without leading zeros"));
                }
                width = match w.parse::<u16>() {
                    Ok(w) if (1..TILE_WIDTH).contains(&w) => w,
                    _ => return Err(invalid_path(format!("width must be 1 to {}", TILE_WIDTH - 1))),
                };
                groups.pop();
                *groups.last_mut().expect("at least two elements") = last;
            }
        }
        let (last, lead) = groups.split_last().expect("split yields at least one element");
        if lead.first() == Some(&"x000") {
            return Err(invalid_path("index has a leading x000 group"));
        }
        let mut index: u64 = 0;
        for (i, group) in lead.iter().map(|g| g.strip_prefix('x')).chain([Some(*last)]).enumerate() {
            let digits = match group {
                Some(d) if d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()) => d,
                _ if i == lead.len() => return Err(invalid_path("index must end in a group of three digits")),
                _ => return Err(invalid_path("index groups before the last must be x and three digits")),
            };
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(digits.parse::<u64>().expect("three digits")))
                .ok_or_else(|| invalid_path("index over 2^64 - 1"))?;
        }
        let tile = Self { kind, index, width };
        debug_assert_eq!(tile.path(), path);
        Ok(tile)
    }
}

/// Leaves under one hash of a level-`level` tile (`256^level`), if it fits a `u64`.
fn span(level: u8) -> Option<u64> {
    1u64.checked_shl(TILE_HEIGHT * u32::from(level))
}

/// Hashes at tile level `level` in a tree of `size` leaves: `floor(size / 256^level)`.
fn hashes_at(level: u8, size: u64) -> u64 {
    span(level).map_or(0, |s| size / s)
}

/// The width of tile `index` at `level` in a tree of `size` leaves: 256 for a
/// full tile, the partial width for the rightmost one, `None` when the tree
/// has no such tile (the spec's "empty tiles MUST NOT be served"). Entry
/// bundles have the widths of the level-0 tiles.
pub fn tile_width(level: u8, index: u64, size: u64) -> Option<u16> {
    let count = hashes_at(level, size);
    let full = count / u64::from(TILE_WIDTH);
    if index < full {
        Some(TILE_WIDTH)
    } else if index == full && count % u64::from(TILE_WIDTH) > 0 {
        Some((count % u64::from(TILE_WIDTH)) as u16)
    } else {
        None
    }
}

/// The hash tiles a tree of `new_size` leaves publishes that a tree of
/// `old_size` leaves did not (all of them for `old_size` 0), level by level,
/// each level's full tiles then its partial one: the order and set of Go's
/// `tlog.NewTiles(8, old, new)`. Empty when `new_size <= old_size`.
pub fn new_tiles(old_size: u64, new_size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let w = u64::from(TILE_WIDTH);
    for level in 0..=MAX_LEVEL {
        let (old_n, new_n) = (hashes_at(level, old_size), hashes_at(level, new_size));
        if new_n == 0 {
            break;
        }
        if new_n <= old_n {
            continue;
        }
        for index in old_n / w..new_n / w {
            tiles.push(Tile { kind: TileKind::Hashes { level }, index, width: TILE_WIDTH });
        }
        if new_n % w > 0 {
            tiles.push(Tile { kind: TileKind::Hashes { level }, index: new_n / w, width: (new_n % w) as u16 });
        }
    }
    tiles
}

/// Every hash tile of a tree of `size` leaves (full and partial): about
/// `size / 255` of them, so for listing, not for huge sizes.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    new_tiles(0, size)
}

/// Every entry bundle of a tree of `size` leaves (full and partial).
pub fn bundles_for_size(size: u64) -> Vec<Tile> {
    new_tiles(0, size)
        .into_iter()
        .take_while(|t| t.level() == 0)
        .map(|t| Tile { kind: TileKind::Entries, ..t })
        .collect()
}

fn not_in_tree(what: &str, level: u8, index: u64, width: u16, size: u64) -> Error {
    Error::new(
        ErrorCode::TileNotInTree,
        format!("{what} {index} of width {width} at level {level} is not in a tree of {size} leaves"),
    )
}

/// The first leaf past the tile (`(index·256 + width)·256^level`), if it fits a `u64`.
fn tile_end(level: u8, index: u64, width: u16) -> Option<u64> {
    index.checked_mul(u64::from(TILE_WIDTH))?.checked_add(u64::from(width))?.checked_mul(span(level)?)
}

/// The contents of hash tile (`level`, `index`, `width`) computed from the
/// tree's leaf hashes (see [`merkle::leaf_hash`]): `width` hashes of 32 bytes.
/// The leaves must cover the tile, which may be partial in a larger tree.
/// Cost: every node hash under the tile (`256^level − 1` per tile hash). Errors:
/// `AUDIT_TILE_PATH_INVALID` (level or width out of range),
/// `AUDIT_TILE_NOT_IN_TREE` (the leaves do not reach the tile's end).
pub fn hash_tile(leaves: &[Hash], level: u8, index: u64, width: u16) -> Result<Vec<u8>, Error> {
    Tile::hashes(level, index, width)?;
    let size = leaves.len() as u64;
    let end = tile_end(level, index, width).filter(|end| *end <= size);
    let (Some(_), Some(span)) = (end, span(level)) else {
        return Err(not_in_tree("tile", level, index, width, size));
    };
    let span = span as usize;
    let first = index as usize * usize::from(TILE_WIDTH);
    let mut out = Vec::with_capacity(usize::from(width) * 32);
    for j in first..first + usize::from(width) {
        out.extend_from_slice(&merkle::root(&leaves[j * span..(j + 1) * span]));
    }
    Ok(out)
}

/// The entry bundle `index` of `width` entries from the log's entries (in log
/// order): each entry as a big-endian `u16` length and its bytes. Errors:
/// `AUDIT_TILE_PATH_INVALID` (width), `AUDIT_TILE_NOT_IN_TREE` (fewer entries
/// than the bundle's end), `AUDIT_ENTRY_TOO_LARGE` (an entry over 65,535 bytes).
pub fn entry_bundle<E: AsRef<[u8]>>(entries: &[E], index: u64, width: u16) -> Result<Vec<u8>, Error> {
    Tile::entries(index, width)?;
    let size = entries.len() as u64;
    if tile_end(0, index, width).is_none_or(|end| end > size) {
        return Err(not_in_tree("entry bundle", 0, index, width, size));
    }
    let first = index as usize * usize::from(TILE_WIDTH);
    let bundle = &entries[first..first + usize::from(width)];
    let mut out = Vec::with_capacity(bundle.iter().map(|e| 2 + e.as_ref().len()).sum());
    for (i, entry) in bundle.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).or_else(|_| {
            err(
                ErrorCode::EntryTooLarge,
                format!("entry {} is {} bytes, over the {MAX_ENTRY_LEN} a bundle can hold", first + i, entry.len()),
            )
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of an entry bundle, in order. Strict: every length prefix
/// complete, no bytes after the last entry, 1 to 256 entries.
/// Error: `AUDIT_ENTRY_BUNDLE_MALFORMED`.
pub fn parse_entry_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let malformed = |why: String| Error::new(ErrorCode::EntryBundleMalformed, format!("entry bundle: {why}"));
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let offset = bundle.len() - rest.len();
        if entries.len() == usize::from(TILE_WIDTH) {
            return Err(malformed(format!("more than {TILE_WIDTH} entries (byte {offset})")));
        }
        let [hi, lo, data @ ..] = rest else {
            return Err(malformed(format!("a length prefix cut short at byte {offset}")));
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if data.len() < len {
            return Err(malformed(format!(
                "entry {} at byte {offset} needs {len} bytes, {} left",
                entries.len(),
                data.len()
            )));
        }
        entries.push(&data[..len]);
        rest = &data[len..];
    }
    if entries.is_empty() {
        return Err(malformed("no entries".to_string()));
    }
    Ok(entries)
}

/// The tree kept as its tile rows, for serving tiles as the log grows: row
/// `L` holds the level-`L` tile hashes (row 0 the leaf hashes, row `L + 1`
/// one hash per 256 of row `L`, added when those 256 are complete). Each
/// append costs one leaf plus, every 256^k appends, one 256-hash subtree per
/// completed row; any tile is then a copy out of its row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TileTree {
    rows: Vec<Vec<Hash>>,
}

impl TileTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree of these leaf hashes. Error: `AUDIT_TREE_SIZE_INVALID`
    /// (over 2^63 − 1 leaves).
    pub fn from_leaves(leaves: &[Hash]) -> Result<Self, Error> {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(*leaf)?;
        }
        Ok(tree)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.rows.first().map_or(0, |r| r.len() as u64)
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        self.rows.first().map_or(&[], Vec::as_slice)
    }

    /// Appends a leaf hash. Error: `AUDIT_TREE_SIZE_INVALID` when the tree
    /// already has 2^63 − 1 leaves.
    pub fn push(&mut self, leaf: Hash) -> Result<(), Error> {
        if self.size() >= MAX_TREE_SIZE {
            return err(ErrorCode::TreeSizeInvalid, "the tree is full (2^63 - 1 leaves)");
        }
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.rows.len() == level {
                self.rows.push(Vec::new());
            }
            let row = &mut self.rows[level];
            row.push(hash);
            if row.len() % usize::from(TILE_WIDTH) != 0 {
                return Ok(());
            }
            // 256 equal perfect subtrees: their root is the next row's hash.
            hash = merkle::root(&row[row.len() - usize::from(TILE_WIDTH)..]);
            level += 1;
        }
    }

    /// Contents of hash tile (`level`, `index`, `width`), as [`hash_tile`]
    /// computes them. Errors: those of [`hash_tile`].
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>, Error> {
        Tile::hashes(level, index, width)?;
        let size = self.size();
        if tile_end(level, index, width).is_none_or(|end| end > size) {
            return Err(not_in_tree("tile", level, index, width, size));
        }
        let row = &self.rows[usize::from(level)];
        let first = index as usize * usize::from(TILE_WIDTH);
        Ok(row[first..first + usize::from(width)].concat())
    }

    /// MTH of all leaves, from the rows: each row's hashes past its last full
    /// tile are perfect subtrees of that row's span, left of the lower rows'
    /// ones; split by the binary digits of their count, they are the tree's
    /// perfect subtrees, largest first (at most 8 · 255 hashes to combine).
    pub fn root(&self) -> Hash {
        let mut subtrees: Vec<Hash> = Vec::new();
        for row in self.rows.iter().rev() {
            let mut rest = &row[row.len() - row.len() % usize::from(TILE_WIDTH)..];
            while !rest.is_empty() {
                let take = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
                subtrees.push(merkle::root(&rest[..take]));
                rest = &rest[take..];
            }
        }
        let Some(last) = subtrees.pop() else { return merkle::empty_root() };
        subtrees.iter().rev().fold(last, |acc, left| merkle::node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&(i as u32).to_be_bytes())).collect()
    }

    #[test]
    fn paths_round_trip() {
        for (tile, path) in [
            (Tile::hashes(0, 0, 256).unwrap(), "tile/0/000"),
            (Tile::hashes(0, 1234067, 256).unwrap(), "tile/0/x001/x234/067"),
            (Tile::hashes(1, 999, 17).unwrap(), "tile/1/999.p/17"),
            (Tile::hashes(2, 1000, 1).unwrap(), "tile/2/x001/000.p/1"),
            (Tile::hashes(63, 0, 255).unwrap(), "tile/63/000.p/255"),
            (Tile::entries(5, 256).unwrap(), "tile/entries/005"),
            (Tile::entries(1_000_000, 112).unwrap(), "tile/entries/x001/x000/000.p/112"),
            (Tile::entries(u64::MAX, 1).unwrap(), "tile/entries/x018/x446/x744/x073/x709/x551/615.p/1"),
        ] {
            assert_eq!(tile.path(), path);
            assert_eq!(Tile::parse(path).unwrap(), tile);
        }
        let t = Tile::parse("tile/3/x012/345.p/7").unwrap();
        assert_eq!((t.level(), t.index(), t.width(), t.is_partial(), t.is_entries()), (3, 12345, 7, true, false));
        // Every index around the group boundaries round-trips.
        for index in [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999_999, 1_000_000, u64::MAX - 1] {
            for width in [1, 255, 256] {
                let t = Tile::hashes(0, index, width).unwrap();
                assert_eq!(Tile::parse(&t.path()).unwrap(), t);
            }
        }
    }

    #[test]
    fn paths_are_strict() {
        for bad in [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "/tile/0/000",
            "tiles/0/000",
            "tile/00/000",
            "tile/01/000",
            "tile/64/000",
            "tile/256/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/data/000",
            "tile/8/0/000",
            "tile/0/0",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000",
            "tile/0/x001",
            "tile/0/001/002",
            "tile/0/x000/001",
            "tile/0/x01/001",
            "tile/0/x0001/001",
            "tile/0/y001/001",
            "tile/0/xx01/001",
            "tile/0/x001//001",
            "tile/0/x001/001/",
            "tile/0/001.p",
            "tile/0/001.p/",
            "tile/0/001.p/0",
            "tile/0/001.p/00",
            "tile/0/001.p/010",
            "tile/0/001.p/256",
            "tile/0/001.p/1000",
            "tile/0/001.p/+1",
            "tile/0/001.p/1/",
            "tile/0/001.p/1/2",
            "tile/0/001.q/1",
            "tile/0/.p/1",
            "tile/0/001.P/1",
            "tile/entries/",
            "tile/entries/1",
            "tile/entries/001.p/256",
            "tile/Entries/001",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
            "tile/0/٠٠١",
            "tile/0/001\n",
            "tile/0/ 001",
        ] {
            let e = Tile::parse(bad).unwrap_err();
            assert_eq!(e.code(), "AUDIT_TILE_PATH_INVALID", "{bad:?}");
            assert!(e.message().starts_with("tile path: "), "{e}");
        }
        assert_eq!(Tile::hashes(64, 0, 1).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        assert_eq!(Tile::hashes(0, 0, 0).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        assert_eq!(Tile::entries(0, 257).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
    }

    #[test]
    fn widths_and_tile_lists_follow_the_spec_example() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
        // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
        // 17, and one partial level 2 tile of width 1."
        let tiles = tiles_for_size(70_000);
        let full0 = tiles.iter().filter(|t| t.level() == 0 && !t.is_partial()).count();
        assert_eq!(full0, 273);
        let rest: Vec<String> = tiles.iter().filter(|t| t.level() > 0 || t.is_partial()).map(Tile::path).collect();
        assert_eq!(rest, ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]);
        assert_eq!(tile_width(0, 272, 70_000), Some(256));
        assert_eq!(tile_width(0, 273, 70_000), Some(112));
        assert_eq!(tile_width(0, 274, 70_000), None);
        assert_eq!(tile_width(2, 0, 70_000), Some(1));
        assert_eq!(tile_width(3, 0, 70_000), None);
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
        // tile of width 1."
        let paths: Vec<String> = tiles_for_size(256).iter().map(Tile::path).collect();
        assert_eq!(paths, ["tile/0/000", "tile/1/000.p/1"]);
        assert!(tiles_for_size(0).is_empty());
        let bundles: Vec<String> = bundles_for_size(513).iter().map(Tile::path).collect();
        assert_eq!(bundles, ["tile/entries/000", "tile/entries/001", "tile/entries/002.p/1"]);
        // New tiles between sizes: the changed partial ones and the new ones.
        let paths: Vec<String> = new_tiles(300, 600).iter().map(Tile::path).collect();
        assert_eq!(paths, ["tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"]);
        assert!(new_tiles(600, 600).is_empty());
        assert_eq!(tile_width(7, 0, MAX_TREE_SIZE), Some(127));
        let last = new_tiles(MAX_TREE_SIZE - 1, MAX_TREE_SIZE);
        assert_eq!(last, [Tile::hashes(0, (1 << 55) - 1, 255).unwrap()]);
    }

    #[test]
    fn hash_tiles_partial_full_and_level_one() {
        let all = leaves(256 * 3 + 5);
        // Level 0: the leaf hashes themselves.
        assert_eq!(hash_tile(&all, 0, 1, 256).unwrap(), all[256..512].concat());
        assert_eq!(hash_tile(&all, 0, 3, 5).unwrap(), all[768..773].concat());
        // An older partial tile of a larger tree is its prefix.
        assert_eq!(hash_tile(&all, 0, 1, 7).unwrap(), all[256..263].concat());
        // Level 1: one hash per full level-0 tile, the root of its 256 leaves.
        let l1 = hash_tile(&all, 1, 0, 3).unwrap();
        assert_eq!(l1.len(), 96);
        for j in 0..3 {
            assert_eq!(&l1[j * 32..(j + 1) * 32], merkle::root(&all[j * 256..(j + 1) * 256]));
        }
        for (level, index, width) in [(0, 3, 6), (0, 4, 1), (1, 0, 4), (2, 0, 1), (8, 0, 1), (0, u64::MAX, 256)] {
            assert_eq!(hash_tile(&all, level, index, width).unwrap_err().code(), "AUDIT_TILE_NOT_IN_TREE");
        }
        assert_eq!(hash_tile(&all, 0, 0, 0).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        // Tiles carry a tree: recompute the root of the 773-leaf tree from level-1 and
        // level-0 tiles only (what a tile client does).
        let t0 = hash_tile(&all, 0, 3, 5).unwrap();
        let chunk = |d: &[u8]| -> Vec<Hash> { d.chunks(32).map(|c| c.try_into().unwrap()).collect() };
        let mut subtrees = chunk(&l1);
        subtrees.push(merkle::root(&chunk(&t0)));
        let from_tiles =
            merkle::node_hash(&merkle::root(&subtrees[..2]), &merkle::node_hash(&subtrees[2], &subtrees[3]));
        assert_eq!(from_tiles, merkle::root(&all));
    }

    #[test]
    fn tile_tree_matches_hash_tile_past_level_one() {
        let all = leaves(256 * 256 + 256 * 2 + 3);
        let mut tree = TileTree::new();
        for (i, leaf) in all.iter().enumerate() {
            tree.push(*leaf).unwrap();
            // The incremental root at a few sizes, including the tile boundaries.
            if [0, 1, 255, 256, 257, 511, 65_535, 65_536, 65_537].contains(&i) {
                assert_eq!(tree.root(), merkle::root(&all[..=i]), "size {}", i + 1);
            }
        }
        assert_eq!(tree.size(), all.len() as u64);
        assert_eq!(tree.root(), merkle::root(&all));
        assert_eq!(tree.leaves(), &all[..]);
        for t in tiles_for_size(tree.size()) {
            let (l, n, w) = (t.level(), t.index(), t.width());
            assert_eq!(tree.tile(l, n, w).unwrap(), hash_tile(&all, l, n, w).unwrap(), "{}", t.path());
        }
        // The level-1 tile of a tree over 256·256 leaves is full; level 2 has one hash.
        assert_eq!(tile_width(1, 0, tree.size()), Some(256));
        assert_eq!(tree.tile(2, 0, 1).unwrap(), merkle::root(&all[..65_536]));
        assert_eq!(tree.tile(1, 1, 2).unwrap().len(), 64);
        assert_eq!(tree.tile(1, 1, 3).unwrap_err().code(), "AUDIT_TILE_NOT_IN_TREE");
        assert_eq!(TileTree::new().root(), merkle::empty_root());
        assert_eq!(TileTree::from_leaves(&all[..300]).unwrap().tile(1, 0, 1).unwrap(), merkle::root(&all[..256]));
    }

    #[test]
    fn entry_bundles_round_trip_and_are_strict() {
        let entries: Vec<Vec<u8>> = (0..300u32).map(|i| vec![i as u8; (i as usize * 7) % 300]).collect();
        let full = entry_bundle(&entries, 0, 256).unwrap();
        assert_eq!(&full[..2], [0, 0]);
        assert_eq!(&full[2..4], [0, 7]);
        assert_eq!(parse_entry_bundle(&full).unwrap(), entries[..256].iter().map(Vec::as_slice).collect::<Vec<_>>());
        let partial = entry_bundle(&entries, 1, 44).unwrap();
        assert_eq!(parse_entry_bundle(&partial).unwrap(), entries[256..].iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(entry_bundle(&entries, 1, 45).unwrap_err().code(), "AUDIT_TILE_NOT_IN_TREE");
        assert_eq!(entry_bundle(&entries, u64::MAX, 1).unwrap_err().code(), "AUDIT_TILE_NOT_IN_TREE");
        let big = [vec![0u8; MAX_ENTRY_LEN], vec![0u8; MAX_ENTRY_LEN + 1]];
        assert_eq!(entry_bundle(&big[..1], 0, 1).unwrap().len(), MAX_ENTRY_LEN + 2);
        let e = entry_bundle(&big, 0, 2).unwrap_err();
        assert_eq!(e.code(), "AUDIT_ENTRY_TOO_LARGE");
        assert!(e.message().contains("entry 1"), "{e}");
        for bad in [&b""[..], &[0][..], &[0, 2, 1][..], &[0, 0, 0][..]] {
            assert_eq!(parse_entry_bundle(bad).unwrap_err().code(), "AUDIT_ENTRY_BUNDLE_MALFORMED", "{bad:?}");
        }
        let too_many = vec![0u8; 2 * 257];
        assert_eq!(parse_entry_bundle(&too_many).unwrap_err().code(), "AUDIT_ENTRY_BUNDLE_MALFORMED");
        assert_eq!(parse_entry_bundle(&too_many[..512]).unwrap().len(), 256);
    }
}
