"""`reportqa build --worker` and `reportqa build --status`: the commands of a distributed build."""

from __future__ import annotations

from collections.abc import Callable

from reportqa.config import Settings
from reportqa.pgstore.build import progress, work
from reportqa.pgstore.db import connect, migrate, redacted


def run_worker(settings: Settings, forever: bool, log: Callable[[str], None]) -> int:
    """Embed queued reports until the queue is empty (or, with forever, keep waiting for more)."""
    from reportqa.embed import embed_passages, load_embedder, model_id

    migrate(settings.store)
    model = load_embedder(settings.embed_model)
    log(f"worker 已连接 {redacted(settings.store)}，模型 {model_id(model)}，开始领取报告……")
    done = work(settings.store, lambda texts: embed_passages(model, texts), model_id(model), stop_when_empty=not forever, log=log)
    log(f"队列已空：本 worker 写入 {done} 份报告。")
    return 0


def run_status(settings: Settings) -> int:
    migrate(settings.store)
    with connect(settings.store) as conn:
        print(f"{redacted(settings.store)}：{progress(conn).summary()}")
    return 0
