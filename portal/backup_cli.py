"""`flask backup PATH` and `flask restore PATH`: the commands around portal/backup.py."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app

from portal import backup
from portal.extensions import db

PG_BIN_HELP = "Folder holding pg_dump and pg_restore (PostgreSQL only; default: the PATH)."


def known_migrations() -> backup.Migrations:
    """The revisions of this code's migrations folder, and its head."""
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    heads = script.get_heads()
    return backup.Migrations(
        frozenset(rev.revision for rev in script.walk_revisions()),
        heads[0] if len(heads) == 1 else None,
    )


def register_backup_cli(app) -> None:
    """Register `flask backup` and `flask restore`."""

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
    @click.option("--pg-bin", type=click.Path(file_okay=False), help=PG_BIN_HELP)
    def backup_command(path: Path, force: bool, pg_bin: str | None) -> None:
        """Copy the configured database to PATH (safe while the portal is serving)."""
        try:
            outcome = backup.backup(db.engine.url, path, overwrite=force, bin_dir=pg_bin)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        contents = outcome.contents
        click.echo(
            f"Backup written to {outcome.path}: {outcome.size:,} bytes "
            f"({backup.ENGINE_LABEL[contents.engine]}, migration {contents.revision})."
        )
        click.echo(f"  {contents.describe()}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option(
        "--force", is_flag=True, help="Replace the configured database even if it holds data."
    )
    @click.option(
        "--yes-i-mean-production",
        "production_confirmed",
        is_flag=True,
        help="Allow a restore with the production configuration.",
    )
    @click.option("--pg-bin", type=click.Path(file_okay=False), help=PG_BIN_HELP)
    def restore_command(
        path: Path, force: bool, production_confirmed: bool, pg_bin: str | None
    ) -> None:
        """Replace the configured database with the backup at PATH (stop the portal first)."""
        url = db.engine.url
        try:
            outcome = backup.restore(
                url,
                path,
                migrations=known_migrations(),
                force=force,
                environment=current_app.config.get("FAIRSHIFT_ENV", ""),
                production_confirmed=production_confirmed,
                bin_dir=pg_bin,
            )
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            db.engine.dispose()  # no pooled connection of this process outlives the old data
        contents = outcome.contents
        click.echo(
            f"Restored {outcome.path} ({outcome.size:,} bytes) into "
            f"{url.render_as_string(hide_password=True)} (migration {contents.revision})."
        )
        click.echo(f"  {contents.describe()}")
        for note in outcome.notes:
            click.echo(note)
