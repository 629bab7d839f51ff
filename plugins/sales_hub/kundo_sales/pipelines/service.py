"""Pipelines and stages: the default pipeline, editing stages, and the stage rules.

Every pipeline ends in exactly one won and one lost stage. Those two are fixed: they
cannot be deleted, moved or given another probability (100 % and 0 %), because the
forecast and the metrics rely on them. Open stages are free to edit.

The plugin host has no install hook, so the default pipeline is made on first use
(`ensure_default_pipeline`, called by every page and API entry) under a transaction-level
advisory lock, which makes two first requests at the same moment create it once.
"""

from __future__ import annotations

from contextlib import nullcontext

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from kundo.crm import TaskType
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.pipelines.models import Pipeline, Stage, StageKind, StageRule

#: (name msgid, probability %, rotting days, kind) of a new pipeline's stages.
DEFAULT_STAGES = (
    (_l("Qualified"), 10, 14, StageKind.OPEN),
    (_l("Appointment scheduled"), 20, 14, StageKind.OPEN),
    (_l("Proposal"), 50, 21, StageKind.OPEN),
    (_l("Negotiation"), 75, 14, StageKind.OPEN),
    (_l("Won"), 100, None, StageKind.WON),
    (_l("Lost"), 0, None, StageKind.LOST),
)
DEFAULT_PIPELINE_NAME = _l("Sales pipeline")
TASK_TYPES = tuple(kind.value for kind in TaskType)
MAX_STAGES = 30
MAX_DUE_DAYS = 365


def ensure_default_pipeline(session: Session, locale: str = "en") -> Pipeline | None:
    """Create the default pipeline, in the workspace's language, if the workspace has none yet.

    Returns the new pipeline, or None when there was one already. Idempotent under concurrency.
    """
    if session.scalar(select(Pipeline.id).limit(1)) is not None:
        return None
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.sales_default_pipeline'))"))
    if session.scalar(select(Pipeline.id).limit(1)) is not None:
        return None
    with force_locale(locale or "en"):
        return create_pipeline(session, str(DEFAULT_PIPELINE_NAME), locale=locale)


def list_pipelines(session: Session) -> list[Pipeline]:
    return list(session.scalars(select(Pipeline).options(selectinload(Pipeline.stages))
                                .order_by(Pipeline.position, Pipeline.id)))


def get_pipeline(session: Session, pipeline_id: int) -> Pipeline:
    pipeline = session.scalar(select(Pipeline).where(Pipeline.id == pipeline_id)
                              .options(selectinload(Pipeline.stages)))
    if pipeline is None:
        raise SalesNotFound(_("There is no pipeline with id %(id)s in this workspace.", id=pipeline_id))
    return pipeline


def get_stage(session: Session, stage_id: int) -> Stage:
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise SalesNotFound(_("There is no stage with id %(id)s in this workspace.", id=stage_id))
    return stage


def _clean_name(value, field: str = "name", limit: int = 200) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise SalesValidationError({field: [_("Give it a name.")]})
    if len(name) > limit:
        raise SalesValidationError({field: [_("Use at most %(count)s characters.", count=limit)]})
    return name


def create_pipeline(session: Session, name: str, *, locale: str | None = None, created_by: int | None = None,
                    stages: list[dict] | None = None) -> Pipeline:
    """A pipeline with the default stages (or the given open stages), won and lost at the end.

    :param stages: [{"name", "probability", "rotting_days"}, …] open stages; None = the defaults.
    """
    name = _clean_name(name)
    if session.scalar(select(Pipeline.id).where(func.lower(Pipeline.name) == name.lower())):
        raise SalesValidationError({"name": [_("There is a pipeline called “%(name)s” already.", name=name)]})
    position = (session.scalar(select(func.max(Pipeline.position))) or 0) + 1
    pipeline = Pipeline(name=name, position=position, created_by=created_by)
    if stages is None:
        with force_locale(locale) if locale else nullcontext():
            specs = [(str(label), p, r, kind) for label, p, r, kind in DEFAULT_STAGES]
    else:
        with force_locale(locale) if locale else nullcontext():
            closing = [(str(label), p, r, kind) for label, p, r, kind in DEFAULT_STAGES if kind != StageKind.OPEN]
        specs = [(_clean_name(s.get("name"), "stages"), _probability(s.get("probability", 0)),
                  _rotting(s.get("rotting_days")), StageKind.OPEN) for s in stages] + closing
    if len(specs) > MAX_STAGES:
        raise SalesValidationError({"stages": [_("Use at most %(count)s stages.", count=MAX_STAGES)]})
    pipeline.stages = [Stage(name=n, probability=p, rotting_days=r, kind=kind.value, position=i)
                       for i, (n, p, r, kind) in enumerate(specs)]
    session.add(pipeline)
    session.flush()
    return pipeline


def rename_pipeline(session: Session, pipeline: Pipeline, name: str) -> Pipeline:
    name = _clean_name(name)
    taken = session.scalar(select(Pipeline.id).where(func.lower(Pipeline.name) == name.lower(),
                                                     Pipeline.id != pipeline.id))
    if taken:
        raise SalesValidationError({"name": [_("There is a pipeline called “%(name)s” already.", name=name)]})
    pipeline.name = name
    session.flush()
    return pipeline


def delete_pipeline(session: Session, pipeline: Pipeline) -> None:
    """Only an empty pipeline goes, and never the last one."""
    from kundo_sales.deals.models import Deal

    if session.scalar(select(func.count()).select_from(Deal).where(Deal.pipeline_id == pipeline.id)):
        raise SalesValidationError({"pipeline": [_("Move or delete its deals first.")]})
    if session.scalar(select(func.count()).select_from(Pipeline)) <= 1:
        raise SalesValidationError({"pipeline": [_("A workspace keeps at least one pipeline.")]})
    session.delete(pipeline)
    session.flush()


def _probability(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 100:
        raise SalesValidationError({"probability": [_("Give a win probability between 0 and 100.")]})
    return number


def _rotting(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= 3650:
        raise SalesValidationError({"rotting_days": [_("Give the rotting time as 1 to 3650 days, or leave it empty.")]})
    return number


def add_stage(session: Session, pipeline: Pipeline, *, name: str, probability=0, rotting_days=None) -> Stage:
    """A new open stage, placed before won and lost."""
    if len(pipeline.stages) >= MAX_STAGES:
        raise SalesValidationError({"stages": [_("Use at most %(count)s stages.", count=MAX_STAGES)]})
    stage = Stage(name=_clean_name(name, limit=120), probability=_probability(probability),
                  rotting_days=_rotting(rotting_days), kind=StageKind.OPEN.value)
    open_stages = [s for s in pipeline.stages if s.kind == StageKind.OPEN]
    closing = [s for s in pipeline.stages if s.kind != StageKind.OPEN]
    pipeline.stages = [*open_stages, stage, *closing]
    _renumber(pipeline.stages)
    session.flush()
    return stage


def update_stage(session: Session, stage: Stage, changes: dict) -> Stage:
    """Edit name, probability and rotting days; won and lost keep their probability."""
    errors: dict[str, list[str]] = {}
    for key, clean in (("name", lambda v: _clean_name(v, limit=120)), ("probability", _probability),
                       ("rotting_days", _rotting)):
        if key not in changes:
            continue
        if key in ("probability", "rotting_days") and stage.kind != StageKind.OPEN:
            if key == "probability" and _safe_int(changes[key]) != stage.probability:
                errors.setdefault(key, []).append(_("Won and lost stages keep 100 % and 0 %."))
            continue
        try:
            setattr(stage, key, clean(changes[key]))
        except SalesValidationError as error:
            for field, messages in error.errors.items():
                errors.setdefault(key if field == "name" else field, []).extend(messages)
    if errors:
        raise SalesValidationError(errors)
    session.flush()
    return stage


def _safe_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reorder_stages(session: Session, pipeline: Pipeline, stage_ids: list[int]) -> Pipeline:
    """Put the open stages in the given order; won and lost stay at the end."""
    open_stages = {s.id: s for s in pipeline.stages if s.kind == StageKind.OPEN}
    if sorted(stage_ids) != sorted(open_stages):
        raise SalesValidationError({"stage_ids": [_("List every open stage of the pipeline exactly once.")]})
    closing = [s for s in pipeline.stages if s.kind != StageKind.OPEN]
    ordered = [open_stages[i] for i in stage_ids] + closing
    _renumber(ordered)
    session.flush()
    session.expire(pipeline, ["stages"])
    return pipeline


def delete_stage(session: Session, stage: Stage) -> None:
    """An open stage without deals; a pipeline keeps at least one open stage."""
    from kundo_sales.deals.models import Deal

    if stage.kind != StageKind.OPEN:
        raise SalesValidationError({"stage": [_("Won and lost stages cannot be deleted.")]})
    if session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id)):
        raise SalesValidationError({"stage": [_("Move the deals in this stage to another stage first.")]})
    others = session.scalar(select(func.count()).select_from(Stage).where(
        Stage.pipeline_id == stage.pipeline_id, Stage.kind == StageKind.OPEN.value, Stage.id != stage.id))
    if not others:
        raise SalesValidationError({"stage": [_("A pipeline keeps at least one open stage.")]})
    pipeline = stage.pipeline
    session.delete(stage)
    session.flush()
    session.expire(pipeline, ["stages"])
    _renumber(pipeline.stages)
    session.flush()


def _renumber(stages: list[Stage]) -> None:
    for position, stage in enumerate(stages):
        stage.position = position


def won_stage(pipeline: Pipeline) -> Stage:
    return next(s for s in pipeline.stages if s.kind == StageKind.WON)


def lost_stage(pipeline: Pipeline) -> Stage:
    return next(s for s in pipeline.stages if s.kind == StageKind.LOST)


# -- stage rules ---------------------------------------------------------------------------------------------------

def list_rules(session: Session, pipeline_id: int) -> list[StageRule]:
    return list(session.scalars(select(StageRule).where(StageRule.pipeline_id == pipeline_id)
                                .order_by(StageRule.stage_id, StageRule.id)))


def create_rule(session: Session, pipeline: Pipeline, *, stage_id: int, title: str, task_type: str = "todo",
                due_in_days=0, created_by: int | None = None) -> StageRule:
    """When a deal enters `stage_id`, create the task `title` for its owner, due in `due_in_days` days."""
    errors: dict[str, list[str]] = {}
    if not any(s.id == stage_id for s in pipeline.stages):
        errors["stage_id"] = [_("Choose a stage of this pipeline.")]
    title = " ".join(str(title or "").split())
    if not title:
        errors["title"] = [_("Give the task a title.")]
    elif len(title) > 300:
        errors["title"] = [_("Use at most %(count)s characters.", count=300)]
    if task_type not in TASK_TYPES:
        errors["task_type"] = [_("Use one of: %(types)s.", types=", ".join(TASK_TYPES))]
    days = _safe_int(due_in_days)
    if days is None or not 0 <= days <= MAX_DUE_DAYS:
        errors["due_in_days"] = [_("Give 0 to %(max)s days.", max=MAX_DUE_DAYS)]
    if errors:
        raise SalesValidationError(errors)
    rule = StageRule(pipeline_id=pipeline.id, stage_id=stage_id, title=title, task_type=task_type,
                     due_in_days=days, created_by=created_by)
    session.add(rule)
    session.flush()
    return rule


def delete_rule(session: Session, pipeline_id: int, rule_id: int) -> None:
    rule = session.get(StageRule, rule_id)
    if rule is None or rule.pipeline_id != pipeline_id:
        raise SalesNotFound(_("There is no stage rule with id %(id)s in this pipeline.", id=rule_id))
    session.delete(rule)
    session.flush()
