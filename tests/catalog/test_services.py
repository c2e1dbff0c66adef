import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from catalog.factories import (
    STANDARD_STAGES,
    DepartmentFactory,
    draft_version,
    published_version,
    version_fields,
)
from yiwang.catalog import services
from yiwang.catalog.models import ItemVersion, MaterialRequirement, OnlineDepth, ResultType, ServiceItem, Stage
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput
from yiwang.identity.models import StaffRole, User

pytestmark = pytest.mark.django_db


def test_create_item_builds_the_31_character_implementation_code():
    department = DepartmentFactory()
    item = services.create_item(base_code=" 0001 1700 6000 ", department=department, exercise_level="3")
    assert item.code == department.credit_code + "3" + "000117006000"
    assert len(item.code) == 31
    assert item.region == department.region
    assert [e.action for e in audit.history(item)] == ["catalog.item.created"]


@pytest.mark.parametrize("base_code", ["12345", "0001170060001", "00011700600a!"])
def test_base_code_must_have_12_characters(base_code):
    with pytest.raises(InvalidInput) as info:
        services.create_item(base_code=base_code, department=DepartmentFactory(), exercise_level="3")
    assert info.value.field == "base_code"
    assert "基本编码应为12位数字或大写字母" in info.value.message


def test_the_same_code_twice_is_a_conflict_and_bad_level_is_refused():
    department = DepartmentFactory()
    services.create_item(base_code="000117006000", department=department, exercise_level="3")
    with pytest.raises(Conflict, match="已存在"):
        services.create_item(base_code="000117006000", department=department, exercise_level="3")
    with pytest.raises(InvalidInput, match="行使层级无效"):
        services.create_item(base_code="000117006001", department=department, exercise_level="8")
    assert ServiceItem.objects.count() == 1


def test_draft_is_created_with_materials_and_stages_in_order():
    version = draft_version(name="食品经营许可")
    assert version.status == ItemVersion.Status.DRAFT and version.number == 1
    assert version.exercise_level == "3"
    assert [m.name for m in version.materials.all()] == ["申请书", "申请人身份证明"]
    assert [(s.order, s.kind) for s in version.stages.all()] == [(1, "handle"), (2, "review"), (3, "decide")]
    assert version.item.current_version is None  # not published yet


def test_only_one_draft_per_item():
    version = draft_version()
    with pytest.raises(Conflict, match="已有草稿版本（第1版）"):
        services.create_draft(version.item, **version_fields())


def test_draft_rules_promised_days_level_and_form_schema():
    version = draft_version()
    with pytest.raises(InvalidInput) as info:
        services.update_draft(version, promised_days=25)
    assert info.value.errors == {"promised_days": "承诺办结时限（25个工作日）不得超过法定办结时限（20个工作日）。"}
    with pytest.raises(InvalidInput) as info:
        services.update_draft(version, exercise_level="4")
    assert "行使层级须与实施编码一致（市级）" in info.value.message
    with pytest.raises(InvalidInput) as info:
        services.update_draft(version, form_schema=[{"name": "x", "type": "text"}])
    assert "缺少标签 label" in info.value.errors["form_schema"]
    with pytest.raises(InvalidInput) as info:
        services.update_draft(version, item_type="99", name="")
    assert set(info.value.errors) == {"item_type", "name"}
    assert "「事项名称」" in info.value.message
    with pytest.raises(InvalidInput, match="不能设置这些字段：status"):
        services.update_draft(version, status="published")
    version.refresh_from_db()
    assert version.promised_days == 10 and version.name.startswith("测试事项")


def test_update_draft_replaces_parts_and_audits_before_and_after():
    version = draft_version()
    services.update_draft(
        version,
        actor="catalog-test",
        name="公共场所卫生许可",
        materials=[{"name": "卫生许可申请书"}],
        stages=STANDARD_STAGES[2:],
    )
    version.refresh_from_db()
    assert version.name == "公共场所卫生许可"
    assert [m.name for m in version.materials.all()] == ["卫生许可申请书"]
    assert [s.name for s in version.stages.all()] == ["审批"]
    event = audit.history(version.item).last()
    assert event.action == "catalog.version.updated" and event.actor == "catalog-test"
    assert event.data["changes"]["name"]["after"] == "公共场所卫生许可"
    assert event.data["changes"]["name"]["before"].startswith("测试事项")
    assert event.region_code == version.item.region_id


def test_a_bad_material_leaves_the_draft_unchanged():
    version = draft_version()
    with pytest.raises(InvalidInput) as info:
        services.update_draft(version, name="改名", materials=[{"name": "好材料"}, {"name": "坏材料", "kind": "paper"}])
    assert "materials.2.kind" in info.value.errors
    version.refresh_from_db()
    assert version.name != "改名"
    assert [m.name for m in version.materials.all()] == ["申请书", "申请人身份证明"]


def test_publish_sets_effective_date_and_makes_the_version_current():
    version = services.publish(draft_version(), actor="catalog-test")
    assert version.status == ItemVersion.Status.PUBLISHED
    assert version.effective_from == timezone.localdate()
    assert version.published_at is not None
    assert version.item.current_version == version
    assert audit.history(version.item).last().action == "catalog.version.published"


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], "至少须有一个办理环节"),
        (STANDARD_STAGES[:2], "须有一个审批/决定环节"),
        ([STANDARD_STAGES[2], STANDARD_STAGES[0]], "最后一个环节应为审批/决定"),
        (
            [
                {"name": "承办", "kind": "handle", "role": "handler", "order": 1},
                {"name": "规划审核", "kind": "review", "role": "reviewer", "order": 1},
                {"name": "审批", "kind": "decide", "role": "approver", "order": 2},
            ],
            "顺序1有多个环节，须属于同一并联组",
        ),
        (
            [
                {"name": "审核甲", "kind": "review", "role": "reviewer", "order": 1, "parallel_group": "A"},
                {"name": "审核乙", "kind": "review", "role": "reviewer", "order": 2, "parallel_group": "A"},
                {"name": "审批", "kind": "decide", "role": "approver", "order": 3},
            ],
            "并联组「A」的环节须在同一顺序",
        ),
        (
            [
                {"name": "承办", "kind": "handle", "role": "handler", "time_share": 80},
                {"name": "审批", "kind": "decide", "role": "approver", "time_share": 30},
            ],
            "合计110%，超过100%",
        ),
        ([{"name": "审批", "kind": "decide", "role": "supervisor"}], "办理角色无效"),
    ],
)
def test_publish_refuses_incomplete_stage_lists(stages, message):
    version = draft_version(stages=stages)
    with pytest.raises(InvalidInput) as info:
        services.publish(version)
    assert message in info.value.errors["stages"]
    assert info.value.message.startswith("第1版还不能发布：")
    version.refresh_from_db()
    assert version.status == ItemVersion.Status.DRAFT


def test_parallel_group_of_two_departments_can_be_published():
    other = DepartmentFactory(name="河源市自然资源局")
    version = published_version(
        stages=[
            {"name": "承办", "kind": "handle", "role": "handler", "time_share": 30},
            {
                "name": "住建审查",
                "kind": "review",
                "role": "reviewer",
                "order": 2,
                "parallel_group": "联审",
                "time_share": 40,
            },
            {
                "name": "规划审查",
                "kind": "review",
                "role": "reviewer",
                "order": 2,
                "parallel_group": "联审",
                "department": other,
                "time_share": 40,
            },
            {"name": "审批", "kind": "decide", "role": "approver", "order": 3, "time_share": 30},
        ]
    )
    assert [s.department for s in version.stages.all()] == [None, None, other, None]


def test_publish_checks_visits_results_and_material_sources():
    version = draft_version(
        max_visits=0,
        online_depth=OnlineDepth.PRE_REVIEW,
        result_type=ResultType.LICENCE,
        result_licence_type="",
        materials=[
            {"name": "营业执照", "source": MaterialRequirement.Source.LICENCE, "source_ref": "W002"},
            {"name": "户口簿", "source": MaterialRequirement.Source.SHARED_DATA},
        ],
    )
    with pytest.raises(InvalidInput) as info:
        services.publish(version)
    errors = info.value.errors
    assert errors["max_visits"] == "零跑动（到现场0次）的事项须为四级全程网办。"
    assert errors["result_licence_type"] == "办理结果为证照时，须填写21位证照类型代码。"
    assert errors["result_name"] == "请填写办理结果名称。"
    assert "材料「营业执照」来源为电子证照，须填写21位证照类型代码" in errors["materials"]
    assert "材料「户口簿」来源为共享数据，须填写数据资源代码" in errors["materials"]


def test_effective_date_may_not_be_in_the_past_or_before_the_current_version():
    with pytest.raises(InvalidInput, match="生效日期不能早于今天"):
        services.publish(draft_version(), effective_from=timezone.localdate() - dt.timedelta(days=1))
    v1 = published_version()
    later = timezone.localdate() + dt.timedelta(days=10)
    v2 = services.publish(services.new_draft_from(v1), effective_from=later)
    v3 = services.new_draft_from(v2)
    with pytest.raises(InvalidInput, match="不能早于已发布版本的生效日期"):
        services.publish(v3, effective_from=later - dt.timedelta(days=1))


def test_a_version_scheduled_for_later_takes_over_on_its_date():
    v1 = published_version()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    v2 = services.publish(services.new_draft_from(v1), effective_from=tomorrow)
    assert v1.item.current_version == v1
    with freeze_time(timezone.now() + dt.timedelta(days=1)):
        assert v1.item.current_version == v2


def test_new_draft_copies_everything_and_is_independent_of_its_source():
    v1 = published_version(
        name="食品经营许可",
        stages=[*STANDARD_STAGES[:2], {**STANDARD_STAGES[2], "parallel_group": ""}],
        materials=[{"name": "营业执照", "source": "licence", "source_ref": "11100000000013338W002", "copies": 2}],
    )
    v2 = services.new_draft_from(v1, actor="catalog-test")
    assert v2.number == 2 and v2.status == ItemVersion.Status.DRAFT
    assert services.snapshot(v2) | {"effective_from": None} == services.snapshot(v1) | {"effective_from": None}
    services.update_draft(v2, name="食品经营许可（新）", materials=[{"name": "申请书"}])
    v1.refresh_from_db()
    assert v1.name == "食品经营许可"
    assert [(m.name, m.copies, m.source_ref) for m in v1.materials.all()] == [("营业执照", 2, "11100000000013338W002")]
    with pytest.raises(Conflict, match="本身就是草稿"):
        services.new_draft_from(v2)


def test_retire_takes_the_item_out_of_force_with_its_earlier_versions():
    v1 = published_version()
    v2 = services.publish(services.new_draft_from(v1))
    services.retire(v2, actor="catalog-test")
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (ItemVersion.Status.RETIRED, ItemVersion.Status.RETIRED)
    assert v2.retired_at is not None
    assert v1.item.current_version is None
    with pytest.raises(Conflict, match="只有已发布的版本可以停用"):
        services.retire(v2)
    event = audit.history(v1.item).last()
    assert event.action == "catalog.version.retired" and event.data == {"versions": [1, 2]}


def test_delete_draft_only():
    version = draft_version()
    services.delete_draft(version)
    assert not ItemVersion.objects.filter(pk=version.pk).exists()
    published = published_version()
    with pytest.raises(Conflict):
        services.delete_draft(published)


def test_save_and_delete_part_of_a_draft():
    version = draft_version()
    material = MaterialRequirement(version=version, order=3, name="委托书", required=False)
    services.save_part(material, actor="catalog-test")
    assert [m.name for m in version.materials.all()] == ["申请书", "申请人身份证明", "委托书"]
    services.delete_part(material)
    assert version.materials.count() == 2
    assert [e.action for e in audit.history(version.item)][-2:] == [
        "catalog.material.saved",
        "catalog.material.deleted",
    ]


def test_only_catalog_managers_may_change_the_catalog():
    version = draft_version()
    citizen = User.objects.create_user("citizen", password="x")
    with pytest.raises(Forbidden, match="只有事项管理员可以维护事项目录"):
        services.update_draft(version, actor=citizen, name="改名")
    manager = User.objects.create_user("manager", password="x")
    StaffRole.objects.create(user=manager, department=version.item.department, role="catalog_manager")
    services.update_draft(version, actor=manager, name="改名")
    event = audit.history(version.item).last()
    assert event.actor == "manager" and event.actor_role == "catalog_manager"


# --- published versions never change -----------------------------------------------------------
# Each refused write runs in its own savepoint, as a request's transaction would.


def refused(operation):
    with pytest.raises(Conflict, match="已发布的事项版本不可修改"), transaction.atomic():
        operation()


@pytest.fixture
def published():
    return published_version(name="结婚登记")


def test_service_refuses_to_change_a_published_version(published):
    with pytest.raises(Conflict) as info:
        services.update_draft(published, name="改过的名字")
    assert info.value.message == "结婚登记 第1版的状态为「已发布」，不可修改；如需调整，请基于该版本新建草稿版本。"
    material = published.materials.first()
    with pytest.raises(Conflict):
        services.save_part(material)
    with pytest.raises(Conflict):
        services.delete_part(published.stages.first())
    published.refresh_from_db()
    assert published.name == "结婚登记"


def test_model_refuses_to_save_a_changed_published_version(published):
    published.name = "改过的名字"
    refused(published.save)
    fresh = ItemVersion.objects.get(pk=published.pk)
    fresh.status = ItemVersion.Status.DRAFT
    refused(fresh.save)
    assert ItemVersion.objects.get(pk=published.pk).name == "结婚登记"


def test_model_refuses_to_touch_materials_and_stages_of_a_published_version(published):
    material = published.materials.first()
    material.name = "别的材料"
    refused(material.save)
    refused(lambda: MaterialRequirement.objects.create(version=published, name="新增材料"))
    refused(lambda: Stage.objects.create(version=published, order=9, name="加一步", kind="review", role="reviewer"))
    refused(published.stages.first().delete)
    refused(published.materials.all().delete)
    assert published.materials.count() == 2 and published.stages.count() == 3


def test_a_material_cannot_be_moved_out_of_a_published_version(published):
    draft = draft_version()
    material = published.materials.first()
    material.version = draft
    refused(material.save)


def test_model_refuses_to_delete_a_published_version_or_its_item(published):
    refused(published.delete)
    refused(ItemVersion.objects.filter(pk=published.pk).delete)
    refused(published.item.delete)
    assert ItemVersion.objects.filter(pk=published.pk).exists()


def test_retiring_is_the_one_change_the_model_allows(published):
    published.status = ItemVersion.Status.RETIRED
    published.retired_at = timezone.now()
    published.save()
    published.status = ItemVersion.Status.PUBLISHED
    refused(published.save)
