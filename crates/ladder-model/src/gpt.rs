//! The GPT: config, then attention, MLP, block and model, as in nanoGPT's `model.py`.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, Init, VarBuilder};

use crate::kernels::{self, Kernels};
use crate::layers::{Exec, LayerNorm, Linear, Rotary};
use crate::parametrization::INIT_STD;
use crate::{GptConfig, PositionEncoding, Precision};

/// Causal multi-head self-attention.
struct CausalSelfAttention {
    qkv: Linear,
    proj: Linear,
    n_head: usize,
    rotary: Option<Rotary>,
}

impl CausalSelfAttention {
    fn new(cfg: &GptConfig, std: f64, proj_std: f64, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let rotary = match cfg.positions {
            PositionEncoding::Rope => Some(Rotary::new(
                cfg.head_dim(),
                cfg.context,
                vb.dtype(),
                vb.device(),
            )?),
            PositionEncoding::Learned => None,
        };
        Ok(Self {
            qkv: Linear::new(d, 3 * d, std, vb.pp("qkv"))?,
            proj: Linear::new(d, d, proj_std, vb.pp("proj"))?,
            n_head: cfg.n_head,
            rotary,
        })
    }

    /// `mask` is `(T, T)` with 0 on and below the diagonal and −∞ above.
    fn forward(&self, x: &Tensor, mask: &Tensor, e: Exec) -> Result<Tensor> {
        let qkv = self.qkv.forward(x, e)?; // (B, T, 3C)
        let y = match (&self.rotary, e.kernels, e.precision) {
            (None, Kernels::Fused | Kernels::PerOp, Precision::F32) => {
                kernels::causal_attention(&qkv, self.n_head)?
            }
            (None, Kernels::Composed, Precision::F32) => {
                kernels::causal_attention_composed(&qkv, self.n_head, mask)?
            }
            // RoPE rotates q and k between the split and the scores, and autocast runs
            // the products in bf16; the fused kernel does neither: composed ops.
            (rotary, _, precision) => {
                let [q, k, v] = kernels::split_heads(&qkv, self.n_head)?;
                let (q, k) = match rotary {
                    Some(r) => (r.apply(&q)?, r.apply(&k)?),
                    None => (q, k),
                };
                kernels::merge_heads(&kernels::attend_in(precision, &q, &k, &v, mask)?)?
            }
        };
        self.proj.forward(&y, e)
    }
}

/// The position-wise MLP with a GELU (tanh approximation, as GPT-2).
struct Mlp {
    fc: Linear,
    proj: Linear,
}

impl Mlp {
    fn new(cfg: &GptConfig, std: f64, proj_std: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            fc: Linear::new(cfg.d_model, cfg.d_ff, std, vb.pp("fc"))?,
            proj: Linear::new(cfg.d_ff, cfg.d_model, proj_std, vb.pp("proj"))?,
        })
    }

    fn forward(&self, x: &Tensor, e: Exec) -> Result<Tensor> {
        let h = self.fc.forward(x, e)?;
        let h = match e.kernels {
            Kernels::Fused | Kernels::PerOp => kernels::gelu(&h)?,
            Kernels::Composed => kernels::gelu_composed(&h)?,
        };
        self.proj.forward(&h, e) // (B, T, C)
    }
}

/// A pre-norm transformer block: `x + attn(ln(x))`, then `x + mlp(ln(x))`.
struct Block {
    ln1: LayerNorm,
    attn: CausalSelfAttention,
    ln2: LayerNorm,
    mlp: Mlp,
}

impl Block {
    fn new(cfg: &GptConfig, vb: VarBuilder) -> Result<Self> {
        // Hidden matrices at the parametrization's std; GPT-2 scales residual projections
        // by a further 1/sqrt(2·n_layer) (Radford et al. 2019, §2.3).
        let std = cfg.parametrization.hidden_std(cfg.d_model);
        let proj_std = std / (2.0 * cfg.n_layer as f64).sqrt();
        Ok(Self {
            ln1: LayerNorm::new(cfg.d_model, vb.pp("ln1"))?,
            attn: CausalSelfAttention::new(cfg, std, proj_std, vb.pp("attn"))?,
            ln2: LayerNorm::new(cfg.d_model, vb.pp("ln2"))?,
            mlp: Mlp::new(cfg, std, proj_std, vb.pp("mlp"))?,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor, e: Exec) -> Result<Tensor> {
        if e.whole_units_on(x.device()) && self.attn.rotary.is_none() {
            let (attn, mlp) = (&self.attn, &self.mlp);
            let params = [
                &self.ln1.weight,
                &self.ln1.bias,
                &attn.qkv.weight,
                &attn.qkv.bias,
                &attn.proj.weight,
                &attn.proj.bias,
                &self.ln2.weight,
                &self.ln2.bias,
                &mlp.fc.weight,
                &mlp.fc.bias,
                &mlp.proj.weight,
                &mlp.proj.bias,
            ];
            return kernels::transformer_block(x, params, attn.n_head, self.ln1.eps);
        }
        let x = (x + self.attn.forward(&self.ln1.forward(x, e)?, mask, e)?)?;
        &x + self.mlp.forward(&self.ln2.forward(&x, e)?, e)?
    }
}

/// A decoder-only transformer language model.
pub struct Gpt {
    config: GptConfig,
    wte: Embedding,
    wpe: Option<Embedding>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Option<Tensor>,
    mask: Tensor,
    exec: Exec,
}

impl Gpt {
    /// Builds the model with the fused kernels, creating its variables through `vb`.
    pub fn new(config: GptConfig, vb: VarBuilder) -> Result<Self> {
        Self::with_kernels(config, Kernels::Fused, vb)
    }

    /// Builds the model with the chosen implementation of its composites. Both draw the
    /// same variables in the same order, so a seed gives the same initial model.
    pub fn with_kernels(config: GptConfig, kernels: Kernels, vb: VarBuilder) -> Result<Self> {
        let d = config.d_model;
        let init = Init::Randn {
            mean: 0.0,
            stdev: INIT_STD,
        };
        let wte = vb.get_with_hints((config.vocab, d), "wte.weight", init)?;
        let wpe = match config.positions {
            PositionEncoding::Learned => Some(Embedding::new(
                vb.get_with_hints((config.context, d), "wpe.weight", init)?,
                d,
            )),
            PositionEncoding::Rope => None,
        };
        let blocks = (0..config.n_layer)
            .map(|i| Block::new(&config, vb.pp(format!("h.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let ln_f = LayerNorm::new(d, vb.pp("ln_f"))?;
        let head = if config.tied_head {
            None
        } else {
            Some(vb.get_with_hints((config.vocab, d), "lm_head.weight", init)?)
        };
        let mask = kernels::causal_mask(config.context, vb.dtype(), vb.device())?;
        Ok(Self {
            config,
            wte: Embedding::new(wte, d),
            wpe,
            blocks,
            ln_f,
            head,
            mask,
            exec: Exec {
                kernels,
                precision: Precision::F32,
            },
        })
    }

    /// The same model with its matrix products in `precision` ([`Precision`]); the
    /// weights stay as built.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.exec.precision = precision;
        self
    }

    /// The model's shape.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// Logits `(B, T, vocab)` for token ids `idx` of shape `(B, T)`, `T ≤ context`.
    pub fn forward(&self, idx: &Tensor) -> Result<Tensor> {
        let x = self.hidden(idx)?;
        // The head as one 2-D matmul: a broadcast matmul against the (vocab, C) matrix
        // would sum its gradient over a broadcast batch dimension.
        let (b, t, c) = x.dims3()?;
        self.exec
            .precision
            .matmul(&x.reshape((b * t, c))?, &self.head().t()?)?
            .reshape((b, t, ())) // (B, T, vocab)
    }

    /// The final hidden states `(B, T, C)`, after `ln_f` and the readout multiplier, for
    /// token ids `idx` `(B, T)`.
    fn hidden(&self, idx: &Tensor) -> Result<Tensor> {
        let (_, t) = idx.dims2()?;
        if t > self.config.context {
            candle_core::bail!(
                "sequence of {t} tokens exceeds the context of {}",
                self.config.context
            );
        }
        let mut x = self.wte.forward(idx)?; // (B, T, C)
        if let Some(wpe) = &self.wpe {
            let pos = Tensor::arange(0u32, t as u32, idx.device())?;
            x = x.broadcast_add(&wpe.forward(&pos)?)?;
        }
        let mask = self.mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
        for block in &self.blocks {
            x = block.forward(&x, &mask, self.exec)?;
        }
        let x = self.ln_f.forward(&x, self.exec)?;
        // μP's readout multiplier, on the hidden states so that the fused head and loss
        // see it too; the standard parametrization skips the op (its results stay
        // bit-for-bit what they were).
        match self
            .config
            .parametrization
            .output_multiplier(self.config.d_model)
        {
            1.0 => Ok(x),
            m => x * m,
        }
    }

    /// The output matrix `(vocab, C)`: its own, or the token embedding when tied.
    fn head(&self) -> &Tensor {
        self.head.as_ref().unwrap_or_else(|| self.wte.embeddings())
    }

    /// Mean cross-entropy (nats/token) of predicting `targets` `(B, T)` from `idx` `(B, T)`.
    pub fn loss(&self, idx: &Tensor, targets: &Tensor) -> Result<Tensor> {
        if self.exec.whole_units_on(idx.device()) {
            // The head and the loss as one node: the logits never enter the graph.
            let x = self.hidden(idx)?;
            let (b, t, c) = x.dims3()?;
            let x = x.reshape((b * t, c))?;
            return kernels::head_cross_entropy(&x, self.head(), &targets.reshape(b * t)?);
        }
        let logits = self.forward(idx)?;
        let (b, t, v) = logits.dims3()?;
        let (logits, targets) = (logits.reshape((b * t, v))?, targets.reshape(b * t)?);
        match self.exec.kernels {
            Kernels::Fused | Kernels::PerOp => kernels::cross_entropy(&logits, &targets),
            Kernels::Composed => kernels::cross_entropy_composed(&logits, &targets),
        }
    }
}
