"""Next-key anomaly detection over template keys (LogGPT / LogNEO top-K)."""

from engine.detect.detector import Detector, SessionVerdict, Verdict
from engine.detect.scoring import TopK
from engine.detect.vocab import BOS, END, EOS, PAD, UNK, KeyVocab

__all__ = ["BOS", "END", "EOS", "PAD", "UNK", "Detector", "KeyVocab", "SessionVerdict", "TopK", "Verdict"]
