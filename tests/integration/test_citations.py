"""The support check with the real embedding model: a paraphrase passes, an invented claim not."""

from agent.citations import verify
from tests.unit.test_citations import PASSAGES, URLS


def test_unsupported_sentence_is_flagged_but_supported_paraphrase_passes(real_index):
    supported = (
        "Every prompt should pass a checking layer before the model receives it [GENSEC04-BP02]."
    )
    unsupported = "Rotate your TLS certificates every ninety days [GENSEC04-BP02]."
    result = verify(f"{supported} {unsupported}", PASSAGES, URLS, real_index.embedder.encode)
    assert result.unsupported == [unsupported.replace(" [GENSEC04-BP02]", "")]
    assert len(result.warnings) == 1 and "TLS" in result.warnings[0]
