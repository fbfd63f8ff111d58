//! The real corpora in `../shared/datasets` match their manifests, split as their README
//! says, and round-trip through a trained byte-level BPE.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use ladder_data::{Corpus, Manifest, Tokenizer};

/// `../shared/datasets` (or `$LADDER_SHARED/datasets`); absent is a skip, except under
/// `CI=true`, where it is a failure.
fn datasets() -> Option<PathBuf> {
    let shared = std::env::var_os("LADDER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("datasets");
    if dir.is_dir() {
        return Some(dir);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {} is missing",
        dir.display()
    );
    eprintln!(
        "skipped: no corpora at {} (set LADDER_SHARED)",
        dir.display()
    );
    None
}

#[test]
fn shared_corpora_match_their_manifests_and_splits() {
    let Some(dir) = datasets() else { return };
    for (name, file, docs) in [
        ("gutenberg_en", "gutenberg_en.txt", 98),
        ("tinyshakespeare", "tinyshakespeare.txt", 1),
    ] {
        let m = Manifest::find(name).unwrap();
        let checks = m.verify(&dir.join(file)).unwrap();
        assert!(checks.iter().all(|c| c.published), "{name}");
        let corpus = Corpus::read(&m.corpus_spec(&dir.join(file))).unwrap();
        assert_eq!(corpus.documents.len(), docs, "{name}");
    }
}

#[test]
fn bpe_round_trips_both_corpora() {
    let Some(dir) = datasets() else { return };
    let m = Manifest::find("tinyshakespeare").unwrap();
    let shakespeare = Corpus::read(&m.corpus_spec(&dir.join("tinyshakespeare.txt"))).unwrap();
    let cut = m.split(&shakespeare).unwrap().cut(&shakespeare).unwrap();
    let tok = Tokenizer::train_bpe(1024, std::iter::once(&shakespeare.text[..cut])).unwrap();
    let g = Manifest::find("gutenberg_en").unwrap();
    let gutenberg = Corpus::read(&g.corpus_spec(&dir.join("gutenberg_en.txt"))).unwrap();
    for corpus in [&shakespeare, &gutenberg] {
        // Encode document by document (as the token cache does), decode all at once.
        let mut starts: Vec<usize> = corpus.documents.iter().map(|d| d.start).collect();
        starts[0] = 0;
        starts.push(corpus.text.len());
        let pieces: Vec<_> = starts.windows(2).map(|w| w[0]..w[1]).collect();
        let ids = tok.encode(&corpus.text, &pieces).unwrap();
        assert!(ids.len() < corpus.text.len());
        assert!(
            tok.decode(&ids).unwrap() == corpus.text,
            "round trip failed"
        );
    }
}
