"""Regenerates examples/contract.pdf, the sample contract of the README's tour, with the
project's own document generator (`seals.documents.make_document`): two A4 pages in a CJK
font whose last page carries the keywords 甲方（盖章）： and 乙方（盖章）：, where keyword
placement puts the seals.

    .venv/bin/python examples/make_contract.py
"""

from __future__ import annotations

from pathlib import Path

from seals.documents import make_document
from seals.fonts import find_cjk_font

HERE = Path(__file__).resolve().parent

PARAGRAPHS = (
    "甲方：杭州市某采购中心",
    "乙方：杭州青禾科技有限公司",
    "甲乙双方本着平等自愿、诚实信用的原则，经友好协商，就政务服务平台运维事项订立本合同。",
    "第一条　乙方为甲方提供政务服务平台的日常运维、安全巡检与故障处理服务，服务期限一年。",
    "第二条　合同金额：人民币壹拾贰万元整（¥120,000.00），分两期支付。",
    "第三条　乙方对履行本合同中知悉的政务数据负有保密义务，未经甲方书面同意不得向第三方提供。",
    "第四条　本合同以电子形式订立，双方加盖的电子印章与实物印章具有同等法律效力。",
    "第五条　本合同自双方盖章之日起生效。（以下无正文）",
)


def main() -> None:
    font = find_cjk_font()
    pdf = make_document(
        title="政务服务平台运维服务合同",
        paragraphs=PARAGRAPHS,
        pages=2,
        font_path=font.path,
        font_number=font.index,
    )
    out = HERE / "contract.pdf"
    out.write_bytes(pdf)
    print(f"wrote {out} ({len(pdf)} bytes)")


if __name__ == "__main__":
    main()
