"""Labelled evaluation: a seeded synthetic set and the scoring the quality benchmark uses."""

from __future__ import annotations

from tbplateau.evaluation.scoring import KindScore, Prediction, Scores, score
from tbplateau.evaluation.synthetic import Case, Label, generate_cases

__all__ = ["Case", "KindScore", "Label", "Prediction", "Scores", "generate_cases", "score"]
