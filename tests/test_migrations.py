"""The migrations build the schema of the models, on the engine under test."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.models import metadata


def test_upgrade_head_matches_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_alembic_check_is_clean(db_url):
    from alembic import command
    from alembic.config import Config

    from app.config import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.check(config)  # raises if the models and the migrations differ
