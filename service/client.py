"""A small typed client for the trustlens API, so another frontend needs a few lines.

    from service.client import TrustlensClient

    tl = TrustlensClient("http://localhost:8000", api_key="tl_...")
    tl.create_entry(date="2024-03-15", text="Jonah forgot again.", tags=["jonah"])
    print(tl.ask("what do I usually do when I feel let down?").answer)

Responses are parsed into the same pydantic models the server documents; an error
response raises ``ApiError`` carrying the problem document (status, title, detail).
Any ``httpx.Client`` can be passed in (e.g. FastAPI's ``TestClient`` in tests).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from service.ask.schemas import AskResponse
from service.entries.schemas import (
    EntryPage,
    EntryPublic,
    ImportReportModel,
    IndexStatusList,
    IndexStatusModel,
)
from service.export.schemas import ExportDocument
from service.me.schemas import Me, NewKey
from service.search.schemas import SearchResponse
from service.users.schemas import KeyIssued, UserCreated

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An error response: ``status`` and the RFC 9457 ``problem`` document."""

    def __init__(self, status: int, problem: dict[str, Any]):
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem
        self.detail = str(problem.get("detail", ""))


class TrustlensClient:
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        admin_key: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 120.0,
    ):
        self.api_key = api_key
        self.admin_key = admin_key
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TrustlensClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _headers(self, admin: bool = False) -> dict[str, str]:
        key = self.admin_key if admin else self.api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _send(self, method: str, path: str, *, admin: bool = False, **kw: Any) -> httpx.Response:
        r = self.http.request(method, path, headers=self._headers(admin), **kw)
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"status": r.status_code, "detail": r.text}
            raise ApiError(r.status_code, problem)
        return r

    def _model(self, model: type[M], method: str, path: str, **kw: Any) -> M:
        return model.model_validate(self._send(method, path, **kw).json())

    @staticmethod
    def _dates(**kw: dt.date | str | None) -> dict[str, str]:
        return {k: str(v) for k, v in kw.items() if v is not None}

    # ---------------------------------------------------------------- admin, me

    def create_user(self, name: str) -> UserCreated:
        return self._model(UserCreated, "POST", "/v1/users", json={"name": name}, admin=True)

    def issue_key(self, name: str, revoke_existing: bool = False) -> KeyIssued:
        body = {"revoke_existing": revoke_existing}
        return self._model(KeyIssued, "POST", f"/v1/users/{name}/keys", json=body, admin=True)

    def me(self) -> Me:
        return self._model(Me, "GET", "/v1/me")

    def rotate_key(self, revoke_others: bool = True, use_new_key: bool = True) -> NewKey:
        new = self._model(
            NewKey, "POST", "/v1/me/keys/rotate", json={"revoke_others": revoke_others}
        )
        if use_new_key:
            self.api_key = new.api_key
        return new

    def delete_me(self) -> None:
        self._send("DELETE", "/v1/me")

    def export(self) -> ExportDocument:
        return self._model(ExportDocument, "GET", "/v1/export")

    def healthy(self) -> bool:
        return self.http.get("/healthz").status_code == 200

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    # ------------------------------------------------------------------- entries

    def create_entry(
        self,
        *,
        date: dt.date | str,
        text: str,
        id: str | None = None,
        tags: list[str] | None = None,
    ) -> EntryPublic:
        body = {"id": id, "date": str(date), "text": text, "tags": tags}
        return self._model(EntryPublic, "POST", "/v1/entries", json=body)

    def get_entry(self, entry_id: str) -> EntryPublic:
        return self._model(EntryPublic, "GET", f"/v1/entries/{entry_id}")

    def replace_entry(
        self, entry_id: str, *, date: dt.date | str, text: str, tags: list[str] | None = None
    ) -> EntryPublic:
        body = {"date": str(date), "text": text, "tags": tags}
        return self._model(EntryPublic, "PUT", f"/v1/entries/{entry_id}", json=body)

    def update_entry(self, entry_id: str, **fields: Any) -> EntryPublic:
        """Change only the given fields (``date``, ``text``, ``tags``)."""
        body = {k: str(v) if k == "date" else v for k, v in fields.items()}
        return self._model(EntryPublic, "PATCH", f"/v1/entries/{entry_id}", json=body)

    def delete_entry(self, entry_id: str) -> None:
        self._send("DELETE", f"/v1/entries/{entry_id}")

    def list_entries(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        tag: str | None = None,
        pattern: str | None = None,
    ) -> EntryPage:
        params: dict[str, Any] = {"limit": limit, **self._dates(since=since, until=until)}
        if cursor:
            params["cursor"] = cursor
        if tag:
            params["tag"] = tag
        if pattern:
            params["pattern"] = pattern
        return self._model(EntryPage, "GET", "/v1/entries", params=params)

    def iter_entries(self, **filters: Any) -> Iterator[EntryPublic]:
        """Every matching entry, following the cursor page by page."""
        cursor = None
        while True:
            page = self.list_entries(cursor=cursor, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def import_entries(self, entries: list[dict[str, Any]]) -> ImportReportModel:
        return self._model(
            ImportReportModel, "POST", "/v1/entries/import", json={"entries": entries}
        )

    def import_file(self, path: str | Path) -> ImportReportModel:
        p = Path(path)
        with p.open("rb") as f:
            return self._model(
                ImportReportModel, "POST", "/v1/entries/import/file", files={"file": (p.name, f)}
            )

    def import_export(self, document: ExportDocument | dict[str, Any]) -> ImportReportModel:
        """Import a document from ``export()`` (e.g. into a fresh account)."""
        doc = document.model_dump(mode="json") if isinstance(document, BaseModel) else document
        return self.import_entries(doc["entries"])

    def entry_status(self, entry_id: str) -> IndexStatusModel:
        return self._model(IndexStatusModel, "GET", f"/v1/entries/{entry_id}/status")

    def index_status(
        self, since: dt.date | str | None = None, until: dt.date | str | None = None
    ) -> IndexStatusList:
        params = self._dates(since=since, until=until)
        return self._model(IndexStatusList, "GET", "/v1/index/status", params=params)

    # -------------------------------------------------------------- search, ask

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        mode: str = "hybrid",
    ) -> SearchResponse:
        body = {"query": query, "k": k, "mode": mode, **self._dates(since=since, until=until)}
        return self._model(SearchResponse, "POST", "/v1/search", json=body)

    def ask(
        self,
        question: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
    ) -> AskResponse:
        body = {"question": question, **self._dates(since=since, until=until)}
        return self._model(AskResponse, "POST", "/v1/ask", json=body)

    def ask_stream(
        self,
        question: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Yield ``(event, data)`` pairs: ``step`` events, then ``answer`` (an AskResponse).

        An ``error`` event raises ``ApiError``.
        """
        body = {"question": question, **self._dates(since=since, until=until)}
        with self.http.stream("POST", "/v1/ask/stream", json=body, headers=self._headers()) as r:
            if r.status_code >= 400:
                r.read()
                raise ApiError(r.status_code, r.json())
            event = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event:
                    data = json.loads(line[len("data: ") :])
                    if event == "error":
                        raise ApiError(int(data.get("status", 500)), data)
                    yield event, AskResponse.model_validate(data) if event == "answer" else data
                    event = None

    # --------------------------------------------------- patterns and labels (issue 4)

    def patterns(self) -> dict[str, Any]:
        """``GET /v1/patterns``: your trust patterns, counted per entry, with quotes."""
        return dict(self._send("GET", "/v1/patterns").json())

    def entry_labels(self, entry_id: str) -> dict[str, Any]:
        return dict(self._send("GET", f"/v1/entries/{entry_id}/labels").json())

    def set_label(self, entry_id: str, label: str, verdict: str) -> dict[str, Any]:
        """Confirm (``"confirm"``) or reject (``"reject"``) a label on one of your entries."""
        path = f"/v1/entries/{entry_id}/labels/{label}"
        return dict(self._send("PUT", path, json={"verdict": verdict}).json())

    def clear_label(self, entry_id: str, label: str) -> dict[str, Any]:
        return dict(self._send("DELETE", f"/v1/entries/{entry_id}/labels/{label}").json())

    # ------------------------------- reflect, practices, experiments, progress (insight)

    def reflect(self, situation: str) -> dict[str, Any]:
        return dict(self._send("POST", "/v1/reflect", json={"situation": situation}).json())

    def practices(self) -> dict[str, Any]:
        return dict(self._send("GET", "/v1/practices").json())

    def practice(self, name: str) -> dict[str, Any]:
        return dict(self._send("GET", f"/v1/practices/{name}").json())

    def episodes(self) -> dict[str, Any]:
        return dict(self._send("GET", "/v1/episodes").json())

    def plan_experiment(self, **fields: Any) -> dict[str, Any]:
        """``who``, ``risk``, ``success`` and optionally ``planned_for``."""
        body = {k: str(v) if isinstance(v, dt.date) else v for k, v in fields.items()}
        return dict(self._send("POST", "/v1/experiments", json=body).json())

    def experiments(self) -> dict[str, Any]:
        return dict(self._send("GET", "/v1/experiments").json())

    def experiment(self, experiment_id: str) -> dict[str, Any]:
        return dict(self._send("GET", f"/v1/experiments/{experiment_id}").json())

    def record_experiment(self, experiment_id: str, **fields: Any) -> dict[str, Any]:
        """``outcome``, optionally ``note`` and ``status``."""
        path = f"/v1/experiments/{experiment_id}"
        return dict(self._send("PATCH", path, json=fields).json())

    def progress(self) -> dict[str, Any]:
        return dict(self._send("GET", "/v1/progress").json())
