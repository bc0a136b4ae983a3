"""`reportqa` command line: the same library the app and the evaluation use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reportqa.config import Settings
from reportqa.ingest import LoadError, chunk_document, prepare_document
from reportqa.ingest.load import read_file
from reportqa.ingest.meta import read_sidecar


def cmd_inspect(args: argparse.Namespace, settings: Settings) -> int:
    """Show how a report was read: metadata, section tree, chunks."""
    path = Path(args.file)
    try:
        raw = read_file(path)
    except (LoadError, OSError) as error:
        print(f"无法读取：{error}", file=sys.stderr)
        return 2
    document = prepare_document(raw, read_sidecar(path.parent).get(path.name))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reportqa", description="中文地方政府报告检索与引证问答")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="显示一份报告的清洗结果、章节结构和切分")
    inspect.add_argument("file")
    inspect.add_argument("--full", action="store_true", help="打印每段全文")
    inspect.set_defaults(run=cmd_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args, Settings())


if __name__ == "__main__":
    sys.exit(main())
