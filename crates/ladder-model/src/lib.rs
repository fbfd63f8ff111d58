//! A GPT-style decoder-only transformer in candle, and its parameter and FLOP counts.
//!
//! - [`GptConfig`]: the shape (width, depth, heads, MLP width, context, vocabulary,
//!   positions, tied head, parametrization), validated at construction;
//! - [`Parametrization`]: GPT-2's standard one, or μP (hyperparameters that transfer
//!   across widths);
//! - [`Gpt`]: the model, built from a candle `VarBuilder` (nanoGPT's layout);
//! - [`ParamStore`]: a seeded variable store, so that initialisation is reproducible
//!   on CPU (candle cannot seed its CPU RNG);
//! - [`ParamCounts`] and [`FlopCounts`]: closed-form counts under both conventions
//!   (Kaplan et al. 2020 non-embedding, Hoffmann et al. 2022 total).
//!
//! - [`kernels`]: fused CPU custom ops with hand-written backward passes for the hot
//!   composites (attention, LayerNorm, GELU, linear, cross-entropy) and for a whole
//!   transformer block, and their composed reference forms.
//! - [`Precision`]: f32, or bf16 matrix products with f32 everything else (autocast).
//!
//! Every op used here records gradients: candle's fused `softmax_last_dim`, `layer_norm`
//! and `rope` kernels do not (../shared/notes/candle-cpu.md), so the model uses its own
//! custom ops with backward passes, or composed ops.
#![deny(missing_docs)]

mod config;
mod counts;
mod error;
mod gpt;
pub mod kernels;
mod layers;
mod parametrization;
mod precision;
mod store;

pub use config::{GptConfig, PositionEncoding};
pub use counts::{FlopCounts, ParamCounts};
pub use error::ModelError;
pub use gpt::Gpt;
pub use kernels::Kernels;
pub use parametrization::Parametrization;
pub use precision::Precision;
pub use store::ParamStore;
