"""REST endpoints of the catalog (mounted under /api/). Thin: selectors to read, services to write.

Anyone may read: the items in force (search and filters, paginated), an item with its current
version, its published versions, one version as a case refers to it, and the guide PDF. Catalog
managers may also see drafts, make a new draft, change a draft and publish it; a published version
is never changed (409 with the reason).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from yiwang.core.api import ErrorSerializer
from yiwang.core.errors import InvalidInput
from yiwang.identity.models import Department

from . import guide, selectors, services
from .models import Handling, ItemType, ItemVersion, MaterialRequirement, OnlineDepth, Stage, Theme

# --- serializers -------------------------------------------------------------------------------


class CatalogDepartmentSerializer(serializers.Serializer):
    credit_code = serializers.CharField(help_text="统一社会信用代码")
    name = serializers.CharField()


class CatalogRegionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="GB/T 2260 区划代码")
    name = serializers.CharField()


class CatalogItemSummarySerializer(serializers.ModelSerializer):
    """One item in a list: its current version's main elements."""

    code = serializers.CharField(source="item.code", help_text="实施编码（31位）")
    base_code = serializers.CharField(source="item.base_code", help_text="基本编码（12位）")
    version = serializers.IntegerField(source="number", help_text="现行版本号")
    item_type_label = serializers.CharField(source="get_item_type_display")
    service_object_label = serializers.CharField(source="get_service_object_display")
    theme_label = serializers.CharField(source="get_theme_display")
    handling_label = serializers.CharField(source="get_handling_display")
    online_depth_label = serializers.CharField(source="get_online_depth_display")
    department = CatalogDepartmentSerializer(source="item.department")
    region = CatalogRegionSerializer(source="item.region")
    guide_url = serializers.SerializerMethodField(help_text="办事指南网页")
    guide_pdf_url = serializers.SerializerMethodField(help_text="办事指南 PDF")
    relevance = serializers.SerializerMethodField(help_text="与查询词的相关度（无查询词时为空）")

    class Meta:
        model = ItemVersion
        fields = [
            "code",
            "base_code",
            "name",
            "version",
            "effective_from",
            "item_type",
            "item_type_label",
            "service_object",
            "service_object_label",
            "theme",
            "theme_label",
            "handling",
            "handling_label",
            "statutory_days",
            "promised_days",
            "online_depth",
            "online_depth_label",
            "max_visits",
            "fee",
            "department",
            "region",
            "guide_url",
            "guide_pdf_url",
            "relevance",
        ]

    def get_relevance(self, version: ItemVersion) -> int | None:
        return getattr(version, "score", None)

    def _absolute(self, name: str, version: ItemVersion) -> str:
        url = reverse(name, args=[version.item.code])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_guide_url(self, version: ItemVersion) -> str:
        return self._absolute("portal:item_guide", version)

    def get_guide_pdf_url(self, version: ItemVersion) -> str:
        return self._absolute("portal:item_guide_pdf", version)


class CatalogMaterialSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)

    class Meta:
        model = MaterialRequirement
        fields = [
            "order",
            "name",
            "required",
            "copies",
            "kind",
            "kind_label",
            "formats",
            "basis",
            "note",
            "source",
            "source_label",
            "source_ref",
        ]


class CatalogStageSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    department = serializers.SerializerMethodField(help_text="办理部门统一社会信用代码（空：事项实施机构）")

    class Meta:
        model = Stage
        fields = ["order", "name", "kind", "kind_label", "role", "department", "time_share", "parallel_group"]

    def get_department(self, stage: Stage) -> str | None:
        return stage.department.credit_code if stage.department_id else None


class CatalogVersionSerializer(CatalogItemSummarySerializer):
    """Every element of one version, with its materials, stages and application form."""

    materials = CatalogMaterialSerializer(many=True, read_only=True)
    stages = CatalogStageSerializer(many=True, read_only=True)
    status_label = serializers.CharField(source="get_status_display")
    exercise_level_label = serializers.CharField(source="get_exercise_level_display")
    result_type_label = serializers.CharField(source="get_result_type_display")

    class Meta(CatalogItemSummarySerializer.Meta):
        fields = [
            *CatalogItemSummarySerializer.Meta.fields,
            "status",
            "status_label",
            "published_at",
            "retired_at",
            "exercise_level",
            "exercise_level_label",
            "keywords",
            "legal_basis",
            "conditions",
            "acceptance_days",
            "fee_basis",
            "fee_before_completion",
            "location",
            "hours",
            "consult_phone",
            "complaint_phone",
            "process_description",
            "result_type",
            "result_type_label",
            "result_name",
            "result_licence_type",
            "form_schema",
            "materials",
            "stages",
        ]


class CatalogVersionBriefSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = ItemVersion
        fields = ["number", "name", "status", "status_label", "effective_from", "published_at", "retired_at"]


class CatalogItemSerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code")
    base_code = serializers.CharField(source="item.base_code")
    department = CatalogDepartmentSerializer(source="item.department")
    region = CatalogRegionSerializer(source="item.region")
    current_version = CatalogVersionSerializer(source="*")


class CatalogDraftChangeSerializer(serializers.Serializer):
    """The elements to change in a draft; ``materials`` / ``stages``, when given, replace the lists."""

    changes = serializers.DictField(required=False, help_text='要修改的要素，如 {"name": "…", "promised_days": 5}')
    materials = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="申请材料（整体替换），字段同版本详情"
    )
    stages = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="办理环节（整体替换）；department 为办理部门统一社会信用代码，空表示实施机构",
    )


class CatalogPublishSerializer(serializers.Serializer):
    effective_from = serializers.DateField(required=False, help_text="生效日期，默认今天")


# --- views -------------------------------------------------------------------------------------


def _stages_with_departments(stages: list[dict] | None) -> list[dict] | None:
    """Stages as the services take them: the department by its credit code in the API."""
    if stages is None:
        return None
    codes = {s.get("department") for s in stages} - {None, ""}
    departments = {d.credit_code: d for d in Department.objects.filter(credit_code__in=codes)}
    out = []
    for index, stage in enumerate(stages, start=1):
        code = stage.get("department")
        if code and code not in departments:
            raise InvalidInput(
                _("第%(n)d个环节的办理部门 %(c)s 不存在。") % {"n": index, "c": code},
                field=f"stages.{index}.department",
            )
        out.append({**stage, "department": departments.get(code) if code else None})
    return out


class CatalogPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = selectors.MAX_PAGE_SIZE

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["suggestion"] = {
            "type": "string",
            "nullable": True,
            "description": "您是不是要找：没有找到（或有词语未收录）时，目录中最接近的词语",
        }
        schema["properties"]["ignored_words"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": "查询中目录未收录、已忽略的词语",
        }
        return schema


class PDFRenderer(renderers.BaseRenderer):
    """Lets clients ask for ``Accept: application/pdf``; errors still go out as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False).encode()


def _choices(choices) -> str:
    return "；".join(f"{value} {label}" for value, label in choices)


FILTERS = [
    OpenApiParameter(
        "q",
        str,
        description="查询词：事项名称、关键词、部门或受理条件中的词语，也可输入拼音全拼或首字母（yingyezhizhao、yyzz）；"
        "按同义词扩展，分词后须全部匹配，按相关度和热度排序",
    ),
    OpenApiParameter("service_object", str, enum=["person", "organisation", "个人", "法人"], description="服务对象"),
    OpenApiParameter("theme", str, enum=list(Theme.values), description=_choices(Theme.choices)),
    OpenApiParameter("department", str, description="实施机构统一社会信用代码"),
    OpenApiParameter("region", str, description="行政区划代码（含下辖区县）"),
    OpenApiParameter("item_type", str, enum=list(ItemType.values), description=_choices(ItemType.choices)),
    OpenApiParameter("handling", str, enum=list(Handling.values), description=_choices(Handling.choices)),
    OpenApiParameter("online_depth", int, enum=list(OnlineDepth.values), description=_choices(OnlineDepth.choices)),
    OpenApiParameter("zero_visit", bool, description="true：只列零跑动事项；false：只列须到现场的事项"),
]
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="实施编码（31位）")
NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="版本号")
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="输入有误"),
    403: OpenApiResponse(ErrorSerializer, description="无权操作"),
    404: OpenApiResponse(ErrorSerializer, description="事项或版本不存在"),
    409: OpenApiResponse(ErrorSerializer, description="版本已发布，不可修改"),
}


@extend_schema_view(
    list=extend_schema(
        summary="事项列表与搜索",
        operation_id="catalog_items_list",
        tags=["catalog"],
        description="现行有效的政务服务事项（每项为其现行版本），分页。有查询词时按相关度、热度排序，"
        "否则按名称排序；没有结果时 suggestion 给出「您是不是要找」的词语。",
        parameters=FILTERS,
        responses={200: CatalogItemSummarySerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(
        summary="事项详情",
        operation_id="catalog_items_retrieve",
        tags=["catalog"],
        description="事项及其现行版本的全部要素：申请材料、办理环节、申请表定义。",
        parameters=[CODE],
        responses={200: CatalogItemSerializer, 404: ERRORS[404]},
    ),
)
class ItemViewSet(viewsets.GenericViewSet):
    """政务服务事项目录."""

    lookup_field = "code"
    lookup_value_regex = "[0-9A-Za-z]+"
    pagination_class = CatalogPagination
    serializer_class = CatalogItemSummarySerializer
    queryset = ItemVersion.objects.none()  # reads go through the selectors

    def list(self, request):
        results = selectors.search_items(selectors.parse_filters(request.query_params))
        page = self.paginate_queryset(results)
        response = self.get_paginated_response(
            CatalogItemSummarySerializer(page, many=True, context={"request": request}).data
        )
        response.data["suggestion"] = results.suggestion
        response.data["ignored_words"] = results.ignored
        return response

    def retrieve(self, request, code=None):
        version = selectors.get_current_version(code)
        services.record_view(version.item)
        return Response(CatalogItemSerializer(version, context={"request": request}).data)

    def _manager(self, request) -> bool:
        return services.can_manage_catalog(request.user)

    @extend_schema(
        methods=["GET"],
        summary="版本列表",
        operation_id="catalog_items_versions_list",
        tags=["catalog"],
        description="事项的已发布和已停用版本，新版本在前；事项管理员还能看到草稿。",
        parameters=[CODE],
        responses={200: CatalogVersionBriefSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="新建草稿版本（事项管理员）",
        operation_id="catalog_items_versions_create",
        tags=["catalog"],
        description="复制现行版本（或最新的已发布版本）的全部要素、材料、环节和申请表为新草稿。",
        parameters=[CODE],
        request=None,
        responses={201: CatalogVersionSerializer, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def versions(self, request, code=None):
        item = selectors.get_item(code)
        if request.method == "POST":
            source = selectors.public_versions(item).first()
            if source is None:
                raise InvalidInput(_("该事项还没有已发布的版本，请在管理后台编辑其草稿。"))
            draft = services.new_draft_from(source, actor=request.user)
            return Response(CatalogVersionSerializer(draft, context={"request": request}).data, status=201)
        versions = selectors.public_versions(item, include_drafts=self._manager(request))
        return Response(CatalogVersionBriefSerializer(versions, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="版本详情",
        operation_id="catalog_items_version_retrieve",
        tags=["catalog"],
        description="某一版本的全部要素（办件引用的正是它）。",
        parameters=[CODE, NUMBER],
        responses={200: CatalogVersionSerializer, 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="修改草稿（事项管理员）",
        operation_id="catalog_items_version_update",
        tags=["catalog"],
        description="只能修改草稿；已发布的版本不可修改（409）。",
        parameters=[CODE, NUMBER],
        request=CatalogDraftChangeSerializer,
        responses={
            200: CatalogVersionSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["get", "patch"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request, code=None, number=None):
        version = selectors.get_version(code, number, include_drafts=self._manager(request))
        if request.method == "PATCH":
            change = CatalogDraftChangeSerializer(data=request.data)
            if not change.is_valid():
                raise InvalidInput(_("请求格式有误。"), errors=change.errors)
            data = change.validated_data
            version = services.update_draft(
                version,
                actor=request.user,
                materials=data.get("materials"),
                stages=_stages_with_departments(data.get("stages")),
                **data.get("changes", {}),
            )
            version = selectors.get_version(code, version.number, include_drafts=True)
        return Response(CatalogVersionSerializer(version, context={"request": request}).data)

    @extend_schema(
        summary="发布草稿（事项管理员）",
        operation_id="catalog_items_version_publish",
        tags=["catalog"],
        description="校验完整性后发布；此后该版本不再改变。",
        parameters=[CODE, NUMBER],
        request=CatalogPublishSerializer,
        responses={
            200: CatalogVersionSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]+)/publish")
    def publish(self, request, code=None, number=None):
        version = selectors.get_version(code, number, include_drafts=self._manager(request))
        body = CatalogPublishSerializer(data=request.data)
        if not body.is_valid():
            raise InvalidInput(_("生效日期格式应为 年-月-日。"), field="effective_from", errors=body.errors)
        version = services.publish(
            version, actor=request.user, effective_from=body.validated_data.get("effective_from")
        )
        return Response(CatalogVersionSerializer(version, context={"request": request}).data)


class GuidePdfView(APIView):
    """办事指南 PDF (a file, so its URL has no trailing slash)."""

    renderer_classes = [renderers.JSONRenderer, PDFRenderer]

    @extend_schema(
        operation_id="catalog_items_guide_pdf",
        summary="办事指南 PDF",
        description="现行版本的办事指南（内嵌中文字体）；?version=N 取指定版本。",
        parameters=[CODE, OpenApiParameter("version", int, description="版本号，默认现行版本")],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERRORS[404]},
        tags=["catalog"],
    )
    def get(self, request, code: str):
        number = request.query_params.get("version")
        if number:
            version = selectors.get_version(code, number, include_drafts=services.can_manage_catalog(request.user))
        else:
            version = selectors.get_current_version(code)
        response = HttpResponse(guide.guide_pdf(version), content_type="application/pdf")
        filename = f"{version.item.code}-{version.number}.pdf"
        response["Content-Disposition"] = content_disposition_header(False, filename)
        return response


router = SimpleRouter()
router.register("items", ItemViewSet, basename="catalog-item")
urlpatterns = [
    path("items/<str:code>/guide.pdf", GuidePdfView.as_view(), name="catalog-item-guide-pdf"),
    *router.urls,
]
