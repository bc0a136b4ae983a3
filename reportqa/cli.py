"""`reportqa` command line: the same library the app and the evaluation use."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reportqa.config import Settings
from reportqa.ingest import LoadError, chunk_document, prepare_document
from reportqa.ingest.chunk import PATH_SEPARATOR
from reportqa.ingest.load import read_file
from reportqa.ingest.meta import load_sidecar


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_inspect(args: argparse.Namespace, settings: Settings) -> int:
    """Show how a report was read: metadata, section tree, chunks."""
    path = Path(args.file)
    try:
        raw = read_file(path)
    except (LoadError, OSError) as error:
        print(f"无法读取：{error}", file=sys.stderr)
        return 2
    sidecar = load_sidecar(path.parent)
    for problem in sidecar.problems:
        _log(str(problem))
    document = prepare_document(raw, sidecar.rows.get(path.name))
    meta = document.meta
    origin = "（从正文提取）" if meta.extracted else "（来自 metadata.csv）"
    print(f"文件：{document.source}  编码：{raw.encoding}  原文 {len(raw.text)} 字，清洗后 {len(document.text)} 字")
    print(f"元数据{origin}：" + "  ".join(f"{k}={v}" for k, v in meta.as_dict().items() if v and k != "extracted"))
    print("\n章节结构：")
    for path_, section in document.sections.walk():
        own = sum(end - start for start, end in section.body)
        print(f"{'  ' * max(len(path_) - 1, 0)}- {section.title or '（无标题）'}  [{own} 字]")
    chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    print(f"\n切分为 {len(chunks)} 段：")
    for i, chunk in enumerate(chunks, 1):
        flat = chunk.text.replace("\n", " ")
        preview = flat if args.full else flat[:60] + ("…" if len(flat) > 60 else "")
        print(f"[{i}] {chunk.section}  ({len(chunk.text)} 字, 原文 {chunk.orig_start}-{chunk.orig_end})\n    {preview}")
    return 0


def _filters(args: argparse.Namespace) -> dict:
    return {key: getattr(args, key) for key in ("town", "county", "province", "year", "doc_type") if getattr(args, key, None)}


def _add_filters(parser: argparse.ArgumentParser) -> None:
    for key, help_ in (("town", "镇/街道"), ("county", "县/区"), ("province", "省"), ("year", "年份"), ("doc_type", "文档类型")):
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, help=f"只在该{help_}中检索")


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from reportqa.stores import build_index, uses_postgres

    if (args.worker or args.status) and not uses_postgres(settings):
        _log("--worker 和 --status 用于 PostgreSQL 索引：请先设置 REPORTQA_STORE=postgresql://用户:密码@主机:端口/库名。")
        return 2
    if args.worker or args.status:
        from reportqa.pgstore.cli import run_status, run_worker

        return run_status(settings) if args.status else run_worker(settings, args.forever, _log)
    report = build_index(settings, rebuild=args.rebuild, log=_log)
    for problem in report.sidecar:
        _log(str(problem))
    for error in report.skipped:
        _log(f"跳过 {error.source}：{error.reason}")
    where = settings.index_dir
    if uses_postgres(settings):
        from reportqa.pgstore.db import redacted

        where = redacted(settings.store)
    print(f"索引已写入 {where}：{report.summary()}")
    return 0


def _searcher(settings: Settings):
    """The searcher, the index brought up to date (said on stderr); a damaged index is refused, not rebuilt."""
    from reportqa.retrieve import open_searcher

    return open_searcher(settings, show_progress=sys.stderr.isatty(), log=_log)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from reportqa.evidence import search_passages
    from reportqa.limits import check_search

    searcher = _searcher(settings)
    query, filters, k, mode = check_search(args.query, _filters(args), args.k, args.mode, searcher.index)
    passages = search_passages(searcher, query, filters, k, mode)
    if args.json:
        print(json.dumps([p.as_json() for p in passages], ensure_ascii=False, indent=1))
        return 0
    for p in passages:
        print(f"[{p.rank}] {_where(p)}  ({p.score:.2f})")
        print(f"    {p.chunk.text[:120]}…  — {p.chunk.source}")
    return 0


def _where(passage) -> str:
    """「凤桥镇 · 2023年 · 政府工作报告 › 一、…」: the report as users know it (a report without a town by
    its title), then the section under its title."""
    return PATH_SEPARATOR.join([passage.source_label(), *passage.chunk.section_path[1:]])


def _print_answer(answer) -> None:
    print(answer.text)
    for note in answer.notes:
        print(f"（{note}）")
    shown = answer.related if answer.refused else [c.passage for c in answer.citations]
    print("\n可能相关：" if answer.refused else "\n出处：")
    for n, passage in enumerate(shown, 1):
        print(f"[{n}] {_where(passage)} — {passage.chunk.source}")
        print(f"    {passage.chunk.text[:150]}")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from reportqa.answer import Answerer
    from reportqa.limits import InputRejected
    from reportqa.llm import LLMConfig, LLMUnavailable

    try:
        answerer = Answerer(_searcher(settings), LLMConfig.from_env())
    except LLMUnavailable as error:
        print(f"大模型配置有误：{error}", file=sys.stderr)
        return 2
    if not args.jsonl:
        if not args.question:
            print("请给出问题，或用 --jsonl 指定问题文件", file=sys.stderr)
            return 2
        _print_answer(answerer.ask(" ".join(args.question), _filters(args), args.k))
        return 0
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    with open(args.jsonl, encoding="utf-8") as questions, out:
        for line_no, line in enumerate(questions, 1):
            if not line.strip():
                continue
            item = json.loads(line)
            id_ = str(item.get("id", line_no))
            try:
                row = answerer.ask(item.get("question"), _filters(args), max(args.k, 10)).as_json(id_)
            except InputRejected as rejected:  # one bad question must not end the run
                row = {"id": id_, "question": item.get("question"), "answer": str(rejected), "refused": True,
                       "citations": [], "retrieved": [], "latency_ms": 0.0}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve a starting page while the index is loaded (built first if missing or stale), then the app."""
    from reportqa.retrieve import open_searcher
    from reportqa.store import IndexUnusable
    from reportqa.ui import serve, starting_page
    from reportqa.users import Access, UsersError

    if not settings.corpus_dir.is_dir():
        print(f"找不到报告目录 {settings.corpus_dir}；请设置 REPORTQA_HOME 或 REPORTQA_CORPUS", file=sys.stderr)
        return 2
    try:
        access = Access.for_host(args.host, settings.users_file)
    except UsersError as error:
        print(str(error), file=sys.stderr)
        return 2
    if access.shared:
        print(f"在 {args.host} 上共享：修改报告库需要登录（{len(access.users.users)} 个账号，见 {settings.users_file}）；"
              f"阅读{'也需要登录' if access.reading_needs_login else '不需登录'}。", file=sys.stderr)
    try:
        with starting_page(args.host, args.port):
            searcher = open_searcher(settings, show_progress=True, log=_log, repair=True)
    except IndexUnusable as error:
        print(str(error), file=sys.stderr)
        return 2
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(f"无法在 {args.host}:{args.port} 上启动（{error.strerror or error}）；请换一个端口（--port）或先停止占用它的程序", file=sys.stderr)
        return 2
    from reportqa.feedback import FeedbackUnavailable, check_database

    try:
        check_database(settings.feedback_db)
    except FeedbackUnavailable as error:
        _log(f"注意：{error}在修复之前，评分和赞/踩无法保存，问答和检索不受影响。")
    print(f"reportqa 已启动：http://{args.host}:{args.port}  （Ctrl+C 退出）", file=sys.stderr)
    serve(settings, args.host, args.port, searcher=searcher, access=access)
    return 0


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create or reset a login; the password is asked twice without echo (or read from stdin with --password-stdin)."""
    import getpass

    from reportqa.users import UsersError, add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"{args.name} 的密码：")
        if getpass.getpass("再输入一次：") != password:
            print("两次输入的密码不一致，未做改动", file=sys.stderr)
            return 2
    try:
        users = add_user(settings.users_file, args.name, password, args.role, args.reading)
    except UsersError as error:
        print(f"{error}，未做改动", file=sys.stderr)
        return 2
    print(f"已保存用户 {args.name}（{args.role}）到 {settings.users_file}；共 {len(users.users)} 个账号，阅读{'需要' if users.reading == 'login' else '不需'}登录。")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score retrieval, which-questions, answers and the refusal gate against the gold set; write eval/reports."""
    import time

    from reportqa.evaluation import answers_markdown, load_gold, retrieval_markdown, run_evaluation, select, write_report
    from reportqa.evaluation.gold import assemble_corpus, available_corpora
    from reportqa.llm import LLMConfig, LLMUnavailable
    from reportqa.store import IndexMismatch
    from reportqa.stores import build_index

    llm_config = None
    if args.llm:
        try:
            llm_config = LLMConfig.from_env()
        except LLMUnavailable as error:
            print(f"大模型配置有误：{error}", file=sys.stderr)
            return 2
        if llm_config.backend == "extractive":
            print("未配置大模型（REPORTQA_LLM），只评测摘录式回答", file=sys.stderr)
            llm_config = None
    corpora = available_corpora()
    gold = select(load_gold(args.gold), args.half or "", args.per_type or 0, list(corpora))
    # The gold corpora in one index of their own, beside the product's, built like any corpus.
    home = settings.index_dir.with_name(settings.index_dir.name + "-eval")
    settings = settings.with_(corpus_dir=assemble_corpus(corpora, home / "corpus"), index_dir=home / "index")
    print(f"评测语料：{'、'.join(corpora)}；{len(gold)} 个问题；索引 {settings.index_dir}", file=sys.stderr)
    started = time.perf_counter()
    try:
        searcher = _searcher(settings)
    except IndexMismatch:  # built by another version: the eval index holds nothing but the gold corpora
        _log("评测索引与当前配置不一致；它只由金标语料生成，正在按当前配置重建……")
        build_index(settings, rebuild=True, show_progress=sys.stderr.isatty(), log=_log)
        searcher = _searcher(settings)
    opened = time.perf_counter() - started
    results = run_evaluation(
        searcher, gold, settings.embed_model, half=args.half or "", answers=args.answers, llm_config=llm_config,
        log=lambda message: print(message, file=sys.stderr),
    )
    results.timings["open_index_s"] = opened
    written = write_report(results, args.out)
    print(retrieval_markdown(results))
    print(answers_markdown(results))
    timings = "，".join(f"{name} {seconds:.1f}s" for name, seconds in results.timings.items())
    print(f"用时：{timings}；共 {time.perf_counter() - started:.0f} 秒", file=sys.stderr)
    print("已写入：" + "、".join(str(path) for path in written), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reportqa", description="中文地方政府报告检索与引证问答")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="显示一份报告的清洗结果、章节结构和切分")
    inspect.add_argument("file")
    inspect.add_argument("--full", action="store_true", help="打印每段全文")
    inspect.set_defaults(run=cmd_inspect)

    build = commands.add_parser("build", help="从 corpus/ 建立或增量更新索引")
    build.add_argument("--rebuild", action="store_true", help="丢弃旧索引，全部重新向量化")
    build.add_argument("--worker", action="store_true", help="（PostgreSQL）从数据库队列领取报告向量化，队列空时退出")
    build.add_argument("--forever", action="store_true", help="与 --worker 同用：队列空时等待新报告，不退出")
    build.add_argument("--status", action="store_true", help="（PostgreSQL）显示建索引进度")
    build.set_defaults(run=cmd_build)

    search = commands.add_parser("search", help="检索段落")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10)
    search.add_argument("--mode", default="hybrid", help="hybrid（默认）、dense 或 bm25")
    search.add_argument("--json", action="store_true", help="按约定输出 JSON 段落对象")
    _add_filters(search)
    search.set_defaults(run=cmd_search)

    ask = commands.add_parser("ask", help="提问，得到带引用的中文回答")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--jsonl", help="问题文件（每行 JSON，含 id 和 question）")
    ask.add_argument("--out", help="结果文件（JSON lines）；缺省输出到标准输出")
    ask.add_argument("-k", type=int, default=10)
    _add_filters(ask)
    ask.set_defaults(run=cmd_ask)

    evaluate = commands.add_parser("eval", help="用金标准问题集评测检索与回答，写出 eval/reports")
    evaluate.add_argument("--gold", default="eval/gold.jsonl", help="金标准问题（JSON lines）")
    evaluate.add_argument("--out", default="eval/reports", help="报告目录（Markdown 表格与 PNG 图）")
    evaluate.add_argument("--answers", action=argparse.BooleanOptionalAction, default=True, help="是否评测回答（--no-answers 只评检索）")
    evaluate.add_argument("--llm", action="store_true", help="同时评测环境变量配置的大模型后端（REPORTQA_LLM）")
    evaluate.add_argument("--per-type", type=int, metavar="N", help="每类只取前 N 题（本地大模型慢时用）")
    evaluate.add_argument("--half", choices=("dev", "test"), help="只评测开发集或测试集（默认两半都评，分开报告）")
    evaluate.set_defaults(run=cmd_eval)

    serve = commands.add_parser("serve", help="启动网页界面（问答、检索、文档、评测）；索引缺失或过期时先建索引")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认只本机可访问；局域网共享用 0.0.0.0）")
    serve.add_argument("--port", type=int, default=7860, help="端口（默认 7860）")
    serve.set_defaults(run=cmd_serve)

    user = commands.add_parser("user", help="管理登录账号（在局域网共享时修改报告库需要登录）")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="新建账号或重设密码（密码以 scrypt 散列保存）")
    add.add_argument("name")
    add.add_argument("--role", choices=("editor", "reader"), default="editor", help="editor 可管理报告库；reader 只读（默认 editor）")
    add.add_argument("--reading", choices=("open", "login"), help="阅读和提问是否也需要登录（open 不需要，login 需要）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用）")
    add.set_defaults(run=cmd_user_add)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; a refused input, an unusable index or an unreadable feedback database ends
    with its Chinese message and exit status 2, never a traceback."""
    from reportqa.feedback import FeedbackUnavailable
    from reportqa.limits import InputRejected
    from reportqa.store import IndexUnusable
    from reportqa.stores import StoreUnavailable

    args = build_parser().parse_args(argv)
    try:
        return args.run(args, Settings())
    except (InputRejected, IndexUnusable, FeedbackUnavailable, StoreUnavailable) as error:
        _log(str(error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
