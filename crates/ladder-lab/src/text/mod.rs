//! What the command line prints, as text built from the pipeline's values: a fit, a
//! plan, a sweep directory's status, a baseline check, the corpora. The numbers come
//! from the crates below; only the words and the layout are here.

mod check;
mod data;
mod design;
mod fit;
mod merge;
mod plan;
mod status;

pub use check::check_text;
pub use data::{corpora_text, prepared_text, verified_text};
pub use design::design_search;
pub use fit::fit_text;
pub use merge::merge_text;
pub use plan::plan_text;
pub use status::status_text;

/// Appends `text` and a newline to `out`.
pub(crate) fn line(out: &mut String, text: impl AsRef<str>) {
    out.push_str(text.as_ref());
    out.push('\n');
}
