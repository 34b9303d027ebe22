//! Small pieces of text more than one part writes: J's name with its axes, and text cut to
//! fit a width.

/// `J[i,j,k,l]`, or `J` for a scalar J.
pub(super) fn j_name(names: &[String]) -> String {
    if names.is_empty() {
        "J".to_string()
    } else {
        format!("J[{}]", names.join(","))
    }
}

/// `text` cut to at most `room` characters, the last of them `…` if it was cut.
pub(super) fn shortened(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{kept}…")
}
