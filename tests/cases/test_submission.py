"""Applying: drafts, online submission, window intake, uploads checked by content, idempotency."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from yiwang.cases import material_sources, services
from yiwang.cases.material_sources import Offer
from yiwang.cases.models import Case, CaseMaterial, Channel, IdempotencyKey, Status
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from yiwang.core.ids import make_citizen_id
from yiwang.core.sm import sm3_hex
from yiwang.identity.models import NaturalPerson

from .conftest import JPG, PDF, PNG, files_for, media_files, ofd_bytes, upload


def test_submission_gets_a_number_and_the_acceptance_clock(world, submit):
    case = submit()
    today = timezone.localdate()
    assert case.status == Status.SUBMITTED
    assert case.channel == Channel.ONLINE
    assert re.fullmatch(re.escape(world.item.code) + f"{today:%Y%m%d}" + r"\d{4}", case.number)
    assert case.number.endswith("0001")
    assert case.applicant_person == world.citizen
    assert case.applicant_id_last4 == world.citizen.id_number[-4:]
    assert case.acceptance_due > today
    assert case.form_data["applicant_name"] == "张三"
    second = submit()
    assert second.number.endswith("0002")
    assert [e.action for e in audit.history(case)] == ["submitted"]


def test_materials_are_stored_with_their_sm3_digest(world, submit, settings):
    case = submit(files={world.materials[0].pk: upload(PDF), world.materials[1].pk: upload(PNG, "场所.png")})
    stored = {m.requirement_id: m for m in case.materials.all()}
    assert stored[world.materials[0].pk].sm3 == sm3_hex(PDF)
    assert stored[world.materials[0].pk].content_type == "application/pdf"
    png = stored[world.materials[1].pk]
    assert png.content_type == "image/png" and png.size == len(PNG)
    assert png.file.name.endswith(".png")
    with png.file.open("rb") as fh:
        assert fh.read() == PNG
    assert len(media_files(settings)) == 2


@pytest.mark.parametrize(
    "data,ok",
    [(PDF, True), (PNG, True), (JPG, True), (ofd_bytes(), True), (b"MZ\x90\x00 not a document", False)],
)
def test_uploads_are_checked_by_content_not_by_name(world, submit, data, ok):
    files = {world.materials[0].pk: upload(PDF), world.materials[1].pk: upload(data, "场所证明.pdf")}
    if ok:
        assert submit(files=files).status == Status.SUBMITTED
    else:
        with pytest.raises(InvalidInput) as err:
            submit(files=files)
        assert err.value.field == f"material_{world.materials[1].pk}"
        assert "格式" in err.value.message


def test_a_png_named_pdf_is_refused_where_only_pdf_is_allowed(world, submit):
    with pytest.raises(InvalidInput) as err:
        submit(files={world.materials[0].pk: upload(PNG, "申请书.pdf"), world.materials[1].pk: upload(PDF)})
    assert "PDF" in err.value.message


def test_too_large_upload_is_refused_and_only_the_good_file_is_kept(world, submit, settings):
    settings.YIWANG_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(TooLarge) as err:
        submit(files={world.materials[0].pk: upload(PDF), world.materials[1].pk: upload(PDF + b"0" * 2000)})
    assert err.value.field == f"material_{world.materials[1].pk}"
    draft = Case.objects.get()
    assert draft.status == Status.DRAFT and draft.number is None and err.value.extra == {"draft": draft.pk}
    assert list(draft.materials.values_list("requirement_id", flat=True)) == [world.materials[0].pk]
    assert len(media_files(settings)) == 1  # the refused file was never stored


def test_a_failure_with_nothing_to_keep_leaves_no_row_or_file(world, submit, settings):
    with pytest.raises(InvalidInput):
        submit(form_data=dict(world.form, phone="12"), files={})
    with pytest.raises(InvalidInput):
        submit(files={world.materials[0].pk: upload(b"garbage"), world.materials[1].pk: upload(b"garbage")})
    assert Case.objects.count() == 0
    assert CaseMaterial.objects.count() == 0
    assert media_files(settings) == []


def test_one_submit_lists_every_form_and_material_error_at_once(world, submit, settings):
    # a bad form field, a missing required material and a file of the wrong format: all in one answer
    with pytest.raises(InvalidInput) as err:
        submit(
            form_data=dict(world.form, applicant_name="", phone="12"),
            files={world.materials[0].pk: upload(b"garbage")},
            delivery_method="post",
            delivery_address="",
        )
    assert set(err.value.errors) == {
        "applicant_name",
        "phone",
        f"material_{world.materials[0].pk}",
        f"material_{world.materials[1].pk}",
        "delivery_address",
    }
    assert "格式" in err.value.errors[f"material_{world.materials[0].pk}"]
    assert "营业场所证明" in err.value.errors[f"material_{world.materials[1].pk}"]
    assert err.value.message.startswith("申请有5处需要修改：")
    assert Case.objects.count() == 0 and media_files(settings) == []


def test_good_uploads_of_a_failed_submission_are_kept_and_a_retry_continues_the_draft(
    world, submit, settings, django_capture_on_commit_callbacks
):
    with pytest.raises(InvalidInput) as err:
        submit(form_data=dict(world.form, phone="12"), files=files_for(world, 0), idempotency_key="k1")
    assert set(err.value.errors) == {"phone", f"material_{world.materials[1].pk}"}
    draft = Case.objects.get()
    assert err.value.extra["draft"] == draft.pk and draft.status == Status.DRAFT
    assert draft.form_data["phone"] == "12"  # kept as typed
    assert draft.materials.get().original_name == "材料.pdf"
    assert err.value.as_dict()["draft"] == draft.pk
    # the same page sent again with the same key and the same file: still one draft, one file
    with pytest.raises(InvalidInput), django_capture_on_commit_callbacks(execute=True):
        submit(form_data=dict(world.form, phone="12"), files=files_for(world, 0), idempotency_key="k1")
    assert Case.objects.count() == 1 and CaseMaterial.objects.count() == 1
    # corrected: only the missing material is sent, the kept one is not chosen again
    case = submit(files=files_for(world, 1), idempotency_key="k1")
    assert case.pk == draft.pk and case.status == Status.SUBMITTED and case.number
    assert case.materials.count() == 2 and Case.objects.count() == 1
    assert submit(files=files_for(world, 1), idempotency_key="k1").pk == case.pk  # a double click
    assert IdempotencyKey.objects.count() == 1
    assert len(media_files(settings)) == 2


def test_a_kept_material_can_be_removed_from_the_draft(world, submit, settings, django_capture_on_commit_callbacks):
    with pytest.raises(InvalidInput) as err:
        submit(files=files_for(world, 0))
    draft = err.value.extra["draft"]
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_draft_material(world.citizen_user, draft, world.materials[0].pk)
    assert CaseMaterial.objects.count() == 0 and media_files(settings) == []
    with pytest.raises(InvalidInput) as err:
        services.submit_case(world.citizen_user, case=draft, files=files_for(world, 1))
    assert list(err.value.errors) == [f"material_{world.materials[0].pk}"]


def test_missing_required_material_names_it(world, submit, settings):
    with pytest.raises(InvalidInput) as err:
        submit(files=files_for(world, 0))
    assert list(err.value.errors) == [f"material_{world.materials[1].pk}"]
    assert "营业场所证明" in err.value.errors[f"material_{world.materials[1].pk}"]


def test_form_is_validated_with_every_error_at_once(world, submit):
    with pytest.raises(InvalidInput) as err:
        submit(form_data={"applicant_name": "", "id_number": "123", "phone": "13800138000"})
    assert set(err.value.errors) == {"applicant_name", "id_number"}


def test_idempotent_retry_returns_the_same_case(world, submit, settings):
    first = submit(idempotency_key="retry-1")
    again = submit(idempotency_key="retry-1")
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert len(media_files(settings)) == 2  # the retry wrote nothing
    other_user = submit(user=world.stranger_user, idempotency_key="retry-1", form_data=dict(world.form))
    assert other_user.pk != first.pk
    assert IdempotencyKey.objects.count() == 2


def test_draft_then_submit(world, settings):
    draft = services.save_draft(world.citizen_user, item=world.item, form_data={"applicant_name": "张三"})
    assert draft.status == Status.DRAFT and draft.number is None
    draft = services.save_draft(world.citizen_user, case=draft, files=files_for(world, 0))
    # replacing the material of a draft replaces its file too
    draft = services.save_draft(world.citizen_user, case=draft, files={world.materials[0].pk: upload(PDF + b"%v2")})
    assert draft.materials.count() == 1
    with pytest.raises(NotFound):
        services.save_draft(world.stranger_user, case=draft, form_data={})
    case = services.submit_case(
        world.citizen_user,
        case=draft,
        form_data={"id_number": world.citizen.id_number, "phone": "13800138000"},
        files=files_for(world, 1),
    )
    assert case.pk == draft.pk and case.status == Status.SUBMITTED
    assert case.form_data["applicant_name"] == "张三"
    assert case.materials.count() == 2
    with pytest.raises(Conflict):
        services.save_draft(world.citizen_user, case=case, form_data={})


def test_delete_draft_removes_its_files(world, settings, django_capture_on_commit_callbacks):
    draft = services.save_draft(world.citizen_user, item=world.item, files=files_for(world, 0))
    assert len(media_files(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_draft(world.citizen_user, draft)
    assert not Case.objects.filter(pk=draft.pk).exists()
    assert media_files(settings) == []


def test_a_draft_drops_an_uploaded_material_idempotently_and_audited(
    world, settings, django_capture_on_commit_callbacks
):
    draft = services.save_draft(world.citizen_user, item=world.item, files=files_for(world, 0, 1))
    requirement = world.materials[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_draft_material(world.citizen_user, draft, requirement.pk)
    assert list(draft.materials.values_list("requirement_id", flat=True)) == [world.materials[1].pk]
    assert len(media_files(settings)) == 1  # the dropped file is gone, the other one stays
    event = audit.history(draft).get(action="draft_material_removed")
    assert event.actor == world.citizen_user.username
    assert (event.data["requirement"], event.data["satisfied_by"]) == (requirement.pk, "upload")
    # a second click changes nothing and records nothing
    services.remove_draft_material(world.citizen_user, draft, requirement)
    assert audit.history(draft).filter(action="draft_material_removed").count() == 1
    # someone else's draft is not found; a submitted case is no longer a draft
    with pytest.raises(NotFound):
        services.remove_draft_material(world.stranger_user, draft, world.materials[1].pk)
    with pytest.raises(NotFound):
        services.remove_draft_material(world.citizen_user, draft, 999999)
    case = services.submit_case(world.citizen_user, case=draft, form_data=world.form, files=files_for(world, 0))
    with pytest.raises(Conflict):
        services.remove_draft_material(world.citizen_user, case, world.materials[1].pk)
    assert case.materials.count() == 2


def test_organisation_case_needs_an_authorised_agent(world):
    case = services.submit_case(
        world.agent.user,
        item=world.item,
        applicant_org=world.company.uscc,
        form_data=world.form,
        files=files_for(world),
    )
    assert case.applicant_org == world.company and case.agent == world.agent
    assert case.applicant_person is None
    assert case.applicant_id_last4 == world.company.uscc[-4:]
    with pytest.raises(Forbidden):
        services.submit_case(
            world.citizen_user, item=world.item, applicant_org=world.company.uscc, form_data=world.form
        )


def test_submitting_a_draft_applies_the_organisation_with_the_checks_of_a_new_case(world):
    draft = services.save_draft(world.agent.user, item=world.item, form_data=world.form, files=files_for(world))
    assert draft.applicant_person == world.agent and draft.applicant_org is None
    case = services.submit_case(world.agent.user, case=draft, applicant_org=world.company.uscc)
    assert case.applicant_org == world.company and case.agent == world.agent
    assert case.applicant_person is None and case.applicant_id_last4 == world.company.uscc[-4:]
    # someone not entitled to act for the organisation is refused, and the draft stays as it was
    other = services.save_draft(world.citizen_user, item=world.item, form_data=world.form, files=files_for(world))
    with pytest.raises(Forbidden) as err:
        services.submit_case(world.citizen_user, case=other, applicant_org=world.company.uscc)
    assert err.value.field == "applicant_org"
    other.refresh_from_db()
    assert other.status == Status.DRAFT and other.applicant_org is None and other.applicant_person == world.citizen


def test_submitting_a_draft_can_go_back_to_the_person_and_keeps_the_draft_s_choice_by_default(world):
    draft = services.save_draft(
        world.agent.user, item=world.item, applicant_org=world.company.uscc, form_data=world.form,
        files=files_for(world),
    )  # fmt: skip
    kept = services.submit_case(world.agent.user, case=draft)
    assert kept.applicant_org == world.company
    second = services.save_draft(
        world.agent.user, item=world.item, applicant_org=world.company.uscc, form_data=world.form,
        files=files_for(world),
    )  # fmt: skip
    personal = services.submit_case(world.agent.user, case=second, applicant_org="")
    assert personal.applicant_org is None and personal.applicant_person == world.agent and personal.agent is None


def test_the_draft_submit_endpoint_takes_the_organisation(world, client):
    draft = services.save_draft(world.agent.user, item=world.item, form_data=world.form, files=files_for(world))
    client.force_login(world.agent.user)
    url = f"/api/cases/drafts/{draft.pk}/submit/"
    reply = client.post(url, {"applicant_org": world.company.uscc}, content_type="application/json")
    assert reply.status_code == 201, reply.content
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.applicant_org == world.company
    client.force_login(world.citizen_user)
    mine = services.save_draft(world.citizen_user, item=world.item, form_data=world.form, files=files_for(world))
    reply = client.post(
        f"/api/cases/drafts/{mine.pk}/submit/", {"applicant_org": world.company.uscc}, content_type="application/json"
    )
    assert reply.status_code == 403 and reply.json()["field"] == "applicant_org"


def test_an_account_without_real_name_cannot_apply(world):
    from yiwang.identity.models import User

    anonymous = User.objects.create_user(username="noname", password="x" * 12)
    with pytest.raises(Forbidden):
        services.submit_case(anonymous, item=world.item, form_data=world.form, files=files_for(world))


class FakeLicenceSource:
    """Stands in for the licence app at the registry's edge."""

    kind = "licence"

    def __init__(self):
        self.used = []

    def offers(self, material, *, person=None, organisation=None):
        if person is not None and person.name == "张三":
            return [Offer("licence", "1.2.156.3005.2.TEST.0001", "营业执照 0001", {"名称": "张三小吃店"})]
        return []

    def use(self, offer, *, case, material, actor):
        self.used.append((offer.reference, case.number, material.pk))
        return {"名称": "张三小吃店", "用途": f"办件 {case.pk}"}


@pytest.fixture
def licence_source(world):
    from yiwang.catalog.models import ItemVersion, MaterialRequirement

    source = FakeLicenceSource()
    material_sources._registry.setdefault("licence", []).append(source)
    # the second material may come from a licence (set on the published row directly, as a catalog manager
    # would have defined it)
    ItemVersion.objects.filter(pk=world.version.pk).update(status=ItemVersion.Status.DRAFT)
    requirement = world.materials[1]
    requirement.source = MaterialRequirement.Source.LICENCE
    requirement.save()
    ItemVersion.objects.filter(pk=world.version.pk).update(status=ItemVersion.Status.PUBLISHED)
    yield source
    material_sources._registry["licence"].remove(source)


def test_a_material_satisfied_by_a_licence_needs_no_upload(world, submit, licence_source, settings):
    requirement = world.materials[1]
    offers = material_sources.offers_for(requirement, person=world.citizen)
    assert [o.reference for o in offers] == ["1.2.156.3005.2.TEST.0001"]
    case = submit(files=files_for(world, 0), offers={requirement.pk: offers[0].reference})
    material = case.materials.get(requirement=requirement)
    assert material.satisfied_by == "licence" and not material.file
    assert material.source_data["名称"] == "张三小吃店"
    assert licence_source.used == [("1.2.156.3005.2.TEST.0001", case.number, requirement.pk)]
    assert len(media_files(settings)) == 1


def test_an_offer_chosen_in_a_draft_is_used_once_at_submission(world, licence_source):
    requirement = world.materials[1]
    draft = services.save_draft(
        world.citizen_user,
        item=world.item,
        files=files_for(world, 0),
        offers={requirement.pk: "1.2.156.3005.2.TEST.0001"},
    )
    assert licence_source.used == []
    case = services.submit_case(world.citizen_user, case=draft, form_data=world.form)
    assert licence_source.used == [("1.2.156.3005.2.TEST.0001", case.number, requirement.pk)]
    assert case.materials.get(requirement=requirement).source_data["名称"] == "张三小吃店"


def test_a_draft_no_longer_uses_a_chosen_offer(world, licence_source, client):
    requirement = world.materials[1]
    draft = services.save_draft(
        world.citizen_user,
        item=world.item,
        files=files_for(world, 0),
        offers={requirement.pk: "1.2.156.3005.2.TEST.0001"},
    )
    client.force_login(world.citizen_user)
    url = f"/api/cases/drafts/{draft.pk}/materials/{requirement.pk}/"
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204  # idempotent
    assert not draft.materials.filter(requirement=requirement).exists()
    event = audit.history(draft).get(action="draft_material_removed")
    assert event.data["satisfied_by"] == "licence" and event.data["reference"] == "1.2.156.3005.2.TEST.0001"
    # submitting now asks for the material: the offer is not used behind the applicant's back
    with pytest.raises(InvalidInput) as err:
        services.submit_case(world.citizen_user, case=draft, form_data=world.form)
    assert f"material_{requirement.pk}" in err.value.errors and licence_source.used == []
    client.force_login(world.stranger_user)
    assert client.delete(url).status_code == 404


def test_an_offer_the_applicant_does_not_hold_is_refused(world, submit, licence_source):
    with pytest.raises(InvalidInput) as err:
        submit(
            user=world.stranger_user,
            files=files_for(world, 0),
            offers={world.materials[1].pk: "1.2.156.3005.2.TEST.0001"},
        )
    assert f"material_{world.materials[1].pk}" in err.value.errors
    assert licence_source.used == []


def test_window_clerk_takes_in_any_item_and_registers_the_applicant(world):
    id_number = make_citizen_id("441602", world.citizen.created_at.date().replace(year=1975), 77)
    case = services.start_window_case(
        world.other_clerk,  # a clerk of another department: 一窗受理 takes any item
        item=world.item.code,
        id_number=id_number,
        name="赵六",
        phone="13700000000",
        form_data=dict(world.form, id_number=id_number),
        files=files_for(world),
        accept=True,
    )
    assert case.channel == Channel.WINDOW and case.clerk == world.other_clerk
    assert case.status == Status.ACCEPTED
    person = NaturalPerson.objects.get(pk=case.applicant_person_id)
    assert person.name == "赵六" and person.user is None
    registered = audit.history(person).get(action="person.registered")
    assert registered.actor == world.other_clerk.username
    assert case.documents.filter(kind="receipt").count() == 1
    # the same person at the window again is found, not registered twice
    again = services.start_window_case(
        world.clerk, item=world.item, id_number=id_number, form_data=case.form_data, files=files_for(world)
    )
    assert again.applicant_person_id == person.pk


def test_only_window_clerks_take_in_cases(world):
    with pytest.raises(Forbidden):
        services.start_window_case(world.handler, item=world.item, id_number=world.citizen.id_number)


def test_an_item_without_online_depth_cannot_be_applied_for_online(world):
    from catalog.factories import published_version

    version = published_version(department=world.market, online_depth=2)
    with pytest.raises(Conflict):
        services.submit_case(world.citizen_user, item=version.item, form_data=world.form)
