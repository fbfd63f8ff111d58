//! Where a corpus's validation split starts.

use serde::{Deserialize, Serialize};

use crate::{Corpus, DataError};

/// The rule that holds out validation text: whole documents at the end of the corpus,
/// or a byte offset where the corpus's README says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The last `fraction` of the bytes. With several documents, the fewest whole last
    /// documents that make up at least that fraction; a single document is cut at byte
    /// `floor((1 − f)·len)`, as nanoGPT cuts TinyShakespeare.
    Fraction(f64),
    /// Validation starts at this byte.
    Offset(u64),
    /// The last `n` documents.
    Documents(usize),
}

impl Split {
    /// The byte of `corpus.text` where validation starts; both splits are non-empty.
    pub fn cut(self, corpus: &Corpus) -> Result<usize, DataError> {
        let len = corpus.text.len();
        let docs = &corpus.documents;
        let cut = match self {
            Self::Fraction(f) if !(f > 0.0 && f < 1.0) => {
                return Err(bad(
                    "split.fraction",
                    format!("{f} must be strictly between 0 and 1"),
                ))
            }
            Self::Fraction(f) if docs.len() == 1 => ((1.0 - f) * len as f64).floor() as usize,
            Self::Fraction(f) => {
                let want = (f * len as f64).ceil() as usize;
                // The start of the last document whose suffix reaches the fraction.
                let first_val = (1..docs.len())
                    .rev()
                    .find(|&i| len - docs[i].start >= want)
                    .ok_or_else(|| {
                        bad(
                            "split.fraction",
                            format!(
                                "{f} leaves no whole training document: lower it, or use \
                                 split_offset"
                            ),
                        )
                    })?;
                docs[first_val].start
            }
            Self::Offset(o) => {
                let o = usize::try_from(o).unwrap_or(usize::MAX);
                if o == 0 || o >= len {
                    return Err(bad(
                        "split.offset",
                        format!(
                            "{o} must be inside the corpus (1..{len}) so that both splits are \
                             non-empty"
                        ),
                    ));
                }
                if !corpus.text.is_char_boundary(o) {
                    return Err(bad(
                        "split.offset",
                        format!("{o} falls inside a UTF-8 character: move it to a boundary"),
                    ));
                }
                o
            }
            Self::Documents(n) => {
                if n == 0 || n >= docs.len() {
                    return Err(bad(
                        "split.documents",
                        format!(
                            "{n} must be between 1 and {} (the corpus has {} documents)",
                            docs.len().saturating_sub(1),
                            docs.len()
                        ),
                    ));
                }
                docs[docs.len() - n].start
            }
        };
        Ok(cut)
    }
}

fn bad(field: &'static str, message: String) -> DataError {
    DataError::BadParameter { field, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(docs: &[&str]) -> Corpus {
        let mut text = String::new();
        let mut documents = Vec::new();
        for d in docs {
            documents.push(text.len()..text.len() + d.len());
            text.push_str(d);
            text.push('|');
        }
        Corpus {
            text,
            documents,
            files: Vec::new(),
        }
    }

    #[test]
    fn fractions_hold_out_whole_documents() {
        let c = corpus(&["aaaaaaaa", "bbbb", "cc", "d"]); // 19 bytes with separators
        assert_eq!(&c.text[Split::Fraction(0.1).cut(&c).unwrap()..], "d|");
        assert_eq!(&c.text[Split::Fraction(0.15).cut(&c).unwrap()..], "cc|d|");
        assert_eq!(
            &c.text[Split::Fraction(0.3).cut(&c).unwrap()..],
            "bbbb|cc|d|"
        );
        assert_eq!(&c.text[Split::Documents(1).cut(&c).unwrap()..], "d|");
        assert!(Split::Fraction(0.9).cut(&c).is_err());
        assert!(Split::Documents(4).cut(&c).is_err());
        let one = corpus(&["0123456789"]);
        assert_eq!(Split::Fraction(0.1).cut(&one).unwrap(), 9); // floor(0.9 · 11)
    }

    #[test]
    fn offsets_must_be_inside_and_on_a_character() {
        let c = corpus(&["añb"]);
        assert_eq!(Split::Offset(1).cut(&c).unwrap(), 1);
        let e = Split::Offset(2).cut(&c).unwrap_err().to_string();
        assert!(e.starts_with("split.offset") && e.contains("UTF-8"), "{e}");
        assert!(Split::Offset(99).cut(&c).is_err());
        assert!(Split::Offset(0).cut(&c).is_err());
    }
}
