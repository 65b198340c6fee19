"""`flask documents import` and `flask documents reindex`: an organisation's documents from the command line."""

import sys
from collections.abc import Iterable
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, or_, select

from .errors import ApiError
from .extensions import db
from .models import Organisation, Passage
from .providers.embeddings import EmbeddingError, EmbeddingSettings, embedder_for
from .services.documents import prepare_document, reindex_passages, store_document
from .services.lookup import find_by_ref


@click.group("documents")
def documents_group() -> None:
    """Import documents and recompute their embeddings."""


def organisation_named(ref: str) -> Organisation:
    organisation = find_by_ref(Organisation, ref) or db.session.scalars(
        select(Organisation).where(or_(Organisation.slug == ref, func.lower(Organisation.name) == ref.lower()))
        .order_by(Organisation.id)
    ).first()
    if organisation is None:
        raise click.ClickException(f"No organisation {ref!r} (give its name, slug, id or uuid).")
    return organisation


def files_in(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(item for item in path.rglob("*") if item.is_file() and not item.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise click.ClickException(f"No file or folder {str(path)!r}.")
    return files


@documents_group.command("import")
@click.argument("organisation_ref", metavar="ORG")
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH...")
def import_command(organisation_ref: str, paths: tuple[str, ...]) -> None:
    """Upload files (folders: every file in them) into an organisation, owned by its owner.

    Files of another type or over OPENREGISTER_MAX_DOCUMENT_SIZE are skipped and named on stderr.
    """
    organisation = organisation_named(organisation_ref)
    files = files_in(paths)
    embedder = embedder_for(EmbeddingSettings.from_config(current_app.config))
    limit = current_app.config["MAX_DOCUMENT_SIZE"]
    imported, failed = 0, 0
    skipped: list[str] = []
    with click.progressbar(files, label="Documents", file=sys.stderr) as bar:
        for path in bar:
            if path.stat().st_size > limit:
                skipped.append(f"{path}: larger than {limit} bytes")
                continue
            try:
                prepared = prepare_document(data=path.read_bytes(), filename=path.name, name=None,
                                            declared_type=None, embedder=embedder)
            except ApiError as error:
                db.session.rollback()
                skipped.append(f"{path}: {error.message}")
                continue
            document = store_document(organisation.id, organisation.owner_id, prepared)
            db.session.commit()
            imported += 1
            failed += document.status == "failed"
    for line in skipped:
        click.echo(f"Skipped {line}", err=True)
    click.echo(f"Imported {imported} documents into {organisation.name!r} ({failed} without text, "
               f"{len(skipped)} skipped).")


@documents_group.command("reindex")
@click.argument("organisation_ref", metavar="[ORG]", required=False)
def reindex_command(organisation_ref: str | None) -> None:
    """Recompute the passages' embeddings (of one organisation, or all) with the configured embedding model."""
    embedder = embedder_for(EmbeddingSettings.from_config(current_app.config))
    if embedder is None:
        raise click.ClickException(
            "No embedding provider: set OPENREGISTER_EMBEDDING_PROVIDER=openai, _BASE_URL and _MODEL first."
        )
    organisation_id = organisation_named(organisation_ref).id if organisation_ref else None
    counting = select(func.count(Passage.id))
    if organisation_id is not None:
        counting = counting.where(Passage.organisation_id == organisation_id)
    total = db.session.scalar(counting) or 0
    try:
        with click.progressbar(length=total, label="Passages", file=sys.stderr) as bar:

            def progress(count: int) -> None:
                # Committed batch by batch, so that an interrupted run keeps what it did.
                db.session.commit()
                bar.update(count)

            done = reindex_passages(organisation_id, embedder, progress=progress)
    except EmbeddingError as error:
        db.session.rollback()
        raise click.ClickException(f"The embedding server failed; passages embedded so far are kept: {error}") from None
    click.echo(f"Embedded {done} passages with {embedder.model}.")
