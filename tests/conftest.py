from __future__ import annotations

from pathlib import Path

import pytest

from related_posts import Article, HashingEmbedder, Recommender

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONTENT_FARM_EXAMPLE = SHARED / "examples" / "content-farm-article.txt"


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(256)


@pytest.fixture
def site_articles() -> list[Article]:
    """Three small topics plus an exact duplicate, enough to check every ranking rule."""
    return [
        Article("war-1", "Drones strike near Kursk", "Ukrainian drones hit Russian positions near Kursk as the front line shifts.", url="https://news.example/war-1"),
        Article("war-2", "Kursk front line moves again", "Russian troops push Ukrainian forces back near Kursk; drones and artillery on both sides."),
        Article("war-3", "Ceasefire talks on the Ukraine war", "Envoys discuss a truce on the front line; Kursk and drones on the agenda."),
        Article("bread-1", "Sourdough for beginners", "Feed the starter with flour and water, then bake the sourdough bread in a hot oven."),
        Article("bread-2", "Rye bread with a long rise", "Rye flour, water and a ripe starter make a dense sourdough loaf; bake it slowly in the oven."),
        Article("bread-2-copy", "Rye bread with a long rise", "Rye flour, water and a ripe starter make a dense sourdough loaf; bake it slowly in the oven."),
        Article("hoops-1", "Guard scores 40 in overtime win", "The point guard hit five threes as the basketball team won in overtime."),
        Article("hoops-2", "Coach fired after losing season", "The basketball team fired its coach after the guard and the forwards struggled all season."),
    ]


@pytest.fixture
def rec(tmp_path: Path, embedder: HashingEmbedder, site_articles: list[Article]) -> Recommender:
    """A refreshed store on disk, built with the fake embedder."""
    recommender = Recommender(tmp_path / "site.db", embedder=embedder)
    recommender.add(site_articles)
    recommender.refresh(k=3)
    yield recommender
    recommender.close()


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2 model, loaded once per test session."""
    from related_posts.recommend.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


TOPICS = {
    "war": "drones front kursk artillery troops ceasefire brigade shelling offensive border",
    "bread": "flour water starter oven loaf rye crust dough yeast bake",
    "hoops": "guard forward basketball coach overtime rebound playoff dunk season court",
    "space": "rocket launch orbit lander moon mars satellite booster crew capsule",
    "health": "vaccine measles hospital nurses outbreak clinic doses patients virus ward",
}


def make_corpus(n: int, seed: int = 0, prefix: str = "a") -> list[Article]:
    """``n`` synthetic articles, each mostly about one topic, reproducible from ``seed``."""
    import random

    rng = random.Random(seed)
    names = sorted(TOPICS)
    articles = []
    for number in range(n):
        topic = names[rng.randrange(len(names))]
        words = TOPICS[topic].split()
        noise = " ".join(rng.choice(TOPICS[rng.choice(names)].split()) for _ in range(4))
        body = " ".join(rng.choice(words) for _ in range(25)) + " " + noise
        articles.append(Article(f"{prefix}{number:05d}", f"{topic} story {number}", body))
    return articles
