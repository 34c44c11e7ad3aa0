"""One module per source format. Each exposes ``sniff(path) -> bool`` and ``load(path) -> Corpus``.

``sniff`` must be cheap and must not raise: it says whether the module recognises the path
(a file or a folder). ``load`` raises :class:`corpus.errors.InputError` for unusable input.
"""
