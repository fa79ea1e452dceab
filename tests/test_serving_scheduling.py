"""Static and continuous batching schedules (chapter 16): hand examples and the inequalities between them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.serving.scheduling import continuous_batching_schedule, static_batching_schedule


def unit_step(b):
    return 1.0  # every step costs 1 s whatever it holds


def test_hand_example_two_places():
    lengths = [4, 1, 2, 3]
    # static: {4, 1} runs 4 steps, then {2, 3} runs 3 more
    assert static_batching_schedule(lengths, 2, unit_step).tolist() == [4, 4, 7, 7]
    # continuous: the request of 1 leaves after step 1 and the one of 2 takes its place (done at 3),
    # then the one of 3 takes that place (done at 6); the first finishes at step 4
    assert continuous_batching_schedule(lengths, 2, unit_step).tolist() == [4, 1, 3, 6]


def test_one_place_is_the_same_schedule_either_way():
    lengths = [3, 1, 5]
    expected = np.cumsum(lengths).tolist()
    assert static_batching_schedule(lengths, 1, unit_step).tolist() == expected
    assert continuous_batching_schedule(lengths, 1, unit_step).tolist() == expected


def test_the_step_cost_sees_the_number_of_sequences_held():
    seen = []

    def step(b):
        seen.append(b)
        return 0.5 + 0.1 * b

    done = continuous_batching_schedule([2, 1, 1], 2, step)
    assert seen == [2, 2] and done.tolist() == [1.4, 0.7, 1.4]
    seen.clear()
    assert static_batching_schedule([2, 1, 1], 2, step).tolist() == [1.4, 1.4, 2.0]
    assert seen == [2, 1]  # a group of 2 runs 2 steps at c(2) = 0.7 s, then a group of 1 one step at c(1)


@settings(deadline=None, max_examples=60)
@given(lengths=st.lists(st.integers(1, 50), min_size=1, max_size=40), slots=st.integers(1, 12))
def test_with_a_cost_per_step_continuous_batching_never_finishes_the_whole_batch_later(lengths, slots):
    static = static_batching_schedule(lengths, slots, unit_step)
    continuous = continuous_batching_schedule(lengths, slots, unit_step)
    assert continuous.max() <= static.max()
    assert continuous.min() >= 1 and np.all(continuous >= np.asarray(lengths))  # a request needs its L steps
    # the total work, sequence-steps, is the sum of the lengths in both; continuous batching wastes none
    assert continuous.max() >= np.ceil(sum(lengths) / slots)


@pytest.mark.parametrize("lengths, slots, step, error", [
    ([], 2, unit_step, ValueError), ([3, 0], 2, unit_step, ValueError), ([2.5], 2, unit_step, ValueError),
    ("abc", 2, unit_step, ValueError), ([3], 0, unit_step, ValueError), ([3], 2, 1.0, TypeError),
])
def test_bad_schedules_are_refused(lengths, slots, step, error):
    with pytest.raises(error):
        static_batching_schedule(lengths, slots, step)
    with pytest.raises(error):
        continuous_batching_schedule(lengths, slots, step)


# --- the measured comparison (companion.bench.generation) -------------------------------------------------------


@pytest.fixture(scope="module")
def small_gpt():
    import torch

    from companion.models.config import TransformerConfig
    from companion.models.gpt import GPT

    torch.manual_seed(0)
    return GPT(TransformerConfig(vocab_size=20, max_len=40, d_model=32, num_heads=2, num_layers=1, dropout=0.0,
                                 positions="learned", causal=True)).eval()


def test_step_costs_are_measured_per_batch_size_and_fitted(small_gpt):
    from companion.bench.generation import decode_step_costs

    cost = decode_step_costs(small_gpt, batch_sizes=(1, 8), prompt_len=4, new_tokens=30, runs=3)
    assert sorted(cost["step_ms"]) == [1, 8] and all(ms > 0 for ms in cost["step_ms"].values())
    assert cost["c1_ms"] == pytest.approx((cost["step_ms"][8] - cost["step_ms"][1]) / 7)  # two points: exact
    with pytest.raises(ValueError, match="max_len 40"):
        decode_step_costs(small_gpt, prompt_len=30, new_tokens=20)


def test_the_comparison_measures_two_schedules_and_predicts_three(small_gpt):
    from companion.bench.generation import compare_schedules, workload_lengths

    lengths = workload_lengths(12, 2, 20, seed=3)
    assert len(lengths) == 12 and min(lengths) >= 2 and max(lengths) <= 20
    step_cost = {"step_ms": {1: 1.0, 4: 1.3}, "c0_ms": 0.9, "c1_ms": 0.1}
    result = compare_schedules(small_gpt, lengths, slots=4, prompt_len=4, step_cost=step_cost)
    assert set(result["measured"]) == {"one at a time", "static batching"}
    predicted = result["predicted"]
    # with a fixed cost per step, continuous batching finishes first and static beats one at a time
    assert predicted["continuous batching"]["seconds"] < predicted["static batching"]["seconds"] \
        < predicted["one at a time"]["seconds"]
    assert predicted["one at a time"]["seconds"] == pytest.approx(sum(lengths) * 1e-3)
    assert result["tokens"] == sum(lengths) and all(m["seconds"] > 0 for m in result["measured"].values())
    with pytest.raises(ValueError, match="exceeds the model's max_len 40"):
        compare_schedules(small_gpt, [40], prompt_len=4, step_cost=step_cost)
