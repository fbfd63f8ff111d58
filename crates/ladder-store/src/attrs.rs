//! Run metadata as HDF5 attributes.

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

/// Ordered `(name, value)` attributes of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunAttrs(pub Vec<(String, Attr)>);

impl RunAttrs {
    /// Adds a text attribute.
    pub fn text(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.0.push((name.to_string(), Attr::Text(value.into())));
        self
    }

    /// Adds an integer attribute.
    pub fn int(&mut self, name: &str, value: i64) -> &mut Self {
        self.0.push((name.to_string(), Attr::Int(value)));
        self
    }

    /// Adds a real attribute.
    pub fn float(&mut self, name: &str, value: f64) -> &mut Self {
        self.0.push((name.to_string(), Attr::Float(value)));
        self
    }
}
