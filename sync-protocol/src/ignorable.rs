//! The `Default_Ignorable_Code_Point` property of Unicode, for household ids (contract §12).

/// Every `Default_Ignorable_Code_Point`, as inclusive ranges in ascending order, adjacent
/// ranges merged. Generated from `DerivedCoreProperties-15.0.0.txt` by
/// `tools/default-ignorable.sh` (the set has not changed since; re-run it on a newer file
/// to check).
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Whether `c` has Unicode's `Default_Ignorable_Code_Point` property: soft hyphen,
/// zero-width spaces and joiners, bidi controls, variation selectors, the byte-order mark,
/// Hangul fillers, tags…
///
/// ```
/// use sync_protocol::is_default_ignorable;
///
/// assert!(is_default_ignorable('\u{200b}'), "zero width space");
/// assert!(is_default_ignorable('\u{feff}'), "byte-order mark");
/// assert!(!is_default_ignorable(' '), "a space is White_Space, not ignorable");
/// ```
pub fn is_default_ignorable(c: char) -> bool {
    let c = u32::from(c);
    let index = DEFAULT_IGNORABLE.partition_point(|&(_, high)| high < c);
    DEFAULT_IGNORABLE
        .get(index)
        .is_some_and(|&(low, _)| low <= c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_its_ranges_neither_touch_nor_overlap() {
        for pair in DEFAULT_IGNORABLE.windows(2) {
            assert!(pair[0].0 <= pair[0].1);
            assert!(pair[0].1 + 1 < pair[1].0, "{pair:x?}");
        }
    }
}
