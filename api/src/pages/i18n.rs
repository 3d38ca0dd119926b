//! The dashboard's two languages and how numbers and dates are written in each.
//!
//! Vietnamese comes first: text sits beside its English in the templates
//! (`lang.pick("Hộ đã đến", "Households reached")`), so a reader sees both at once and
//! neither can go missing. Numbers and dates follow each language's habits: `61,5 %` and
//! `20/08/2020` in Vietnamese, `61.5 %` and `20 Aug 2020` in English.

use chrono::NaiveDate;

/// The cookie that remembers a `?lang=` choice.
pub const LANG_COOKIE: &str = "canvass_lang";

/// A dashboard language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// `vi` or `en`; anything else is not a language of the dashboard.
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` attribute and cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The text for this language.
    pub fn pick(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    fn separators(self) -> (char, char) {
        // (thousands, decimal)
        match self {
            Lang::Vi => ('.', ','),
            Lang::En => (',', '.'),
        }
    }

    /// A whole number with thousands grouped: `12.345` (vi), `12,345` (en).
    pub fn count(self, n: i64) -> String {
        let (thousands, _) = self.separators();
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(thousands);
            }
            out.push(digit);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    }

    /// A ratio as a percentage with one decimal: `61,5 %` (vi), `61.5 %` (en); `—` for none.
    pub fn percent(self, ratio: Option<f64>) -> String {
        let Some(ratio) = ratio else {
            return "—".to_owned();
        };
        let (_, decimal) = self.separators();
        let tenths = (ratio * 1000.0).round();
        // Ratios of this domain lie in [0, 1], far inside i64.
        #[allow(clippy::cast_possible_truncation)]
        let tenths = tenths as i64;
        let whole = self.count(tenths / 10);
        format!("{whole}{decimal}{} %", (tenths % 10).abs())
    }

    /// A date: `20/08/2020` (vi), `20 Aug 2020` (en).
    pub fn date(self, date: NaiveDate) -> String {
        match self {
            Lang::Vi => date.format("%d/%m/%Y").to_string(),
            Lang::En => date.format("%-d %b %Y").to_string(),
        }
    }

    /// A date and time of day: `20/08/2020 14:05` (vi), `20 Aug 2020 14:05` (en).
    pub fn date_time(self, at: chrono::NaiveDateTime) -> String {
        format!("{} {}", self.date(at.date()), at.format("%H:%M"))
    }
}

/// A pushed RFC 3339 time shown in the campaign's time zone; as pushed when it does not parse.
pub fn local_time(lang: Lang, text: &str, tz: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(at) => lang.date_time(at.with_timezone(&tz).naive_local()),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_numbers_use_a_decimal_comma_and_grouping_dots() {
        assert_eq!(Lang::Vi.percent(Some(0.615)), "61,5 %");
        assert_eq!(Lang::En.percent(Some(0.615)), "61.5 %");
        assert_eq!(Lang::Vi.percent(Some(1.0)), "100,0 %");
        assert_eq!(Lang::Vi.percent(None), "—");
        assert_eq!(Lang::Vi.count(1_234_567), "1.234.567");
        assert_eq!(Lang::En.count(1_234_567), "1,234,567");
        assert_eq!(Lang::Vi.count(999), "999");
        assert_eq!(Lang::Vi.count(0), "0");
    }

    #[test]
    fn vietnamese_dates_are_day_month_year() {
        let date = NaiveDate::from_ymd_opt(2020, 8, 20).unwrap_or_default();
        assert_eq!(Lang::Vi.date(date), "20/08/2020");
        assert_eq!(Lang::En.date(date), "20 Aug 2020");
    }

    #[test]
    fn a_visit_time_is_shown_in_the_campaign_zone() {
        let text = local_time(
            Lang::Vi,
            "2020-08-18T02:05:00Z",
            chrono_tz::Asia::Ho_Chi_Minh,
        );
        assert_eq!(text, "18/08/2020 09:05");
    }
}
