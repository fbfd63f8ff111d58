//! One attribute value, in the store's own words (not the HDF5 crate's).

use hdf5_pure::AttrValue;

/// One attribute value: text is written as a variable-length UTF-8 string, so that
/// h5py reads it as `str`.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A real number.
    Float(f64),
}

impl Attr {
    pub(crate) fn to_hdf5(&self) -> AttrValue {
        match self {
            Attr::Text(s) => AttrValue::VarLenString(s.clone()),
            Attr::Int(i) => AttrValue::I64(*i),
            Attr::Float(x) => AttrValue::F64(*x),
        }
    }
}

impl std::fmt::Display for Attr {
    /// Text as stored; numbers in Rust's shortest form that reads back exactly.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attr::Text(s) => f.write_str(s),
            Attr::Int(i) => write!(f, "{i}"),
            Attr::Float(x) => write!(f, "{x}"),
        }
    }
}
