"""Chapter 12's GPT behind chapter 16's server: the saved folder, and streaming over HTTP.

A tiny untrained GPT over seven characters stands in for the trained one (its tokens are as
good as any for checking that the stream sends exactly what offline generation computes); one
test trains the real recipe for a few steps.
"""

import concurrent.futures
import json
import math
import subprocess
import sys

import httpx
import pytest
import torch

from companion.models.config import TransformerConfig
from companion.models.gpt import GPT
from companion.serving.metrics import parse_exposition
from companion.serving.text_generator import TextGenerator, build_text_generator, save_text_generator
from companion.text import Vocabulary

from serving_fake import fake_server

CHARACTERS = list("abcde \n")


@pytest.fixture(scope="module")
def generator_dir(tmp_path_factory):
    torch.manual_seed(0)
    vocab = Vocabulary(CHARACTERS)
    config = TransformerConfig(vocab_size=len(vocab), max_len=32, d_model=32, num_heads=2, num_layers=1,
                               dropout=0.0, norm_first=True, positions="learned", causal=True, tie_embeddings=True)
    return save_text_generator(GPT(config), vocab, tmp_path_factory.mktemp("gpt") / "tiny", {"trained": False})


def test_a_saved_generator_loads_and_continues_as_the_model_does(generator_dir):
    from companion.generation.generate import generate

    loaded = TextGenerator(generator_dir)
    assert sorted(path.name for path in generator_dir.iterdir()) == ["config.json", "manifest.json",
                                                                     "model.safetensors", "vocab.json"]
    assert loaded.max_len == 32 and loaded.manifest["trained"] is False and loaded.vocab.itos[2:] == CHARACTERS
    expected = generate(loaded.model, loaded.encode("abc"), 12)[0, 3:].tolist()
    assert loaded.complete("abc", 12) == "".join(loaded.vocab.itos[i] if i > 1 else "\ufffd" for i in expected)
    sampled = loaded.complete("abc", 12, temperature=1.0, seed=5)  # this untrained model samples <pad> too
    assert sampled == loaded.complete("abc", 12, temperature=1.0, seed=5) and len(sampled) == 12
    assert "<pad>" not in sampled and "\ufffd" in sampled


def test_the_tied_embedding_is_stored_once_and_restored_tied(generator_dir):
    from safetensors import safe_open

    with safe_open(generator_dir / "model.safetensors", "pt") as weights:
        embeddings = [name for name in weights.keys() if weights.get_slice(name).get_shape() == [9, 32]]
    assert len(embeddings) == 1, embeddings
    model = TextGenerator(generator_dir).model
    assert model.lm_head.weight is model.embedding.token.weight


def test_bad_folders_and_prompts_are_refused(generator_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lacks \['model.safetensors', 'config.json'"):
        TextGenerator(tmp_path)
    loaded = TextGenerator(generator_dir)
    with pytest.raises(ValueError, match="non-empty string"):
        loaded.stream("", 3)
    with pytest.raises(ValueError, match="exceeds the model's max_len 32"):
        loaded.stream("abc", 30)
    with pytest.raises(TypeError, match="GPT"):
        save_text_generator(torch.nn.Linear(2, 2), Vocabulary(CHARACTERS), tmp_path / "x", {})


def test_the_real_recipe_trains_saves_and_reports_its_held_out_loss(tmp_path):
    built = build_text_generator(tmp_path / "gpt", steps=3)
    manifest = json.loads((built / "manifest.json").read_text())
    loaded = TextGenerator(built)
    assert manifest["trained"] is True and manifest["steps"] == 3 and manifest["format_version"] == 1
    # three steps from a random start: above zero, not yet below the uniform distribution's log V by much
    assert 0 < manifest["test_nats_per_char"] < math.log(len(loaded.vocab)) + 1
    assert loaded.max_len == 128 and len(loaded.complete("The film ", 20)) == 20


# --- over HTTP -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(generator_dir):
    with fake_server(FAKE_GENERATOR_DIR=str(generator_dir)) as running:
        yield running


def read_events(response) -> list[tuple[str, dict]]:
    """(event name, data) of each server-sent event of a finished response."""
    events = []
    for block in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


def test_the_stream_sends_each_character_then_done_and_equals_offline_generation(server, generator_dir):
    streamed = httpx.post(server.url + "/v1/generate", json={"prompt": "abc", "max_new_tokens": 10}, timeout=30)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    events = read_events(streamed)
    assert [name for name, _ in events] == ["message"] * 10 + ["done"] and events[-1][1] == {"tokens": 10}
    text = "".join(data["text"] for _, data in events[:-1])
    assert text == TextGenerator(generator_dir).complete("abc", 10)
    whole = httpx.post(server.url + "/v1/generate", json={"prompt": "abc", "max_new_tokens": 10, "stream": False})
    assert whole.json() == {"text": text, "tokens": 10}


def test_concurrent_streams_each_get_their_own_continuation(server, generator_dir):
    prompts = ["a", "bb", "cde", "e e"]
    offline = TextGenerator(generator_dir)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda p: httpx.post(server.url + "/v1/generate", timeout=30, json={
            "prompt": p, "max_new_tokens": 20, "temperature": 1.0, "seed": 3, "stream": False}), prompts))
    assert [answer.json()["text"] for answer in answers] == [
        offline.complete(p, 20, temperature=1.0, seed=3) for p in prompts]


def test_a_bad_generate_request_is_refused_and_counted(server):
    before = parse_exposition(httpx.get(server.url + "/metrics").text)
    answer = httpx.post(server.url + "/v1/generate", json={"prompt": "abc", "max_new_tokens": 40})
    assert answer.status_code == 422 and "integer from 1 to 29; got int 40" in answer.json()["detail"]
    httpx.post(server.url + "/v1/generate", json={"prompt": "ab", "max_new_tokens": 4, "stream": False})
    after = parse_exposition(httpx.get(server.url + "/metrics").text)
    assert after["generated_tokens_total"] - before.get("generated_tokens_total", 0) == 4
    assert after["time_to_first_token_seconds_count"] - before.get("time_to_first_token_seconds_count", 0) == 1
    refused = 'http_requests_total{path="/v1/generate",status="422"}'
    assert after[refused] - before.get(refused, 0) == 1


def test_a_server_without_a_generator_says_how_to_get_one():
    with fake_server() as plain:
        answer = httpx.post(plain.url + "/v1/generate", json={"prompt": "abc"})
    assert answer.status_code == 404 and "--generator" in answer.json()["detail"]


def test_the_command_line_refuses_a_generator_folder_without_the_generator_flag(generator_dir, tmp_path):
    unbuilt = tmp_path / "no-model-yet"  # the refusal must come before any model is built
    command = [sys.executable, "-m", "companion", "serve", "--generator-dir", str(generator_dir), "--port", "8",
               "--model-dir", str(unbuilt)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--generator-dir needs --generator" in done.stderr
    assert not unbuilt.exists() and "building" not in done.stderr
