"""Code lists with Vietnamese and English labels."""

from fastapi import APIRouter
from sqlmodel import select

from app.api.deps import CurrentPrincipal
from app.api.errors import NotFound
from app.db import SessionDep
from app.models import CodeItem, CodeListName
from app.models.codelist import CodeItemPublic

router = APIRouter(prefix="/code-lists", tags=["code lists"])


@router.get("")
def list_code_lists(session: SessionDep, _: CurrentPrincipal) -> dict[str, list[CodeItemPublic]]:
    """Every code list, keyed by its name."""
    result: dict[str, list[CodeItemPublic]] = {name.value: [] for name in CodeListName}
    for item in session.exec(select(CodeItem).order_by(CodeItem.list_name, CodeItem.sort_order, CodeItem.code)):
        result.setdefault(item.list_name, []).append(CodeItemPublic.model_validate(item, from_attributes=True))
    return result


@router.get("/{name}")
def get_code_list(name: str, session: SessionDep, _: CurrentPrincipal) -> list[CodeItemPublic]:
    """One code list (task_group, target_group, activity_kind, channel, product, funding_source)."""
    if name not in {n.value for n in CodeListName}:
        raise NotFound(f"No code list named {name!r}.")
    items = session.exec(
        select(CodeItem).where(CodeItem.list_name == name).order_by(CodeItem.sort_order, CodeItem.code)
    )
    return [CodeItemPublic.model_validate(i, from_attributes=True) for i in items]
