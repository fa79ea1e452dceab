"""Serving a model over HTTP (book chapter 16): the model folder, dynamic batching, the
FastAPI application, its metrics, the uvicorn server and a bounded load generator."""
