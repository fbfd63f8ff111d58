//! Counting conventions: which parameters N counts, which FLOPs label a budget, and how
//! an IsoFLOP design turned a budget into tokens. Each has one name, used in configs, run
//! files, fit.json and on the command line alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name that is none of a convention's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was given.
    pub given: String,
    /// The names that are allowed.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.expected.iter().map(|n| format!("\"{n}\"")).collect();
        let list = match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        write!(f, "`{}`: use {list}", self.given)
    }
}

impl std::error::Error for UnknownName {}

/// Which parameter count is N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ParamCount {
    /// Every parameter (Hoffmann et al. 2022).
    #[default]
    Total,
    /// Without the token and position embeddings and the LM head (Kaplan et al. 2020).
    NonEmbedding,
}

impl ParamCount {
    /// Every convention's name, in declaration order.
    pub const NAMES: &'static [&'static str] = &["total", "non-embedding"];

    /// The name in configs, run files and fit.json.
    pub fn name(self) -> &'static str {
        match self {
            ParamCount::Total => "total",
            ParamCount::NonEmbedding => "non-embedding",
        }
    }
}

/// Which FLOP count labels a run's compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FlopCount {
    /// `C = 6·N·D` with the chosen parameter count (Hoffmann et al. 2022).
    #[default]
    #[serde(rename = "6nd")]
    #[cfg_attr(feature = "clap", value(name = "6nd"))]
    SixNd,
    /// Every matmul, the LM head and attention included.
    #[serde(rename = "exact")]
    Exact,
}

impl FlopCount {
    /// Every convention's name, in declaration order.
    pub const NAMES: &'static [&'static str] = &["6nd", "exact"];

    /// The name in configs, run files and fit.json.
    pub fn name(self) -> &'static str {
        match self {
            FlopCount::SixNd => "6nd",
            FlopCount::Exact => "exact",
        }
    }
}

/// How an IsoFLOP design derived a run's tokens D from its budget C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetRule {
    /// `C = 6·N·D` with N under this parameter count.
    SixNd(ParamCount),
    /// `C = D ×` the exact FLOPs per token.
    Exact,
}

impl BudgetRule {
    /// Every rule's name.
    pub const NAMES: &'static [&'static str] = &["6nd:total", "6nd:non-embedding", "exact"];

    /// The rule of a FLOP count under a parameter count (the exact count has no N).
    pub fn new(flops: FlopCount, params: ParamCount) -> Self {
        match flops {
            FlopCount::SixNd => BudgetRule::SixNd(params),
            FlopCount::Exact => BudgetRule::Exact,
        }
    }

    /// The name in run files: `6nd:total`, `6nd:non-embedding` or `exact`.
    pub fn name(self) -> &'static str {
        match self {
            BudgetRule::SixNd(ParamCount::Total) => "6nd:total",
            BudgetRule::SixNd(ParamCount::NonEmbedding) => "6nd:non-embedding",
            BudgetRule::Exact => "exact",
        }
    }
}

/// `Display` as the name and `FromStr` from it, for each convention.
macro_rules! named {
    ($($ty:ty => [$($variant:expr),+]),+ $(,)?) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| UnknownName {
                        given: s.to_string(),
                        expected: <$ty>::NAMES,
                    })
            }
        }
    )+};
}

named! {
    ParamCount => [ParamCount::Total, ParamCount::NonEmbedding],
    FlopCount => [FlopCount::SixNd, FlopCount::Exact],
    BudgetRule => [
        BudgetRule::SixNd(ParamCount::Total),
        BudgetRule::SixNd(ParamCount::NonEmbedding),
        BudgetRule::Exact
    ],
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for p in [ParamCount::Total, ParamCount::NonEmbedding] {
            assert_eq!(p.name().parse::<ParamCount>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<ParamCount>(&json).unwrap(), p);
        }
        for c in [FlopCount::SixNd, FlopCount::Exact] {
            assert_eq!(c.name().parse::<FlopCount>().unwrap(), c);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.name()));
        }
        for name in BudgetRule::NAMES {
            assert_eq!(name.parse::<BudgetRule>().unwrap().name(), *name);
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let e = "6ND".parse::<FlopCount>().unwrap_err();
        assert_eq!(e.to_string(), "`6ND`: use \"6nd\" or \"exact\"");
        let e = "none".parse::<BudgetRule>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`none`: use \"6nd:total\", \"6nd:non-embedding\" or \"exact\""
        );
    }

    #[test]
    fn the_exact_count_ignores_the_parameter_convention() {
        assert_eq!(
            BudgetRule::new(FlopCount::Exact, ParamCount::NonEmbedding),
            BudgetRule::Exact
        );
        assert_eq!(
            BudgetRule::new(FlopCount::SixNd, ParamCount::NonEmbedding).name(),
            "6nd:non-embedding"
        );
    }
}
