"""The MCP server (official ``mcp`` SDK): tools, the ``entry://{id}`` resource and one
prompt per guided practice, over stdio (``trustlens mcp``) or streamable HTTP at ``/mcp``
(``trustlens serve --mcp``).

One server shape, two ways of knowing who is asking, never from a tool argument: over
stdio the person is fixed when the server starts (``--user``); over HTTP each request is
authenticated by the person's API key (``Authorization: Bearer``, the same keys as the
API), and the tools read the user from that request's verified key. A request without a
valid key is refused before it reaches the server.

Each tool is one call into ``McpService`` (which calls the API's services); its refusals
(``DomainError``) reach the assistant as tool errors with the same text the API gives.
"""

# No ``from __future__ import annotations``: the SDK reads the tools' annotations (the
# input schemas), and the practice names' type is built at run time, inside build_server.
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware, get_access_token
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.store import user_for_api_key
from service.errors import DomainError
from service.mcp.schemas import (
    EntryDate,
    EntryId,
    EntryText,
    K,
    Query,
    Question,
    Since,
    Situation,
    Until,
)
from service.mcp.service import McpService
from service.middleware import USER_SCOPE_KEY, user_hash

PATH = "/mcp"
T = TypeVar("T")
UserOf = Callable[[], str]

INSTRUCTIONS = (
    "trustlens answers questions about one person's own journal about trust, and only from "
    "it. Every claim comes with citations (entry id, date, verbatim quote): show them, and "
    "do not add claims about the person that no citation backs. When an answer is "
    "abstained, say the journal does not show it. When a result carries a 'safety' "
    "object, show its message and resources to the person first and do not analyse. "
    "Results hold at most a set number of verbatim quotes ('withheld_quotes' counts the "
    "rest); ask narrower questions rather than trying to collect the whole journal."
)

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

ASK = (
    "Ask a question about the person's own journal and get a grounded answer: the same "
    "JSON as trustlens's POST /v1/ask. Fields: answer (text), abstained (true when the "
    "journal does not show it), citations [{entry_id, date, quote}] with every quote "
    "verbatim from an entry, behaviors (for 'what do I usually do when ...' questions: "
    "counted responses with citations), plan (how the question was understood), safety "
    "(set when the question carries crisis language: then show its message and resources; "
    "there is no insight). Use since/until to limit the period."
)
SEARCH = (
    "Find passages of the person's journal: ranked chunks with entry_id, date and the "
    "verbatim text (text == entry text[start:end]), score and similarity. For evidence, "
    "not interpretation; prefer ask for questions. A query with crisis language returns "
    "a safety object and no passages."
)
PATTERNS = (
    "The person's trust patterns (e.g. avoidance, testing, withdrawal) counted over their "
    "entries: per pattern the count, the entry ids and example quotes; and per entry its "
    "patterns. Labels come from trustlens's tagger with the person's own corrections."
)
REFLECT = (
    "Reflect on a present situation the person describes: past entries it echoes (with "
    "verbatim quotes and era), what is the same and what is different (each with "
    "citations), and questions to consider. Crisis language returns a safety object and "
    "no insight."
)
PRACTICE = (
    "One guided practice (a short series of reflective questions), personalised with the "
    "person's own entries where it can be (each personalised question has citations; "
    "'plain' is the question without them). Ask the questions one at a time."
)
PROGRESS = (
    "How the person's patterns change over time: per month the defensive patterns and "
    "repair signals (entry counts and ids), their rates per entry, planned and recorded "
    "trust experiments, the earliest third of the journal against the latest, and the "
    "trend (improving, worsening, steady, or not enough data). Counts and ids, no quotes."
)
WRITE_ENTRY = (
    "Save a new journal entry for the person (only when they ask you to, with their exact "
    "words) and get one to three follow-up questions grounded in their related past "
    "entries. Writing the same date and text again changes nothing. If the text carries "
    "crisis language the entry is saved and a safety object is returned instead of "
    "questions."
)


def build_server(service: McpService, user: UserOf, *, allow_write: bool) -> MCPServer:
    """The MCP server for whoever ``user()`` names at each call (see the module doc)."""
    server: MCPServer = MCPServer("trustlens", instructions=INSTRUCTIONS, version="1.0.0")
    _add_tools(server, service, _Caller(user), allow_write)

    def entry(id: EntryId) -> str:
        try:
            return service.entry(user(), id)
        except DomainError as e:
            raise ResourceError(e.detail) from None

    server.resource(
        "entry://{id}",
        name="entry",
        title="A journal entry",
        description="One of the person's entries, whole: id, date, text, tags (JSON). "
        "Citations name the ids.",
        mime_type="application/json",
    )(entry)
    for name in service.practice_names():
        title, purpose = service.practice_info(name)
        server.prompt(name=name, title=title, description=purpose)(
            _practice_prompt(service, user, name)
        )
    return server


class _Caller:
    """Calls a service method for the current user; refusals become tool errors."""

    def __init__(self, user: UserOf):
        self.user = user

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(self.user(), *args)
        except DomainError as e:
            raise ToolError(e.detail) from None
        except ValidationError as e:  # e.g. until before since: the API's 422
            p = e.errors()[0]
            raise ToolError(f"{'.'.join(str(x) for x in p['loc'])}: {p['msg']}") from None


def _add_tools(server: MCPServer, service: McpService, call: _Caller, allow_write: bool) -> None:
    def ask(question: Question, since: Since = None, until: Until = None) -> dict[str, Any]:
        return call(service.ask, question, since, until)

    def search(query: Query, k: K = 5, since: Since = None, until: Until = None) -> dict[str, Any]:
        return call(service.search, query, k, since, until)

    def patterns() -> dict[str, Any]:
        return call(service.patterns)

    def reflect(situation: Situation) -> dict[str, Any]:
        return call(service.reflect, situation)

    names = service.practice_names()
    Name = Annotated[
        str,
        Field(
            description=f"The practice: one of {', '.join(names)}.",
            json_schema_extra={"enum": list(names)},
        ),
    ]

    def practice(name: Name) -> dict[str, Any]:
        return call(service.practice, name)

    def progress() -> dict[str, Any]:
        return call(service.progress)

    def write_entry(date: EntryDate, text: EntryText) -> dict[str, Any]:
        return call(service.write_entry, date, text)

    tools: list[tuple[Callable[..., Any], str, str]] = [
        (ask, "Ask your journal", ASK),
        (search, "Search your journal", SEARCH),
        (patterns, "Your trust patterns", PATTERNS),
        (reflect, "Reflect on a situation", REFLECT),
        (practice, "A guided practice", PRACTICE),
        (progress, "Your progress", PROGRESS),
    ]
    for fn, title, description in tools:
        server.add_tool(fn, title=title, description=description, annotations=READ)
    if allow_write:
        server.add_tool(
            write_entry, title="Write an entry", description=WRITE_ENTRY, annotations=WRITE
        )


def _practice_prompt(service: McpService, user: UserOf, name: str) -> Callable[[], str]:
    """The practice's prompt (it takes no arguments: the prompt's name is the practice)."""

    def render() -> str:
        try:
            return service.practice_prompt(user(), name)
        except DomainError as e:
            raise ValueError(e.detail) from None

    render.__name__ = name
    return render


# ----------------------------------------------------------------- over HTTP


def key_user() -> str:
    """The user whose API key authenticated this HTTP request."""
    token = get_access_token()
    if token is None:  # unreachable: /mcp refuses a request without a valid key first
        raise ToolError("Not authenticated.")
    return token.client_id


class ApiKeyVerifier:
    """The API's bearer keys as MCP access tokens: the client id is the key's user."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def _user_id(self, key: str) -> str | None:
        with self.sessions() as session:
            user = user_for_api_key(session, key)
            return None if user is None else user.id

    async def verify_token(self, token: str) -> AccessToken | None:
        uid = await anyio.to_thread.run_sync(self._user_id, token)
        if uid is None:
            return None
        return AccessToken(token=token, client_id=uid, subject=uid, scopes=[])


class _LogUser:
    """The access log's pseudonym for the caller, as the API's routes record it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = get_access_token()
        if token is not None:
            scope[USER_SCOPE_KEY] = user_hash(token.client_id)
        await self.app(scope, receive, send)


def http_route(
    service: McpService, sessions: sessionmaker[Session], *, allow_write: bool
) -> tuple[Route, StreamableHTTPSessionManager]:
    """The ``/mcp`` route (streamable HTTP, stateless, JSON responses, so any worker can
    answer any request) and the session manager whose ``run()`` the app's lifespan holds."""
    server = build_server(service, key_user, allow_write=allow_write)
    inner = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        # Every request needs the person's key, so a rebound Host gains nothing; the
        # service may sit behind a proxy under any name.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app: ASGIApp = RequireAuthMiddleware(_LogUser(inner), required_scopes=[])
    app = AuthContextMiddleware(app)
    app = AuthenticationMiddleware(app, backend=BearerAuthBackend(ApiKeyVerifier(sessions)))
    route = Route(PATH, endpoint=app, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    return route, server.session_manager
