"""Request and response models of ``POST /v1/search``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from service.schemas import until_not_before_since


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000, examples=["felt let down by Jonah"])
    k: int = Field(default=10, ge=1, le=100, description="How many chunks to return.")
    since: dt.date | None = Field(default=None, description="Only entries on/after this day.")
    until: dt.date | None = Field(default=None, description="Only entries on/before this day.")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="hybrid (default), dense vectors only, or BM25 only."
    )

    _range = field_validator("until")(until_not_before_since)

    model_config = {
        "json_schema_extra": {
            "examples": [{"query": "felt let down by Jonah", "k": 5, "since": "2024-01-01"}]
        }
    }


class SearchHit(BaseModel):
    entry_id: str
    date: str
    text: str = Field(description="The chunk: entry text[start:end].")
    start: int
    end: int
    score: float = Field(description="Fused rank score (higher is better).")
    similarity: float = Field(description="Cosine similarity of the chunk to the query.")


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "query": "felt let down by Jonah",
                    "hits": [
                        {
                            "entry_id": "m002",
                            "date": "2024-01-10",
                            "text": "Jonah came home late again and I felt let down.",
                            "start": 0,
                            "end": 47,
                            "score": 0.0328,
                            "similarity": 0.71,
                        }
                    ],
                }
            ]
        }
    }
