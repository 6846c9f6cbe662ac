"""Fuzzing the served API in process: whatever a client sends, the answer is never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from related_posts import Article, Recommender
from related_posts.server.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "site.db"
    with Recommender(db, model="hashing") as rec:
        rec.add([Article(f"a/{i}", f"Title {i}", f"Body about topic {i % 3} and more words {i}.",
                         url=f"https://x.example/a/{i}/") for i in range(8)])
        rec.refresh(k=3)
    with TestClient(create_app(str(db)), raise_server_exceptions=False) as http:
        yield http


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@FUZZ
@given(path=text, k=text)
def test_any_id_and_k(client, path, k):
    answer = client.get("/related/" + quote(path, safe=""), params={"k": k})
    assert answer.status_code in (200, 404, 422)
    assert ("error" in answer.json()) == (answer.status_code != 200)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["q", "page", "per_page", "url", "k", "x"]), text, max_size=4),
       endpoint=st.sampled_from(["/articles", "/related", "/", "/health", "/article/a/1"]))
def test_any_query_string(client, params, endpoint):
    assert client.get(endpoint, params=params).status_code < 500


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                           max_leaves=20)


@FUZZ
@given(body=st.one_of(st.binary(max_size=500), json_values.map(lambda v: json.dumps(v).encode()),
                      st.fixed_dictionaries({"title": json_values, "body": json_values}).map(
                          lambda v: json.dumps(v).encode())))
def test_any_post_body(client, body):
    answer = client.post("/related", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code in (200, 413, 422), answer.text


def test_a_body_that_claims_to_be_huge_is_refused_before_it_is_read(client):
    answer = client.post("/related", content=b"{}", headers={"Content-Length": "999999999999"})
    assert answer.status_code in (400, 413)


@pytest.mark.parametrize("k", ["\u00b9", "\u0663", "\uff15", "9" * 30])
def test_digits_that_are_not_ascii_are_a_422(client, k):
    assert client.get("/related/a/1", params={"k": k}).status_code == 422
