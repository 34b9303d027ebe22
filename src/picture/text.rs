//! A [`Figure`] as a text spy plot: one character per block, `*` where a block holds a
//! nonzero (a structural nonzero when only the structure is known), `.` elsewhere, with
//! the axis ranges around it.

use super::figure::Figure;
use super::paint::Paint;

/// The spy plot of `figure`; `by` is the sign between a block's sizes (`×` or `x`).
pub fn spy_plot(figure: &Figure, by: &str) -> String {
    let (rows, cols) = figure.blocks();
    let (row_range, col_range) = figure.ranges();
    let (row_name, col_name) = (&figure.labels.rows, &figure.labels.cols);
    let (row_first, row_end) = (*row_range.start(), row_range.end() + 1);
    let (col_first, col_end) = (*col_range.start(), col_range.end() + 1);
    let block = figure.viewport.block;
    let mut text = format!(
        "{}: rows {row_name} = {row_first}..{row_end}, columns {col_name} = {col_first}..{col_end}; each character is {}{by}{} entries\n",
        figure.labels.subtitle, block.0, block.1,
    );
    let first_label = format!("{row_name}={row_first}");
    let label_width = (row_end - 1).to_string().len().max(first_label.len());
    let col_first = format!("{col_name}={col_first}");
    let col_last = (col_end - 1).to_string();
    let gap = cols.saturating_sub(col_first.len() + col_last.len());
    text.push_str(&format!(
        "{:>label_width$} {col_first}{}{col_last}\n",
        "",
        " ".repeat(gap)
    ));
    for y in 0..rows {
        let label = if y == 0 {
            first_label.clone()
        } else if y == rows - 1 {
            (row_end - 1).to_string()
        } else {
            String::new()
        };
        let line: String = (0..cols)
            .map(|x| match figure.paint(y, x) {
                Paint::Level(_) | Paint::Signed(_) => '*',
                _ => '.',
            })
            .collect();
        text.push_str(&format!("{label:>label_width$} {line}\n"));
    }
    text.pop();
    text
}
