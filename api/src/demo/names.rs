//! Plausible Vietnamese street names, and ASCII slugs for login names.

use rand::seq::SliceRandom;
use rand::Rng;
use unicode_normalization::UnicodeNormalization;

/// People and events Vietnamese streets are named after, as on Bình Dương's street signs.
const NAMESAKES: &[&str] = &[
    "Nguyễn Trãi",
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Du",
    "Quang Trung",
    "Hùng Vương",
    "Ngô Quyền",
    "Trần Phú",
    "Võ Thị Sáu",
    "Bạch Đằng",
    "Nguyễn Thái Học",
    "Lê Hồng Phong",
    "Đinh Bộ Lĩnh",
    "Nguyễn Đình Chiểu",
    "Phạm Ngọc Thạch",
    "Huỳnh Văn Lũy",
    "Nguyễn Văn Tiết",
    "Cách Mạng Tháng Tám",
    "Yersin",
    "Phú Lợi",
    "Nguyễn An Ninh",
    "Lê Thị Trung",
    "Hoàng Hoa Thám",
    "Phan Đình Phùng",
    "Thích Quảng Đức",
    "Nguyễn Chí Thanh",
    "Mỹ Phước Tân Vạn",
    "Trương Định",
    "Bùi Quốc Khánh",
    "Văn Công Khai",
    "Lê Văn Tách",
    "Hồ Văn Cống",
    "Nguyễn Thị Minh Khai",
    "Độc Lập",
];

/// `count` distinct street names for one ward: named streets, alleys off them (`Hẻm 12
/// Lê Lợi`), and numbered streets of newer quarters (`Đường số 7`).
pub fn streets<R: Rng>(rng: &mut R, count: usize) -> Vec<String> {
    let mut namesakes: Vec<&str> = NAMESAKES.to_vec();
    namesakes.shuffle(rng);
    let mut names: Vec<String> = Vec::with_capacity(count);
    let mut numbered = 0;
    let mut next_namesake = namesakes.iter().cycle();
    while names.len() < count {
        let name = match rng.gen_range(0..10) {
            0..=4 => format!("Đường {}", next_namesake.next().unwrap_or(&"Độc Lập")),
            5..=7 => format!(
                "Hẻm {} {}",
                2 * rng.gen_range(1..60),
                next_namesake.next().unwrap_or(&"Độc Lập")
            ),
            _ => {
                numbered += rng.gen_range(1..4);
                format!("Đường số {numbered}")
            }
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A house number as painted on Vietnamese gates: `12`, `12A`, `12/5`.
pub fn house_number<R: Rng>(rng: &mut R, index: usize) -> String {
    let base = 2 * index + rng.gen_range(1..=2);
    match rng.gen_range(0..12) {
        0 => format!("{base}A"),
        1 => format!("{base}/{}", rng.gen_range(1..9)),
        _ => base.to_string(),
    }
}

/// The name without its administrative prefix: `Thành phố Thuận An` → `Thuận An`.
pub fn bare(name: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "Thành phố ",
        "Thị xã ",
        "Huyện ",
        "Phường ",
        "Xã ",
        "Thị trấn ",
        "Tỉnh ",
    ];
    PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name)
}

/// Lower-case ASCII with hyphens, for login names: `Thuận An` → `thuan-an`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in bare(name).nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c.is_whitespace() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn slugs_drop_the_prefix_and_the_marks() {
        assert_eq!(slug("Thành phố Thuận An"), "thuan-an");
        assert_eq!(slug("Huyện Bắc Tân Uyên"), "bac-tan-uyen");
        assert_eq!(slug("Thành phố Dĩ An"), "di-an");
    }

    #[test]
    fn a_ward_gets_distinct_street_names() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let names = streets(&mut rng, 12);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 12);
        assert!(names
            .iter()
            .all(|n| n.starts_with("Đường") || n.starts_with("Hẻm")));
    }
}
