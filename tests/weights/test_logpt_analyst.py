"""The bundled default analysis model: present, small, documented, and writing in the analyst's format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.analyst import category_of
from engine.analysis.run import AnalysisRequest, analyze_chunk, chunk_digest, plan_chunks
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import GenerationStats
from engine.lm.registry import DEFAULT_GENERATOR, find_bundle
from engine.lm.sampling import SamplingConfig

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "weights" / DEFAULT_GENERATOR
SAMPLE = ROOT / "assets" / "samples" / "web-incident.log"


def test_it_is_the_default_and_fits_in_git() -> None:
    assert find_bundle(None) == BUNDLE
    size = sum(p.stat().st_size for p in BUNDLE.iterdir())
    assert size <= 100 * 2**20


def test_provenance_says_how_it_was_made() -> None:
    config = json.loads((BUNDLE / "config.json").read_text())
    provenance = config["provenance"]
    assert config["prompt_format"] == "logpt-digest"
    assert provenance["trainer"] == "logpt train generator" and provenance["device"]
    assert provenance["training"]["steps"] > 0 and provenance["data"]["held_out"]
    assert set(provenance["evaluation"]) >= {"rouge_l", "grounding_precision", "category_agreement", "perplexity"}


@pytest.fixture(scope="module")
def bundle():  # noqa: ANN201
    return load_bundle(BUNDLE, placement("cpu"))


def test_root_cause_of_the_sample_incident_has_the_analyst_shape(bundle) -> None:  # noqa: ANN001
    request = AnalysisRequest("root_cause", 96, SamplingConfig(temperature=0.0))
    chunk = plan_chunks(bundle, SAMPLE.read_text(), request)[0]
    ids = list(analyze_chunk(bundle, chunk, request, GenerationStats(), chunk_digest(chunk)))
    text = bundle.tokenizer.decode(ids)
    assert text.startswith("## Root cause")
    assert category_of(text) is not None
