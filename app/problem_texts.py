"""Problem texts for people: a Chinese and an English title and "what to do next" for every
problem type, chosen by ``Accept-Language`` (the console passes its own language).

The table maps a problem code to `Text`. Placeholders come from the problem's context:
``{seal}`` (the seal's name and code, never its internal id), ``{attempts_left}``,
``{locked_until}`` and ``{retry_after}``; a placeholder without a value falls back to a
neutral phrase ("该印章" / "this seal"), so every entry renders for every problem.

New problem types: add one line here (``tests/app/test_problem_texts.py`` fails for any code
raised by the service that has no entry). Without an ``Accept-Language`` the API keeps the
service's technical English sentence in ``detail``, as it always did.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from app.problem_texts_base import (
    BASE_TEXTS,
    Text,
)
from seals.report_text import LOCAL_TZ

Lang = Literal["zh-CN", "en"]


@dataclass(frozen=True, slots=True)
class Localised:
    title: str
    detail: str
    lang: Lang


TEXTS: dict[str, Text] = {
    **BASE_TEXTS,
    "seal-data-not-found": Text(
        "印章没有电子印章数据",
        "{seal}没有 SM2 证书，因此没有 GB/T 38540 电子印章数据；"
        "请联系平台管理员为其签发 SM2 证书。",
        "No electronic seal data",
        "{seal} has no SM2 certificate and so no GB/T 38540 seal data; ask the platform "
        "administrator to issue it one.",
    ),
    "ses-malformed": Text(
        "电子印章数据无法读取",
        "电子印章数据（GB/T 38540 / GM/T 0031）的结构无法读取，请检查印章数据是否完整。",
        "Unreadable seal data",
        "The electronic seal data (GB/T 38540 / GM/T 0031) cannot be read; check that it is "
        "complete.",
    ),
    # --- documents, placement, signing ------------------------------------------------------
    "not-a-pdf": Text(
        "不是 PDF 文件",
        "请上传 PDF 格式的文件。",
        "Not a PDF",
        "Upload a PDF file.",
    ),
    "damaged-pdf": Text(
        "PDF 文件已损坏",
        "文件无法读取，请用原软件重新导出 PDF 后上传。",
        "Damaged PDF",
        "The file cannot be read; export the PDF again and upload it.",
    ),
    "encrypted-pdf": Text(
        "PDF 文件已加密",
        "请先取消文件的打开密码或权限限制，再上传盖章。",
        "Encrypted PDF",
        "Remove the file's password or restrictions, then upload it.",
    ),
    "invalid-placement": Text(
        "盖章位置有误",
        "请检查盖章位置参数：页码从 1 开始，坐标以毫米计、从页面左上角量起。",
        "Invalid placement",
        "Check the placement: pages count from 1, coordinates are millimetres from the "
        "page's top-left corner.",
    ),
    "page-out-of-range": Text(
        "页码超出范围",
        "所选页码不在文件页数之内（页码从 1 开始），请重新选择。",
        "Page out of range",
        "The page is not in the document (pages count from 1); choose another.",
    ),
    "placement-outside-page": Text(
        "印章超出页面",
        "按所选位置盖章，印章会超出页面可见区域，请把位置向页面内侧移动。",
        "Seal outside the page",
        "At that position the seal would leave the page; move it inwards.",
    ),
    "keyword-not-found": Text(
        "文件中找不到关键字",
        "文件中没有找到指定的关键字（例如“乙方（盖章）”），请核对关键字或改用坐标定位。",
        "Keyword not found",
        "The keyword (e.g. 乙方（盖章）) is not in the document; check it or place the seal "
        "by coordinates.",
    ),
    "invalid-appearance": Text(
        "印章外观无法生成",
        "印章图片无法放到文件上，请重新上传印模或联系印章管理员。",
        "Seal appearance failed",
        "The seal image cannot be placed on the document; re-upload it or ask the seal "
        "administrator.",
    ),
    "missing-signing-input": Text(
        "缺少盖章所需内容",
        "请同时提供 PDF 文件和盖章位置。",
        "Missing signing input",
        "Send both the PDF and the placement.",
    ),
    "signing-failed": Text(
        "盖章失败",
        "文件未能完成盖章，原文件没有改变。请检查文件后重试。",
        "Signing failed",
        "The document was not sealed and is unchanged; check it and try again.",
    ),
    "unsupported-signature-format": Text(
        "不支持的签名格式",
        "本服务不支持所请求的签名格式，请改用支持的格式（目前为 pades）。",
        "Unsupported signature format",
        "This service does not produce the requested signature format; use a supported one "
        "(currently pades).",
    ),
    "document-locked": Text(
        "文件已锁定，不能再盖章",
        "该文件带有禁止修改的认证签名，不能再加盖印章。请使用未认证的原始文件。",
        "Document locked",
        "A certification signature forbids further changes; use the uncertified original.",
    ),
    "certification-not-first": Text(
        "认证签名必须是第一个签名",
        "文件已有签名，不能再加认证签名；请改用普通签名。",
        "Certification must come first",
        "The document is already signed; use an ordinary signature.",
    ),
    "field-name-taken": Text(
        "签名域名称已被占用",
        "文件中已有同名的签名域，请换一个名称或使用原始文件。",
        "Field name taken",
        "The document already has a signature field of that name; choose another.",
    ),
    "signer-not-valid": Text(
        "签名证书暂不可用",
        "印章的证书此刻无法通过状态检查，请稍后重试；如持续失败，请联系平台运维人员。",
        "Signer not valid",
        "The seal's certificate does not pass its status check now; try again later.",
    ),
    "timestamp-failed": Text(
        "时间戳服务暂不可用",
        "未能取得可信时间戳，文件没有改变。请稍后重试，或暂时选择 B-B 级别。",
        "Time-stamp failed",
        "No trusted time-stamp could be obtained; nothing changed. Try again later or use "
        "level B-B.",
    ),
    "report-pdf-failed": Text(
        "验证报告生成失败",
        "暂时无法生成 PDF 验证报告，请稍后重试或在网页上查看结果。",
        "Report PDF failed",
        "The PDF report cannot be produced now; try again or read the result on the page.",
    ),
    "thumbnail-failed": Text(
        "页面预览生成失败",
        "暂时无法显示页面预览，不影响盖章与验证，请稍后刷新。",
        "Preview failed",
        "Page previews cannot be shown now; sealing and verification are unaffected.",
    ),
    "invalid-template-data": Text(
        "模板数据有误",
        "请按模板的数据格式（GET /api/v1/templates 中的 data_schema）补全或修改字段。",
        "Invalid template data",
        "Complete or correct the fields as the template's data_schema (GET "
        "/api/v1/templates) describes.",
    ),
    "document-generation-failed": Text(
        "文件生成失败",
        "文件未能生成，请检查模板数据后重试。",
        "Document generation failed",
        "The document could not be produced; check the data and try again.",
    ),
    "document-number-taken": Text(
        "文件编号已被使用",
        "本单位已经出具过相同编号的文件（例如保函编号），请使用新的编号。",
        "Document number taken",
        "Your organization already issued a document with this number; use a new one.",
    ),
    # --- envelopes --------------------------------------------------------------------------
    "envelope-error": Text(
        "签署流程出错",
        "签署流程未能处理此操作，请刷新页面查看流程的最新状态。",
        "Envelope error",
        "The envelope could not take this step; reload to see its state.",
    ),
    "invalid-envelope": Text(
        "签署流程内容有误",
        "请检查签署方（单位、印章、盖章位置）是否填写完整后重新提交。",
        "Invalid envelope",
        "Check each participant (organization, seal, placement) and submit again.",
    ),
    "envelope-not-found": Text(
        "未找到签署流程",
        "该签署流程不存在，或您不是它的发起方或签署方。",
        "Envelope not found",
        "No such envelope, or you take no part in it.",
    ),
    "envelope-state-conflict": Text(
        "签署流程状态不允许此操作",
        "签署流程已完成、已取消或已被拒签，请刷新页面查看最新状态。",
        "Envelope state conflict",
        "The envelope is completed, cancelled or declined; reload to see it.",
    ),
    "envelope-expired": Text(
        "签署流程已过期",
        "签署流程已超过截止时间，请发起方重新发起。",
        "Envelope expired",
        "The envelope passed its deadline; the sender starts a new one.",
    ),
    "envelope-not-your-turn": Text(
        "还没轮到您签署",
        "按签署顺序，前面的签署方尚未完成，请等待通知后再签署。",
        "Not your turn",
        "Earlier participants have not signed yet; wait for your turn.",
    ),
    "envelope-revision-stale": Text(
        "文件已有新版本",
        "您查看后文件又被他人签署，请刷新页面查看最新版本后再签署。",
        "Newer revision",
        "Someone signed after you looked; reload to review the latest revision.",
    ),
}

_FALLBACK: dict[Lang, dict[str, str]] = {
    "zh-CN": {
        "seal": "该印章",
        "attempts_left": "若干",
        "locked_until": "锁定期满时",
        "retry_after": "数",
    },
    "en": {
        "seal": "this seal",
        "attempts_left": "a few",
        "locked_until": "the end of the lock",
        "retry_after": "a few",
    },
}


def negotiate(accept_language: str | None) -> Lang | None:
    """The language of the highest-weighted ``zh*`` or ``en*`` range, None when neither is
    asked for (RFC 9110 §12.5.4 weights; ``*`` counts as Chinese)."""
    if not accept_language:
        return None
    best: tuple[float, int, Lang] | None = None
    for index, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        weight = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                continue
        lang: Lang | None = None
        if tag.startswith("zh") or tag == "*":
            lang = "zh-CN"
        elif tag.startswith("en"):
            lang = "en"
        if lang is None or weight <= 0:
            continue
        if best is None or (weight, -index) > (best[0], -best[1]):
            best = (weight, index, lang)
    return best[2] if best else None


def seal_label(lang: Lang, *, name: str | None, code: str | None) -> str | None:
    """How a message names a seal: its name and code, e.g. 杭州某公司合同专用章（编码 330…）."""
    if not name and not code:
        return None
    if lang == "zh-CN":
        return f"“{name}”（编码 {code}）" if name and code else f"“{name or code}”"
    return f"“{name}” (code {code})" if name and code else f"“{name or code}”"


class _Values(dict[str, Any]):
    def __init__(self, values: Mapping[str, Any], fallback: Mapping[str, str]) -> None:
        super().__init__({k: v for k, v in values.items() if v not in (None, "")})
        self.fallback = fallback

    def __missing__(self, key: str) -> str:
        return self.fallback.get(key, "")


def localise(
    code: str, status: int, lang: Lang, context: Mapping[str, Any] | None = None
) -> Localised:
    """Title and detail of problem `code` in `lang`; an unknown code falls back to the text
    of its HTTP status family."""
    text = TEXTS.get(code) or TEXTS.get(_STATUS_FALLBACK.get(status, "error"), TEXTS["error"])
    values = _Values(context or {}, _FALLBACK[lang])
    hint = text.zh_hint if lang == "zh-CN" else text.en_hint
    detail = string.Formatter().vformat(hint, (), values)
    title = text.zh_title if lang == "zh-CN" else text.en_title
    return Localised(title=title, detail=detail, lang=lang)


_STATUS_FALLBACK = {
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    413: "payload-too-large",
    422: "invalid-input",
    429: "rate-limited",
    500: "internal-error",
    503: "overloaded",
    507: "insufficient-storage",
}


def local_time(iso: str) -> str:
    """An ISO 8601 instant as people in China read it: 2026-05-01 14:30 (UTC+08:00)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M (UTC+08:00)")
