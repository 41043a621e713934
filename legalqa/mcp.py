"""The MCP face: `legalqa mcp` serves one Engine to LLM assistants over the Model Context Protocol.

Tools (typed arguments, structured output; the docstrings are what the assistant reads):

    search_law(query, k=5, filters=None)   → the `legalqa search --json` object
    get_article(law, article)              → one article's official text, 款 by 款
    ask(question, filters=None)            → the Answer: verbatim quotes with citations, or an abstention
    verify_citations(text)                 → the verify report

Resources: ``law://laws`` (the laws in the index) and ``law://{law}/{article}`` (one article).

A bad argument is a tool error (``isError``) whose text is the same Chinese message the CLI
prints; the server keeps serving. Stdio by default; ``--http`` serves streamable HTTP on
loopback, and another address needs LEGALQA_API_KEY or --insecure, as for `legalqa serve`.
The Engine loads the index and model on the first call, so the handshake is fast.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from legalqa.engine import AnswerCheckError, Engine
from legalqa.http import MAX_K, FilterModel, RequireKey, ServeOptions, validation_message, warn_if_open
from legalqa.index.config import MAX_QUERY_CHARS
from legalqa.ingest.models import NOT_IN_FORCE
from legalqa.qa.models import STATUS_LABELS, STATUSES

INSTRUCTIONS = """legalqa：中国法律检索与有据回答（语料是官方法条原文，另有解读文章）。
- 回答法律问题时先调用 ask：它只用法条原文作答，每句引文都核对过、注明到款；证据不足时它会拒答（abstained=true），这时不要自己编造法条。
- 需要更多来源时用 search_law；要看某一条的全文（分款）时用 get_article。
- 你自己写的回答里引用了法条，先用 verify_citations 核验：条文是否存在，引号里的文字是否与原文一致。
Answer Chinese legal questions from official statute text: call ask first (verbatim quotes cited to the 款,
or an abstention); search_law for sources; get_article for an article's full text; verify_citations to
check the citations and quotes in a draft before giving it to the user."""

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class _Out(BaseModel):
    # A field the engine adds but this schema lacks fails the test suite instead of vanishing silently.
    model_config = ConfigDict(extra="forbid")


# -- search_law ---------------------------------------------------------------------------------
class Scores(_Out):
    fused: float = Field(description="融合分数（RRF）/ fused reciprocal-rank score")
    dense: float | None = Field(description="向量相似度 / cosine similarity")
    bm25: float | None = Field(description="BM25 分数")
    dense_rank: int | None
    bm25_rank: int | None
    key: float | None = Field(description="相近的已知问题以这一条为答案时，该问题的相似度（未用重排序时减去偏移）/ "
                                          "similarity of the nearest known question answered by it "
                                          "(minus the offset when no re-ranker ordered the search)")
    rerank: float | None = Field(description="学习得到的重排序分数（法规库索引），决定排名 / "
                                             "the learned re-ranker's score, which set the order (library indexes)")
    exact: bool = Field(description="问题点名了这一条 / the query named this article")


class SearchHit(_Out):
    rank: int
    citation: str = Field(description="法条的规范引用，如《中华人民共和国民法典》第六百八十八条；文章段落为《标题》·小标题")
    kind: Literal["statute", "article"] = Field(description="statute = 法条原文，article = 解读文章段落")
    law: str | None
    title: str
    article: str | None = Field(description="条号，如 第六百八十八条")
    heading_path: list[str] = Field(description="编、章、节 / headings above the passage")
    text: str = Field(description="原文（法条各款以换行分隔）/ the passage, verbatim")
    source: str
    start: int
    end: int
    chunk_id: str
    collection: str
    provenance: Literal["official", "user"] = Field(description="official = 语料原文，user = 用户上传的文档（不是法律）")
    status: str = Field(description="时效性，如 现行有效")
    version: str = Field(description="版本（如 2020-05-28 通过），没有时为空")
    scores: Scores


class Expansions(_Out):
    rules: list[str]
    terms: list[str] = Field(description="为检索补充的法律用语 / legal terms added to the keyword query")


class Correction(_Out):
    written: str
    meant: str


class SearchOutput(_Out):
    query: str
    hits: list[SearchHit] = Field(description="最相关的在前 / best first")
    expansions: Expansions
    corrections: list[Correction] = Field(description="按读音更正的错别字 / homophone typos corrected")
    named_articles: list[str] = Field(description="问题里点名的法条 / articles the query names")
    timings_ms: dict[str, float]


# -- get_article --------------------------------------------------------------------------------
class Paragraph(_Out):
    paragraph: int = Field(description="款号，从 1 开始 / the 款 number")
    citation: str = Field(description="引用到款，如《中华人民共和国民法典》第六百八十八条第二款")
    text: str


class ArticleOutput(_Out):
    law: str = Field(description="法律全称 / the law's full name")
    article: str = Field(description="条号，如 第六百八十一条、第二百八十条之一")
    number: int
    suffix: int = Field(description="之一 = 1，没有“之X”为 0")
    citation: str
    text: str = Field(description="条文原文，各款以换行分隔 / the official text, 款 separated by line breaks")
    paragraphs: list[Paragraph] = Field(description="逐款原文，带款号和引用 / each 款 with its number and citation")
    status: str = Field(description="时效性，如 现行有效")
    version: str = Field(description="版本（公布或修订日期）")
    heading_path: list[str]
    source: str
    chunk_id: str


# -- ask ----------------------------------------------------------------------------------------
class AnswerCitation(_Out):
    n: int = Field(description="回答中的标记 [n]")
    citation: str = Field(description="规范引用，法条注明到款")
    kind: Literal["statute", "article"]
    quote: str = Field(description="逐字引文，已与来源核对 / verbatim quote, checked against the source")
    source_id: str
    source: str
    start: int
    end: int
    law: str | None
    article: str | None
    paragraph: int | None = Field(description="款")
    item: int | None = Field(description="项")
    title: str
    heading_path: list[str]
    notes: list[str] = Field(description="如：解读文章引用这一条时与原文不符之处")
    ref: dict[str, Any] | None = Field(description="法条引用的结构：law、article、suffix、paragraph（款）、item（项）")
    provenance: Literal["official", "user"] = Field(
        description="official = 法律原文或内置文章；user = 用户上传的文档，不是法律 / an uploaded document, never law")


class AnswerOutput(_Out):
    question: str
    markdown: str = Field(description="完整回答（Markdown），法条原文在前，[n] 对应 citations")
    text: str = Field(description="同一回答的纯文本 / the same answer as plain text")
    citations: list[AnswerCitation]
    abstained: bool = Field(description="true = 证据不足，拒绝回答 / not enough evidence: no answer is given")
    reason: str = Field(description="拒答的原因 / why it abstained")
    expansions: list[str]
    corrections: list[str]
    evidence: dict[str, float]
    timings: dict[str, float]
    blocks: list[dict[str, Any]] = Field(description="回答的结构：引文块、注意事项、拒答说明、免责声明（按显示顺序）")


# -- verify_citations ---------------------------------------------------------------------------
class Difference(_Out):
    op: Literal["missing", "added", "changed"] = Field(description="missing = 漏了原文，added = 多了，changed = 改了")
    official: str
    quoted: str


class QuoteCheck(_Out):
    status: Literal["exact", "differs", "paraphrase"]
    similarity: float
    differences: list[Difference]
    matched_official: str


class CitationCheck(_Out):
    citation: str = Field(description="规范引用 / canonical citation")
    raw: str = Field(description="原文中的写法 / as written")
    start: int
    end: int
    exists: bool = Field(description="语料中有这一条")
    law_known: bool = Field(description="语料中有这部法律")
    quote: str | None = Field(description="引用后面引号里的文字 / the quoted words after the citation")
    check: QuoteCheck | None
    official: str | None = Field(description="这一条的原文")
    status: Literal[*STATUSES] = Field(
        description="；".join(f"{s} {label}" for s, label in STATUS_LABELS.items()) + "（repealed 时 successor 为现行法）"
    )
    detail: str = Field(description="为什么给出这个结论：取代它的现行法、该法最后一条、本条有几款等 / why, in one line")
    law: str | None = Field(description="法律全称")
    article: int | None
    suffix: int
    paragraph: int | None = Field(description="引用写明的款")
    item: int | None = Field(description="引用写明的项")
    law_inferred: bool = Field(description="“第X条”前没写法律名，按上文最近提到的法律理解")
    presented: str | None = Field(description="引文的呈现方式：引号、单独成段或句中近似引用")
    quote_start: int | None
    quote_end: int | None
    paragraphs: int | None = Field(description="这一条共有几款")
    items: int | None = Field(description="所引之款共有几项")
    matched_paragraph: int | None = Field(description="引文实际对应的款")
    law_status: str | None = Field(description="该法的时效性，如 现行有效、已废止")
    successor: str | None = Field(description="取代它的现行法律")
    repealed_by: str | None = Field(description="宣布废止它的条文")
    last_article: str | None = Field(description="该法的最后一条")


class VerifyOutput(_Out):
    counts: dict[str, int]
    citations: list[CitationCheck]


class Filters(FilterModel):
    """限定来源（都可省略，各字段的含义见其说明）/ restrict the sources: law, kind, status (default: laws in
    force; all: every version), heading (编/章/节), collection."""


Query = Annotated[str, Field(description=f"问题或关键词，1 到 {MAX_QUERY_CHARS} 字 / the question or keywords")]
K = Annotated[int, Field(ge=1, le=MAX_K, strict=True, description=f"返回条数，1 到 {MAX_K} / number of hits")]
LawName = Annotated[str, Field(description="法律名：全称、简称或带书名号，如 民法典、《中华人民共和国民法典》")]
ArticleRef = Annotated[
    StrictInt | StrictStr,
    Field(description="条号：681、第681条、第六百八十一条、第二百八十条之一 / article number, digits or Chinese"),
]


def _tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


class LegalqaServer(MCPServer):
    """An MCPServer whose failed tool calls carry the bare Chinese message, not the SDK's English wrapping."""

    def __init__(self, *args: Any, arguments: dict[str, set[str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._arguments = arguments if arguments is not None else {}

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        if name not in self._arguments:
            return _tool_error(f"没有工具“{name}”；可用：{'、'.join(self._arguments)}")
        unknown = sorted(set(arguments) - self._arguments[name])
        if unknown:
            known = "、".join(sorted(self._arguments[name]))
            return _tool_error(f"请求参数有误：不认识的参数 {'、'.join(unknown)}；{name} 的参数是 {known}")
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                return _tool_error(validation_message(cause.errors()))
            if isinstance(cause, ToolError):  # raised by our tool with the user's message
                return _tool_error(str(cause))
            raise


def _guard(fn, error: type[Exception] = ToolError):
    """Run ``fn``; a failure the user (or the server's files) must fix becomes ``error`` with its message.

    Anything else, a schema mismatch in our own output included, stays a crash: the SDK logs it
    and the client sees only that the tool failed.
    """
    from legalqa.index.store import IndexLoadError

    try:
        return fn()
    except ValidationError:
        raise
    except (ValueError, IndexLoadError, AnswerCheckError) as exc:  # QueryError, EmbedderError, SelectorError …
        raise error(str(exc)) from exc


def parse_article(article: int | str) -> tuple[int, int]:
    """(number, suffix) of 681, "681", "第681条", "六百八十一", "第六百八十一条" or "第二百八十条之一".

    Raises:
        ValueError: a Chinese message naming the value and the accepted forms.
    """
    from legalqa.ingest.citations import parse_article_label

    accepted = "请写成 681、第681条、第六百八十一条 或 第二百八十条之一（只写到条）"
    if isinstance(article, int):
        text = str(article)
    else:
        text = "".join(article.split())
    if not text:
        raise ValueError(f"没有给出条号：{accepted}")
    label = text if text.startswith("第") else "第" + text
    if "条" not in label:
        label += "条"
    try:
        return parse_article_label(label)
    except ValueError:
        raise ValueError(f"条号“{article}”无法识别：{accepted}") from None


def article_output(engine: Engine, law: str, article: int | str) -> ArticleOutput:
    """One article of the index as the tool returns it; ValueError (in Chinese) for a bad law or article."""
    from legalqa.ingest.citations import canonical

    searcher = engine.searcher
    if not isinstance(law, str) or not law.strip():
        raise ValueError("没有给出法律名：请写全称或简称，例如 民法典 或 《中华人民共和国民法典》")
    full = searcher.resolve_filters({"law": law.strip()}).laws[0]  # the searcher's own "语料中没有法律" message
    number, suffix = parse_article(article)
    chunk = engine.article(full, number, suffix)
    if chunk is None:
        held = next((entry["articles"] for entry in laws_output(engine) if entry["law"] == full), 0)
        raise ValueError(f"语料中没有{canonical(full, number, suffix)}（语料收录这部法律的 {held} 条）："
                         "请核对条号，或用 search_law 按内容查找")
    return ArticleOutput(
        law=full,
        article=chunk.label or "",
        number=number,
        suffix=suffix,
        citation=chunk.citation or canonical(full, number, suffix),
        text=chunk.text,
        paragraphs=[Paragraph(paragraph=p.index, citation=canonical(full, number, suffix, p.index), text=p.text)
                    for p in chunk.paragraphs],
        status=chunk.status,
        version=chunk.version,
        heading_path=list(chunk.heading_path),
        source=chunk.source,
        chunk_id=chunk.id,
    )


def laws_output(engine: Engine) -> list[dict]:
    """The laws in the index: full name, aliases, and its text in force: how many articles, status and version.

    A law the index holds in several versions is described by the one in force (as an article lookup
    answers); a law with none in force (a repealed one) by its newest version.
    """
    versions: dict[str, dict[tuple[bool, str], list]] = {}
    for c in engine.searcher.chunks:
        if c.kind == "statute" and c.law and c.provenance == "official":
            versions.setdefault(c.law, {}).setdefault((c.status not in NOT_IN_FORCE, c.version or ""), []).append(c)
    out = []
    for law in sorted(versions):
        texts = versions[law]
        in_force = [chunks for (current, _), chunks in texts.items() if current]
        chunks = [c for part in in_force for c in part] if in_force else texts[max(texts)]
        newest = max(chunks, key=lambda c: c.version or "")
        out.append({"law": law, "aliases": list(newest.meta.get("aliases", [])), "articles": len(chunks),
                    "status": newest.status, "version": newest.version})
    return out


def _version() -> str:
    try:
        return version("legalqa")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return ""


def create_server(engine: Engine | None = None) -> MCPServer:
    """The MCP server over ``engine`` (default: an Engine from the settings; it loads on the first call)."""
    engine = engine or Engine()

    def search_law(query: Query, k: K = 5, filters: Filters | None = None) -> SearchOutput:
        """检索法条原文和解读文章段落（向量 + 关键词混合检索），最相关的在前。
        Search Chinese statutes and explanatory passages (hybrid dense + BM25), best first.

        每条结果有规范引用（citation）、原文（text）和分数；kind=statute 是法条原文，可直接逐字引用。
        问题里点名的法条（如 民法典第681条）排在最前。
        """
        where = filters.as_dict() if filters else None
        return SearchOutput.model_validate(_guard(lambda: engine.search(query, k, where).to_dict()))

    def get_article(law: LawName, article: ArticleRef) -> ArticleOutput:
        """取一条法条的官方原文，逐款列出，带时效性、版本和所在编章。
        Get one statute article's official text, 款 by 款, with its status, version and headings.

        法律名可用简称（民法典）或全称（《中华人民共和国民法典》）；条号可写 681、第681条、第六百八十一条、第二百八十条之一。
        """
        return _guard(lambda: article_output(engine, law, article))

    def ask(question: Query, filters: Filters | None = None) -> AnswerOutput:
        """回答一个法律问题：只用法条原文逐字引用作答，每句引文注明到款并已核对；证据不足时拒答（abstained=true）。
        Answer a legal question with verbatim statute quotes, each cited to the 款 and checked against the
        source; abstains (abstained=true) when the evidence is weak. Quote `citations[].quote` as given.
        """
        where = filters.as_dict() if filters else None
        data = _guard(lambda: engine.ask(question, where).to_dict())
        data.pop("hits")  # the sources are search_law's job; the answer keeps only what it quotes
        return AnswerOutput.model_validate(data)

    def verify_citations(text: str) -> VerifyOutput:
        """核验一段文字里的每处法条引用：这一条是否存在，引号里的文字是否与原文一致（逐字比对，列出差异）。
        Check every statute citation in a text: does the article exist, and are the quoted words the law's words?
        Pass a whole draft answer; fix every citation whose status is not "exact" or "no_quote".
        """
        return VerifyOutput.model_validate(_guard(lambda: engine.verify(text).to_dict()))

    tools = (search_law, get_article, ask, verify_citations)
    server = LegalqaServer(
        name="legalqa",
        title="legalqa 中国法律问答",
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level="WARNING",
        arguments={fn.__name__: set(fn.__annotations__) - {"return"} for fn in tools},
    )
    for fn in tools:
        server.add_tool(fn, annotations=READ_ONLY, structured_output=True)

    @server.resource("law://laws", name="laws", title="法律目录", mime_type="application/json",
                     description="索引中的法律：全称、简称、收录条数、时效性、版本 / the laws in the index")
    def laws() -> str:
        return json.dumps(_guard(lambda: laws_output(engine), ResourceNotFoundError), ensure_ascii=False, indent=2)

    @server.resource("law://{law}/{article}", name="article", title="一条法条", mime_type="application/json",
                     description="一条法条的原文，逐款列出，如 law://民法典/681 或 law://民法典/第二百八十条之一")
    def article(law: str, article: str) -> str:
        found = _guard(lambda: article_output(engine, law, article), ResourceNotFoundError)
        return found.model_dump_json(indent=2)

    return server


def http_app(server: MCPServer, options: ServeOptions):
    """The streamable-HTTP app at /mcp, with serve's rules: loopback Host names, or a key off loopback."""
    from mcp.server.transport_security import TransportSecuritySettings

    key, hosts = options.checked()  # raises ValueError for a public address without a key or --insecure
    if "*" in hosts:
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    else:
        security = TransportSecuritySettings(
            allowed_hosts=[h for name in hosts for h in (name, f"{name}:*")],
            allowed_origins=[o for name in hosts for o in (f"http://{name}", f"http://{name}:*")],
        )
    app = server.streamable_http_app(transport_security=security, host=options.host)
    return (RequireKey(app, key) if key else app), key


def run(engine: Engine, http: ServeOptions | None = None) -> int:
    """Serve ``engine`` over stdio, or over streamable HTTP at http://host:port/mcp, until interrupted."""
    server = create_server(engine)
    if not (engine.settings.index_dir / "manifest.json").exists():
        print(f"警告：{engine.settings.index_dir} 还没有索引；先运行 legalqa ingest，否则每次调用都会报错。",
              file=sys.stderr)
    if http is None:
        server.run("stdio")
        return 0
    import uvicorn

    app, key = http_app(server, http)  # an unsafe setup (a public address without a key) fails here
    warn_if_open(http, key, "MCP 服务")
    print(f"legalqa MCP 服务：http://{http.host}:{http.port}/mcp", file=sys.stderr)
    uvicorn.run(app, host=http.host, port=http.port, log_level="warning")
    return 0
