"""Benchmarks (book chapter 13): single benchmarks return rows; the harness prints and saves them."""
