"""Next-key anomaly detection over template keys (LogGPT / LogNEO top-K)."""

from engine.detector.detector import Detector, SessionVerdict, Verdict
from engine.detector.scoring import TopK
from engine.detector.vocab import BOS, END, EOS, PAD, UNK, KeyVocab

__all__ = ["BOS", "END", "EOS", "PAD", "UNK", "Detector", "KeyVocab", "SessionVerdict", "TopK", "Verdict"]
