"""The shapes of things logs mention, written once: addresses, ids, paths.

Regex bodies without anchors or lookarounds: each user (template masks,
sessions, the digest's entities, grounding and the fact guard) puts its own
boundaries around them, because a mask, an entity and a fact token end in
different places.
"""

from __future__ import annotations

IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"  # four dotted numbers; the digest checks octets with IPV4_OCTETS
_OCTET = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)"
IPV4_OCTETS = rf"{_OCTET}(?:\.{_OCTET}){{3}}"  # a valid address only
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
HDFS_BLOCK = r"blk_-?\d+"  # an HDFS block id: the session id of HDFS logs
HEX_LITERAL = r"0[xX][0-9a-fA-F]+"
PATH = r"/(?:[\w.@-]+/)*[\w.@-]+/?"  # an absolute path
