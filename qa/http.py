"""The HTTP face: `legalqa serve` runs this FastAPI app on loopback by default.

    GET  /health             index manifest summary
    POST /search  {"query", "k", "filters"}   → the `legalqa search --json` schema
    POST /ask     {"question"}                → the Answer JSON
    POST /verify  {"text"}                    → the verify report
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from legalqa.index.search import QueryError
from legalqa.index.store import IndexLoadError
from legalqa.qa.select import SelectorError
from pydantic import BaseModel, Field


class SearchRequest(BaseModel):
    query: str
    k: int = 5
    filters: dict[str, Any] | None = None


class AskRequest(BaseModel):
    question: str


class VerifyRequest(BaseModel):
    text: str = Field(description="any text containing statute citations")


def create_app(settings=None) -> FastAPI:
    from legalqa.qa.verify import self_check, verify_text

    from legalqa import engine

    app = FastAPI(title="legalqa", description="中文法律检索与有据回答")

    def guard(fn):
        try:
            return fn()
        except QueryError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except (IndexLoadError, SelectorError) as exc:  # the server's files, not the request, need fixing
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @app.get("/health")
    def health() -> dict:
        def run():
            m = engine.searcher(settings).data.manifest
            return {"status": "ok", "model": m["model"], "chunks": m["chunks"], "built_at": m["built_at"]}

        return guard(run)

    @app.post("/search")
    def search(req: SearchRequest) -> dict:
        return guard(lambda: engine.searcher(settings).run(req.query, req.k, req.filters).to_dict())

    @app.post("/ask")
    def ask(req: AskRequest) -> dict:
        def run():
            answer = engine.composer(settings).ask(req.question)
            problems = self_check(answer, engine.searcher(settings))
            if problems:
                raise HTTPException(status_code=500, detail="答案自检失败：" + "；".join(problems))
            return answer.to_dict()

        return guard(run)

    @app.post("/verify")
    def verify(req: VerifyRequest) -> dict:
        return guard(lambda: verify_text(req.text, engine.searcher(settings)).to_dict())

    return app
