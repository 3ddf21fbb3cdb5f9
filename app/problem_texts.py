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
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

Lang = Literal["zh-CN", "en"]


@dataclass(frozen=True, slots=True)
class Text:
    zh_title: str
    zh_hint: str
    en_title: str
    en_hint: str


@dataclass(frozen=True, slots=True)
class Localised:
    title: str
    detail: str
    lang: Lang


_ASK_ADMIN_ZH = "请联系本单位的印章管理员"
_ASK_ADMIN_EN = "ask your organization's seal administrator"

TEXTS: dict[str, Text] = {
    # --- requests, accounts, permissions -------------------------------------------------------
    "error": Text(
        "出错了", "请求未能完成，请稍后重试。", "Error", "The request failed; try again."
    ),
    "not-authenticated": Text(
        "未登录或密钥无效",
        "请重新登录控制台；接口调用请在 Authorization 头中携带有效的 API 密钥（Bearer）。",
        "Not signed in",
        "Sign in to the console again; API calls need a valid key in the Authorization "
        "header (Bearer).",
    ),
    "forbidden": Text(
        "没有权限",
        f"您的账号或密钥没有执行此操作的权限，{_ASK_ADMIN_ZH}为您授予相应角色或权限范围。",
        "Not allowed",
        f"Your account or key lacks the permission for this; {_ASK_ADMIN_EN} for the role or "
        "scope.",
    ),
    "not-found": Text(
        "未找到",
        "要找的对象不存在，或不属于您所在的单位。请检查链接或编号后重试。",
        "Not found",
        "It does not exist or belongs to another organization; check the link or number.",
    ),
    "conflict": Text(
        "与现有数据冲突",
        "相同的对象已经存在，或刚被他人修改。请刷新页面查看最新状态后再操作。",
        "Conflict",
        "It already exists or was just changed by someone else; reload and try again.",
    ),
    "invalid-input": Text(
        "填写的内容有误",
        "请求中有字段缺失或格式不对，请对照接口文档（/docs）或页面提示修改后重新提交。",
        "Invalid input",
        "A field is missing or malformed; correct it (see /docs) and submit again.",
    ),
    "payload-too-large": Text(
        "文件太大",
        "上传的文件超过了平台允许的大小，请压缩或拆分文件后重新上传。",
        "File too large",
        "The upload exceeds the size limit; compress or split the file and try again.",
    ),
    "rate-limited": Text(
        "请求过于频繁",
        "请在 {retry_after} 秒后再试。",
        "Too many requests",
        "Try again in {retry_after} seconds.",
    ),
    "method-not-allowed": Text(
        "不支持的请求方法",
        "该地址不支持这种请求方法，请对照接口文档（/docs）使用正确的方法。",
        "Method not allowed",
        "This address does not accept that method; see /docs.",
    ),
    "unsupported-media-type": Text(
        "不支持的文件类型",
        "请按接口要求的格式上传（例如 application/pdf 或 multipart/form-data）。",
        "Unsupported media type",
        "Send the format the endpoint expects (e.g. application/pdf or multipart/form-data).",
    ),
    "http-error": Text(
        "请求未能完成",
        "请检查地址与参数后重试。",
        "Request failed",
        "Check the address and parameters, then try again.",
    ),
    "internal-error": Text(
        "服务内部错误",
        "服务出现意外错误，操作未生效。请稍后重试；如仍失败，请将请求编号提供给平台运维人员。",
        "Internal error",
        "Nothing was changed. Try again later; if it keeps failing, give the request id to "
        "the platform operators.",
    ),
    # --- PKI --------------------------------------------------------------------------------
    "pki-error": Text(
        "证书服务出错",
        "证书操作未能完成，请稍后重试或联系平台运维人员。",
        "Certificate service error",
        "The certificate operation failed; try again or contact the platform operators.",
    ),
    "invalid-identifier": Text(
        "证件号码或信用代码不正确",
        "请核对统一社会信用代码（18 位）或居民身份证号码，包括最后一位校验码。",
        "Invalid identifier",
        "Check the unified social credit code (18 characters) or resident ID number, "
        "including its check character.",
    ),
    "invalid-certificate-request": Text(
        "证书申请内容有误",
        "请检查证书申请中的名称、有效期和密钥算法后重新提交。",
        "Invalid certificate request",
        "Check the names, validity and key algorithm of the request and submit again.",
    ),
    "certificate-not-found": Text(
        "未找到证书",
        "该证书不存在或不属于您所在的单位，请在“证书”页面查看本单位的证书。",
        "Certificate not found",
        "No such certificate in your organization; see the Certificates page.",
    ),
    "certificate-already-revoked": Text(
        "证书已吊销",
        "该证书此前已被吊销，无需再次操作；如需继续用印，请为印章签发新证书。",
        "Certificate already revoked",
        "It was revoked before; issue a new certificate if the seal is still needed.",
    ),
    "ca-not-initialised": Text(
        "平台尚未初始化",
        "证书颁发机构尚未建立，请平台运维人员先运行 eseal init。",
        "Platform not initialised",
        "The certificate authority does not exist yet; operators run `eseal init` first.",
    ),
    "keystore-error": Text(
        "密钥库不可用",
        "无法解开签名密钥，请平台运维人员检查主密钥（ESEAL_MASTER_KEY）是否正确。",
        "Key store unavailable",
        "A signing key cannot be unlocked; operators check the master key (ESEAL_MASTER_KEY).",
    ),
    "crl-error": Text(
        "吊销列表生成失败",
        "暂时无法生成证书吊销列表，请稍后重试或联系平台运维人员。",
        "CRL failed",
        "The revocation list cannot be produced now; try again or contact the operators.",
    ),
    "ocsp-malformed-request": Text(
        "证书状态查询请求格式有误",
        "请使用标准的 OCSP 客户端（例如 openssl ocsp）发送请求。",
        "Malformed OCSP request",
        "Send a standard OCSP request (e.g. with openssl ocsp).",
    ),
    "ocsp-config-error": Text(
        "证书状态服务配置有误",
        "请平台运维人员检查 OCSP 签名证书。",
        "OCSP misconfigured",
        "Operators check the OCSP signing certificate.",
    ),
    "tsa-config-error": Text(
        "时间戳服务配置有误",
        "请平台运维人员检查时间戳服务证书。",
        "TSA misconfigured",
        "Operators check the time-stamping certificate.",
    ),
    "unknown-ca": Text(
        "未知的证书颁发机构",
        "请求的颁发机构不存在；可用的有 root、organization、personal。",
        "Unknown CA",
        "No such CA; use root, organization or personal.",
    ),
    # --- seals ------------------------------------------------------------------------------
    "seal-error": Text(
        "印章操作未完成",
        f"请检查{{seal}}的状态后重试，或{_ASK_ADMIN_ZH}。",
        "Seal operation failed",
        f"Check the state of {{seal}} and try again, or {_ASK_ADMIN_EN}.",
    ),
    "invalid-seal-image": Text(
        "印章图片不可用",
        "请上传透明背景的 PNG 或 JPEG 印模图片（红色印文，尺寸不小于 300×300 像素）。",
        "Seal image not usable",
        "Upload a PNG or JPEG of the seal (red on a transparent background, at least "
        "300×300 pixels).",
    ),
    "seal-render-failed": Text(
        "无法生成印模",
        "印文中有字体无法显示的字符，请检查单位名称或印章名称中的生僻字。",
        "Seal image cannot be drawn",
        "The text contains characters the font cannot draw; check rare characters in the name.",
    ),
    "seal-font-unavailable": Text(
        "缺少中文字体",
        "服务器上没有可用的中文字体，请平台运维人员安装 Noto CJK 字体或设置 ESEAL_SEAL_FONT。",
        "No CJK font",
        "The server has no usable CJK font; operators install Noto CJK or set ESEAL_SEAL_FONT.",
    ),
    "invalid-seal-request": Text(
        "印章请求内容有误",
        "请检查填写的内容（例如 PIN 须为 6 至 12 位数字，且不能是重复或连续数字）后重新提交。",
        "Invalid seal request",
        "Check what was entered (a PIN is 6 to 12 digits, not repeated or consecutive) and "
        "submit again.",
    ),
    "seal-not-found": Text(
        "未找到印章",
        "该印章不存在或不属于您所在的单位，请在“印章”页面查看本单位的印章。",
        "Seal not found",
        "No such seal in your organization; see the Seals page.",
    ),
    "seal-grant-not-found": Text(
        "未找到用印授权",
        "该授权不存在或已被删除，请在印章详情页查看当前的授权。",
        "Grant not found",
        "No such grant; see the seal's page for its current grants.",
    ),
    "seal-usage-request-not-found": Text(
        "未找到用印申请",
        "该用印申请不存在或不属于您所在的单位，请在“用印审批”页面查看。",
        "Usage request not found",
        "No such usage request in your organization; see the Approvals page.",
    ),
    "seal-conflict": Text(
        "与印章当前状态冲突",
        "{seal}的当前状态不允许此操作，请刷新页面查看最新状态。",
        "Conflicts with the seal's state",
        "The current state of {seal} does not allow this; reload to see it.",
    ),
    "seal-illegal-transition": Text(
        "印章状态不能这样变更",
        "{seal}当前的状态不能变更为所选状态（例如已注销的印章不能恢复），请刷新页面查看。",
        "Status change not allowed",
        "{seal} cannot move to that status from its current one (a revoked seal stays "
        "revoked); reload to see it.",
    ),
    "seal-use-refused": Text(
        "不能使用该印章",
        f"{{seal}}暂时不能用于此文件，{_ASK_ADMIN_ZH}。",
        "Seal use refused",
        f"{{seal}} cannot be used for this document now; {_ASK_ADMIN_EN}.",
    ),
    "seal-not-active": Text(
        "印章未启用或已停用",
        f"{{seal}}目前不是启用状态（待启用、已挂起或已注销），不能用印。{_ASK_ADMIN_ZH}启用或恢复。",
        "Seal not active",
        f"{{seal}} is not active (pending, suspended or revoked); {_ASK_ADMIN_EN} to "
        "activate or reactivate it.",
    ),
    "seal-outside-validity": Text(
        "印章不在有效期内",
        f"{{seal}}尚未生效或已过期，{_ASK_ADMIN_ZH}重新制发印章。",
        "Seal outside its validity",
        f"{{seal}} is not yet valid or has expired; {_ASK_ADMIN_EN} for a new seal.",
    ),
    "seal-certificate-invalid": Text(
        "印章证书不可用",
        f"{{seal}}的数字证书已吊销、过期或缺失，{_ASK_ADMIN_ZH}为印章更新证书。",
        "Seal certificate not usable",
        f"The certificate of {{seal}} is revoked, expired or missing; {_ASK_ADMIN_EN} to renew it.",
    ),
    "seal-grant-missing": Text(
        "没有该印章的用印授权",
        f"您尚未获得{{seal}}的用印授权，{_ASK_ADMIN_ZH}在印章详情页为您添加授权，"
        "或在“用印审批”页面提交用印申请。",
        "No grant for this seal",
        f"You hold no grant for {{seal}}; {_ASK_ADMIN_EN} to add one on the seal's page, or "
        "file a usage request on the Approvals page.",
    ),
    "seal-grant-outside-window": Text(
        "授权不在有效时段内",
        f"您对{{seal}}的授权尚未开始或已经结束，{_ASK_ADMIN_ZH}调整授权时段。",
        "Grant outside its time window",
        f"Your grant for {{seal}} has not started or has ended; {_ASK_ADMIN_EN} to adjust it.",
    ),
    "seal-grant-document-type": Text(
        "授权不含此类文件",
        f"您对{{seal}}的授权只限于特定文件类型，不包括本文件，{_ASK_ADMIN_ZH}扩大授权范围。",
        "Grant does not cover this document type",
        f"Your grant for {{seal}} is limited to other document types; {_ASK_ADMIN_EN} to widen it.",
    ),
    "seal-grant-exhausted": Text(
        "授权次数已用完",
        f"您对{{seal}}的授权次数已经用完，{_ASK_ADMIN_ZH}重新授权。",
        "Grant used up",
        f"Your grant for {{seal}} has no uses left; {_ASK_ADMIN_EN} for a new grant.",
    ),
    "seal-not-owner": Text(
        "只有本人可以使用个人印章",
        "{seal}是个人签名章，只有持有人本人可以使用。",
        "Only the owner may use this seal",
        "{seal} is a personal seal; only its owner can use it.",
    ),
    "seal-approval-required": Text(
        "需要先申请用印",
        "{seal}每次使用都需审批：请在“用印审批”页面为本文件提交用印申请，审批通过后再盖章。",
        "Approval required",
        "Every use of {seal} needs approval: file a usage request for this document on the "
        "Approvals page, then seal it once approved.",
    ),
    "seal-approval-pending": Text(
        "用印申请待审批",
        "本文件使用{seal}的申请尚在审批中，请等待审批人处理后再盖章。",
        "Approval pending",
        "The request to use {seal} on this document awaits a decision; seal it once approved.",
    ),
    "seal-approval-rejected": Text(
        "用印申请已被驳回",
        "本文件使用{seal}的申请已被驳回，请查看驳回意见，修改文件后重新提交申请。",
        "Approval rejected",
        "The request to use {seal} on this document was rejected; read the comment, revise "
        "the document and file a new request.",
    ),
    "seal-approval-consumed": Text(
        "审批已使用",
        "本次审批已用于盖章，同一份审批不能重复使用。如需再次用印，请重新提交申请。",
        "Approval already used",
        "This approval was already used; file a new request to seal again.",
    ),
    "seal-pin-required": Text(
        "需要输入 PIN",
        "使用{seal}需要输入持有人的 PIN，请填写后重试。",
        "PIN required",
        "Using {seal} needs its owner's PIN; enter it and try again.",
    ),
    "seal-pin-not-set": Text(
        "尚未设置 PIN",
        "{seal}还没有设置 PIN，请持有人先在印章详情页设置 PIN。",
        "No PIN set",
        "{seal} has no PIN yet; its owner sets one on the seal's page first.",
    ),
    "seal-pin-wrong": Text(
        "PIN 不正确",
        "{seal}的 PIN 不正确，还可再试 {attempts_left} 次，连续输错将锁定印章。",
        "Wrong PIN",
        "Wrong PIN for {seal}; {attempts_left} attempts left before it locks.",
    ),
    "seal-self-approval": Text(
        "不能审批自己的申请",
        "用印申请须由申请人以外的审批人处理，请联系其他审批人。",
        "Cannot approve your own request",
        "Someone other than the requester must decide; ask another approver.",
    ),
    "overloaded": Text(
        "服务繁忙",
        "当前处理能力已满，请在 {retry_after} 秒后重试；批量业务请分批提交。",
        "Service busy",
        "Every worker is busy; try again in {retry_after} seconds and spread bulk work out.",
    ),
    "document-too-complex": Text(
        "文档过于复杂，无法处理",
        "文档超出了本服务的处理限制（页数、对象数、解压后大小或页面尺寸）。"
        "请先用常用软件另存为普通 PDF 再提交。",
        "Document too complex",
        "The document exceeds a processing limit (pages, objects, decompressed size or page "
        "size); save it as an ordinary PDF and submit it again.",
    ),
    "document-too-large": Text(
        "文件过大",
        "上传的材料超过了大小限制，请压缩或拆分后重新上传。",
        "File too large",
        "The uploaded file exceeds the size limit; compress or split it and upload again.",
    ),
    "unsupported-document": Text(
        "不支持的文件类型",
        "申请材料只接受 PDF、PNG 或 JPEG 文件，请转换格式后重新上传。",
        "Unsupported file",
        "Supporting documents must be PDF, PNG or JPEG; convert the file and upload again.",
    ),
    "application-state": Text(
        "申请当前状态不允许此操作",
        "该制章申请已被处理或正在等待对方处理，请刷新页面查看最新状态。",
        "Not possible in the application's state",
        "The seal application was already decided or awaits the other side; reload to see "
        "its state.",
    ),
    "delivery-state": Text(
        "送达当前状态不允许此操作",
        "该文书已签收或已撤回，请刷新页面查看最新状态。",
        "Not possible in the delivery's state",
        "The document was already acknowledged or withdrawn; reload to see its state.",
    ),
    "delivery-link-invalid": Text(
        "送达链接无效",
        "该链接已使用、已过期或不存在，请联系送达机关重新发送。",
        "Delivery link not valid",
        "The link was used, has expired or does not exist; ask the sending agency to send it "
        "again.",
    ),
    "licence-holder-mismatch": Text(
        "营业执照与登记信息不一致",
        "执照上的名称或统一社会信用代码与本平台登记的企业不一致，请核对后重新提交。",
        "Licence does not match the registration",
        "The licence's name or credit code differs from the registered enterprise; check "
        "them and submit again.",
    ),
    "timestamp-token-invalid": Text(
        "时间戳无效",
        "时间戳令牌无法解析或与数据不符，请重新生成证据包后再核验。",
        "Time-stamp token not valid",
        "The time-stamp token cannot be read or does not match the data; export the package "
        "again and check it.",
    ),
    "database-unavailable": Text(
        "数据库暂时不可用",
        "服务暂时无法访问数据库，请在 {retry_after} 秒后重试；持续出现请联系平台运维。",
        "Database unavailable",
        "The service cannot reach its database now; try again in {retry_after} seconds and "
        "tell the operators if it persists.",
    ),
    "storage-unavailable": Text(
        "存储暂时不可用",
        "服务暂时无法写入存储，请稍后重试；持续出现请联系平台运维。",
        "Storage unavailable",
        "The service cannot write to its storage now; try later and tell the operators if "
        "it persists.",
    ),
    "insufficient-storage": Text(
        "存储空间已满",
        "服务的存储空间已满，本次操作未保存任何内容。请联系平台运维扩容后重试。",
        "Storage full",
        "The service's storage is full and nothing of this request was kept; ask the "
        "operators to add space, then try again.",
    ),
    "seal-locked": Text(
        "印章已临时锁定",
        "{seal}因多次输错 PIN 已锁定，将于 {locked_until} 自动解锁，届时请再试。",
        "Seal locked",
        "{seal} is locked after too many wrong PINs; it unlocks at {locked_until}.",
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


_BEIJING = timezone(timedelta(hours=8))


def local_time(iso: str) -> str:
    """An ISO 8601 instant as people in China read it: 2026-05-01 14:30 (UTC+08:00)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M (UTC+08:00)")
