"""``python -m companion serve``: build the sentiment model once, then serve it (book chapter 16)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def default_model_dir() -> Path:
    """Where the served model is built: ``<cache>/serving/sentiment-en`` (the data cache of DESIGN.md)."""
    from companion.data.sources import cache_dir

    return cache_dir() / "serving" / "sentiment-en"


def default_chinese_dir() -> Path:
    """Where the Chinese sentiment model is trained: ``<cache>/serving/sentiment-zh``."""
    from companion.data.sources import cache_dir

    return cache_dir() / "serving" / "sentiment-zh"


def default_generator_dir() -> Path:
    """Where the served GPT is trained: ``<cache>/serving/gpt-en``."""
    from companion.data.sources import cache_dir

    return cache_dir() / "serving" / "gpt-en"


def main(argv: list[str] | None = None) -> int:
    from companion.serving.app import ServingConfig
    from companion.serving.validation import Limits

    parser = argparse.ArgumentParser(prog="python -m companion serve", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="folder of the built model (default: <cache>/serving/sentiment-en); "
                             "built there first if it holds none")
    parser.add_argument("--build", action="store_true", help="rebuild the model even if the folder holds one")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch-size", type=int, default=32, help="texts per model call; 1 turns batching off")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="longest wait for a batch to fill")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--max-queued-texts", type=int, default=ServingConfig.max_queued_texts,
                        help="texts that may wait for the model; beyond, requests get 503 at once")
    parser.add_argument("--generator", action="store_true",
                        help="also serve chapter 12's GPT at POST /v1/generate (trained first if missing, ~70 s)")
    parser.add_argument("--generator-dir", type=Path, default=None,
                        help="folder of the built GPT (default: <cache>/serving/gpt-en)")
    parser.add_argument("--chinese", action="store_true",
                        help='also serve chapter 10\'s Chinese encoder ("language": "zh"; trained first if missing)')
    parser.add_argument("--chinese-dir", type=Path, default=None,
                        help="folder of the built Chinese model (default: <cache>/serving/sentiment-zh)")
    parser.add_argument("--max-texts", type=int, default=Limits.max_texts, help="texts per request")
    parser.add_argument("--max-text-chars", type=int, default=Limits.max_text_chars, help="characters per text")
    args = parser.parse_args(argv)
    try:
        config = ServingConfig(max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
                               max_queued_texts=args.max_queued_texts,
                               limits=Limits(max_text_chars=args.max_text_chars, max_texts=args.max_texts))
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    # every refusal comes before the first model is built (a build takes up to a minute)
    if args.generator_dir is not None and not args.generator:
        parser.error("--generator-dir needs --generator")
    if args.chinese_dir is not None and not args.chinese:
        parser.error("--chinese-dir needs --chinese")
    model_dir = args.model_dir or default_model_dir()
    if args.build or not (model_dir / "manifest.json").is_file():
        from companion.serving.sentiment_model import build_sentiment_model

        print(f"building the sentiment model in {model_dir} (about 40 s, once)", file=sys.stderr, flush=True)
        build_sentiment_model(model_dir)
    generator_dir = None
    if args.generator:
        generator_dir = args.generator_dir or default_generator_dir()
        if not (generator_dir / "manifest.json").is_file():
            from companion.serving.text_generator import build_text_generator

            print(f"training chapter 12's GPT into {generator_dir} (about 70 s, once)", file=sys.stderr, flush=True)
            build_text_generator(generator_dir)
    chinese_dir = None
    if args.chinese:
        chinese_dir = args.chinese_dir or default_chinese_dir()
        if not (chinese_dir / "manifest.json").is_file():
            from companion.serving.encoder_sentiment import build_chinese_sentiment_model

            print(f"training the Chinese sentiment model into {chinese_dir} (about 10 s, once)", file=sys.stderr,
                  flush=True)
            build_chinese_sentiment_model(chinese_dir)
    from companion.serving.server import serve

    print(f"serving {model_dir} at http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr, flush=True)
    serve(model_dir, host=args.host, port=args.port, config=config, threads=args.threads,
          generator_dir=generator_dir, chinese_dir=chinese_dir)
    return 0
