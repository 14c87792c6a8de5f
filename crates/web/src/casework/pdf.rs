//! A small PDF writer for documents handed to people: the care and support plan and the
//! discharge summary. Text only, in the PDF standard fonts (Helvetica, which every reader has),
//! A4, wrapped and paginated. Written by hand because these documents need nothing more, and a
//! typesetting engine would add minutes to every clean build for two plain documents.

/// A block of a document.
pub enum Block {
    Title(String),
    Heading(String),
    Para(String),
    /// A label and its value on one line (wrapping as needed).
    Field(String, String),
    /// A bulleted item.
    Item(String),
    Gap,
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;

/// Approximate Helvetica advance widths in thousandths of an em: enough to wrap lines sensibly.
fn char_width(c: char) -> f32 {
    match c {
        'i' | 'j' | 'l' | '\'' | '.' | ',' | ':' | ';' | '!' | '|' => 240.0,
        ' ' | 'f' | 't' | 'r' | 'I' | '(' | ')' | '-' | '/' => 310.0,
        'm' | 'w' | 'M' | 'W' => 830.0,
        'A'..='Z' => 680.0,
        '0'..='9' => 556.0,
        _ => 540.0,
    }
}

fn text_width(s: &str, size: f32) -> f32 {
    s.chars().map(char_width).sum::<f32>() * size / 1000.0
}

fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = vec![];
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if text_width(&candidate, size) > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

/// Encode text for a PDF string in WinAnsiEncoding, escaping what must be escaped. Characters
/// the encoding lacks become `?`.
fn encode(text: &str) -> Vec<u8> {
    let mut out = vec![];
    for c in text.chars() {
        let b: u8 = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{20AC}' => 0x80,
            c if (' '..='~').contains(&c) => c as u8,
            c if ('\u{A0}'..='\u{FF}').contains(&c) => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        };
        out.push(b);
    }
    out
}

struct Writer {
    pages: Vec<Vec<u8>>,
    current: Vec<u8>,
    y: f32,
}

impl Writer {
    fn line(&mut self, text: &str, font: &str, size: f32, x: f32) {
        if self.y < MARGIN + size {
            self.new_page();
        }
        self.y -= size * 1.35;
        self.current.extend_from_slice(format!("BT /{font} {size} Tf {x:.1} {:.1} Td (", self.y).as_bytes());
        self.current.extend(encode(text));
        self.current.extend_from_slice(b") Tj ET\n");
    }

    fn new_page(&mut self) {
        if !self.current.is_empty() {
            self.pages.push(std::mem::take(&mut self.current));
        }
        self.y = PAGE_H - MARGIN;
    }
}

/// Render blocks into a complete PDF file, with `title` in its metadata and a footer line on
/// every page.
pub fn render(title: &str, footer: &str, blocks: &[Block]) -> Vec<u8> {
    let width = PAGE_W - 2.0 * MARGIN;
    let mut w = Writer { pages: vec![], current: vec![], y: PAGE_H - MARGIN };
    for b in blocks {
        match b {
            Block::Title(t) => {
                for l in wrap(t, 18.0, width) {
                    w.line(&l, "F2", 18.0, MARGIN);
                }
                w.y -= 6.0;
            }
            Block::Heading(t) => {
                w.y -= 8.0;
                for l in wrap(t, 13.0, width) {
                    w.line(&l, "F2", 13.0, MARGIN);
                }
            }
            Block::Para(t) => {
                for l in wrap(t, 11.0, width) {
                    w.line(&l, "F1", 11.0, MARGIN);
                }
                w.y -= 4.0;
            }
            Block::Field(k, v) => {
                let label = format!("{k}: ");
                let first = wrap(&format!("{label}{v}"), 11.0, width);
                for (i, l) in first.iter().enumerate() {
                    if i == 0 && l.starts_with(&label) {
                        w.line(&label, "F2", 11.0, MARGIN);
                        w.y += 11.0 * 1.35;
                        w.line(&l[label.len()..], "F1", 11.0, MARGIN + text_width(&label, 11.0) + 4.0);
                    } else {
                        w.line(l, "F1", 11.0, MARGIN);
                    }
                }
            }
            Block::Item(t) => {
                for (i, l) in wrap(t, 11.0, width - 14.0).iter().enumerate() {
                    if i == 0 {
                        w.line("\u{2022}", "F1", 11.0, MARGIN);
                        w.y += 11.0 * 1.35;
                    }
                    w.line(l, "F1", 11.0, MARGIN + 14.0);
                }
            }
            Block::Gap => w.y -= 10.0,
        }
    }
    w.new_page();
    let pages = w.pages;
    let n = pages.len();

    // Objects: 1 catalog, 2 page tree, 3 and 4 fonts, 5 info, then a page and its content each.
    let mut objects: Vec<Vec<u8>> = vec![];
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec());
    let mut info = b"<< /Producer (linkwork) /Title (".to_vec();
    info.extend(encode(title));
    info.extend_from_slice(b") >>");
    objects.push(info);
    for (i, content) in pages.into_iter().enumerate() {
        let mut stream = content;
        stream.extend_from_slice(format!("BT /F1 9 Tf {MARGIN:.1} 30 Td (").as_bytes());
        stream.extend(encode(&format!("{footer}  -  page {} of {n}", i + 1)));
        stream.extend_from_slice(b") Tj ET\n");
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .into_bytes(),
        );
        let mut obj = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        obj.extend(stream);
        obj.extend_from_slice(b"\nendstream");
        objects.push(obj);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_valid_pdf_with_correct_cross_references() {
        let long = "word ".repeat(2000);
        let pdf = render(
            "Plan (draft)",
            "linkwork",
            &[Block::Title("A plan".into()), Block::Para(long), Block::Item("“Get out more” – £0".into())],
        );
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        // Work on bytes: the file is not UTF-8, and offsets are byte offsets.
        let rfind = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle).unwrap();
        let tail = std::str::from_utf8(&pdf[rfind(b"startxref\n") + 10..]).unwrap();
        let xref_at: usize = tail.lines().next().unwrap().parse().unwrap();
        let table = std::str::from_utf8(&pdf[xref_at..]).unwrap();
        assert!(table.starts_with("xref\n0 "));
        let size: usize = table.split("/Size ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        for (i, line) in table.lines().skip(3).take(size - 1).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()), "object {} at {off}", i + 1);
        }
        let text = String::from_utf8_lossy(&pdf).into_owned();
        assert!(text.contains("/Count 3") || text.contains("/Count 4"), "long text runs over pages");
        assert!(text.contains("Plan \\(draft\\)"), "parentheses are escaped");
        assert!(pdf.windows(3).any(|w| w == [0x93, b'G', b'e']), "curly quotes use WinAnsi");
    }

    #[test]
    fn wrapping_keeps_within_the_width() {
        for l in wrap(&"lorem ipsum dolor ".repeat(50), 11.0, 483.0) {
            assert!(text_width(&l, 11.0) <= 483.0);
        }
    }
}
