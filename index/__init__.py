"""Embeddings, FAISS dense index, BM25 sparse index, hybrid search and the on-disk manifest."""
