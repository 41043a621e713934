"""The HTTP face: `legalqa serve` runs this FastAPI app over one Engine, on loopback by default.

    GET  /health             index manifest summary
    POST /search  {"query", "k", "filters"}   → the `legalqa search --json` schema
    POST /ask     {"question", "filters"}     → the Answer JSON
    POST /verify  {"text"}                    → the verify report

Requests are validated strictly (types, lengths, k's range): a bad request is a 422 with a
message that names the field, never a 500. Bodies over ``MAX_BODY_BYTES`` get 413. The Host
header must be one the server expects (a loopback server is not reachable by DNS rebinding).
Binding to an address other than loopback needs LEGALQA_API_KEY (clients send it as
``Authorization: Bearer …``) or an explicit --insecure.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from legalqa.engine import AnswerCheckError, Engine

MAX_BODY_BYTES = 1_000_000  # a question is at most 2,000 characters and a verify text 200,000
MAX_K = 100
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
API_KEY_ENV = "LEGALQA_API_KEY"

Names = Annotated[str, Field(min_length=1, max_length=200)]


class FilterModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    law: Names | list[Names] | None = Field(None, description="法律全称或简称（如 民法典），可为列表 / law names")
    kind: Literal["statute", "article"] | list[Literal["statute", "article"]] | None = Field(
        None, description="statute（法条）或 article（解读文章）")
    status: Names | list[Names] | None = Field(
        None, description="现行有效、已被修改、已废止、历史版本，或 all（全部版本）；不写时只查现行的法律 / "
                          "law versions; default: laws in force")
    heading: Names | list[Names] | None = Field(
        None, description="编、章或节：完整标题（第十三章 保证合同）、编号（第三编）或名称（合同编、保证合同）")
    collection: Names | list[Names] | None = Field(None, description="default（语料）、library（法规库）或 user（上传的文档）")

    def as_dict(self) -> dict | None:
        out = self.model_dump(exclude_none=True)
        return out or None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    query: str  # its length and content are checked by the searcher, with the same words as the CLI
    k: int = Field(5, ge=1, le=MAX_K)
    filters: FilterModel | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str
    filters: FilterModel | None = None


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(description="any text containing statute citations")


class LimitBody:
    """ASGI middleware: 413 for a body over ``max_bytes``, declared or streamed, before the app reads it all."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._reject(send)
        seen = 0
        too_large = False

        async def limited_receive():
            # Past the limit the app is told the body ended; its answer is then replaced by the 413.
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message):
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._reject(send)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, send):
        body = json.dumps({"detail": f"请求体太大：最多 {self.max_bytes // 1000} KB"}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_PROBLEMS = {
    "string_type": "应是文字",
    "int_type": "应是整数",
    "bool_type": "应是 true 或 false",
    "list_type": "应是列表",
    "model_type": "应是 JSON 对象",
    "model_attributes_type": "应是 JSON 对象",
    "dict_type": "应是 JSON 对象",
    "missing": "缺少这个字段",
    "extra_forbidden": "不认识这个字段",
    "json_invalid": "不是合法的 JSON",
}


def _problem(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"应在 1 到 {MAX_K} 之间"
    if kind == "literal_error":
        return f"只能是 {ctx.get('expected')}"
    if kind in ("string_too_short", "string_too_long"):
        return "长度不对（1 到 200 个字）"
    return _PROBLEMS.get(kind, str(err.get("msg")))


# What pydantic puts in an error's location besides field names: the alternative of a union it tried.
_TYPE_TAGS = frozenset({"body", "int", "str", "bool", "float", "none", "nullable"})


def _field(part: object) -> bool:
    """A location part that names a field (filters, law), not a type tag (str, list[str], literal[…], constrained-str)."""
    text = str(part)
    return text.isidentifier() and text not in _TYPE_TAGS


def validation_message(errors: Iterable[dict]) -> str:
    """One line naming each bad field, what it should be, and (abbreviated) what came.

    ``errors``: pydantic's ``ValidationError.errors()`` (a FastAPI request's, or an MCP tool call's).
    """
    parts, seen = [], set()
    for err in errors:
        # A union type reports each alternative; the field and its first problem are enough.
        where = ".".join(str(x) for x in err.get("loc", ()) if _field(x)) or "请求体"
        if where in seen:
            continue
        seen.add(where)
        got = repr(err.get("input"))
        parts.append(f"{where} {_problem(err)}（收到 {got[:40] + '…' if len(got) > 40 else got}）")
    return "请求参数有误：" + "；".join(parts[:5])


class RequireKey:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <key>`` (serve and the MCP server)."""

    def __init__(self, app, key: str):
        self.app = app
        self.expected = f"Bearer {key}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"detail": f"需要 API 密钥：请求头 Authorization: Bearer <{API_KEY_ENV}>"},
                                  ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def warn_if_open(options: ServeOptions, key: str | None, what: str = "服务") -> None:
    """Say on stderr that a server off loopback without a key is open to anyone who can reach the machine."""
    if key is None and not is_loopback(options.host):
        print(f"警告：{options.host}:{options.port} 上的{what}没有 API 密钥，任何能访问这台机器的人都能使用它。",
              file=sys.stderr)


def create_app(engine: Engine | None = None, *, api_key: str | None = None,
               allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app over ``engine`` (default: an Engine from the settings).

    Args:
        api_key: when given, every endpoint requires ``Authorization: Bearer <api_key>``.
        allowed_hosts: Host header values to accept (default: loopback names only; ``["*"]`` for any).
    """
    from legalqa.index.search import QueryError
    from legalqa.index.store import IndexLoadError
    from legalqa.qa.paragraphs import ParagraphModelError
    from legalqa.qa.select import SelectorError

    engine = engine or Engine()
    app = FastAPI(title="legalqa", description="中文法律检索与有据回答")
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or list(LOOPBACK_NAMES))
    app.add_middleware(LimitBody)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)

    if api_key:
        app.add_middleware(RequireKey, key=api_key)

    def guard(fn):
        try:
            return fn()
        except QueryError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except (IndexLoadError, SelectorError, ParagraphModelError) as exc:  # the server's files need fixing
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        except AnswerCheckError as exc:
            raise HTTPException(status_code=500, detail=str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @app.get("/health")
    def health() -> dict:
        def run():
            m = engine.manifest
            return {"status": "ok", "model": m["model"], "chunks": m["chunks"], "built_at": m["built_at"]}

        return guard(run)

    @app.post("/search")
    def search(req: SearchRequest) -> dict:
        filters = req.filters.as_dict() if req.filters else None
        return guard(lambda: engine.search(req.query, req.k, filters).to_dict())

    @app.post("/ask")
    def ask(req: AskRequest) -> dict:
        filters = req.filters.as_dict() if req.filters else None
        return guard(lambda: engine.ask(req.question, filters).to_dict())

    @app.post("/verify")
    def verify(req: VerifyRequest) -> dict:
        return guard(lambda: engine.verify(req.text).to_dict())

    return app


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    insecure: bool = False
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args) -> ServeOptions:
        return cls(args.host, args.port, args.insecure, tuple(args.allowed_host))

    def checked(self, env: dict[str, str] | None = None) -> tuple[str | None, list[str]]:
        """(the API key or None, the allowed Host values). Raises ValueError when the setup is unsafe."""
        env = os.environ if env is None else env
        key = env.get(API_KEY_ENV) or None
        if key is not None and len(key) < 16:
            raise ValueError(f"{API_KEY_ENV} 太短（{len(key)} 个字符）：请用至少 16 个字符的随机字符串")
        local = is_loopback(self.host)
        if not local and key is None and not self.insecure:
            raise ValueError(
                f"要在 {self.host} 上对外提供服务，必须先设置 {API_KEY_ENV}（客户端以 Authorization: Bearer 发送）；"
                "只在本机使用时请去掉 --host；确实要无密钥开放时加 --insecure"
            )
        if local:
            hosts = [*LOOPBACK_NAMES, self.host, *self.allowed_hosts]
        else:
            hosts = [*self.allowed_hosts, *LOOPBACK_NAMES, self.host] if self.allowed_hosts else ["*"]
        return key, list(dict.fromkeys(hosts))


def serve(engine: Engine, options: ServeOptions) -> int:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    key, hosts = options.checked()
    warn_if_open(options, key)
    uvicorn.run(create_app(engine, api_key=key, allowed_hosts=hosts), host=options.host, port=options.port,
                log_level="warning")
    return 0
