from __future__ import annotations

import numpy as np
import pytest

from related_posts.recommend.embed import normalise
from related_posts.recommend.neighbours import (
    PRECISION_VARIABLE,
    PRECISIONS,
    all_pairs_top_k,
    product_precision,
    relative_error,
    top_k,
)


@pytest.fixture(autouse=True, params=PRECISIONS)
def precision(request, monkeypatch) -> str:
    """Every test runs with candidates nominated in each precision: the lists must be the
    same, those of the exact scores."""
    monkeypatch.setenv(PRECISION_VARIABLE, request.param)
    return request.param


def unit_rows(n: int, d: int, seed: int = 0) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=(n, d)))


def assert_same(got: tuple[np.ndarray, np.ndarray], expected: tuple[np.ndarray, np.ndarray]):
    assert got[0].shape == expected[0].shape and got[1].shape == expected[1].shape
    assert got[0].dtype == expected[0].dtype and got[1].dtype == expected[1].dtype
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("n, d, k, block", [
    (1, 4, 3, None),       # a single row: only itself
    (7, 8, 11, None),      # n < k: every row, the rest padded away
    (50, 16, 5, 7),        # n not a multiple of the block, many block pairs
    (130, 12, 4, 3),       # blocks smaller than the candidates fetched
    (300, 16, 11, 64),     # grouped column search (64 rows in groups of 2)
    (700, 24, 11, 320),    # grouped column search in groups of 16, ragged last block
    (1000, 32, 11, None),  # one block
])
def test_all_pairs_matches_top_k(n, d, k, block):
    matrix = unit_rows(n, d)
    assert_same(all_pairs_top_k(matrix, k, block=block), top_k(matrix, matrix, k))


def test_all_pairs_includes_each_row_first():
    matrix = unit_rows(200, 16, seed=1)
    indices, scores = all_pairs_top_k(matrix, 3, block=50)
    assert indices[:, 0].tolist() == list(range(200))
    assert np.allclose(scores[:, 0], 1.0, atol=1e-6)


def test_all_pairs_pads_when_k_exceeds_n():
    matrix = unit_rows(4, 8)
    indices, scores = all_pairs_top_k(matrix, 6)
    assert indices.shape == scores.shape == (4, 4)
    assert sorted(indices[0].tolist()) == [0, 1, 2, 3]
    empty = all_pairs_top_k(np.zeros((0, 8), np.float32), 5)
    assert empty[0].shape == empty[1].shape == (0, 0)


@pytest.mark.parametrize("block", [5, 16, 64, None])
def test_duplicates_tie_in_row_order(block):
    # 40 copies of one vector: more ties than candidates fetched from the product, so
    # which copies come first can only be decided by exact scores, then row order.
    matrix = unit_rows(240, 16, seed=2)
    copies = np.arange(3, 240, 6)
    matrix[copies] = matrix[3]
    indices, scores = all_pairs_top_k(matrix, 11, block=block)
    assert_same((indices, scores), top_k(matrix, matrix, 11))
    for row in copies:
        assert indices[row].tolist() == copies[:11].tolist()
        assert len(set(scores[row].tolist())) == 1


def test_custom_order_breaks_ties():
    matrix = unit_rows(120, 8, seed=3)
    matrix[10:30] = matrix[10]
    order = np.random.default_rng(4).permutation(120)
    indices, _ = all_pairs_top_k(matrix, 6, order=order, block=16)
    assert_same((indices, _), top_k(matrix, matrix, 6, order=order))
    tied = np.arange(10, 30)
    assert indices[10].tolist() == tied[np.argsort(order[tied])][:6].tolist()


def test_zero_row_ties_with_everything():
    matrix = unit_rows(90, 8, seed=5)
    matrix[40] = 0
    indices, scores = all_pairs_top_k(matrix, 5, block=16)
    assert_same((indices, scores), top_k(matrix, matrix, 5))
    assert indices[40].tolist() == [0, 1, 2, 3, 4]
    assert (scores[40] == 0).all()


def test_near_ties_at_the_boundary():
    # Neighbours whose scores differ by about one float32 rounding step: the product may
    # rank them either way depending on the block shape; the exact scores must not.
    rng = np.random.default_rng(6)
    centre = normalise(rng.normal(size=(1, 64)))[0]
    matrix = normalise(centre + 1e-4 * rng.normal(size=(100, 64)))
    matrix = np.concatenate([matrix, unit_rows(100, 64, seed=7)])
    expected = top_k(matrix, matrix, 11)
    for block in (7, 32, None):
        assert_same(all_pairs_top_k(matrix, 11, block=block), expected)
        assert_same(top_k(matrix, matrix, 11, block=block), expected)


def test_same_result_for_any_block():
    matrix = unit_rows(400, 16, seed=8)
    matrix[100:130] = matrix[100]
    results = [all_pairs_top_k(matrix, 11, block=block) for block in (9, 64, 160, 256, None)]
    for result in results[1:]:
        assert_same(result, results[0])


def test_top_k_exact_selection_keeps_exclusions():
    matrix = unit_rows(60, 8, seed=9)
    matrix[5:25] = matrix[5]
    indices, scores = top_k(matrix[:6], matrix, 4, exclude=[[], [0, 1], [], [], [], [5, 6, 7]])
    assert indices[5].tolist() == [8, 9, 10, 11]
    assert not {0, 1} & set(indices[1].tolist())
    assert np.isfinite(scores).all()


def test_the_precision_is_read_from_the_environment(precision, monkeypatch):
    assert product_precision() == precision
    monkeypatch.setenv(PRECISION_VARIABLE, "float16")
    with pytest.raises(ValueError, match="RELATED_POSTS_PRODUCTS='float16': use one of"):
        product_precision()


def test_the_error_bound_holds_for_the_products_computed(precision):
    # The proof that a row's list is complete rests on this bound: measure the products
    # torch computes against float64 ones, on rows with mixed magnitudes.
    import torch

    rng = np.random.default_rng(10)
    rows = rng.normal(size=(300, 700)) * rng.uniform(0.01, 3, size=(300, 1))
    rows[:, ::7] *= 50  # a few large coordinates, as lexical parts have
    exact = rows @ rows.T
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    tensor = torch.from_numpy(rows.astype(np.float32)).to(dtype)
    computed = (tensor @ tensor.T).float().numpy().astype(np.float64)
    norms = np.linalg.norm(rows, axis=1)
    ratio = np.abs(computed - exact) / np.outer(norms, norms)
    bound = relative_error(precision, rows.shape[1])
    assert ratio.max() <= bound
    if precision == "bfloat16":
        # ... and, where it is the large one, not so loose as to prove nothing.
        assert ratio.max() >= bound / 10
