"""The export document of ``GET /v1/export`` (read back by every importer)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.schemas import UtcDatetime


class ExportedEntry(BaseModel):
    id: str
    date: str
    text: str
    tags: list[str]
    source: str


class ExportedUser(BaseModel):
    name: str
    created_at: UtcDatetime


class ExportDocument(BaseModel):
    format: Literal["trustlens-export"] = "trustlens-export"
    version: int = 1
    exported_at: UtcDatetime
    user: ExportedUser
    entries: list[ExportedEntry]
    sections: dict[str, Any] = Field(
        description="Further stored data by feature (e.g. labels); absent when empty."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "format": "trustlens-export",
                    "version": 1,
                    "exported_at": "2025-01-01T12:00:00Z",
                    "user": {"name": "maya", "created_at": "2024-01-01T09:00:00Z"},
                    "entries": [
                        {
                            "id": "m002",
                            "date": "2024-01-10",
                            "text": "Jonah came home late again and I felt let down.",
                            "tags": ["jonah"],
                            "source": "api",
                        }
                    ],
                    "sections": {},
                }
            ]
        }
    }
