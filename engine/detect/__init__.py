"""Next-key anomaly detection over template keys (LogGPT / LogNEO top-K).

`vocab` (keys ↔ ids), `scoring` (ranks and probabilities in windows; the
top-K rule), `detector` (model + vocabulary + rule + session rule, saved as
a bundle through `engine.lm.bundle`), `fit` (training on normal sessions,
self-training included) and `pipeline` (the one recipe: mine → sessions →
load-or-self-train → judge → flags).
"""

from engine.detect.detector import Detector, SessionVerdict, Verdict
from engine.detect.scoring import TopK
from engine.detect.vocab import BOS, END, EOS, PAD, UNK, KeyVocab

__all__ = ["BOS", "END", "EOS", "PAD", "UNK", "Detector", "KeyVocab", "SessionVerdict", "TopK", "Verdict"]
