//! How numbers are written for people (the CLI's text output and the TUI).

/// A value with about `digits` significant digits: `0.41234`, `-1.5e-7`, `0`, `NaN`.
pub fn significant(value: f64, digits: usize) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_string()
        } else if value > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let magnitude = value.abs().log10().floor() as i32;
    if (-4..6).contains(&magnitude) {
        let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
        let text = format!("{value:.decimals$}");
        trim_zeros(&text)
    } else {
        let text = format!("{:.*e}", digits.saturating_sub(1), value);
        match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{}", trim_zeros(mantissa), exponent),
            None => text,
        }
    }
}

/// A value as printed by default: five significant digits.
pub fn short(value: f64) -> String {
    significant(value, 5)
}

/// An integer with thin grouping: 2147483648 → `2,147,483,648`.
pub fn grouped(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, ch) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A byte count for people: `512 bytes`, `1.5 KiB`, `16.0 GiB`; `None` (a count that
/// overflows `u64`) is `more than 16 EiB`.
pub fn bytes(count: Option<u64>) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let Some(count) = count else {
        return "more than 16 EiB".to_string();
    };
    if count < 1024 {
        return format!("{count} bytes");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `n` in subscript digits: `₆₄`.
pub fn subscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    n.to_string()
        .chars()
        .map(|d| DIGITS[d.to_digit(10).expect("a digit") as usize])
        .collect()
}

/// `n` in superscript digits, with a superscript minus: `⁻²`.
pub fn superscript(n: i64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => DIGITS[d.to_digit(10).expect("a digit") as usize],
        })
        .collect()
}

/// A fraction as a percentage with enough digits to be non-zero when the fraction is.
pub fn percent(fraction: f64) -> String {
    if fraction == 0.0 {
        "0%".to_string()
    } else {
        format!("{}%", significant(fraction * 100.0, 5))
    }
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_in_both_notations() {
        assert_eq!(short(0.412345678), "0.41235");
        assert_eq!(short(-1.5e-7), "-1.5e-7");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(123456789.0), "1.2346e8");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(f64::NAN), "NaN");
    }

    #[test]
    fn grouping_and_percentages() {
        assert_eq!(grouped(2147483648), "2,147,483,648");
        assert_eq!(grouped(512), "512");
        assert_eq!(percent(1.0 / 64.0), "1.5625%");
        assert_eq!(percent(1.0 / 3.0), "33.333%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn byte_counts_take_a_binary_unit() {
        assert_eq!(bytes(Some(512)), "512 bytes");
        assert_eq!(bytes(Some(1536)), "1.5 KiB");
        assert_eq!(bytes(Some(2 << 30)), "2.0 GiB");
        assert_eq!(bytes(Some(u64::MAX)), "16.0 EiB");
        assert_eq!(bytes(None), "more than 16 EiB");
    }
}
