"""Catalog use cases: the only code that changes the catalog.

``versions`` — items, versions, materials and stages (draft → published → retired);
``search`` — the search index kept in step with them, synonyms, and the popularity counter;
``access`` — who may change the catalog.
"""

from .access import ROLE, can_manage_catalog, check_actor
from .search import (
    check_synonym,
    create_synonym,
    delete_synonym,
    index_version,
    index_versions,
    rebuild_index,
    record_view,
    seed_synonyms,
    sync_popularity,
    unindex_version,
    update_synonym,
)
from .versions import (
    BASE_CODE_RE,
    LICENCE_TYPE_CODE_RE,
    MATERIAL_FIELDS,
    STAGE_FIELDS,
    STAGE_ROLES,
    VERSION_FIELDS,
    check_consistency,
    completeness_errors,
    create_draft,
    create_item,
    delete_draft,
    delete_part,
    implementation_code,
    new_draft_from,
    publish,
    retire,
    save_part,
    snapshot,
    update_draft,
)

__all__ = [
    "BASE_CODE_RE",
    "LICENCE_TYPE_CODE_RE",
    "MATERIAL_FIELDS",
    "ROLE",
    "STAGE_FIELDS",
    "STAGE_ROLES",
    "VERSION_FIELDS",
    "can_manage_catalog",
    "check_actor",
    "check_consistency",
    "check_synonym",
    "completeness_errors",
    "create_draft",
    "create_item",
    "create_synonym",
    "delete_draft",
    "delete_part",
    "delete_synonym",
    "implementation_code",
    "index_version",
    "index_versions",
    "new_draft_from",
    "publish",
    "rebuild_index",
    "record_view",
    "retire",
    "save_part",
    "seed_synonyms",
    "sync_popularity",
    "snapshot",
    "unindex_version",
    "update_draft",
    "update_synonym",
]
