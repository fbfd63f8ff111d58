//! Reading fit.json back. JSON has no NaN or infinity: serde_json writes a non-finite
//! number (an infinite standard error, an undefined trend) as `null`, so every float of
//! the report reads `null` back as NaN, which writes out as `null` again.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A float that reads `null` as NaN.
#[derive(Clone, Copy)]
struct Lenient(f64);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Lenient(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN)))
    }
}

/// Whether `v` is its type's default (0): for `skip_serializing_if`, so that a field
/// added later is written only when set and older files stay byte for byte.
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A float, `null` read as NaN.
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Lenient::deserialize(d).map(|x| x.0)
}

/// A fixed-size array of floats, `null` read as NaN.
pub(crate) fn numbers<'de, D: Deserializer<'de>, const K: usize>(
    d: D,
) -> Result<[f64; K], D::Error> {
    let values = Vec::<Lenient>::deserialize(d)?;
    let n = values.len();
    <[Lenient; K]>::try_from(values)
        .map(|a| a.map(|x| x.0))
        .map_err(|_| serde::de::Error::invalid_length(n, &"an array of the expected length"))
}

/// Named floats, `null` read as NaN.
pub(crate) fn number_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, f64>, D::Error> {
    let map = BTreeMap::<String, Lenient>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}

/// Named `[lo, hi]` intervals, `null` read as NaN.
pub(crate) fn interval_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, [f64; 2]>, D::Error> {
    let map = BTreeMap::<String, [Lenient; 2]>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.map(|x| x.0))).collect())
}
