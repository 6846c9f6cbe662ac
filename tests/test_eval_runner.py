"""End to end over a small made-up corpus: run_evaluation, the report files and the CLI."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from related_posts import HashingEmbedder, Recommender
from related_posts.eval import run_evaluation
from related_posts.eval.command import eval_command
from related_posts.eval.errors import NoJudgementsError, StoreMismatchError, UnknownMethodError

TOPICS = {
    "farming": "wheat corn harvest farmers grain soybean crop tractor field rain",
    "energy": "oil crude refinery barrels opec pipeline gasoline drilling output",
    "football": "goal striker league match coach keeper penalty season stadium",
    "software": "code release bug compiler python developers server update patch",
}
COMMON = "the said on in week new year report people market today"
RESAMPLES = 200  # enough to exercise the tests; the CLI uses 10,000


def write_corpus(path: Path, per_topic: int = 6, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = []
    for topic, words in TOPICS.items():
        vocabulary = words.split()
        for i in range(per_topic):
            body = " ".join(rng.choice(vocabulary + COMMON.split()) for _ in range(40))
            title = " ".join(rng.sample(vocabulary, 3)).capitalize()
            labels = [topic] + (["economy"] if topic in ("farming", "energy") and i % 2 else [])
            lines.append(json.dumps({"id": f"{topic}-{i}", "title": title, "text": body, "labels": labels}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus.jsonl")


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One full run (every method, report written) shared by the read-only tests below."""
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="module")
def result(shared: Path):
    corpus = write_corpus(shared / "corpus.jsonl")
    return run_evaluation(corpus, out=shared / "out", embedder=HashingEmbedder(128), n_resamples=RESAMPLES)


def test_results_json_schema(result, shared: Path):
    data = json.loads((shared / "out" / "results.json").read_text())
    assert data["dataset"] == "corpus"
    assert (data["n_articles"], data["n_queries"]) == (24, 24)
    assert data["default_method"] == "default"
    assert list(data["methods"]) == ["random", "tfidf", "bm25", "dense", "hybrid", "default"]
    for metrics in data["methods"].values():
        for key in ("p@5", "ndcg@5", "map", "mrr", "recall@10", "coverage", "p@1", "ndcg@10", "recall@1",
                    "intra_list_similarity", "near_duplicate_share", "abstention_rate", "exposure_gini",
                    "latency_ms_p50"):
            assert isinstance(metrics[key], float), key
            assert key == key.lower()
        assert metrics["spearman"] is None  # no judged pairs given
    significance = data["significance"]
    assert significance["metric"] == "ndcg@5"
    assert significance["reference"] in {"random", "tfidf", "bm25", "dense", "hybrid"}
    assert set(significance["methods"]) == set(data["methods"]) - {significance["reference"]}
    assert all(0 < t["p_value"] <= 1 for t in significance["methods"].values())


def test_lexical_methods_beat_random_on_topical_text(result):
    ndcg = {name: m.summary["ndcg@5"] for name, m in result.methods.items()}
    assert ndcg["tfidf"] > ndcg["random"] + 0.3
    assert ndcg["bm25"] > ndcg["random"] + 0.3


def test_every_list_excludes_the_article_itself(result):
    for method in result.methods.values():
        assert len(method.lists) == result.n_articles
        for row, ranking in enumerate(method.lists):
            assert row not in ranking.indices.tolist()
            assert len(ranking) == 10


def test_per_query_rows_are_kept_and_written(result, shared: Path):
    for method in result.methods.values():
        assert all(values.shape == (result.n_queries,) for values in method.per_query.values())
        assert method.summary["p@5"] == pytest.approx(method.per_query["p@5"].mean())
    with (shared / "out" / "per_query.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result.n_queries * len(result.methods)
    assert {"method", "query_id", "labels", "p@5", "ndcg@5", "map", "mrr", "latency_ms"} <= set(rows[0])


def test_report_files_are_self_contained(result, shared: Path):
    page = (shared / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # metric by k, score distributions, per label
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "Content-farm tail" in page and "New tail" in page
    markdown = (shared / "out" / "report.md").read_text()
    assert "| default * |" in markdown
    assert "best baseline" in markdown
    assert "## Examples" in markdown


def test_second_run_reuses_cached_embeddings(corpus: Path, tmp_path: Path):
    class CountingEmbedder(HashingEmbedder):
        calls = 0

        def encode(self, texts, **options):
            CountingEmbedder.calls += len(texts)
            return super().encode(texts, **options)

    embedder = CountingEmbedder(128)
    run_evaluation(corpus, out=tmp_path / "o", embedder=embedder, methods=["dense"], write=False, n_resamples=10)
    # 24 articles: the store's title and body vectors, and the baselines' joint texts.
    assert CountingEmbedder.calls == 24 * 2 + 24
    run_evaluation(corpus, out=tmp_path / "o", embedder=embedder, methods=["dense"], write=False, n_resamples=10)
    assert CountingEmbedder.calls == 24 * 3


def test_baselines_embed_joint_texts_and_the_recommender_its_store(corpus: Path, tmp_path: Path):
    from related_posts.eval.datasets import load_jsonl
    from related_posts.recommend.embed import article_vectors

    articles = [a.to_article() for a in load_jsonl(corpus).articles]
    embedder = HashingEmbedder(128)
    result = run_evaluation(corpus, out=tmp_path / "o", embedder=embedder,
                            methods=["dense", "options-off"], write=False, n_resamples=10)
    assert result.model_id == "hashing-bow-128 body+0.5*title"
    assert "body-0-5-title" in Path(result.store_path).name
    joint = embedder.encode([a.text for a in articles])
    stored = article_vectors(embedder, [a.title for a in articles], [a.body for a in articles])
    for method, vectors in (("dense", joint), ("options-off", stored)):
        ranked = result.methods[method].lists[0]
        scores = vectors @ vectors[0]
        assert ranked.scores[:3] == pytest.approx(np.sort(scores[1:])[::-1][:3], abs=1e-5), method


def test_a_store_of_an_older_recipe_is_re_embedded(corpus: Path, tmp_path: Path):
    db = tmp_path / "old.db"
    run_evaluation(corpus, out=tmp_path / "o", db=db, embedder=HashingEmbedder(128), methods=["dense"],
                   write=False, n_resamples=10)
    conn = sqlite3.connect(db)
    with conn:  # what migration 005 leaves: the store bound to the recipe, vectors of the bare id
        conn.execute("update embeddings set model_id = 'hashing-bow-128'")
    conn.close()
    result = run_evaluation(corpus, out=tmp_path / "o", db=db, embedder=HashingEmbedder(128),
                            methods=["default"], write=False, n_resamples=10)
    assert result.n_articles == 24 and result.dropped == {}


def test_default_method_matches_a_plain_refresh(result, corpus: Path, tmp_path: Path):
    from related_posts.eval.datasets import load_jsonl

    articles = [a.to_article() for a in load_jsonl(corpus).articles]
    rec = Recommender(tmp_path / "plain.db", embedder=HashingEmbedder(128))
    rec.add(articles)
    rec.refresh(k=10)
    default = result.methods["default"]
    for row, article in enumerate(articles):
        assert [result.ids[i] for i in default.lists[row].indices] == [i.id for i in rec.related(article.id, k=10)]
    rec.close()


def test_judged_pairs_give_correlations(corpus: Path, tmp_path: Path):
    pairs = tmp_path / "pairs.csv"
    rows = ["id1,id2,score"]
    for i in range(6):
        rows.append(f"farming-{i},farming-{(i + 1) % 6},5")
        rows.append(f"farming-{i},football-{i},0")
        rows.append(f"energy-{i},software-{i},1")
    pairs.write_text("\n".join(rows) + "\n")
    result = run_evaluation(corpus, pairs=pairs, out=tmp_path / "o", embedder=HashingEmbedder(128),
                            methods=["random", "tfidf", "default"], n_resamples=RESAMPLES)
    assert result.n_pairs == 18
    assert result.methods["tfidf"].summary["spearman"] > 0.5
    assert result.methods["default"].summary["pearson"] is not None
    assert "## Judged pairs (18)" in (tmp_path / "o" / "report.md").read_text()


def test_a_pairs_only_corpus_reports_correlations_and_no_ranking(tmp_path: Path):
    corpus = tmp_path / "sts.jsonl"
    texts = ["a cat sat on the mat", "a cat lay on the mat", "stock markets fell", "stock markets dropped"]
    corpus.write_text("".join(json.dumps({"id": f"s{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("id1,id2,score\ns0,s1,5\ns2,s3,4\ns0,s2,0\ns1,s3,1\n")
    result = run_evaluation(corpus, pairs=pairs, out=tmp_path / "o", embedder=HashingEmbedder(64),
                            methods=["tfidf", "dense"], n_resamples=RESAMPLES)
    assert result.n_queries == 0
    assert result.methods["tfidf"].summary["ndcg@5"] is None
    assert result.methods["tfidf"].summary["spearman"] > 0.5  # the two similar pairs score highest
    assert "only the judged pairs" in (tmp_path / "o" / "report.md").read_text()


def test_qrels_override_labels(corpus: Path, tmp_path: Path):
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("farming-0 0 farming-1 2\nfarming-0 0 energy-1 1\nfootball-2 0 football-3 1\n")
    result = run_evaluation(corpus, qrels=qrels, out=tmp_path / "o", embedder=HashingEmbedder(128),
                            methods=["tfidf", "dense"], n_resamples=RESAMPLES)
    assert result.judged_by == "qrels"
    assert [result.ids[q] for q in result.queries] == ["farming-0", "football-2"]


def test_limit_and_seed_give_a_reproducible_sample(corpus: Path, tmp_path: Path):
    runs = [
        run_evaluation(corpus, out=tmp_path / f"o{i}", embedder=HashingEmbedder(64), methods=["tfidf"],
                       limit=10, seed=3, write=False)
        for i in range(2)
    ]
    assert runs[0].ids == runs[1].ids and len(runs[0].ids) == 10
    first, second = (run.methods["tfidf"].per_query for run in runs)
    assert all((first[key] == second[key]).all() for key in first)


def test_a_store_holding_other_articles_is_refused(corpus: Path, tmp_path: Path):
    from related_posts import Article

    db = tmp_path / "site.db"
    rec = Recommender(db, embedder=HashingEmbedder(128))
    rec.add([Article("elsewhere", "Other", "An article that is not in the corpus.")])
    rec.close()
    with pytest.raises(StoreMismatchError, match="holds 1 articles that are not in corpus"):
        run_evaluation(corpus, out=tmp_path / "o", db=db, embedder=HashingEmbedder(128), methods=["dense"])


def test_corpus_without_judgements_is_an_error(tmp_path: Path):
    path = tmp_path / "bare.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n')
    with pytest.raises(NoJudgementsError, match="--qrels"):
        run_evaluation(path, out=tmp_path / "o", embedder=HashingEmbedder(16))


def test_unknown_method_fails_before_any_work(corpus: Path, tmp_path: Path):
    with pytest.raises(UnknownMethodError):
        run_evaluation(corpus, out=tmp_path / "o", methods=["tfidf", "magic"], embedder=HashingEmbedder(16))
    assert not (tmp_path / "o").exists()


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_writes_the_report_and_prints_json(corpus: Path, tmp_path: Path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        eval_command,
        ["--dataset", str(corpus), "--out", str(out), "--model", "hashing", "--methods", "random,tfidf,default",
         "--json", "--quiet"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["methods"]) == ["random", "tfidf", "default"]
    assert data == json.loads((out / "results.json").read_text())
    assert {p.name for p in out.iterdir()} >= {"report.md", "report.html", "results.json", "per_query.csv"}


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dataset", "wikipedia"], "Error: unknown dataset 'wikipedia'"),
        (["--dataset", "missing.jsonl"], "Error: corpus file not found: missing.jsonl"),
        (["--dataset", "{corpus}", "--methods", "tfidf,magic"], "unknown method 'magic'"),
        (["--dataset", "{corpus}", "--qrels", "nope.txt"], "Error: qrels file not found: nope.txt"),
        (["--dataset", "{bad}"], "bad.jsonl:2: not valid JSON"),
        (["--dataset", "{corpus}", "--pairs", "{noheader}"], "noheader.csv:1: the header must name the columns id1,id2,score"),
    ],
)
def test_cli_errors_are_one_line(corpus: Path, tmp_path: Path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{oops\n')
    noheader = tmp_path / "noheader.csv"
    noheader.write_text("a,b,1\n")
    args = [a.format(corpus=corpus, bad=bad, noheader=noheader) for a in args]
    result = CliRunner().invoke(eval_command, [*args, "--out", str(tmp_path / "o"), "--model", "hashing", "--quiet"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_every_option_has_help_text():
    for param in eval_command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{param.name} has no help text"
    assert eval_command.name == "eval"
    assert eval_command.help


def test_every_measure_of_the_registry_reaches_every_output(result, shared: Path):
    from related_posts.eval.metrics import MEASURES, heading_of, measure_keys

    keys = measure_keys(result.ks)
    assert set(keys) <= set(result.methods["default"].summary)
    document = json.loads((shared / "out" / "results.json").read_text())
    assert set(keys) <= set(document["methods"]["default"])
    with (shared / "out" / "per_query.csv").open() as handle:
        assert set(keys) <= set(next(csv.DictReader(handle)))
    markdown = (shared / "out" / "report.md").read_text()
    for measure in MEASURES:
        assert f"**{measure.heading}**" in markdown  # its definition
        assert f" {heading_of(measure.key(result.k))} |" in markdown  # its column


def test_recall_is_reported_with_its_ceiling(result, shared: Path):
    ceiling = json.loads((shared / "out" / "results.json").read_text())["recall_ceiling"]
    assert set(ceiling) == {f"recall@{c}" for c in result.ks}
    assert 0 < ceiling["recall@1"] < ceiling["recall@5"] <= ceiling["recall@10"] <= 1
    for method in result.methods.values():  # no method can pass it
        assert method.summary["recall@5"] <= ceiling["recall@5"] + 1e-9
    assert "Recall ceiling" in (shared / "out" / "report.md").read_text()


def test_p95_latency_is_not_shown_for_a_small_sample(result):
    from related_posts.eval.report import MIN_P95_SAMPLES, QUALITY_COLUMNS, quality_table

    assert result.n_articles < MIN_P95_SAMPLES
    header, rows = quality_table(result)
    p95 = [title for key, title in QUALITY_COLUMNS].index("latency p95 ms") + 1
    p50 = p95 - 1
    assert header[p95] == "latency p95 ms"
    assert all(row[p95] == "–" and row[p50] != "–" for row in rows)


def test_field_labels_gives_the_store_the_sites_tags_and_never_the_relevance_labels(tmp_path: Path):
    corpus = tmp_path / "tagged.jsonl"
    records = [json.loads(line) for line in write_corpus(tmp_path / "c.jsonl").read_text().splitlines()]
    for record in records:
        record["section"] = "news" if record["labels"][0] in ("farming", "energy") else "features"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    db = tmp_path / "tagged.db"
    run_evaluation(corpus, out=tmp_path / "out", db=db, methods=["default"], write=False,
                   embedder=HashingEmbedder(64), n_resamples=RESAMPLES, tags_field="section")
    stored = {a.id: a.labels for a in Recommender(db, embedder=HashingEmbedder(64)).store.articles()}
    assert tuple(stored["farming-0"]) == ("news",) and tuple(stored["software-3"]) == ("features",)

    runner = CliRunner()
    bad = runner.invoke(eval_command, ["--dataset", str(corpus), "--out", str(tmp_path / "o"),
                                       "--field", "title=section"])
    assert bad.exit_code == 2 and "expected labels=KEY" in bad.output
    leak = runner.invoke(eval_command, ["--dataset", str(corpus), "--out", str(tmp_path / "o"),
                                        "--model", "hashing", "--field", "labels=labels"])
    assert leak.exit_code == 1 and "relevance" in leak.output and str(corpus) in leak.output
    builtin = runner.invoke(eval_command, ["--dataset", "bbc", "--out", str(tmp_path / "o"),
                                           "--field", "labels=coarse"])
    assert builtin.exit_code == 1 and "built-in corpora have no tags" in builtin.output
