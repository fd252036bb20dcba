"""All tables, imported here so that Alembic and the app see one metadata."""

from sqlmodel import SQLModel

from app.models.activity import Activity, ActivityProduct, ActivityTargetGroup
from app.models.audit import AuditEntry, IdempotencyRecord
from app.models.campaign import Campaign, CampaignKind, CampaignPlan
from app.models.codelist import CodeItem, CodeListName
from app.models.indicator import Indicator, IndicatorTarget, Measure
from app.models.notify import Attachment, ReminderLog, Webhook, WebhookDelivery
from app.models.plan import Plan, PlanPhase
from app.models.report import AnnualReport, MediaStatus, ReportKind, ReportMediaStatus, ReportStatus, ReportTransition
from app.models.survey import SurveyResult, SurveyRound
from app.models.unit import SuccessionEvent, SuccessionKind, SuccessionLink, Unit, UnitKind
from app.models.user import ApiToken, Role, TokenKind, User

metadata = SQLModel.metadata

__all__ = [
    "Activity", "ActivityProduct", "ActivityTargetGroup", "AnnualReport", "ApiToken", "Attachment", "AuditEntry",
    "Campaign", "CampaignKind", "CampaignPlan", "CodeItem", "CodeListName", "IdempotencyRecord", "Indicator",
    "IndicatorTarget", "Measure", "MediaStatus", "Plan", "PlanPhase", "ReminderLog", "ReportKind",
    "ReportMediaStatus", "ReportStatus", "ReportTransition", "Role", "SuccessionEvent", "SuccessionKind",
    "SuccessionLink", "SurveyResult", "SurveyRound", "TokenKind", "Unit", "UnitKind", "User", "Webhook",
    "WebhookDelivery", "metadata",
]
