"""pyhanko's form-difference rule, reading partial field names that contain periods.

ISO 32000-1 12.7.3.2 says a partial name (/T) "shall not contain a period", yet real producers
write them (Word and several signing tools name fields "Signature1.0", "amount.total"): every
mainstream reader opens those documents, and EU DSS validates their signatures. pyhanko's
`FormUpdatingRule` refuses the whole difference analysis instead ("Partial names must not
contain periods"), so any signature followed by another revision could not be judged at all.

The rule here is pyhanko's (0.38, `pyhanko.sign.diff_analysis.form_rules_api`), with one
change in how fields are listed: a period in a partial name is accepted, the fully qualified
name is still the parent's name, a period and the partial name, and what the period check
protected against - two different fields with the same fully qualified name, which would
let an update of one pass as the other (and make field locks ambiguous) - is refused
explicitly: such a clash in the signed revision makes the analysis fail (the signature stays
INDETERMINATE), a clash that a later revision introduces is a suspicious modification.
Every field rule (signature-field creation, value changes, locks) then runs unchanged, and
only its updates of objects the revision actually wrote are kept (see `apply`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    FieldComparisonContext,
    FieldComparisonSpec,
    FormUpdate,
    FormUpdatingRule,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.diff_analysis.commons import (
    compare_dicts,
    compare_key_refs,
    qualify_transforming,
)
from pyhanko.sign.diff_analysis.rules_api import Context

_Entry = tuple[generic.PdfObject | None, generic.Reference, generic.ArrayObject, int]
_MAX_DEPTH = 32  # field trees deeper than this are not a form anyone fills


def _resolved(value: generic.PdfObject | None) -> generic.PdfObject | None:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _level(lst: generic.PdfObject | None, exc: type[Exception]) -> dict[str, _Entry]:
    """One level of a field tree: partial name -> (field type, reference, kids, index)."""
    if not isinstance(lst, generic.ArrayObject):
        raise exc("Field list is not an array.")
    out: dict[str, _Entry] = {}
    for ix, field_ref in enumerate(lst):
        if not isinstance(field_ref, generic.IndirectObject):
            raise exc("Fields must be indirect objects")
        field = field_ref.get_object()
        if not isinstance(field, generic.DictionaryObject):
            raise exc("Fields must be dictionary objects")
        try:
            name = field.raw_get("/T")
        except KeyError:
            continue  # a widget without a name of its own
        if not isinstance(name, generic.TextStringObject | generic.ByteStringObject):
            raise exc("Names must be strings")
        if str(name) in out:
            raise exc("Duplicate field name")
        # /Kids and /FT may be objects of their own (legal, and written by some producers)
        kids = _resolved(field.get("/Kids", generic.ArrayObject()))
        if not isinstance(kids, generic.ArrayObject):
            raise exc("Kids must be an array")
        out[str(name)] = (_resolved(field.get("/FT")), field_ref.reference, kids, ix)
    return out


def qualified_names(fields: generic.PdfObject | None, exc: type[Exception]) -> list[str]:
    """Every fully qualified name in one revision's field tree, in tree order."""
    names: list[str] = []

    def walk(lst: generic.PdfObject | None, parent: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise exc("Field tree too deep")
        for name, (_ft, _ref, kids, _ix) in _level(lst, exc).items():
            fq = f"{parent}.{name}" if parent else name
            names.append(fq)
            if kids:
                walk(kids, fq, depth + 1)

    walk(fields, "", 0)
    return names


def _clashes(names: list[str]) -> set[str]:
    seen: set[str] = set()
    return {n for n in names if n in seen or seen.add(n)}  # type: ignore[func-returns-value]


def list_fields(
    old_fields: generic.PdfObject | None,
    new_fields: generic.PdfObject | None,
    old_path: RawPdfPath | None,
    parent_name: str = "",
    inherited_ft: generic.PdfObject | None = None,
) -> Generator[tuple[str, FieldComparisonSpec], None, None]:
    """pyhanko's `_list_fields` without the period refusal (callers check for clashes)."""
    old_by_name = _level(old_fields, misc.PdfReadError)
    new_by_name = _level(new_fields, SuspiciousModification)
    for name in sorted(old_by_name.keys() | new_by_name.keys()):
        fq = f"{parent_name}.{name}" if parent_name else name
        old_ft, old_ref, old_kids, index = old_by_name.get(name, (None, None, None, None))
        new_ft, new_ref, new_kids, _ = new_by_name.get(name, (None, None, None, None))
        old_ft = old_ft if old_ft is not None else (inherited_ft if old_ref else None)
        new_ft = new_ft if new_ft is not None else (inherited_ft if new_ref else None)
        for ref, ft, kids in ((old_ref, old_ft, old_kids), (new_ref, new_ft, new_kids)):
            if ref is not None and not kids and ft is None:
                raise (SuspiciousModification if ref is new_ref else misc.PdfReadError)(
                    f"Field type of terminal field {fq!r} could not be determined"
                )
        if old_ref and new_ref and new_ft != old_ft:
            raise SuspiciousModification(f"Update changed field type of {fq}")
        common_ft = old_ft or new_ft
        path = old_path + index if index is not None and old_path is not None else None
        spec = FieldComparisonSpec(
            field_type=common_ft,  # type: ignore[arg-type]
            old_field_ref=old_ref,
            new_field_ref=new_ref,
            old_canonical_path=path,
        )
        yield fq, spec
        if old_kids or new_kids:
            yield from list_fields(
                old_kids or generic.ArrayObject(),
                new_kids or generic.ArrayObject(),
                parent_name=fq,
                old_path=path + "/Kids" if path is not None else None,
                inherited_ft=common_ft,
            )


class FieldNameAwareFormRule(FormUpdatingRule):
    """`FormUpdatingRule` that reads partial names with periods (see the module doc)."""

    def apply(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, FormUpdate]]:
        acroform_context = Context.from_absolute(old, RawPdfPath("/Root", "/AcroForm"))
        old_acroform, new_acroform = yield from qualify_transforming(
            ModificationLevel.LTA_UPDATES,
            compare_key_refs("/AcroForm", old, old.root, new.root),
            transform=FormUpdate.curry_ref(field_name=None, context_checked=acroform_context),
        )
        compare_dicts(old_acroform, new_acroform, self.ignored_acroform_keys)
        assert isinstance(old_acroform, generic.DictionaryObject)
        assert isinstance(new_acroform, generic.DictionaryObject)
        fields_path = RawPdfPath("/Root", "/AcroForm", "/Fields")
        old_fields, new_fields = yield from qualify_transforming(
            ModificationLevel.LTA_UPDATES,
            compare_key_refs("/Fields", old, old_acroform, new_acroform),
            transform=FormUpdate.curry_ref(
                field_name=None, context_checked=Context.from_absolute(old, fields_path)
            ),
        )
        # Acrobat rewrites the default resources when it fills or signs (pyhanko's handling).
        dr_context = Context.from_absolute(old, RawPdfPath("/Root", "/AcroForm", "/DR"))
        _old_dr, new_dr = yield from qualify_transforming(
            ModificationLevel.FORM_FILLING,
            compare_key_refs("/DR", old, old_acroform, new_acroform),
            transform=FormUpdate.curry_ref(field_name=None, context_checked=dr_context),
        )
        if new_dr is not None:
            dr_deps = new.collect_dependencies(new_dr, since_revision=old.revision + 1)
            yield from qualify_transforming(
                ModificationLevel.FORM_FILLING,
                misc._as_gen(dr_deps),
                transform=FormUpdate.curry_ref(field_name=None),
            )
        old_clash = _clashes(qualified_names(old_fields, misc.PdfReadError))
        if old_clash:
            raise misc.PdfReadError(f"Two fields share the name {sorted(old_clash)[0]!r}")
        new_clash = _clashes(qualified_names(new_fields, SuspiciousModification))
        if new_clash:
            raise SuspiciousModification(
                f"An update gave two fields the name {sorted(new_clash)[0]!r}"
            )
        context = FieldComparisonContext(
            field_specs=dict(list_fields(old_fields, new_fields, old_path=fields_path)),
            old=old,
            new=new,
        )
        # pyhanko's in-place appearance rule also names a field whose appearance stream the
        # revision did not touch (it compares the stream's last change with the signed
        # revision, not the new one), so an untouched filled field counted as "changed" - and
        # as a lock violation when locked - whenever a later signature was added. An update
        # of a reference the revision did not write changes nothing: it is left out.
        written = new.explicit_refs_in_revision()
        for rule in self.field_rules:
            for level, update in rule.apply(context):
                if update.updated_ref in written:
                    yield level, update


def field_name_aware_form_rule() -> FieldNameAwareFormRule:
    """The default policy's form rule (same field rules and exempt keys), period-tolerant."""
    default = DEFAULT_DIFF_POLICY.form_rule
    assert default is not None
    return FieldNameAwareFormRule(
        field_rules=default.field_rules, ignored_acroform_keys=default.ignored_acroform_keys
    )
