//! Plain-text tables for people: columns padded by display width, so Chinese names (two
//! columns wide each) line up.

use unicode_width::UnicodeWidthStr;

/// A table: a header row and rows of cells, rendered with two spaces between columns.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Adds a row (missing cells print empty, extra ones are dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, or `empty` when it has no rows.
    pub fn render_or(&self, empty: &str) -> String {
        if self.rows.is_empty() {
            return empty.to_owned();
        }
        let n = self.headers.len();
        let cell = |row: &[String], i: usize| row.get(i).map_or("", |c| one_line(c)).to_owned();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).width());
            }
        }
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let text = cell(row, i);
                line.push_str(&text);
                if i + 1 < n {
                    line.push_str(&" ".repeat(width - text.width() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The first line of `s` (cells are one line; notes may have several).
fn one_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `label: value` lines with the values aligned, skipping empty values.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(l, _)| l.width()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(label);
        out.push(':');
        out.push_str(&" ".repeat(width - label.width() + 1));
        out.push_str(value);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_display_width() {
        let mut t = Table::new(&["NAME", "AREA"]);
        t.row(vec!["王芳".into(), "第一网格".into()]);
        t.row(vec!["Li".into(), "x".into()]);
        let text = t.render_or("none");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME  AREA");
        assert_eq!(lines[1], "王芳  第一网格");
        assert_eq!(lines[2], "Li    x");
        assert_eq!(Table::new(&["A"]).render_or("none"), "none");
    }

    #[test]
    fn fields_align_and_skip_empty_values() {
        let text = fields(&[("Title", "楼道".into()), ("Note", String::new()), ("ID", "1".into())]);
        assert_eq!(text, "Title: 楼道\nID:    1\n");
    }
}
