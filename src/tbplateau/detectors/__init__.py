"""One small detector class per finding kind, and the explicit registry of them.

The contract every detector follows is in :mod:`tbplateau.detectors.base`.
"""

from __future__ import annotations

from tbplateau.detectors.base import Detector
from tbplateau.detectors.divergence import DivergenceDetector
from tbplateau.detectors.nonfinite import NonFiniteDetector
from tbplateau.detectors.oscillation import OscillationDetector
from tbplateau.detectors.overfitting import OverfittingDetector
from tbplateau.detectors.plateau import PlateauDetector
from tbplateau.findings import FindingKind

__all__ = [
    "REGISTRY",
    "Detector",
    "DivergenceDetector",
    "NonFiniteDetector",
    "OscillationDetector",
    "OverfittingDetector",
    "PlateauDetector",
]

REGISTRY: dict[FindingKind, type[Detector]] = {
    FindingKind.PLATEAU: PlateauDetector,
    FindingKind.DIVERGENCE: DivergenceDetector,
    FindingKind.NONFINITE: NonFiniteDetector,
    FindingKind.OVERFITTING: OverfittingDetector,
    FindingKind.OSCILLATION: OscillationDetector,
}
"""Every detector class by the kind it finds (explicit: no discovery magic)."""
