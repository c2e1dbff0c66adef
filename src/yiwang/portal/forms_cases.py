"""Forms of the case pages. They only give the input its shape (which boxes, which widgets); every rule
(required fields, formats, ID numbers, materials, states) is the cases services' and their errors are
put back on the fields here (``show_error``)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.cases.models import SPECIAL_PROCEDURE_KINDS, DeliveryMethod
from yiwang.cases.services import allowed_formats
from yiwang.catalog.forms_schema import prefilled_fields, value_limit
from yiwang.catalog.models import ItemVersion, MaterialRequirement
from yiwang.core.errors import YiwangError
from yiwang.core.fields import FREE_TEXT_MAX_LENGTH
from yiwang.identity.selectors import MASKED_PREFILL

FIELD_PREFIX = "f_"
OFFER_PREFIX = "offer_"
MATERIAL_PREFIX = "material_"
EXTRA_PREFIX = "extra_"

_TEXT_INPUTS = {
    "id_number": {"autocomplete": "off", "spellcheck": "false"},
    "uscc": {"autocomplete": "off", "spellcheck": "false"},
    "phone": {"inputmode": "tel", "autocomplete": "tel"},
}


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class ServiceErrorsMixin:
    """Puts a business error's messages on the fields they name, the rest in the summary."""

    def field_for(self, key: str) -> str | None:
        return key if key in self.fields else None

    def show_error(self, exc: YiwangError) -> None:
        errors = exc.errors if isinstance(exc.errors, dict) else {}
        if not errors and exc.field:
            errors = {exc.field: exc.message}
        placed = False
        for key, message in errors.items():
            name = self.field_for(str(key))
            if name:
                self.add_error(name, message)
                placed = True
        if not placed or isinstance(exc.errors, list):
            for message in exc.errors if isinstance(exc.errors, list) else [exc.message]:
                self.add_error(None, message)
        self.service_message = exc.message

    @property
    def summary(self) -> list[tuple[str, str]]:
        """(field id or "", message) for the error summary at the top of the page."""
        out = [("", str(e)) for e in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == forms.forms.NON_FIELD_ERRORS:
                continue
            out.extend((self[name].auto_id, str(e)) for e in errors)
        return out


class ApplicationForm(ServiceErrorsMixin, forms.Form):
    """The application form of one item version: who applies, the version's form fields, one upload (or
    an offer to reuse a licence / shared data) per material, and how the result is delivered.

    ``only_fields`` / ``only_materials`` narrow it to what a correction request names. ``prefill``
    (source → value, ``identity.selectors.prefill_values``) fills the empty fields that name a source;
    with ``prefill_masked`` the ID number is shown masked and read-only (the services put in the real one).
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        version: ItemVersion,
        *args: Any,
        offers: dict[int, list] | None = None,
        organisations: list | None = None,
        applicant_label: str = "",
        only_fields: set[str] | None = None,
        only_materials: set[int] | None = None,
        with_applicant: bool = True,
        with_delivery: bool = True,
        supplied: dict | None = None,
        extra_items: list[tuple[int, dict]] | None = None,
        prefill: dict[str, str] | None = None,
        prefill_masked: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.masked_id = bool(prefill and prefill_masked and prefill.get(MASKED_PREFILL))
        self.offers = offers or {}
        self.supplied = supplied or {}
        self.schema = [f for f in version.form_schema or [] if isinstance(f, dict)]
        if with_applicant and organisations is not None:
            self._add_applicant(organisations, applicant_label)
        for spec in self.schema:
            if only_fields is None or spec["name"] in only_fields:
                self.fields[FIELD_PREFIX + spec["name"]] = self._schema_field(spec)
        for name, value in prefilled_fields(self.schema, prefill or {}).items():
            # fills only what is empty: a draft keeps what the applicant typed
            if FIELD_PREFIX + name in self.fields and self.initial.get(FIELD_PREFIX + name) in (None, ""):
                self.initial[FIELD_PREFIX + name] = value
        self.material_rows = []
        for requirement in version.materials.all():
            if only_materials is not None and requirement.pk not in only_materials:
                continue
            self.material_rows.append(self._material_row(requirement))
        # correction items naming no material (其他问题): a free upload each
        self.extra_names = []
        for index, item in extra_items or []:
            name = f"{EXTRA_PREFIX}{index}"
            self.fields[name] = forms.FileField(
                label=_("其他问题：%(p)s") % {"p": item.get("problem", "")},
                required=False,
                help_text=_("如需提供材料，请在此上传（PDF/JPG/PNG/OFD）。"),
            )
            self.extra_names.append(name)
        if with_delivery:
            self.fields["delivery_method"] = forms.ChoiceField(
                label=gettext_lazy("办理结果送达方式"),
                choices=DeliveryMethod.choices,
                initial=DeliveryMethod.WINDOW,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields["delivery_address"] = forms.CharField(
                label=gettext_lazy("邮寄地址"),
                help_text=gettext_lazy("选择邮寄送达时填写，包括收件人和联系电话。"),
                required=False,
                max_length=200,
            )
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = new_idempotency_key()

    # -- building ---------------------------------------------------------------------------------

    def _add_applicant(self, organisations: list, applicant_label: str) -> None:
        choices = []
        if self.version.service_object != "organisation":
            choices.append(("", _("本人申请：%(who)s") % {"who": applicant_label}))
        for org in organisations:
            choices.append((org.uscc, _("作为经办人代表单位申请：%(org)s") % {"org": org.name}))
        if not choices:
            return
        self.fields["applicant_org"] = forms.ChoiceField(
            label=gettext_lazy("申请主体"),
            choices=choices,
            initial=choices[0][0],
            widget=forms.RadioSelect,
            required=False,
        )

    def _schema_field(self, spec: dict) -> forms.Field:
        kind = spec.get("type")
        label = spec.get("label") or spec["name"]
        common = {"label": label, "required": False, "help_text": spec.get("help", "")}
        if kind != "checkbox":  # the browser stops typing at the bound; the services check it again
            common["max_length"] = value_limit(spec)
        attrs: dict[str, Any] = {}
        if spec.get("required"):
            attrs["aria-required"] = "true"
        if self.masked_id and spec.get("prefill") == MASKED_PREFILL:
            # the full number never goes into the page: shown masked, the services fill in the real one
            attrs["readonly"] = True
            common["help_text"] = _("已按实名登记信息填写（部分隐藏），提交时使用完整号码。")
        if kind == "textarea":
            field = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, **attrs}), **common)
        elif kind == "number":
            for bound in ("min", "max"):
                if bound in spec:
                    attrs[bound] = spec[bound]
            field = forms.CharField(widget=forms.NumberInput(attrs={"step": "any", **attrs}), **common)
        elif kind == "date":
            field = forms.CharField(widget=forms.DateInput(attrs={"type": "date", **attrs}), **common)
        elif kind == "select":
            options = [
                (str(o["value"]), o["label"]) if isinstance(o, dict) else (str(o), str(o))
                for o in spec.get("options", [])
            ]
            field = forms.CharField(widget=forms.Select(choices=[("", _("请选择"))] + options, attrs=attrs), **common)
        elif kind == "checkbox":
            field = forms.BooleanField(widget=forms.CheckboxInput(attrs=attrs), **common)
        else:
            field = forms.CharField(widget=forms.TextInput(attrs={**_TEXT_INPUTS.get(kind, {}), **attrs}), **common)
        field.schema_required = bool(spec.get("required"))
        field.schema_type = kind
        return field

    def _material_row(self, requirement: MaterialRequirement) -> dict:
        row: dict[str, Any] = {
            "requirement": requirement,
            "formats": "/".join(f.upper() for f in allowed_formats(requirement)),
            "supplied": self.supplied.get(requirement.pk),
            "upload": None,
            "offer": None,
            "offers": self.offers.get(requirement.pk, []),
        }
        if requirement.source == MaterialRequirement.Source.DEPARTMENT:
            return row  # produced by the department: nothing to give
        if row["offers"]:
            name = f"{OFFER_PREFIX}{requirement.pk}"
            if len(row["offers"]) == 1:
                offer = row["offers"][0]
                self.fields[name] = forms.BooleanField(
                    label=_("同意调取并使用“%(title)s”作为本材料") % {"title": offer.title}, required=False
                )
            else:
                self.fields[name] = forms.ChoiceField(
                    label=_("选择要关联的%(source)s") % {"source": requirement.get_source_display()},
                    choices=[(o.reference, o.title) for o in row["offers"]] + [("", _("不使用，改为上传文件"))],
                    widget=forms.RadioSelect,
                    required=False,
                )
            row["offer"] = name
        name = f"{MATERIAL_PREFIX}{requirement.pk}"
        accept = ",".join("." + f for f in allowed_formats(requirement))
        self.fields[name] = forms.FileField(
            label=requirement.name, required=False, widget=forms.FileInput(attrs={"accept": accept})
        )
        row["upload"] = name
        return row

    def bound_rows(self) -> list[dict]:
        """Material rows with their bound fields, for the template."""
        out = []
        for row in self.material_rows:
            out.append(
                {
                    **row,
                    "upload_field": self[row["upload"]] if row["upload"] else None,
                    "offer_field": self[row["offer"]] if row["offer"] else None,
                }
            )
        return out

    def schema_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(FIELD_PREFIX)]

    # -- reading ----------------------------------------------------------------------------------

    def field_for(self, key: str) -> str | None:
        for candidate in (key, FIELD_PREFIX + key):
            if candidate in self.fields:
                return candidate
        if key.startswith(MATERIAL_PREFIX):
            req = key[len(MATERIAL_PREFIX) :]
            for candidate in (key, OFFER_PREFIX + req):
                if candidate in self.fields:
                    return candidate
        return None

    def form_data(self) -> dict:
        data = self.cleaned_data
        return {name[len(FIELD_PREFIX) :]: data.get(name) for name in self.fields if name.startswith(FIELD_PREFIX)}

    def files_data(self) -> dict:
        return {
            int(name[len(MATERIAL_PREFIX) :]): self.cleaned_data[name]
            for name in self.fields
            if name.startswith(MATERIAL_PREFIX) and self.cleaned_data.get(name)
        }

    def extra_fields(self) -> list:
        return [self[name] for name in self.extra_names]

    def extras_data(self) -> dict:
        """Correction item index → the free upload answering it."""
        return {
            int(name[len(EXTRA_PREFIX) :]): self.cleaned_data[name]
            for name in self.extra_names
            if self.cleaned_data.get(name)
        }

    def offers_data(self) -> dict:
        chosen = {}
        for row in self.material_rows:
            if not row["offer"]:
                continue
            value = self.cleaned_data.get(row["offer"])
            if value is True:
                chosen[row["requirement"].pk] = row["offers"][0].reference
            elif isinstance(value, str) and value:
                chosen[row["requirement"].pk] = value
        return chosen

    def applicant_org(self) -> str | None:
        if "applicant_org" not in self.fields:
            return None
        return self.cleaned_data.get("applicant_org") or ""

    def delivery(self) -> dict:
        if "delivery_method" not in self.fields:
            return {}
        return {
            "delivery_method": self.cleaned_data.get("delivery_method") or None,
            "delivery_address": self.cleaned_data.get("delivery_address") or "",
        }


def initial_for(case) -> dict:
    """A saved application as the form's initial values."""
    initial: dict[str, Any] = {
        "applicant_org": case.applicant_org.uscc if case.applicant_org_id else "",
        "delivery_method": case.delivery_method,
        "delivery_address": case.delivery_address,
    }
    for name, value in (case.form_data or {}).items():
        initial[FIELD_PREFIX + name] = "" if value is None else value
    return initial


class WindowApplicantForm(ServiceErrorsMixin, forms.Form):
    """综窗: find the applicant by ID number, or register them (name needed when new)."""

    id_number = forms.CharField(
        label=gettext_lazy("申请人公民身份号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"), max_length=60, required=False, help_text=gettext_lazy("首次登记的申请人须填写。")
    )
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    address = forms.CharField(label=gettext_lazy("联系地址"), max_length=200, required=False)


class WindowOrganisationForm(ServiceErrorsMixin, forms.Form):
    org_uscc = forms.CharField(
        label=gettext_lazy("申请单位统一社会信用代码"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("以单位名义申请时填写；申请人作为经办人。"),
    )
    org_name = forms.CharField(
        label=gettext_lazy("申请单位名称"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("首次登记的单位须填写。"),
    )
    # not preset: the clerk decides on acceptance after checking the papers (no preset decision anywhere)
    accept = forms.BooleanField(label=gettext_lazy("材料齐全，当场受理并出具受理回执"), required=False)


class ProgressQueryForm(ServiceErrorsMixin, forms.Form):
    number = forms.CharField(
        label=gettext_lazy("办件编号"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "latin"}),
    )
    id_last4 = forms.CharField(
        label=gettext_lazy("申请人证件号码后四位"),
        max_length=8,
        required=False,
        help_text=gettext_lazy("个人为公民身份号码后四位，单位为统一社会信用代码后四位。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 6}),
    )


class WithdrawForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤回理由（可不填）"), max_length=500, required=False)


# -- back office ------------------------------------------------------------------------------------


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("不予受理的理由"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CommentForm(ServiceErrorsMixin, forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("办理意见"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReturnForm(ServiceErrorsMixin, forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("退回意见"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("审批决定"),
        choices=[("approve", gettext_lazy("准予办理")), ("deny", gettext_lazy("不予办理"))],
        widget=forms.RadioSelect,
        # no preset: the approver must choose, a forgotten choice is never an approval
        required=True,
        error_messages={"required": gettext_lazy("请选择审批决定：准予办理或不予办理。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("决定理由"),
        help_text=gettext_lazy("不予办理时必须写明理由。"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SpecialProcedureForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("特别程序类型"),
        choices=[(k.value, k.label) for k in SPECIAL_PROCEDURE_KINDS],
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("理由（将书面告知申请人）"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EndSpecialProcedureForm(ServiceErrorsMixin, forms.Form):
    result = forms.CharField(
        label=gettext_lazy("特别程序结果"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtensionForm(ServiceErrorsMixin, forms.Form):
    days = forms.CharField(
        label=gettext_lazy("延长工作日"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 10}),
        help_text=gettext_lazy("合计不超过10个工作日，须经审批人批准。"),
    )
    reason = forms.CharField(
        label=gettext_lazy("延期理由"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtensionDecisionForm(ServiceErrorsMixin, forms.Form):
    extension = forms.IntegerField(widget=forms.HiddenInput, required=False)
    decision = forms.ChoiceField(
        label=gettext_lazy("延期审批"),
        choices=[("approve", gettext_lazy("批准延期")), ("reject", gettext_lazy("不批准"))],
        widget=forms.RadioSelect,
        required=True,
        error_messages={"required": gettext_lazy("请选择是否批准延期。")},
    )
    comment = forms.CharField(label=gettext_lazy("审批意见"), required=False, max_length=500)


class PaymentOrderForm(ServiceErrorsMixin, forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("缴费金额（元）"),
        required=False,
        help_text=gettext_lazy("不填则按事项收费标准。"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class DeliverForm(ServiceErrorsMixin, forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("送达方式"), choices=DeliveryMethod.choices, widget=forms.RadioSelect, required=False
    )
    recipient = forms.CharField(label=gettext_lazy("收件人"), max_length=60, required=False)
    phone = forms.CharField(
        label=gettext_lazy("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    address = forms.CharField(label=gettext_lazy("邮寄地址"), max_length=200, required=False)
    carrier = forms.CharField(label=gettext_lazy("快递公司"), max_length=40, required=False)
    tracking_number = forms.CharField(label=gettext_lazy("快递单号"), max_length=60, required=False)


class CorrectionRequestForm(ServiceErrorsMixin, forms.Form):
    """补正告知: one row per material and per form field, plus free rows; every filled row is one problem,
    all sent at once (一次性告知)."""

    FREE_ROWS = 3

    def __init__(self, version: ItemVersion, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[str, dict]] = []
        for requirement in version.materials.all():
            name = f"problem_m_{requirement.pk}"
            self.fields[name] = forms.CharField(label=requirement.name, required=False, max_length=500)
            self.rows.append((name, {"material": requirement.pk}))
        for spec in version.form_schema or []:
            if isinstance(spec, dict) and spec.get("name"):
                name = f"problem_f_{spec['name']}"
                self.fields[name] = forms.CharField(
                    label=spec.get("label") or spec["name"], required=False, max_length=500
                )
                self.rows.append((name, {"field": spec["name"]}))
        for n in range(1, self.FREE_ROWS + 1):
            name = f"problem_other_{n}"
            self.fields[name] = forms.CharField(label=_("其他问题 %(n)d") % {"n": n}, required=False, max_length=500)
            self.rows.append((name, {}))

    def field_for(self, key: str) -> str | None:
        return None  # the service names the list as a whole ("items"): shown in the summary

    def material_fields(self) -> list:
        return [self[name] for name, target in self.rows if "material" in target]

    def form_fields(self) -> list:
        return [self[name] for name, target in self.rows if "field" in target]

    def other_fields(self) -> list:
        return [self[name] for name, target in self.rows if not target]

    def items(self) -> list[dict]:
        out = []
        for name, target in self.rows:
            problem = (self.cleaned_data.get(name) or "").strip()
            if problem:
                out.append({"material": target.get("material"), "field": target.get("field", ""), "problem": problem})
        return out
