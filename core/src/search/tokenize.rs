//! Text → search tokens for Chinese and mixed text.
//!
//! Text is normalised (full-width ASCII → half-width, lowercase) and split into segments: runs of
//! Han characters, runs of ASCII digits, and words of other letters (with any digits glued to them).
//! Everything else (spaces, punctuation, symbols, emoji) only separates segments and is never
//! emitted, so every token consists of letters, digits and Han characters only, contains no ASCII
//! punctuation, and passes through FTS5's `ascii` tokenizer unchanged.

use pinyin::ToPinyin;

/// Han characters per pinyin window: from each Han character, the pinyin of up to this many
/// characters is indexed, so pinyin queries spanning at most this many characters match anywhere
/// in a name or address (`xingfu` finds 幸福小区 inside a long address).
pub const PINYIN_WINDOW: usize = 6;

/// Phone-like digit runs (at least this long) also index their last four digits, which is how
/// grid workers look residents up ("尾号5678").
const PHONE_MIN_DIGITS: usize = 7;

/// One segment of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A run of Han characters.
    Han(Vec<char>),
    /// A run of ASCII digits.
    Digits(String),
    /// A lowercased word of letters, possibly with digits (`a3`, `wang`).
    Word(String),
}

/// A segment and whether it directly follows the previous one (no separator in between), so that
/// `3幢` can be told apart from `3 幢`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) seg: Segment,
    pub(crate) glued: bool,
}

/// Character classes used for segmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Digit,
    Letter,
    Sep,
}

/// Whether `c` is a Han ideograph (CJK Unified Ideographs and extensions, compatibility
/// ideographs, and 〇).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3007
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F
        | 0x30000..=0x323AF)
}

/// Full-width ASCII forms (`３`, `Ａ`, `－`) and the ideographic space → their ASCII equivalents.
fn halfwidth(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() {
        Class::Digit
    } else if is_han(c) {
        Class::Han
    } else if c.is_alphanumeric() {
        Class::Letter
    } else {
        Class::Sep
    }
}

/// Splits text into segments (see the module docs).
pub(crate) fn segments(text: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    // The current alphanumeric run (letters and digits) or Han run, and whether it is glued.
    let mut cur = String::new();
    let mut cur_class = Class::Sep;
    let mut glued = false;
    let mut after_token = false; // previous char was part of a segment

    fn flush(out: &mut Vec<Piece>, cur: &mut String, class: Class, glued: bool) {
        if cur.is_empty() {
            return;
        }
        let s = std::mem::take(cur);
        let seg = match class {
            Class::Han => Segment::Han(s.chars().collect()),
            _ if s.bytes().all(|b| b.is_ascii_digit()) => Segment::Digits(s),
            _ => Segment::Word(s),
        };
        out.push(Piece { seg, glued });
    }

    for c in text.chars().map(halfwidth) {
        let cl = class(c);
        // Letters and digits form one run (`a3`); Han runs are separate from both.
        let run_of = |x: Class| if x == Class::Digit { Class::Letter } else { x };
        if cl == Class::Sep {
            flush(&mut out, &mut cur, cur_class, glued);
            cur_class = Class::Sep;
            after_token = false;
            continue;
        }
        if cur_class != Class::Sep && run_of(cur_class) != run_of(cl) {
            flush(&mut out, &mut cur, cur_class, glued);
        }
        if cur.is_empty() {
            glued = after_token;
            cur_class = cl;
        } else if cl == Class::Letter {
            cur_class = Class::Letter; // a run with any letter is a word
        }
        if cl == Class::Letter {
            cur.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        } else {
            cur.push(c);
        }
        after_token = true;
    }
    flush(&mut out, &mut cur, cur_class, glued);
    out
}

/// Toneless pinyin of the first (most common) reading of `c`, ASCII only (`ü` written `v`, as
/// typed on Chinese keyboards); `None` for characters without a reading.
pub(crate) fn pinyin_of(c: char) -> Option<String> {
    let plain = c.to_pinyin()?.plain();
    let s: String = plain
        .chars()
        .filter_map(|ch| match ch {
            'ü' => Some('v'),
            'a'..='z' => Some(ch),
            _ => None,
        })
        .collect();
    (!s.is_empty()).then_some(s)
}

/// Collects tokens, dropping duplicates but keeping first-seen order.
#[derive(Default)]
struct Tokens {
    seen: std::collections::HashSet<String>,
    out: String,
}

impl Tokens {
    fn push(&mut self, t: String) {
        if t.is_empty() || self.seen.contains(&t) {
            return;
        }
        if !self.out.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(&t);
        self.seen.insert(t);
    }
}

fn han_tokens(tokens: &mut Tokens, chars: &[char], pinyin: bool) {
    for &c in chars {
        tokens.push(c.to_string());
    }
    for w in chars.windows(2) {
        tokens.push(w.iter().collect());
    }
    if !pinyin {
        return;
    }
    let py: Vec<Option<String>> = chars.iter().map(|&c| pinyin_of(c)).collect();
    for start in 0..py.len() {
        let mut full = String::new();
        let mut initials = String::new();
        // A window stops at the first character without a reading.
        for p in py[start..].iter().take(PINYIN_WINDOW).map_while(Option::as_ref) {
            full.push_str(p);
            initials.extend(p.chars().next());
        }
        tokens.push(full);
        if initials.len() >= 2 {
            tokens.push(initials);
        }
    }
}

fn digit_tokens(tokens: &mut Tokens, digits: &str) {
    tokens.push(digits.to_string());
    if digits.len() >= PHONE_MIN_DIGITS {
        tokens.push(digits[digits.len() - 4..].to_string());
    }
}

/// The space-separated token text to index for a record's searchable fields (name, address,
/// phone…), for a contentless FTS5 table using the [`super::FTS5_TOKENIZE`] tokenizer.
///
/// Emits, per field:
/// - for each Han run: every character (unigram) and every adjacent pair (bigram), so one- and
///   two-character queries match (FTS5's trigram tokenizer cannot), and for each position the
///   full pinyin and the pinyin initials of up to [`PINYIN_WINDOW`] characters from there
///   (`王芳` → `wangfang fang wf`), first reading of each character;
/// - letter words lowercased, and for words mixing letters and digits (`a3`) also the parts;
/// - digit runs as-is, plus the last four digits of phone-like runs (7+ digits);
/// - a digit run directly followed by Han: the number with the first character (`3幢`, `301室`), so
///   address queries like `3幢` are precise.
///
/// Duplicates are removed. Fields never run into each other.
pub fn index_tokens(fields: &[&str]) -> String {
    index_tokens_with(fields, &[], &[])
}

/// [`index_tokens`] for records whose fields differ in kind: `names` get everything including
/// pinyin; `others` (addresses, notes) get characters, bigrams, words and numbers but no pinyin —
/// address words such as 路, 号, 单元 would otherwise make short pinyin queries (`lu`, `dy`) match
/// nearly every record; `extra` tokens (e.g. [`area_token`]s) are appended as they are.
pub fn index_tokens_with(names: &[&str], others: &[&str], extra: &[String]) -> String {
    let mut tokens = Tokens::default();
    let fields = names.iter().map(|f| (f, true)).chain(others.iter().map(|f| (f, false)));
    for (field, pinyin) in fields {
        let pieces = segments(field);
        for (i, piece) in pieces.iter().enumerate() {
            match &piece.seg {
                Segment::Han(chars) => han_tokens(&mut tokens, chars, pinyin),
                Segment::Digits(d) => {
                    digit_tokens(&mut tokens, d);
                    if let Some(Piece { seg: Segment::Han(next), glued: true }) = pieces.get(i + 1)
                        && let Some(&first) = next.first()
                    {
                        tokens.push(format!("{d}{first}"));
                    }
                }
                Segment::Word(w) => {
                    tokens.push(w.clone());
                    // `a3幢`: the trailing number with the next character, as for plain digits.
                    let digits = w.trim_start_matches(|c: char| !c.is_ascii_digit());
                    if let Some(Piece { seg: Segment::Han(next), glued: true }) = pieces.get(i + 1)
                        && let Some(&first) = next.first()
                        && !digits.is_empty()
                        && digits.bytes().all(|b| b.is_ascii_digit())
                    {
                        tokens.push(format!("{digits}{first}"));
                    }
                    if w.chars().any(|c| c.is_ascii_digit()) {
                        split_mixed(w, |part, is_digits| {
                            if is_digits {
                                digit_tokens(&mut tokens, part);
                            } else {
                                tokens.push(part.to_string());
                            }
                        });
                    }
                }
            }
        }
    }
    for t in extra {
        tokens.push(t.clone());
    }
    tokens.out
}

/// The token that marks a record as lying inside `area` (an area code path): letters and digits
/// only, so it passes the tokenizer unchanged and can never be typed by accident as a name.
/// Index one per enclosing area below the district, and AND it into the query to search one area
/// through the index instead of filtering afterwards.
pub fn area_token(area: &str) -> String {
    format!("zza{}", area.replace('/', "s"))
}

/// Calls `f` with each maximal run of digits / non-digits of `w`.
fn split_mixed(w: &str, mut f: impl FnMut(&str, bool)) {
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in w.char_indices() {
        let d = c.is_ascii_digit();
        if prev.is_some_and(|p| p != d) {
            f(&w[start..i], !d);
            start = i;
        }
        prev = Some(d);
    }
    if let Some(d) = prev {
        f(&w[start..], d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(fields: &[&str]) -> Vec<String> {
        index_tokens(fields).split(' ').map(str::to_string).collect()
    }

    #[test]
    fn name_tokens() {
        assert_eq!(toks(&["王芳"]), ["王", "芳", "王芳", "wangfang", "wf", "fang"]);
        let t = toks(&["欧阳娜娜"]);
        for want in ["欧阳", "娜娜", "ouyangnana", "oynn", "yangnana", "nana", "na"] {
            assert!(t.iter().any(|x| x == want), "{want} missing from {t:?}");
        }
        assert_eq!(pinyin_of('绿').as_deref(), Some("lv"));
        assert_eq!(pinyin_of('a'), None);
    }

    #[test]
    fn mixed_tokens() {
        let t = toks(&["金沙街道幸福小区3幢2单元301", "138-1234-5678", "ＡＢ楼Ｃ3"]);
        for want in
            ["幸福", "3", "3幢", "2单", "301", "xingfuxiaoqu", "1234", "5678", "ab", "c3", "c"]
        {
            assert!(t.iter().any(|x| x == want), "{want} missing from {t:?}");
        }
        assert!(toks(&["A3幢"]).iter().any(|x| x == "3幢"));
        let t = toks(&["13812345678"]);
        assert_eq!(t, ["13812345678", "5678"]);
        assert!(index_tokens(&["", "  ", "!!", "🙂"]).is_empty());
        // No punctuation ever reaches the index.
        let all = index_tokens(&["王芳(女), \"OR\" * NEAR - x:y", "a-b_c.d"]);
        assert!(all.chars().all(|c| c == ' ' || c.is_alphanumeric()), "{all}");
    }

    #[test]
    fn segmentation_glue() {
        let p = segments("3幢 2 单元a3");
        let kinds: Vec<(String, bool)> = p
            .iter()
            .map(|p| match &p.seg {
                Segment::Han(c) => (c.iter().collect(), p.glued),
                Segment::Digits(d) | Segment::Word(d) => (d.clone(), p.glued),
            })
            .collect();
        let want = [("3", false), ("幢", true), ("2", false), ("单元", false), ("a3", true)];
        let want: Vec<(String, bool)> = want.iter().map(|(s, g)| (s.to_string(), *g)).collect();
        assert_eq!(kinds, want);
    }
}
