"""The logging calls of well-known software, and the level each states: the table train.msgstrings reads.

A call is a regex of its name up to the "(" (the level word, where the name says it, in group "w"), a fixed
canonical level, or a `marker`: a regex over the call's arguments (strings blanked) whose group 1 is a level
word, as in syslog(LOG_ERR, …) or serverLog(LL_WARNING, …). Level words go to the canonical levels of
engine.logs.formats.record.LEVELS through `WORDS`, a family's own words first.

What this leaves out: finding the calls in a file, their arguments and their strings (train.msgstrings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# A level word (lower case) → its canonical level
WORDS = {
    **dict.fromkeys(("emerg", "emergency", "alert", "crit", "critical", "fatal", "panic"), "CRITICAL"),
    **dict.fromkeys(("err", "error", "exception", "severe", "commerror"), "ERROR"),
    **dict.fromkeys(("warn", "warning"), "WARN"),
    **dict.fromkeys(("notice", "note"), "NOTICE"),
    **dict.fromkeys(("info", "log", "logit", "message", "msg", "verbose", "config"), "INFO"),
    **dict.fromkeys(("debug", "dbg", "devel", "fine"), "DEBUG"),
    **dict.fromkeys(("trace", "finer", "finest"), "TRACE"),
}
GO_SUFFIX = re.compile(r"(?:f|w|s|ln)$")  # Errorf, Warnw, ErrorS, Infoln: the level word before the suffix


def level_word(word: str, own: Mapping[str, str] | None = None) -> str | None:
    """The canonical level of a level word (a family's own words first), None when it says none."""
    if own and word in own:
        return own[word]
    if own and (prefix := next((k for k in own if k.endswith("*") and word.startswith(k[:-1])), None)):
        return own[prefix]  # a family's prefix rule: D_* → DEBUG
    low = word.lower()
    bare = low.rstrip("0123456789")  # debug2, DEBUG1, TRACE8
    return WORDS.get(low) or WORDS.get(bare) or WORDS.get(GO_SUFFIX.sub("", bare))


@dataclass(frozen=True)
class Api:
    """One family of logging calls."""

    call: str  # regex of the call's name, up to (not including) the "("; group "w" the level word if it has one
    level: str | None = None  # the canonical level every call of it has
    marker: str | None = None  # regex over the arguments (strings blanked), group 1 a level word
    words: Mapping[str, str] = field(default_factory=dict)  # the family's own level words (exact, as written)


SSSD = {"FATAL_FAILURE": "CRITICAL", "CRIT_FAILURE": "CRITICAL", "OP_FAILURE": "ERROR", "MINOR_FAILURE": "WARN",
        "IMPORTANT_INFO": "INFO", "CONF_SETTINGS": "INFO", "FUNC_DATA": "DEBUG", "BE_FO": "DEBUG",
        "TRACE_FUNC": "TRACE", "TRACE_LIBS": "TRACE", "TRACE_INTERNAL": "TRACE", "TRACE_ALL": "TRACE",
        "TRACE_LDB": "TRACE", "PERF_STAT": "DEBUG"}  # fmt: skip
XLOG = {"L_FATAL": "CRITICAL", "L_ERROR": "ERROR", "L_WARNING": "WARN", "L_NOTICE": "NOTICE",
        "D_*": "DEBUG"}  # fmt: skip
POSTGRES = {"WARNING_CLIENT_ONLY": "WARN", "LOG_SERVER_ONLY": "INFO"}
NM_LETTER = {"T": "TRACE", "D": "DEBUG", "I": "INFO", "W": "WARN", "E": "ERROR"}
SASL = {"FAIL": "ERROR", "PASS": "TRACE"}
OPENVPN = {"M_FATAL": "CRITICAL", "M_ERR": "CRITICAL", "M_NONFATAL": "ERROR", "M_WARN": "WARN", "M_INFO": "INFO",
           "D_*": "DEBUG"}  # fmt: skip
SYSLOG_MARK = r"\bLOG_([A-Z]+)\b"

C_APIS = (
    Api(r"\b(?:pr|dev|netdev)_(?P<w>emerg|alert|crit|err|warn|warning|notice|info|debug|devel|dbg)(?:_once|_ratelimited|_probe)?"),
    Api(r"\b(?:(?:dev|netdev|sdev|scmd|shost|starget|ata_(?:dev|link|port)|xfs)_)?printk|\bext4_msg",
        marker=r"\bKERN_([A-Z]+)\b"),  # the kernel's printk and its subsystems' forms (scsi, libata, ext4, xfs)
    Api(r"\b(?:ata_(?:dev|link|port)|ext4|xfs|btrfs|f2fs|gfs2|ocfs2|jbd2|hid|usb|nvme|bt_dev|wiphy|netif|ibdev|drm)_"
        r"(?P<w>emerg|alert|crit|err|error|warn|warning|notice|info|dbg|debug)(?:_ratelimited|_once|_inode|_file)?"),
    Api(r"\bpanic", level="CRITICAL"),
    Api(r"\bWARN(?:_ONCE|_RATELIMIT)?", level="WARN"),
    Api(r"\b(?:v?syslog|dropbear_log|send_log|LogMsg|sd_journal_print|log_full(?:_errno)?|crm_perror|qb_log|do_crm_log)", marker=SYSLOG_MARK),
    Api(r"\bserverLog", marker=r"\bLL_([A-Z]+)\b"),
    Api(r"\b(?:ereport|elog)", marker=r"\A\s*\(?\s*(ERROR|FATAL|PANIC|WARNING|LOG|NOTICE|INFO|DEBUG[1-5]|COMMERROR|"
                                      r"WARNING_CLIENT_ONLY|LOG_SERVER_ONLY)\b", words=POSTGRES),
    Api(r"\blog_(?P<w>emergency|alert|critical|error|err|warning|warn|notice|info|debug)(?:_errno)?"),  # systemd, unbound
    Api(r"\b(?P<w>fatal|error|logit|verbose|debug[23]?)(?:_fr?|_r)?"),  # OpenSSH (and GNU error())
    Api(r"\bngx_(?:log_error|conf_log_error|ssl_error|log_debug\d?)", marker=r"\bNGX_LOG_([A-Z]+)"),
    Api(r"\bap_log_(?:error|rerror|cerror|perror|serror|mpm_error)", marker=r"\bAPLOG_([A-Z]+)"),
    Api(r"\bha_(?:diag_)?(?P<w>alert|warning|notice)"),
    Api(r"\bg_(?P<w>warning|critical|message|error|info|debug)"),
    Api(r"\b(?:crm|pcmk_?)_(?:rsc_|sched_|config_)?(?P<w>crit|err|warn|notice|info|debug|trace)(?:_once)?"),
    Api(r"\bDEBUG", marker=r"\bSSSDBG_([A-Z_]+)", words=SSSD),
    Api(r"\bsss_log", marker=r"\bSSS_LOG_([A-Z]+)\b"),
    Api(r"\bxlog", marker=r"\b([LD]_[A-Z0-9]+)\b", words=XLOG),
    Api(r"\bxlog_(?P<w>warn|err)"),
    Api(r"\bLogError", level="ERROR"),  # rsyslog
    Api(r"\b(?:DBGPRINTF|dbgprintf)", level="DEBUG"),
    Api(r"\bv?(?P<w>err|warn)x?"),  # err.h: err/errx/verr → ERROR, warn/warnx → WARN
    Api(r"\b_LOG2?(?P<w>[TDIWE])", words=NM_LETTER),  # NetworkManager
    Api(r"\bnm_log_(?P<w>trace|dbg|info|warn|err)"),
    Api(r"\b(?:_sasl_log|log)", marker=r"\bSASL_LOG_([A-Z]+)\b", words=SASL),  # cyrus-sasl, utils->log(…)
    Api(r"\bLOG", marker=r"\bLOGS_([A-Z]+)\b"),  # chrony
    Api(r"\bDEBUG_LOG", level="DEBUG"),
    Api(r"\bmsg", marker=r"\b([MD]_[A-Z_]+)\b", words=OPENVPN),  # OpenVPN
)
JVM_RECEIVER = r"\b(?:LOG|LOGGER|Log|log|logger|_log|_logger|LOG_|s_logger)"
JAVA_APIS = (
    Api(JVM_RECEIVER + r"\.(?P<w>trace|debug|info|warn|warning|error|fatal|severe|fine|finer|finest)"),
)
SCALA_APIS = (*JAVA_APIS, Api(r"(?<![\w.])(?P<w>trace|debug|info|warn|error|fatal)"))  # Kafka's Logging trait
GO_APIS = (
    Api(r"\b(?:log|klog|glog|logrus|logger|lg|l|zap\.[LS]\(\))(?:\.\w+\((?:[^()\n]|\([^()\n]*\))*\))*\."
        r"(?P<w>(?:Error|Warn|Warning|Info|Debug|Fatal|Panic|Trace)(?:f|w|S|ln)?)"),  # fmt: skip
)
PYTHON_APIS = (
    Api(r"\b(?:LOG|LOGGER|log|logger|logging|_log|_logger|_LOG|LOGGING)\.(?P<w>debug|info|warning|warn|error|exception|critical|fatal)"),
)
LANGUAGE_OF = {".c": "c", ".h": "c", ".cc": "c", ".cpp": "c", ".java": "java", ".scala": "scala", ".go": "go",
               ".py": "python"}  # fmt: skip
APIS = {"c": C_APIS, "java": JAVA_APIS, "scala": SCALA_APIS, "go": GO_APIS, "python": PYTHON_APIS}
# Wrappers whose first argument is the message: gettext, PostgreSQL's errmsg, String.format, fmt.Sprintf
WRAPPERS = {"_", "N_", "_LE", "_LW", "_LI", "_LC", "gettext", "errmsg", "errmsg_internal", "errmsg_plural",
            "String.format", "fmt.Sprintf", "format", "Q_"}  # fmt: skip
CALLS = {lang: re.compile("(?:" + "|".join(f"(?:{api.call.replace('(?P<w>', '(?:')})" for api in apis) + r")(?=\s*\()")
         for lang, apis in APIS.items()}  # fmt: skip
COMPILED = {lang: [(re.compile(api.call + r"\Z"), api) for api in apis] for lang, apis in APIS.items()}
MARKERS = {api.marker: re.compile(api.marker) for apis in APIS.values() for api in apis if api.marker}


def level_of_call(lang: str, name: str, blanked_args: str) -> str | None:
    """The canonical level of a call named `name` (as matched) with these arguments, None if it states none."""
    for pattern, api in COMPILED[lang]:
        found = pattern.match(name)
        if found is None:
            continue
        if api.level is not None:
            return api.level
        if api.marker is not None:
            for mark in MARKERS[api.marker].finditer(blanked_args):
                if (level := level_word(mark.group(1), api.words)) is not None:
                    return level
            continue  # another family of the same name may fit (log: SASL's, else none)
        return level_word(found.group("w"), api.words)
    return None
