"""Great Expectations Data Docs, built on demand for one file (the gate itself never writes files)."""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx

from ingest.base import ParsedBatch
from quality import gate
from quality.rules import RuleContext


def build_data_docs(batch: ParsedBatch, ctx: RuleContext, out_dir: Path) -> Path:
    """Validate ``batch`` with its gate suite and render suite + result as HTML under ``out_dir``."""
    out_dir = Path(out_dir).resolve()
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(site_name="envmon", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    batch_definition = context.data_sources.add_pandas("envmon").add_dataframe_asset(batch.dataset) \
        .add_batch_definition_whole_dataframe("file")
    suite = context.suites.add(gate.suite_for(batch, ctx))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch_definition, suite=suite, name=batch.path.name))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=f"docs-{batch.dataset}", validation_definitions=[validation],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["envmon"])]))
    checkpoint.run(batch_parameters={"dataframe": gate.gate_frame(batch.records, ctx)})
    return out_dir / "index.html"
