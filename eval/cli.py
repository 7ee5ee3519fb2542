"""``trustlens eval ...`` and ``trustlens bench ...``.

Each command prints a readable table, or one JSON object with ``--json``, and writes its
results (with settings and versions) under ``eval/results/``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

eval_app = typer.Typer(help="Measure quality on real and labelled data.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed and memory against baselines.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def emit(
    name: str, payload: dict[str, Any], config: dict[str, Any], as_json: bool, table: Table | None
) -> None:
    """Write the result file, then print JSON or the table."""
    from eval.results import write_result

    path = write_result(name, payload, config)
    if as_json:
        print(json.dumps({**payload, "config": config, "results_file": str(path)}))
    else:
        if table is not None:
            out.print(table)
        out.print(f"results: {path}")


@eval_app.command("journal")
def eval_journal(
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus",
            help="A folder of writer folders (journal.jsonl, labels.json, questions.json), "
            "e.g. eval/datasets/journals/dev; without it, eval/datasets/journal_dev.json.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answers on the labelled development journals (eval/datasets/journal_dev.json), or
    every figure of a journal corpus with --corpus."""
    if corpus is not None:
        _eval_journal_corpus(corpus, as_json)
        return
    from eval.crisis_eval import crisis_scores
    from eval.journal_eval import (
        DATASET,
        evaluate_answers,
        evaluate_behaviours,
        evaluate_reflect,
        ingest_journals,
        load_dataset,
    )
    from eval.tagging_eval import tagging_scores
    from service.container import Container
    from service.settings import Settings

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        c = Container(settings)
        ds = load_dataset()
        users = ingest_journals(c, ds, root)
        result = evaluate_answers(c, ds, users)
        tagging = tagging_scores(c, users)
        result["tagging"] = tagging
        result["reflect"] = evaluate_reflect(c, users)
        result["behaviours"] = evaluate_behaviours(c, users)
        result["crisis"] = crisis_scores(embeddings=c.embeddings)
        result["summary"] |= {
            "pattern_macro_f1": tagging["summary"]["macro_f1"],
            "reflect_echo_recall": result["reflect"]["echo_recall_mean"],
            "reflect_origin_hit_rate": result["reflect"]["origin_hit_rate"],
            "behaviour_counts_backed": result["behaviours"]["every_count_backed"],
            "crisis_recall": result["crisis"]["recall"],
            "crisis_precision": result["crisis"]["precision"],
        }
        c.close()
    config = {
        "dataset": str(DATASET.relative_to(root)),
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
        "llm": settings.llm,
    }
    table = Table("id", "question", "abstained", "precision", "recall", "verbatim")
    for r in result["questions"]:
        table.add_row(
            r["id"],
            r["question"][:50],
            str(r["abstained"]),
            _fmt(r["precision"]),
            _fmt(r["recall"]),
            _fmt(r["verbatim"]),
        )
    for k, v in result["summary"].items():
        table.add_row("", k, "", _fmt(v), "", "")
    emit("journal", result, config, as_json, table)


CORPUS_COLUMNS = (
    "answerable.precision",
    "answerable.recall",
    "habit.precision",
    "habit.recall",
    "habit.general_top_matches",
    "abstention.wrongful",
    "abstention.unanswerable_share",
    "time_bounded.out_of_window",
    "planner.accuracy",
    "patterns.macro_f1",
    "direction.defensive_agrees",
    "quotes.not_verbatim",
    "runtime.total_s",
)


def _eval_journal_corpus(corpus: Path, as_json: bool) -> None:
    """``eval journal --corpus DIR``: one container (the model loads once), one user per
    writer folder; writes ``journal-corpus-<folder name>-<timestamp>.json``."""
    from eval.journal_corpus import POOLED, run_corpus
    from service.container import Container
    from service.settings import Settings

    if not corpus.is_dir():
        err.print(f"--corpus must be a folder of writer folders, not {str(corpus)!r}")
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        c = Container(settings)
        try:
            result = run_corpus(c, corpus)
        except (FileNotFoundError, ValueError) as e:
            err.print(str(e))
            raise typer.Exit(2) from e
        finally:
            c.close()
    config = {
        "corpus": str(corpus),
        "split": corpus.resolve().name,
        "journals": sorted(result["journals"]),
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
        "llm": settings.llm,
    }
    table = Table("figure", *result["journals"], POOLED)
    for key in CORPUS_COLUMNS:
        row = [_fmt(j["figures"].get(key)) for j in result["journals"].values()]
        table.add_row(key, *row, _fmt(result["pooled"].get(key)))
    emit(f"journal-corpus-{config['split']}", result, config, as_json, table)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


@eval_app.command("emotions")
def eval_emotions(
    split: Annotated[str, typer.Option("--split", help="dev (tuning) or test (final).")] = "dev",
    as_json: JsonOpt = False,
) -> None:
    """Precision@10 of "a time I felt <emotion>" on EmpatheticDialogues (32 emotions)."""
    import time

    from eval.datasets.empathetic import DATA_DIR, SPLITS, load_split
    from eval.emotions_eval import CACHE_DIR, CHUNKS, QUESTION, evaluate, ingest_situations
    from service.container import Container
    from service.settings import Settings
    from service.taxonomy import load_emotions

    if split not in SPLITS:
        err.print(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
        raise typer.Exit(2)
    situations = load_split(split)
    lexicon = load_emotions()
    settings = Settings(data_dir=CACHE_DIR / f"ed-{split}")
    c = Container(settings)
    t0 = time.perf_counter()
    uid = ingest_situations(c, split, situations)
    t1 = time.perf_counter()
    result = evaluate(c, uid, split, situations, sorted(lexicon.emotions))
    t2 = time.perf_counter()
    c.close()
    result["timing_s"] = {"ingest": round(t1 - t0, 2), "evaluate": round(t2 - t1, 2)}
    config = {
        "dataset": f"{DATA_DIR}/{split}.csv",
        "split": split,
        "cache_dir": str(settings.data_dir),
        "question": QUESTION,
        "chunks_per_query": CHUNKS,
        "emotion_lexicon": f"prompts/emotions/v{lexicon.version}/emotions.yaml",
        "expansion_weight": lexicon.expansion_weight,
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
    }
    table = Table("emotion", "baseline P@10", "system P@10")
    for r in result["emotions"]:
        table.add_row(r["emotion"], _fmt(r["baseline"]), _fmt(r["system"]))
    s = result["summary"]
    table.add_row("mean (32)", _fmt(s["baseline_p_at_10_mean"]), _fmt(s["system_p_at_10_mean"]))
    table.add_row(
        "mean (trust)",
        _fmt(s["baseline_p_at_10_trust_mean"]),
        _fmt(s["system_p_at_10_trust_mean"]),
    )
    emit(f"emotions-{split}", result, config, as_json, table)


@eval_app.command("crisis")
def eval_crisis(
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="dev, test (tuned on), holdout, holdout2 (unseen), train, all; "
            "ed-dev, ed-test (EmpatheticDialogues, false alarms); cssrs-dev (real posts, "
            "recall by C-SSRS level); journals (sample and dev journals).",
        ),
    ] = "dev",
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Patterns alone, without the classifier stage.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recall and precision of the crisis-language gate on eval/datasets/crisis.jsonl."""
    from eval.crisis_eval import (
        CSSRS_SPLITS,
        JOURNALS_SPLIT,
        SPLITS,
        config,
        evaluate,
        load_split,
        packaged_embeddings,
    )

    extra = (*CSSRS_SPLITS, JOURNALS_SPLIT)
    if split not in (*SPLITS, "all", *extra):
        err.print(f"--split must be one of {', '.join((*SPLITS, *extra))} or all, not {split!r}")
        raise typer.Exit(2)
    if split in extra:
        _eval_crisis_other(split, rules_only, as_json)
        return
    examples = load_split(split)
    result = evaluate(examples, None if rules_only else packaged_embeddings())
    table = Table("slice", "n", "recall", "precision", "F1", "fn", "fp")
    s = result["summary"]
    table.add_row(
        split,
        str(s["n"]),
        _fmt(s["recall"]),
        _fmt(s["precision"]),
        _fmt(s["f1"]),
        str(s["fn"]),
        str(s["fp"]),
    )
    for batch, b in result["by_batch"].items():
        table.add_row(
            f"batch {batch}",
            str(b["n"]),
            _fmt(b["recall"]),
            _fmt(b["precision"]),
            _fmt(b["f1"]),
            str(b["fn"]),
            str(b["fp"]),
        )
    for kind, k in result["by_kind"].items():
        table.add_row(kind, str(k["n"]), _fmt(k["recall"]), "", "", "", "")
    for e in result["false_negatives"]:
        table.add_row("missed", e["id"], e["kind"], "", "", "", "")
    for e in result["false_positives"]:
        table.add_row("false alarm", e["id"], ",".join(e["rules"]), "", "", "", "")
    emit(
        f"crisis-{split}",
        result,
        config(None if split == "all" else split, rules_only),
        as_json,
        table,
    )


def _eval_crisis_other(split: str, rules_only: bool, as_json: bool) -> None:
    """``--split cssrs-dev`` (recall by C-SSRS level) and ``--split journals``."""
    from eval.crisis_cssrs import cssrs_scores
    from eval.crisis_eval import config, journal_report, packaged_embeddings

    emb = None if rules_only else packaged_embeddings()
    conf = config("dev", rules_only) | {"split": split}
    if split == "journals":
        result = journal_report(_cached(emb))
        conf["dataset"] = "examples/, eval/datasets/journals/dev/, journal_dev.json"
        table = Table(
            "journal", "entries", "crisis", "concern", "questions", "q crisis", "q concern"
        )
        for name, j in result["journals"].items():
            table.add_row(
                name,
                str(j["entries"]),
                str(len(j["entries_crisis"])),
                str(len(j["entries_concern"])),
                str(j["questions"]),
                str(j["questions_crisis"]),
                str(j["questions_concern"]),
            )
        emit("crisis-journals", result, conf, as_json, table)
        return
    result = cssrs_scores(emb) if not rules_only else _rules_only_cssrs()
    conf["dataset"] = "../shared/data/cssrs/dev.jsonl (CC BY 4.0, arXiv:2505.13480)"
    conf["positive"] = "level >= 2: concern or crisis; level >= 4: crisis"
    table = Table("C-SSRS level", "n", "resources shown", "crisis")
    for lv, b in result["by_level"].items():
        table.add_row(lv, str(b["n"]), _fmt(b["resources_shown"]), _fmt(b["crisis"]))
    for k, v in result["summary"].items():
        table.add_row(k, "", str(v), "")
    emit(f"crisis-{split}", result, conf, as_json, table)


def _cached(emb: Any) -> Any:
    """``emb`` through the disk cache of ``TRUSTLENS_EMBED_CACHE`` when it is set (a path
    outside the repository; vectors keyed by a hash of the text, never the text)."""
    import os

    from eval.crisis_train import CachedEmbeddings

    path = os.environ.get("TRUSTLENS_EMBED_CACHE")
    if emb is None or not path:
        return emb
    cached = CachedEmbeddings(emb, Path(path))
    return cached


def _rules_only_cssrs() -> dict[str, Any]:
    from eval.crisis_eval import cssrs_report
    from eval.datasets.cssrs import load_split as load_cssrs
    from service.safety.detector import assess

    report = cssrs_report([(p.severity, assess(p.text).level) for p in load_cssrs("dev")])
    return {"summary": {k: v for k, v in report.items() if k != "by_level"}, **report}


@eval_app.command("crisis-train")
def eval_crisis_train(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for classifier.json and training.json "
            "(default: the shipped prompts/models/crisis/<latest>).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain the crisis gate's classifier stage: both crisis heads cross-validated on
    the C-SSRS dev posts and the journals, thresholds from that curve (policy in
    eval/crisis_cssrs.py); every figure goes to eval/results/crisis-train-*.json."""
    from eval.crisis_cssrs import train

    info = train(out_dir)
    conf = {
        "recipe": "eval/crisis_cssrs.py (v3: kernel concern head; C-SSRS dev + journals, "
        "grouped folds)"
    }
    table = Table(
        "crisis head from",
        "threshold",
        "crisis thr",
        "L>=2 res",
        "L>=4 crisis",
        "L0 crisis",
        "ED any",
        "ED crisis",
        "journal max concern",
    )
    for name, f in info["tried"].items():
        c = f["cssrs_dev"]
        table.add_row(
            name,
            str(f["threshold"]),
            str(f["crisis_threshold"]),
            _fmt(c["level2_resources_recall"]),
            _fmt(c["level4_crisis_recall"]),
            _fmt(c["level0_crisis"]),
            _fmt(f["ed_dev_false_alarms"]["any"]),
            _fmt(f["ed_dev_false_alarms"]["crisis"]),
            str(f["journals"]["max_concern_entries"]),
        )
    emit("crisis-train", info, conf, as_json, table)


@eval_app.command("tagger-train")
def eval_tagger_train(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for model.json and training.json "
            "(default: the shipped prompts/models/tagger/<latest>).",
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Skip the nested cross-validated figures.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train the ingest tagger on every dev writer and the sentence set and write its
    model file (leave-one-writer-out thresholds, nested figures in training.json)."""
    from eval.tagger_train import train_tagger

    info = train_tagger(out_dir, nested=not quick)
    if as_json:
        print(json.dumps(info))
        return
    table = Table(
        "component", "pooled macro-F1", "min label F1", *info["units"]["entries_per_writer"]
    )
    for comp, figs in info["cross_validation"].items():
        table.add_row(
            comp,
            _fmt(figs["summary"]["macro_f1"]),
            _fmt(figs["summary"]["min_label_f1"]),
            *(_fmt(w["macro_f1"]) for w in figs["per_writer"].values()),
        )
    out.print(table)
    out.print(f"model: {info['model']} ({info['bytes']:,} bytes); {info['training']}")


@eval_app.command("tagging")
def eval_tagging(
    lowo: Annotated[
        bool,
        typer.Option(
            "--lowo",
            help="Nested leave-one-writer-out over the five dev writers (models trained "
            "in memory) instead of the shipped model on entry_labels.json.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Pattern, emotion and era labels per entry: the shipped model through the real
    ingest path on eval/datasets/entry_labels.json, or with ``--lowo`` on writers the
    model never saw."""
    if lowo:
        _eval_tagging_lowo(as_json)
        return
    from eval.tagging_eval import LABELS, tagging_scores
    from service.container import Container
    from service.settings import Settings

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        c = Container(settings)
        result = tagging_scores(c)
        model = c.tagger.model
        component = c.tagger.component_for()
        result["tagger"] = {"component": component, "thresholds": model.thresholds(component)}
        c.close()
    config = {
        "dataset": str(LABELS.relative_to(root)),
        "tagger_model": f"prompts/models/tagger/{model.meta.get('version')}/model.json",
        "tagger_trained": model.meta.get("trained"),
        "note": "maya's entries are in the model's training data: in-sample figures",
        "taxonomy": "prompts/taxonomy/v1/taxonomy.yaml",
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
    }
    table = Table("label", "precision", "recall", "f1", "support")
    for name, v in {**result["per_label"], **result["per_emotion"]}.items():
        table.add_row(
            name, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), str(v["support"])
        )
    for k, v in result["summary"].items():
        table.add_row(k, "", "", _fmt(v), "")
    emit("tagging", result, config, as_json, table)


def _eval_tagging_lowo(as_json: bool) -> None:
    from eval import tagger_train as tt
    from eval.tagger_train import lowo_scores

    result = lowo_scores()
    config = {
        "writers": list(tt.WRITERS),
        "data": tt.data_files(),
        "settings": tt.settings(),
        "embedding_model": tt.EMBEDDING_NAME,
        "method": "nested leave-one-writer-out (eval/tagger_train.py cross_validate)",
    }
    table = Table("label", "component", "precision", "recall", "f1", "support")
    for comp in ("embedding", "text"):
        for name, v in result[comp]["per_label"].items():
            table.add_row(
                name, comp, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]),
                str(v["support"]),
            )  # fmt: skip
        for w, v in result[comp]["per_writer"].items():
            table.add_row(f"writer {w}", comp, "", "", _fmt(v["macro_f1"]), str(v["entries"]))
        table.add_row(
            "pooled macro-F1", comp, "", "", _fmt(result[comp]["summary"]["macro_f1"]), ""
        )
    emit("tagging-lowo", result, config, as_json, table)


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="SciFact folder (default ../shared/data/scifact)."),
    ] = None,
    retriever: Annotated[
        str, typer.Option("--retriever", help="dense, bm25, hybrid or all.")
    ] = "all",
    limit_queries: Annotated[
        int | None, typer.Option("--limit-queries", min=1, help="Only the first N queries.")
    ] = None,
    chunk_max_words: Annotated[
        int, typer.Option("--chunk-max-words", min=5, max=400, help="Words per chunk.")
    ] = 400,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@10, recall@100 and MRR@10 on BEIR SciFact (test queries) via the real ingest path."""
    import time

    from eval.datasets.scifact import DEFAULT_DIR, load_scifact
    from eval.retrieval_eval import RETRIEVERS, cache_dir, hybrid_options, run_retrieval_eval
    from service.container import Container
    from service.settings import Settings

    modes = list(RETRIEVERS) if retriever == "all" else [retriever]
    if any(m not in RETRIEVERS for m in modes):
        err.print(f"--retriever must be one of {', '.join(RETRIEVERS)} or all, not {retriever!r}")
        raise typer.Exit(2)
    folder = dataset or DEFAULT_DIR
    try:
        data = load_scifact(folder)
    except FileNotFoundError as e:
        err.print(str(e))
        raise typer.Exit(2) from e
    settings = Settings(data_dir=cache_dir(chunk_max_words), chunk_max_words=chunk_max_words)
    c = Container(settings)
    t0 = time.perf_counter()
    result = run_retrieval_eval(c, data, modes, limit_queries)
    c.close()
    result["timing_s"]["total"] = round(time.perf_counter() - t0, 2)
    config = {
        "dataset": str(folder),
        "split": "test (BEIR qrels_test.tsv; fusion tuned on these same queries)",
        "cache_dir": str(settings.data_dir),
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
        "pooling": "document = its best-ranked chunk",
        "hybrid": hybrid_options(),
    }
    table = Table("retriever", "queries", "nDCG@10", "recall@100", "MRR@10", "seconds")
    for r in result["retrievers"]:
        table.add_row(
            r["retriever"],
            str(r["queries"]),
            _fmt(r["ndcg@10"]),
            _fmt(r["recall@100"]),
            _fmt(r["mrr@10"]),
            _fmt(r["seconds"]),
        )
    emit("retrieval-scifact", result, config, as_json, table)


@eval_app.command("episodes-train")
def eval_episodes_train(
    lowo: Annotated[
        bool,
        typer.Option(
            "--lowo/--no-lowo",
            help="Record leave-one-writer-out figures in training.json (a few minutes more).",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Retrain the episode detector on the dev journals and maya; writes
    prompts/models/episodes/v7/model.json and training.json."""
    from eval.episodes_eval import lowo_report
    from eval.episodes_train import train

    info = train(report=lowo_report if lowo else None)
    if as_json:
        print(json.dumps(info, default=str))
    else:
        out.print(f"model: {info['path']} ({info['bytes']:,} bytes)")
        out.print(f"thresholds: {info['thresholds']}")
        if info["lowo_pooled"]:
            out.print(f"leave-one-writer-out, pooled: {info['lowo_pooled']}")


@eval_app.command("episodes")
def eval_episodes(
    lowo: Annotated[
        bool,
        typer.Option(
            "--lowo/--shipped",
            help="Leave one writer out (retrains per fold), or the shipped model in-sample.",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Episode detection, response labels and origin on the dev journals and maya."""
    from eval.episodes_data import all_texts, load_writers
    from eval.episodes_eval import VARIANTS, config, lowo_report, shipped_report
    from eval.episodes_train import packaged_cache

    data = load_writers()
    cache = packaged_cache()
    cache.vectors(all_texts(data))
    result = lowo_report(data, cache) if lowo else shipped_report(data, cache)
    table = Table(
        "variant", "writer", "P", "R", "trigger", "response", "by", "label acc",
        "top / gold", "origin P", "origin R",
    )  # fmt: skip
    for v in VARIANTS:
        rows = {**result["per_writer"][v], "pooled": result["pooled"][v]}
        for w, f in rows.items():
            top = f"{f.get('top_label')} / {f.get('gold_top_label')}"
            if w == "pooled":
                top = f"{f['top_label_matches']} of {f['writers']} match"
            table.add_row(
                v, w, _fmt(f["precision"]), _fmt(f["recall"]), _fmt(f["trigger_hit"]),
                _fmt(f["response_hit"]), _fmt(f["by_match"]), _fmt(f["label_accuracy"]), top,
                _fmt(f["origin"]["precision"]), _fmt(f["origin"]["recall"]),
            )  # fmt: skip
    name = "episodes-lowo" if lowo else "episodes-shipped"
    emit(name, result, config(), as_json, table)


@bench_app.command("ingest")
def bench_ingest_cmd(
    entries: Annotated[
        int, typer.Option("--entries", min=1, help="Synthetic journal entries to import.")
    ] = 200,
    repeats: Annotated[
        int, typer.Option("--repeats", min=1, help="Runs of each method (fastest counts).")
    ] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Import throughput vs raw model encode and LangChain Chroma.from_documents."""
    from eval.bench_ingest import bench_ingest

    result = bench_ingest(entries=entries, repeats=repeats)
    config = result.pop("config")
    table = Table("method", "seconds", "entries/s", "chunks/s", "python peak MiB")
    for name, m in result["methods"].items():
        table.add_row(
            name,
            _fmt(m["seconds"]),
            _fmt(m["entries_per_s"]),
            _fmt(m["chunks_per_s"]),
            _fmt(m["python_peak_mib"]),
        )
    table.add_row("ratio vs raw encode", _fmt(result["ratio_vs_raw_encode"]), "", "", "")
    table.add_row(
        "ratio vs raw encode, all texts", _fmt(result["ratio_vs_raw_encode_all"]), "", "", ""
    )
    table.add_row("ratio vs LangChain", _fmt(result["ratio_vs_langchain"]), "", "", "")
    table.add_row("max RSS MiB", _fmt(result["max_rss_mib"]), "", "", "")
    emit("bench-ingest", result, config, as_json, table)


@bench_app.command("encryption")
def bench_encryption_cmd(
    entries: Annotated[
        int, typer.Option("--entries", min=1, help="Synthetic entries imported per run.")
    ] = 200,
    repeats: Annotated[
        int, typer.Option("--repeats", min=1, help="Imports of each build, interleaved.")
    ] = 6,
    chunks: Annotated[
        int, typer.Option("--chunks", min=1, help="Journal size for ask, in chunks.")
    ] = 2000,
    queries: Annotated[int, typer.Option("--queries", min=1, help="Questions timed.")] = 60,
    as_json: JsonOpt = False,
) -> None:
    """What encryption at rest costs: bench ingest and ask p50, encrypted vs plain."""
    from eval.bench_encryption import bench_encryption

    result = bench_encryption(entries=entries, repeats=repeats, chunks=chunks, queries=queries)
    config = result.pop("config")
    ing, ask = result["ingest"], result["ask"]
    table = Table("measure", "encrypted", "plain", "ratio")
    table.add_row(
        "ingest s (best)",
        _fmt(ing["best_seconds"]["encrypted"]),
        _fmt(ing["best_seconds"]["plain"]),
        _fmt(ing["ratio_best"]),
    )
    table.add_row(
        "ingest s (median)",
        _fmt(ing["median_seconds"]["encrypted"]),
        _fmt(ing["median_seconds"]["plain"]),
        _fmt(ing["ratio_median"]),
    )
    for q in ("p50", "p95"):
        table.add_row(
            f"ask {q} ms",
            _fmt(ask[f"{q}_ms"]["encrypted"]),
            _fmt(ask[f"{q}_ms"]["plain"]),
            _fmt(ask[f"ratio_{q}"]),
        )
    for name, part in (("ingest", ing), ("ask", ask)):
        table.add_row(
            f"{name}: time in seal/open",
            f"{part['crypto_seconds']:.3f} s ({100 * part['crypto_share']:.2f} %)",
            "",
            "",
        )
    table.add_row(
        "BM25 build ms",
        _fmt(ask["lexical_build_ms"]["encrypted"]),
        _fmt(ask["lexical_build_ms"]["plain"]),
        "",
    )
    differ = ask.get("differing_questions") or []
    table.add_row("same citations", "yes" if not differ else f"no: {', '.join(differ)}", "", "")
    emit("bench-encryption", result, config, as_json, table)


@bench_app.command("load")
def bench_load_cmd(
    entries: Annotated[
        int, typer.Option("--entries", min=1, max=5000, help="Entries written through the API.")
    ] = 300,
    clients: Annotated[
        int, typer.Option("--clients", min=1, max=64, help="Concurrent API clients.")
    ] = 8,
    asks: Annotated[int, typer.Option("--asks", min=0, max=2000, help="Questions asked.")] = 40,
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", min=1, max=3600, help="Limit of each phase.")
    ] = 600,
    as_json: JsonOpt = False,
) -> None:
    """API writes and asks under concurrent clients (a loopback server) vs ingest."""
    from eval.bench_load import bench_load

    result = bench_load(entries=entries, clients=clients, asks=asks, max_seconds=max_seconds)
    config = result.pop("config")
    table = Table("phase", "per s", "p50 ms", "p95 ms", "errors")
    for name in ("writes", "asks"):
        m = result[name]
        table.add_row(
            name, _fmt(m["per_s"]), _fmt(m["p50_ms"]), _fmt(m["p95_ms"]), str(m["errors_by_status"])
        )
    table.add_row("ingest (mean)", _fmt(result["ingest"]["mean_entries_per_s"]), "", "", "")
    table.add_row("ratio API/ingest", _fmt(result["ratio_api_writes_vs_ingest"]), "", "", "")
    table.add_row(
        "stored once + indexed",
        f"{result['acknowledged_stored_once_and_indexed']}/{result['acknowledged_writes']}",
        "",
        "",
        "",
    )
    emit("bench-load", result, config, as_json, table)


@bench_app.command("ask")
def bench_ask_cmd(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated journal sizes, in chunks.")
    ] = "1000,10000,100000",
    queries: Annotated[
        int, typer.Option("--queries", min=1, help="Questions timed per size.")
    ] = 30,
    as_json: JsonOpt = False,
) -> None:
    """ask latency (p50/p95) by journal size vs raw Chroma query and LangChain search."""
    from eval.bench_ask import bench_ask

    try:
        parsed = tuple(int(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        err.print(f"[red]--sizes must be integers separated by commas, got {sizes!r}[/red]")
        raise typer.Exit(2) from None
    if not parsed or min(parsed) < 1:
        err.print(f"[red]--sizes must be positive integers, got {sizes!r}[/red]")
        raise typer.Exit(2)
    result = bench_ask(sizes=parsed, queries=queries)
    config = result.pop("config")
    table = Table("chunks", "method", "p50 ms", "p95 ms", "python peak MiB", "ratio p50/p95")
    for size, r in result["sizes"].items():
        for name, m in r["methods"].items():
            ratio = ""
            if name != "trustlens":
                ratio = f"{r[f'p50_ratio_vs_{name}']:.2f} / {r[f'p95_ratio_vs_{name}']:.2f}"
            table.add_row(
                size,
                name,
                _fmt(m["p50_ms"]),
                _fmt(m["p95_ms"]),
                _fmt(m["python_peak_mib"]),
                ratio,
            )
        table.add_row(size, "cold first ask ms", _fmt(r["cold_first_ask_ms"]), "", "", "")
    table.add_row("", "max RSS MiB", _fmt(result["max_rss_mib"]), "", "", "")
    emit("bench-ask", result, config, as_json, table)


# Options of the benchmarks that write one more entry to a journal of one user.
ChunksOpt = Annotated[
    int, typer.Option("--chunks", min=1, help="Journal size, in chunks (one user).")
]
WritesOpt = Annotated[
    int, typer.Option("--repeats", min=1, help="Entries written, each timed (medians).")
]


@bench_app.command("after-write")
def bench_after_write_cmd(
    chunks: ChunksOpt = 20000,
    repeats: WritesOpt = 3,
    as_json: JsonOpt = False,
) -> None:
    """First lexical search after one new entry: incremental index vs full rebuild."""
    from eval.bench_after_write import bench_after_write

    result = bench_after_write(chunks=chunks, repeats=repeats)
    config = result.pop("config")
    table = Table("measure", "ms")
    table.add_row("incremental (median)", _fmt(result["incremental_ms"]))
    table.add_row("rebuild (median)", _fmt(result["rebuild_ms"]))
    table.add_row("ratio rebuild / incremental", _fmt(result["ratio_rebuild_vs_incremental"]))
    table.add_row("cold build, incremental", _fmt(result["cold_build_ms"]["incremental"]))
    table.add_row("cold build, rebuild", _fmt(result["cold_build_ms"]["rebuild"]))
    table.add_row("chunks", str(result["chunks"]))
    table.add_row("same results", str(result["same_results"]))
    emit("bench-after-write", result, config, as_json, table)


@bench_app.command("next-question")
def bench_next_question_cmd(
    chunks: ChunksOpt = 100_000,
    repeats: WritesOpt = 5,
    as_json: JsonOpt = False,
) -> None:
    """The next question after one new entry, against query embedding + a raw Chroma query."""
    from eval.bench_next_question import bench_next_question

    result = bench_next_question(chunks=chunks, repeats=repeats)
    config = result.pop("config")
    table = Table("measure", "ms")
    table.add_row("baseline: embed + raw Chroma query (median)", _fmt(result["baseline_ms"]))
    table.add_row("retrieval after a write (median)", _fmt(result["retrieval_ms"]))
    table.add_row("whole ask after a write (median)", _fmt(result["ask_ms"]))
    table.add_row("ratio retrieval / baseline", _fmt(result["ratio_retrieval_vs_baseline"]))
    table.add_row("ratio ask / baseline", _fmt(result["ratio_ask_vs_baseline"]))
    table.add_row("chunks", str(result["chunks"]))
    emit("bench-next-question", result, config, as_json, table)


def register(app: typer.Typer) -> None:
    """Entry point ``trustlens.cli``: adds ``trustlens eval`` and ``trustlens bench``."""
    app.add_typer(eval_app, name="eval")
    app.add_typer(bench_app, name="bench")
