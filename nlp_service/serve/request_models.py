"""The request bodies of the article endpoints (their JSON Schemas are the ones ``/openapi.json`` shows)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from nlp_service.analyzer import TASKS, AnalyzeOptions
from nlp_service.batch import NO_TEXT, escape_id, row_text
from nlp_service.summarize import DEFAULT_MAX_WORDS

Task = Literal["classify", "summarize", "entities"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Article(BaseModel):
    """One article: ``text``, or ``title`` and/or ``body`` (joined with a newline)."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt | None = Field(None, description="echoed in the record")
    text: StrictStr | None = None
    title: StrictStr | None = None
    body: StrictStr | None = None

    @model_validator(mode="after")
    def _has_text(self) -> Article:
        if self.text is None and self.title is None and self.body is None:
            raise ValueError(NO_TEXT)
        return self

    def full_text(self) -> str:
        return row_text({"text": self.text, "title": self.title, "body": self.body})

    def record_id(self) -> str | None:
        return None if self.id is None else escape_id(str(self.id))


class ArticleInput(BaseModel):
    """Either one article's fields at the top level, or ``articles``: a list of articles."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt | None = None
    text: StrictStr | None = None
    title: StrictStr | None = None
    body: StrictStr | None = None
    articles: list[Article] | None = Field(None, min_length=1, description="several articles in one request")

    @model_validator(mode="after")
    def _one_or_many(self) -> ArticleInput:
        single = any(v is not None for v in (self.id, self.text, self.title, self.body))
        if self.articles is not None and single:
            raise ValueError("give one article (text or title+body) or a list in 'articles', not both")
        if self.articles is None and self.text is None and self.title is None and self.body is None:
            raise ValueError(NO_TEXT)
        return self

    def items(self) -> list[Article]:
        if self.articles is not None:
            return self.articles
        return [Article(id=self.id, text=self.text, title=self.title, body=self.body)]


class ClassifyRequest(ArticleInput):
    top_k: int | None = Field(None, ge=1, description="at most this many labels per list")
    thresholds: dict[str, Probability] | None = Field(
        None, description="label name (or themes, regions, countries) → the probability it is reported from; "
                          "overrides the tuned thresholds; a name the checkpoint does not report is a 422",
        examples=[{"themes": 0.4, "politics": 0.7}],
    )
    explain: bool = Field(False, description="each reported theme carries its evidence: sentence and terms")


class SummarizeRequest(ArticleInput):
    max_words: int = Field(DEFAULT_MAX_WORDS, ge=5, le=400, description="summary length cap in words")
    method: Literal["extractive", "abstractive"] | None = Field(
        None, description="summariser method; default: the checkpoint's measured best"
    )


class VerifyArticle(Article):
    summary: StrictStr = Field(description="the summary to check against the article")


class VerifyRequest(ArticleInput):
    summary: StrictStr | None = Field(None, description="the summary to check (one article at the top level)")
    articles: list[VerifyArticle] | None = Field(None, min_length=1, description="several (article, summary)")

    @model_validator(mode="after")
    def _has_summary(self) -> VerifyRequest:
        if self.articles is None and self.summary is None:
            raise ValueError("give the 'summary' to check")
        if self.articles is not None and self.summary is not None:
            raise ValueError("with 'articles', each article carries its own 'summary'")
        return self

    def pairs(self) -> list[tuple[str | None, str, str]]:
        """(id, article text, summary) per item."""
        if self.articles is not None:
            return [(a.record_id(), a.full_text(), a.summary) for a in self.articles]
        item = self.items()[0]
        return [(item.record_id(), item.full_text(), self.summary or "")]


class AnalyzeRequest(ClassifyRequest, SummarizeRequest):
    tasks: list[Task] = Field(list(TASKS), min_length=1, description="which analyses to run")

    @model_validator(mode="after")
    def _options_fit_the_tasks(self) -> AnalyzeRequest:
        # The Python API's own check (a classifier option without the classify task is refused, not ignored),
        # so that it answers 422 here rather than failing later.
        self.options()
        return self

    def options(self) -> AnalyzeOptions:
        """The request's options as the analyzer takes them."""
        return AnalyzeOptions(tuple(self.tasks), self.thresholds, self.top_k, self.max_words, self.method,
                              self.explain)
