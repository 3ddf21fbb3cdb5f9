"""Problem texts of the requests, accounts and permissions, the PKI and the seals: the first
part of `app.problem_texts.TEXTS` (split for size; the rest and the lookup live there)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    zh_title: str
    zh_hint: str
    en_title: str
    en_hint: str


_ASK_ADMIN_ZH = "请联系本单位的印章管理员"
_ASK_ADMIN_EN = "ask your organization's seal administrator"

BASE_TEXTS: dict[str, Text] = {
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
}
