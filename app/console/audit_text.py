"""Audit details as a sentence people read: the facts that matter (seal code, reason, level,
document, status change, …) with Chinese or English labels, in a fixed order. The stored JSON
stays one click away on the page; ids are left to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# key -> (zh label, en label, how to show the value)
_SHORT = 12


def _hash(value: Any) -> str:
    text = str(value)
    return text[:_SHORT] + "…" if len(text) > _SHORT else text


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


_FIELDS: tuple[tuple[str, str, str, Callable[[Any], str]], ...] = (
    ("name", "名称", "name", _plain),
    ("label", "名称", "name", _plain),
    ("username", "登录名", "username", _plain),
    ("roles", "角色", "roles", _plain),
    ("code", "印章编码", "seal code", _plain),
    ("seal_code", "印章编码", "seal code", _plain),
    ("kind", "类型", "kind", _plain),
    ("template", "模板", "template", _plain),
    ("reference", "文件编号", "number", _plain),
    ("title", "标题", "title", _plain),
    ("purpose", "用途", "purpose", _plain),
    ("copies", "份数", "copies", _plain),
    ("note", "意见", "comment", _plain),
    ("reason", "原因", "reason", _plain),
    ("level", "级别", "level", _plain),
    ("field", "签名域", "field", _plain),
    ("revision", "版本", "revision", _plain),
    ("records", "记录数", "records", _plain),
    ("failures", "连续错误次数", "failures", _plain),
    ("max_uses", "最多次数", "max uses", _plain),
    ("not_after", "截止", "until", _plain),
    ("requires_approval", "需审批", "needs approval", _plain),
    ("scopes", "权限范围", "scopes", _plain),
    ("uscc", "统一社会信用代码", "USCC", _plain),
    ("serial", "证书序列号", "serial", _hash),
    ("document_sha256", "文件摘要", "document SHA-256", _hash),
    ("signed_sha256", "签章后摘要", "sealed SHA-256", _hash),
    ("final_sha256", "最终文件摘要", "final SHA-256", _hash),
    ("subject", "主体", "subject", _plain),
)
_YES_NO = {True: ("是", "yes"), False: ("否", "no")}


def describe(details: str | None, *, lang: str, status_label: Callable[[str], str]) -> str:
    """The details of one audit event as one line; '' when there is nothing to say."""
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    zh = lang != "en"
    parts: list[str] = []
    if data.get("from") and data.get("to"):
        arrow = f"{status_label(str(data['from']))} → {status_label(str(data['to']))}"
        parts.append(("状态 " if zh else "status ") + arrow)
    for key, zh_label, en_label, show in _FIELDS:
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        text = _YES_NO[value][0 if zh else 1] if isinstance(value, bool) else show(value)
        parts.append(f"{zh_label}：{text}" if zh else f"{en_label}: {text}")
    return ("；" if zh else "; ").join(parts)


def pretty_json(details: str | None) -> str:
    try:
        return json.dumps(json.loads(details or "{}"), ensure_ascii=False, indent=2)
    except ValueError:
        return details or ""
