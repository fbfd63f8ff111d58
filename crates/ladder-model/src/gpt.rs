//! The GPT: config, then attention, MLP, block and model, as in nanoGPT's `model.py`.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Embedding, Init, Linear, VarBuilder};

use crate::gelu::gelu;
use crate::layers::{linear, LayerNorm, Rotary, INIT_STD};
use crate::{GptConfig, PositionEncoding};

/// Causal multi-head self-attention.
struct CausalSelfAttention {
    qkv: Linear,
    proj: Linear,
    n_head: usize,
    rotary: Option<Rotary>,
}

impl CausalSelfAttention {
    fn new(cfg: &GptConfig, proj_std: f64, vb: VarBuilder) -> Result<Self> {
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
            qkv: linear(d, 3 * d, INIT_STD, vb.pp("qkv"))?,
            proj: linear(d, d, proj_std, vb.pp("proj"))?,
            n_head: cfg.n_head,
            rotary,
        })
    }

    /// `mask` is `(T, T)` with 0 on and below the diagonal and −∞ above.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let hd = c / self.n_head;
        let qkv = self.qkv.forward(x)?; // (B, T, 3C)
        let heads = |i: usize| -> Result<Tensor> {
            qkv.narrow(D::Minus1, i * c, c)?
                .reshape((b, t, self.n_head, hd))?
                .transpose(1, 2)?
                .contiguous() // (B, H, T, hd)
        };
        let (mut q, mut k, v) = (heads(0)?, heads(1)?, heads(2)?);
        if let Some(rotary) = &self.rotary {
            q = rotary.apply(&q)?;
            k = rotary.apply(&k)?;
        }
        let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?; // (B, H, T, T)
        let att = candle_nn::ops::softmax(&scores.broadcast_add(mask)?, D::Minus1)?;
        let y = att.matmul(&v)?; // (B, H, T, hd)
        let y = y.transpose(1, 2)?.reshape((b, t, c))?; // (B, T, C)
        self.proj.forward(&y)
    }
}

/// The position-wise MLP with a GELU (tanh approximation, as GPT-2).
struct Mlp {
    fc: Linear,
    proj: Linear,
}

impl Mlp {
    fn new(cfg: &GptConfig, proj_std: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            fc: linear(cfg.d_model, cfg.d_ff, INIT_STD, vb.pp("fc"))?,
            proj: linear(cfg.d_ff, cfg.d_model, proj_std, vb.pp("proj"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.proj.forward(&gelu(&self.fc.forward(x)?)?) // (B, T, C)
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
        // GPT-2 scales residual projections by 1/sqrt(2·n_layer) (Radford et al. 2019, §2.3).
        let proj_std = INIT_STD / (2.0 * cfg.n_layer as f64).sqrt();
        Ok(Self {
            ln1: LayerNorm::new(cfg.d_model, vb.pp("ln1"))?,
            attn: CausalSelfAttention::new(cfg, proj_std, vb.pp("attn"))?,
            ln2: LayerNorm::new(cfg.d_model, vb.pp("ln2"))?,
            mlp: Mlp::new(cfg, proj_std, vb.pp("mlp"))?,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln1.forward(x)?, mask)?)?;
        &x + self.mlp.forward(&self.ln2.forward(&x)?)?
    }
}

/// A decoder-only transformer language model.
pub struct Gpt {
    config: GptConfig,
    wte: Embedding,
    wpe: Option<Embedding>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Option<Linear>,
    mask: Tensor,
}

impl Gpt {
    /// Builds the model, creating its variables through `vb`.
    pub fn new(config: GptConfig, vb: VarBuilder) -> Result<Self> {
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
            Some(Linear::new(
                vb.get_with_hints((config.vocab, d), "lm_head.weight", init)?,
                None,
            ))
        };
        let mask = causal_mask(config.context, vb.dtype(), vb.device())?;
        Ok(Self {
            config,
            wte: Embedding::new(wte, d),
            wpe,
            blocks,
            ln_f,
            head,
            mask,
        })
    }

    /// The model's shape.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// Logits `(B, T, vocab)` for token ids `idx` of shape `(B, T)`, `T ≤ context`.
    pub fn forward(&self, idx: &Tensor) -> Result<Tensor> {
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
            x = block.forward(&x, &mask)?;
        }
        let x = self.ln_f.forward(&x)?;
        match &self.head {
            Some(head) => head.forward(&x),
            None => x.broadcast_matmul(&self.wte.embeddings().t()?), // (B, T, vocab)
        }
    }

    /// Mean cross-entropy (nats/token) of predicting `targets` `(B, T)` from `idx` `(B, T)`.
    pub fn loss(&self, idx: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let logits = self.forward(idx)?;
        let (b, t, v) = logits.dims3()?;
        candle_nn::loss::cross_entropy(&logits.reshape((b * t, v))?, &targets.reshape(b * t)?)
    }
}

/// `(T, T)` additive mask: 0 where key ≤ query, −∞ above the diagonal.
fn causal_mask(t: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j <= i { 0.0 } else { f32::NEG_INFINITY }))
        .collect();
    Tensor::from_vec(values, (t, t), device)?.to_dtype(dtype)
}
