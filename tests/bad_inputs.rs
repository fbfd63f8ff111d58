//! The bad-input catalogue: every entry gives a clear message naming the field or file,
//! exit code 2 and no panic. docs/bad-inputs.md lists the same entries (checked below).

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

/// One bad input: its id (as in docs/bad-inputs.md), the arguments (`{d}` is the
/// scratch directory), and words the error message must contain.
struct Case {
    id: &'static str,
    args: &'static [&'static str],
    needles: &'static [&'static str],
}

const CASES: &[Case] = &[
    // Configs.
    Case {
        id: "config-missing",
        args: &["plan", "{d}/none.toml"],
        needles: &["cannot read config", "none.toml"],
    },
    Case {
        id: "config-syntax",
        args: &["plan", "{d}/syntax.toml"],
        needles: &["syntax.toml", "unclosed table"],
    },
    Case {
        id: "config-unknown-key",
        args: &["plan", "{d}/unknownkey.toml"],
        needles: &["unknown field `bogus`"],
    },
    Case {
        id: "config-wrong-type",
        args: &["plan", "{d}/wrongtype.toml"],
        needles: &["invalid type", "expected f64"],
    },
    Case {
        id: "config-negative-lr",
        args: &["plan", "{d}/neglr.toml"],
        needles: &["train.lr", "> 0"],
    },
    Case {
        id: "config-heads",
        args: &["plan", "{d}/heads.toml"],
        needles: &["model.shapes[0].n_head", "must divide d_model"],
    },
    Case {
        id: "config-batch-zero",
        args: &["plan", "{d}/batch0.toml"],
        needles: &["train.batch_size", "at least 1"],
    },
    Case {
        id: "config-data-kind",
        args: &["plan", "{d}/kind.toml"],
        needles: &["unknown variant `webtext`", "markov"],
    },
    Case {
        id: "config-quanta-context",
        args: &["plan", "{d}/quantactx.toml"],
        needles: &[
            "model.context",
            "multiple of the quanta source's fact length 9",
            "use 27 or 36",
        ],
    },
    Case {
        id: "config-quanta-keys",
        args: &["plan", "{d}/quantakeys.toml"],
        needles: &[
            "data.keys",
            "alphabet^key_len = 1024",
            "raise key_len or alphabet",
        ],
    },
    Case {
        id: "config-no-tokens",
        args: &["plan", "{d}/nocounts.toml"],
        needles: &["tokens:", "counts, per_param or budgets"],
    },
    Case {
        id: "config-schedule",
        args: &["plan", "{d}/sched.toml"],
        needles: &["train.schedule", "cosine"],
    },
    Case {
        id: "config-cooldown",
        args: &["plan", "{d}/cooldown.toml"],
        needles: &["train.cooldown", "between 0 and 1"],
    },
    Case {
        id: "config-mup-base-width",
        args: &["plan", "{d}/mup.toml"],
        needles: &["model.base_width", "μP needs the width"],
    },
    Case {
        id: "config-warmup-both",
        args: &["plan", "{d}/warmupboth.toml"],
        needles: &["train.warmup_steps", "not both"],
    },
    Case {
        id: "config-warmup-per-param",
        args: &["plan", "{d}/warmupk.toml"],
        needles: &[
            "train.warmup_tokens_per_param",
            "positive number of tokens per parameter",
        ],
    },
    Case {
        id: "config-seeds-zero",
        args: &["plan", "{d}/seeds0.toml"],
        needles: &["train.seeds", "1 to 1000"],
    },
    Case {
        id: "config-corpus-too-small",
        args: &["plan", "{d}/toosmall.toml", "--no-timing"],
        needles: &[
            "tokens.budgets[1]",
            "the corpus cannot hold this design",
            "the largest budget whose sizes all fit is",
        ],
    },
    Case {
        id: "config-design-minutes",
        args: &["plan", "{d}/designminutes.toml"],
        needles: &["design.minutes", "> 0"],
    },
    Case {
        id: "config-design-shared",
        args: &["plan", "{d}/designshared.toml"],
        needles: &["design.shared", "from 0 to 1"],
    },
    Case {
        id: "config-design-model-misfit",
        args: &["plan", "{d}/designmodelmisfit.toml"],
        needles: &["design.model_misfit", "relative SD ≥ 0"],
    },
    Case {
        id: "config-lr-table-missing",
        args: &["plan", "{d}/lrtable.toml"],
        needles: &["nope.toml"],
    },
    Case {
        id: "config-huge-model",
        args: &["plan", "{d}/huge.toml"],
        needles: &["d_model", "beyond what ladder trains"],
    },
    Case {
        id: "config-huge-tokens",
        args: &["plan", "{d}/hugetokens.toml"],
        needles: &["tokens.counts[0]", "beyond what ladder trains"],
    },
    Case {
        id: "config-other-sweep-dir",
        args: &["run", "{d}/other.toml", "--out", "{d}/sweep"],
        needles: &["different config"],
    },
    // Corpora.
    Case {
        id: "corpus-missing",
        args: &["plan", "{d}/textmissing.toml"],
        needles: &["cannot read corpus", "nothere.txt"],
    },
    Case {
        id: "corpus-stored-config",
        args: &["plan", "{d}/stored/config.toml"],
        needles: &[
            "cannot read corpus",
            "config stored with the sweep",
            "copy it next to that one",
        ],
    },
    Case {
        id: "corpus-bad-gzip",
        args: &["plan", "{d}/gz.toml"],
        needles: &["cannot read corpus", "bad.gz"],
    },
    Case {
        id: "corpus-jsonl-field",
        args: &["plan", "{d}/jsonl.toml"],
        needles: &["docs.jsonl", "text"],
    },
    Case {
        id: "corpus-bpe-vocab",
        args: &["plan", "{d}/bpe.toml"],
        needles: &["data.vocab", "257"],
    },
    Case {
        id: "corpus-checksum",
        args: &["data", "verify", "gutenberg_en", "{d}/gutenberg_en.txt"],
        needles: &["gutenberg_en.txt", "not the published file"],
    },
    Case {
        id: "corpus-unknown-name",
        args: &["data", "verify", "nosuch", "{d}/gutenberg_en.txt"],
        needles: &["no manifest called `nosuch`", "gutenberg_en"],
    },
    // HDF5 files.
    Case {
        id: "h5-truncated",
        args: &["fit", "{d}/trunc.h5"],
        needles: &["trunc.h5"],
    },
    Case {
        id: "h5-not-hdf5",
        args: &["fit", "{d}/junk.h5"],
        needles: &["junk.h5", "HDF5"],
    },
    Case {
        id: "h5-wrong-schema",
        args: &["fit", "{d}/empty.h5"],
        needles: &["empty.h5", "not a ladder run or sweep file"],
    },
    Case {
        id: "h5-run-of-another-config",
        args: &["merge", "{d}/sweep"],
        needles: &["d8-l1-h2-D4096.h5", "another sweep"],
    },
    Case {
        id: "h5-no-sweep",
        args: &["report", "{d}/emptydir"],
        needles: &["no such sweep file"],
    },
    // CSV files.
    Case {
        id: "csv-no-loss-column",
        args: &["fit", "{d}/noloss.csv"],
        needles: &["no column `loss`", "--column"],
    },
    Case {
        id: "csv-not-a-number",
        args: &["fit", "{d}/nonnum.csv"],
        needles: &["line 2", "`abc` is not a number"],
    },
    Case {
        id: "csv-negative",
        args: &["fit", "{d}/neg.csv"],
        needles: &["line 2", "column `N`", "> 0"],
    },
    Case {
        id: "csv-empty",
        args: &["fit", "{d}/empty.csv"],
        needles: &["empty file"],
    },
    Case {
        id: "csv-too-few-points",
        args: &["fit", "{d}/few.csv"],
        needles: &["too few", "at least 5"],
    },
    Case {
        id: "arg-calibrate-without-bootstrap",
        args: &[
            "fit",
            "{d}/few.csv",
            "--bootstrap",
            "0",
            "--calibrate",
            "10",
        ],
        needles: &["--calibrate", "--bootstrap 1000"],
    },
    Case {
        id: "csv-per-seed",
        args: &["fit", "{d}/few.csv", "--per-seed"],
        needles: &["--per-seed", "sweep file", "--where seed=K"],
    },
    Case {
        id: "csv-unknown-extension",
        args: &["fit", "{d}/data.txt"],
        needles: &["unknown input type"],
    },
    // Command-line arguments.
    Case {
        id: "arg-jobs-zero",
        args: &["run", "{d}/micro.toml", "--jobs", "0"],
        needles: &["--jobs", "at least 1"],
    },
    Case {
        id: "arg-cuda-without-build",
        args: &[
            "run",
            "{d}/micro.toml",
            "--device",
            "cuda",
            "--out",
            "{d}/cu",
        ],
        needles: &["--device cuda", "--features cuda"],
    },
    Case {
        id: "arg-only-unknown",
        args: &["run", "{d}/micro.toml", "--out", "{d}/o", "--only", "99"],
        needles: &["--only", "99"],
    },
    Case {
        id: "arg-unknown-subcommand",
        args: &["frobnicate"],
        needles: &["unrecognized subcommand"],
    },
    Case {
        id: "arg-bad-enum",
        args: &["fit", "{d}/few.csv", "--params", "embedding"],
        needles: &["--params", "non-embedding"],
    },
    Case {
        id: "arg-check-not-a-fit",
        args: &["check", "{d}/few.csv", "--baseline", "{d}/none.toml"],
        needles: &["few.csv", "not a fit.json"],
    },
    Case {
        id: "arg-negative-compute",
        args: &["laws", "optimum", "--compute", "-1e20"],
        needles: &["--compute"],
    },
    Case {
        id: "arg-unknown-law",
        args: &["laws", "loss", "--n", "1e9", "--d", "1e10", "--law", "gpt5"],
        needles: &["gpt5", "chinchilla"],
    },
    Case {
        id: "arg-status-not-a-sweep",
        args: &["status", "{d}/emptydir"],
        needles: &["not a sweep directory"],
    },
    Case {
        id: "arg-slurm-cpus-zero",
        args: &[
            "slurm",
            "{d}/micro.toml",
            "--out",
            "{d}/s",
            "--cpus-per-task",
            "0",
        ],
        needles: &["--cpus-per-task"],
    },
    Case {
        id: "arg-lab-unknown",
        args: &["lab", "run", "9", "--out", "{d}/lab9"],
        needles: &["lab 9", "ladder lab list"],
    },
    Case {
        id: "arg-lab-no-target",
        args: &["lab", "config", "2", "--target"],
        needles: &["--target", "only lab 3"],
    },
    Case {
        id: "arg-predict-not-n-d",
        args: &["fit", "{d}/few.csv", "--predict", "1e6"],
        needles: &["--predict", "N,D"],
    },
    Case {
        id: "arg-extrapolate-k",
        args: &["fit", "{d}/few.csv", "--extrapolate-k", "1"],
        needles: &["--extrapolate-k", "not a factor above 1"],
    },
    Case {
        id: "arg-design-law-not-chinchilla",
        args: &["design", "{d}/micro.toml", "--law", "kaplan"],
        needles: &["--law kaplan", "a fit.json"],
    },
    Case {
        id: "arg-design-reps-zero",
        args: &["design", "{d}/micro.toml", "--reps", "0"],
        needles: &["--reps", "at least 1"],
    },
    Case {
        id: "arg-design-misfit-length",
        args: &["design", "{d}/micro.toml", "--model-misfit-length", "-0.5"],
        needles: &["--model-misfit-length", "≥ 0", "independent"],
    },
    Case {
        id: "arg-run-stop-after-negative",
        args: &["run", "{d}/micro.toml", "--stop-after", "-1"],
        needles: &["--stop-after -1", "≥ 0"],
    },
    Case {
        id: "arg-run-finish-within-negative",
        args: &["run", "{d}/micro.toml", "--finish-within", "-1"],
        needles: &["--finish-within -1", "≥ 0"],
    },
    Case {
        id: "arg-design-misfit-length-auto",
        args: &["design", "{d}/micro.toml", "--model-misfit-length", "auto"],
        needles: &["--model-misfit-length auto", "chinchilla", "fit.json"],
    },
    Case {
        id: "arg-check-bad-interval",
        args: &[
            "check",
            "{d}/fit.json",
            "--baseline",
            "{d}/badinterval.toml",
        ],
        needles: &["badinterval.toml", "ci80", "ci95"],
    },
];

/// `micro.toml` with `from` replaced by `to`, written as `dir/name.toml`.
fn variant(dir: &Path, name: &str, from: &str, to: &str) {
    let micro = std::fs::read_to_string(fixture("micro.toml")).unwrap();
    assert!(micro.contains(from), "micro.toml lacks `{from}`");
    write(dir, &format!("{name}.toml"), &micro.replacen(from, to, 1));
}

/// A text-corpus config reading `data_lines` (the `[data]` table's body).
fn text_config(dir: &Path, name: &str, data_lines: &str) {
    write(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"t\"\n[data]\nkind = \"text\"\n{data_lines}\n[model]\ncontext = 16\n\
             shapes = [{{ d_model = 8, n_layer = 1, n_head = 2 }}]\n[tokens]\ncounts = [2048]\n\
             [train]\nbatch_size = 8\nlr = 1e-2\n[eval]\nevery_tokens = 1024\ntokens = 1024\n"
        ),
    );
}

/// A quanta-source config with `data_lines` in its `[data]` table and this context.
fn quanta_config(dir: &Path, name: &str, data_lines: &str, context: usize) {
    write(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"t\"\n[data]\nkind = \"quanta\"\n{data_lines}\n[model]\ncontext = {context}\n\
             shapes = [{{ d_model = 8, n_layer = 1, n_head = 2 }}]\n[tokens]\ncounts = [2048]\n\
             [train]\nbatch_size = 8\nlr = 1e-2\n[eval]\nevery_tokens = 1024\ntokens = 1024\n"
        ),
    );
}

/// Every file the catalogue reads.
fn scratch(d: &Path) {
    write(
        d,
        "micro.toml",
        &std::fs::read_to_string(fixture("micro.toml")).unwrap(),
    );
    write(d, "syntax.toml", "name = \"x\"\n[data\n");
    variant(d, "unknownkey", "seed = 1", "seed = 1\nbogus = 3");
    variant(d, "wrongtype", "lr = 1e-2", "lr = \"fast\"");
    variant(d, "neglr", "lr = 1e-2", "lr = -1.0");
    variant(d, "heads", "n_head = 2 }", "n_head = 3 }");
    variant(d, "batch0", "batch_size = 8", "batch_size = 0");
    variant(d, "kind", "kind = \"markov\"", "kind = \"webtext\"");
    quanta_config(d, "quantactx", "", 32);
    quanta_config(d, "quantakeys", "keys = 5000", 36);
    variant(d, "nocounts", "counts = [2048, 4096, 8192]", "counts = []");
    variant(
        d,
        "sched",
        "warmup_steps = 2",
        "warmup_steps = 2\nschedule = \"linear\"",
    );
    variant(
        d,
        "cooldown",
        "warmup_steps = 2",
        "warmup_steps = 2\nschedule = \"wsd\"\ncooldown = 1.5",
    );
    variant(
        d,
        "mup",
        "context = 16",
        "context = 16\nparametrization = \"mup\"",
    );
    variant(
        d,
        "warmupboth",
        "warmup_steps = 2",
        "warmup_steps = 2\nwarmup_fraction = 0.1",
    );
    variant(
        d,
        "warmupk",
        "warmup_steps = 2",
        "warmup_tokens_per_param = -1",
    );
    variant(
        d,
        "seeds0",
        "warmup_steps = 2",
        "warmup_steps = 2\nseeds = 0",
    );
    variant(
        d,
        "designminutes",
        "[tokens]\ncounts = [2048, 4096, 8192]",
        "[design]\nminutes = -1\nlaw = \"chinchilla\"\n[tokens]",
    );
    variant(
        d,
        "designshared",
        "[tokens]\ncounts = [2048, 4096, 8192]",
        "[design]\nminutes = 1\nlaw = \"chinchilla\"\nshared = 1.5\n[tokens]",
    );
    variant(
        d,
        "designmodelmisfit",
        "[tokens]\ncounts = [2048, 4096, 8192]",
        "[design]\nminutes = 1\nlaw = \"chinchilla\"\nmodel_misfit = -0.01\n[tokens]",
    );
    write(
        d,
        "prose.txt",
        &"the quick brown fox jumps over the lazy dog. ".repeat(400),
    );
    write(
        d,
        "toosmall.toml",
        "name = \"t\"\n[data]\nkind = \"text\"\npath = \"prose.txt\"\nsplit_fraction = 0.1\n\
         [model]\ncontext = 16\nshapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, \
         { d_model = 16, n_layer = 1, n_head = 2 }]\n[tokens]\nbudgets = [1e7, 1e9]\n\
         [train]\nbatch_size = 8\nlr = 1e-2\n[eval]\nevery_tokens = 1024\ntokens = 512\n",
    );
    variant(
        d,
        "lrtable",
        "lr = 1e-2",
        "lr = 1e-2\nlr_table = \"nope.toml\"",
    );
    variant(d, "other", "seed = 1", "seed = 2");
    variant(d, "huge", "d_model = 16,", "d_model = 1000000000,");
    variant(
        d,
        "hugetokens",
        "counts = [2048, 4096, 8192]",
        "counts = [3e20]",
    );
    text_config(d, "textmissing", "path = \"nothere.txt\"");
    // A sweep directory's stored config, whose corpus path was relative to configs/.
    std::fs::create_dir_all(d.join("stored/runs")).unwrap();
    text_config(
        &d.join("stored"),
        "config",
        "path = \"../datasets/corpus.txt\"",
    );
    write(d, "bad.gz", "garbage, not gzip\n");
    text_config(d, "gz", "path = \"bad.gz\"");
    write(d, "docs.jsonl", "{\"body\": \"x\"}\n{\"body\": \"y\"}\n");
    text_config(
        d,
        "jsonl",
        "path = \"docs.jsonl\"\nformat = \"jsonl\"\nfield = \"text\"",
    );
    write(d, "small.txt", "some text here\n");
    text_config(
        d,
        "bpe",
        "path = \"small.txt\"\ntokenizer = \"bpe\"\nvocab = 100",
    );
    write(d, "gutenberg_en.txt", "hello world\n");
    // HDF5: a real sweep cut short, text with an .h5 name, an HDF5 file of no schema, and
    // a sweep directory holding a run of another config.
    let micro = d.join("micro.toml");
    let sweep = d.join("sweep");
    let run = |config: &Path, out: &Path, unit: &str| {
        let o = ladder(&[
            "run",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--only",
            unit,
        ]);
        assert!(o.status.success(), "{}", text(&o).1);
    };
    run(&micro, &sweep, "0");
    run(&d.join("other.toml"), &d.join("other-sweep"), "1");
    let stray = "d8-l1-h2-D4096.h5";
    std::fs::copy(
        d.join("other-sweep/runs").join(stray),
        sweep.join("runs").join(stray),
    )
    .unwrap();
    let whole = std::fs::read(
        std::fs::read_dir(sweep.join("runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    std::fs::write(d.join("trunc.h5"), &whole[..whole.len() / 3]).unwrap();
    write(d, "junk.h5", "not hdf5\n");
    hdf5_pure::FileBuilder::new()
        .write(d.join("empty.h5"))
        .unwrap();
    std::fs::create_dir(d.join("emptydir")).unwrap();
    // CSV.
    write(d, "noloss.csv", "N,D\n1,2\n");
    write(d, "nonnum.csv", "N,D,loss\n1e6,1e8,abc\n");
    write(d, "neg.csv", "N,D,loss\n-1e6,1e8,3.0\n");
    write(d, "empty.csv", "");
    write(d, "few.csv", "N,D,loss\n1e6,1e8,3.0\n2e6,1e8,2.9\n");
    write(d, "data.txt", "N,D,loss\n");
    // A fit and a baseline that asks for an interval fit.json does not have.
    write(
        d,
        "fit.json",
        r#"{"approach3": {"alpha": 0.3, "ci95": {"alpha": [0.2, 0.4]}}}"#,
    );
    write(
        d,
        "badinterval.toml",
        "[[check]]\nkey = \"approach3.alpha\"\nmax_ratio = 3.0\ninterval = \"ci90\"\n",
    );
}

#[test]
fn every_bad_input_is_a_clear_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    scratch(d);
    assert!(CASES.len() >= 30);
    for case in CASES {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| a.replace("{d}", d.to_str().unwrap()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ladder(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {args:?}\nstdout: {stdout}\nstderr: {stderr}",
            case.id
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.id);
        for n in case.needles {
            assert!(
                stderr.contains(n),
                "{}: expected `{n}` in: {stderr}",
                case.id
            );
        }
    }
}

/// docs/bad-inputs.md has one row per catalogue entry, and no other.
#[test]
fn the_catalogue_in_the_docs_matches_the_tests() {
    let doc = std::fs::read_to_string(root().join("docs/bad-inputs.md")).unwrap();
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .collect();
    let tested: Vec<&str> = CASES.iter().map(|c| c.id).collect();
    assert_eq!(documented, tested);
}
