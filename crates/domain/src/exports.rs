//! Rules for data that leaves the system in files people open in spreadsheets.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
//! by Excel, LibreOffice and Google Sheets: a self-referral named `=HYPERLINK(…)` would become a
//! link (or worse) in the GP practice's spreadsheet. Every CSV and XLSX writer passes every text
//! cell through [`spreadsheet_safe`], which prefixes such a cell with an apostrophe (OWASP's
//! advice), so it shows as the text it is. A plain number (`-3`, `+44`, `-0.5`) is left alone:
//! it is not a formula.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, made safe to open in a spreadsheet.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    let starts_formula = cell.starts_with(FORMULA_STARTS);
    let plain_number = cell.parse::<f64>().is_ok() && cell.chars().skip(1).all(|c| c.is_ascii_digit() || c == '.');
    if starts_formula && !plain_number { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=", "-"] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"), "{bad:?}");
        }
    }

    #[test]
    fn ordinary_cells_and_numbers_are_kept() {
        for good in ["Ada", "943 476 5919", "2026-11-24", "-3", "+44", "-0.5", "O'Brien", "a=b", ""] {
            assert_eq!(spreadsheet_safe(good), good, "{good:?}");
        }
    }
}
