//! Opening a sweep's token source from its `[data]` section.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ladder_data::{
    Corpus, CorpusSpec, DataError, Format, Manifest, MarkovConfig, MarkovSource, QuantaConfig,
    QuantaSource, Split, TextSource, TokenFile, TokenSource, TokenizerSpec,
};

use crate::config::{DataConfig, SweepConfig};
use crate::SweepError;

/// Where the tokens come from, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// The synthetic chain.
    Markov(MarkovConfig),
    /// The synthetic facts.
    Quanta(QuantaConfig),
    /// A text corpus.
    Text {
        /// Resolved path.
        path: PathBuf,
        /// Validation split.
        split: Split,
        /// Tokenizer.
        tokenizer: TokenizerSpec,
    },
}

impl DataSpec {
    /// The tokenizer, as recorded with every run: `synthetic`, `byte` or `bpe-N`.
    pub fn tokenizer_name(&self) -> String {
        match self {
            Self::Markov(_) | Self::Quanta(_) => "synthetic".into(),
            Self::Text { tokenizer, .. } => tokenizer.name(),
        }
    }
}

/// `data.<field>` errors from the data crate's parameter errors; others as they are.
fn data_err(e: DataError) -> SweepError {
    match e {
        DataError::BadParameter { field, message } => SweepError::invalid(
            format!("data.{}", field.replace("split.", "split_")),
            message,
        ),
        other => SweepError::Data(other),
    }
}

/// The token cache's root: `cache_dir` (relative to the config), `$LADDER_CACHE`,
/// `$XDG_CACHE_HOME/ladder`, `~/.cache/ladder`, or `.ladder-cache`.
fn cache_root(cache_dir: Option<&str>, base: &Path) -> PathBuf {
    if let Some(dir) = cache_dir {
        return base.join(dir);
    }
    let env = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("LADDER_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("ladder")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/ladder")))
        .unwrap_or_else(|| PathBuf::from(".ladder-cache"))
        .join("tokens")
}

fn tokenizer(kind: Option<&str>, vocab: Option<usize>) -> Result<TokenizerSpec, SweepError> {
    let spec = match (kind.unwrap_or("byte"), vocab) {
        ("byte", None) => TokenizerSpec::Byte,
        ("byte", Some(_)) => {
            return Err(SweepError::invalid(
                "data.vocab",
                "the byte tokenizer has 256 tokens: drop vocab, or set tokenizer = \"bpe\"",
            ))
        }
        ("bpe", Some(v)) => TokenizerSpec::Bpe { vocab: v },
        ("bpe", None) => {
            return Err(SweepError::invalid(
                "data.vocab",
                "tokenizer = \"bpe\" needs a vocabulary size, e.g. vocab = 4096",
            ))
        }
        (other, _) => {
            return Err(SweepError::invalid(
                "data.tokenizer",
                format!("`{other}`: use \"byte\" or \"bpe\""),
            ))
        }
    };
    spec.validate().map_err(data_err)
}

/// The split the config asks for: from the manifest, or exactly one `split_*` key.
fn split(
    manifest: Option<&Manifest>,
    corpus: &Corpus,
    fraction: Option<f64>,
    offset: Option<u64>,
    documents: Option<usize>,
) -> Result<Split, SweepError> {
    let given = [fraction.is_some(), offset.is_some(), documents.is_some()];
    let count = given.iter().filter(|&&g| g).count();
    match manifest {
        Some(m) if count > 0 => Err(SweepError::invalid(
            "data",
            format!(
                "corpus `{}` fixes its split ({}): drop split_fraction, split_offset and \
                 split_documents",
                m.name, m.split.rule
            ),
        )),
        Some(m) => m.split(corpus).map_err(data_err),
        None => match (fraction, offset, documents) {
            (Some(f), None, None) => Ok(Split::Fraction(f)),
            (None, Some(o), None) => Ok(Split::Offset(o)),
            (None, None, Some(n)) => Ok(Split::Documents(n)),
            _ => Err(SweepError::invalid(
                "data",
                "give exactly one of split_fraction, split_offset and split_documents \
                 (or corpus = a known corpus)",
            )),
        },
    }
}

/// How to read the corpus at `path`: as its manifest says, or as `[data]` does.
fn corpus_spec(
    manifest: Option<&Manifest>,
    path: &Path,
    format: &Option<String>,
    field: &Option<String>,
    separator: &Option<String>,
) -> Result<CorpusSpec, SweepError> {
    if let Some(m) = manifest {
        if format.is_some() || field.is_some() || separator.is_some() {
            return Err(SweepError::invalid(
                "data",
                format!(
                    "corpus `{}` fixes format, field and separator: drop them",
                    m.name
                ),
            ));
        }
        m.verify(path).map_err(data_err)?;
        return Ok(m.corpus_spec(path));
    }
    let field = field.clone().unwrap_or_else(|| "text".into());
    Ok(CorpusSpec {
        path: path.to_path_buf(),
        format: match format.as_deref() {
            None => None,
            Some("text") => Some(Format::Text),
            Some("jsonl") => Some(Format::Jsonl {
                field: field.clone(),
            }),
            Some(other) => {
                return Err(SweepError::invalid(
                    "data.format",
                    format!("`{other}`: use \"text\" or \"jsonl\""),
                ))
            }
        },
        field,
        separator: separator.clone(),
    })
}

/// The corpus `text`, split, as tokens: bytes, or BPE ids from the token cache under
/// `cache()` (built there the first time).
fn text_source(
    text: Corpus,
    split: Split,
    tokenizer: TokenizerSpec,
    cache: impl FnOnce() -> PathBuf,
    seed: u64,
    label: String,
) -> Result<TextSource, SweepError> {
    match tokenizer {
        TokenizerSpec::Byte => TextSource::from_corpus(text, split, seed, label).map_err(data_err),
        TokenizerSpec::Bpe { .. } => {
            let cut = split.cut(&text).map_err(data_err)?;
            let file = TokenFile::prepare(&cache(), &text, cut, tokenizer).map_err(data_err)?;
            Ok(TextSource::from_tokens(file, seed, label))
        }
    }
}

/// Opens the source `cfg.data` describes; relative paths are resolved against `base`.
pub(crate) fn open_source(
    cfg: &SweepConfig,
    base: &Path,
) -> Result<(DataSpec, Arc<dyn TokenSource>), SweepError> {
    match &cfg.data {
        DataConfig::Markov {
            vocab,
            order,
            successors,
            zipf,
            smoothing,
        } => {
            let m = MarkovConfig {
                vocab: *vocab,
                order: *order,
                successors: *successors,
                zipf: *zipf,
                smoothing: *smoothing,
                seed: cfg.seed,
            };
            let src = MarkovSource::new(m).map_err(data_err)?;
            Ok((DataSpec::Markov(m), Arc::new(src)))
        }
        DataConfig::Quanta {
            keys,
            alphabet,
            key_len,
            value_len,
            zipf,
        } => {
            let q = QuantaConfig {
                keys: *keys,
                alphabet: *alphabet,
                key_len: *key_len,
                value_len: *value_len,
                zipf: *zipf,
                seed: cfg.seed,
            };
            let src = QuantaSource::new(q).map_err(data_err)?;
            let fact = q.fact_len();
            if !cfg.model.context.is_multiple_of(fact) {
                let lower = (cfg.model.context / fact).max(1) * fact;
                return Err(SweepError::invalid(
                    "model.context",
                    format!(
                        "{} is not a multiple of the quanta source's fact length {fact} \
                         (1 + key_len + value_len): windows must start at a fact for the \
                         entropy rate to be the loss floor; use {lower} or {}",
                        cfg.model.context,
                        lower + fact
                    ),
                ));
            }
            Ok((DataSpec::Quanta(q), Arc::new(src)))
        }
        DataConfig::Text {
            path,
            corpus,
            format,
            field,
            separator,
            split_fraction,
            split_offset,
            split_documents,
            tokenizer: kind,
            vocab,
            cache_dir,
        } => {
            // Named in every run's `data` attribute as the config writes it (relative to
            // the config), not as this machine resolves it.
            let written = path.clone();
            let path = base.join(path);
            let tokenizer = tokenizer(kind.as_deref(), *vocab)?;
            let manifest = corpus
                .as_deref()
                .map(Manifest::find)
                .transpose()
                .map_err(data_err)?;
            let spec = corpus_spec(manifest.as_ref(), &path, format, field, separator)?;
            let text = Corpus::read(&spec).map_err(data_err)?;
            let split = split(
                manifest.as_ref(),
                &text,
                *split_fraction,
                *split_offset,
                *split_documents,
            )?;
            let label = match &manifest {
                Some(m) => format!("{} ({written})", m.name),
                None => written,
            };
            let cache = || cache_root(cache_dir.as_deref(), base);
            let src = text_source(text, split, tokenizer, cache, cfg.seed, label)?;
            let spec = DataSpec::Text {
                path,
                split,
                tokenizer,
            };
            Ok((spec, Arc::new(src)))
        }
    }
}
