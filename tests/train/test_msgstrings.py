"""Log messages from source code: each language's logging calls give (level, message), rendering is seeded."""

from __future__ import annotations

import random
import re
from pathlib import Path

from engine.detect.unusual import ERROR, INFO, WARN
from train.linelm import Corpus, LineLMConfig, build_corpus, line_tokenizer, save_line_lm, train_line_lm
from train.msgrender import ERRORS, render
from train.msgstrings import extract, source_examples, source_lines

C_SOURCE = r"""
static int probe(struct thing *t)
{
    pr_err("widget %s: probe failed\n", t->name);   /* pr_info("not this one") */
    // pr_warn("nor this one");
    printk(KERN_WARNING "widget: link "
           "went down on port %d\n", t->port);
    dev_warn(&t->dev, "fan speed is %u rpm\tlow\n", rpm);
    syslog(LOG_ERR, _("cannot read the \"%s\" table"), name);
    serverLog(LL_NOTICE, "replica asked for offset %" PRIu64 " of the stream", off);
    ereport(ERROR, (errcode(ERRCODE_BAD), errmsg("relation \"%s\" has no columns", rel)));
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(09999) "child did not exit in %d seconds", n);
    ngx_log_error(NGX_LOG_INFO, log, 0, "client closed the stream early");
    DEBUG(SSSDBG_MINOR_FAILURE, "cache entry for %s is stale\n", key);
    xlog(L_ERROR, "export table could not be loaded");
    dropbear_log(LOG_INFO, "Exit before auth from <%s>", addr);
    LogError(0, RS_RET_ERR, "queue %s: cannot open the disk file", qname);
    ha_alert("config line %d: unknown proxy keyword\n", line);
    g_warning("settings schema has no key %s", key);
    crm_notice("node %s joined the cluster", node);
    fatal_f("buffer grew past its limit %zu", len);
    warnx(N_("the device is busy, try again"));
    log_error_errno(r, "Failed to open the journal: %m");
    some_helper("a string that is no log message at all");
    error("%s", buf);
}
"""
C_EXPECTED = [
    ("ERROR", "widget %s: probe failed "),
    ("WARN", "widget: link went down on port %d "),
    ("WARN", "fan speed is %u rpm low "),
    ("ERROR", 'cannot read the "%s" table'),
    ("NOTICE", "replica asked for offset %llu of the stream"),
    ("ERROR", 'relation "%s" has no columns'),
    ("WARN", "child did not exit in %d seconds"),
    ("INFO", "client closed the stream early"),
    ("WARN", "cache entry for %s is stale "),
    ("ERROR", "export table could not be loaded"),
    ("INFO", "Exit before auth from <%s>"),
    ("ERROR", "queue %s: cannot open the disk file"),
    ("CRITICAL", "config line %d: unknown proxy keyword "),
    ("WARN", "settings schema has no key %s"),
    ("NOTICE", "node %s joined the cluster"),
    ("CRITICAL", "buffer grew past its limit %zu"),
    ("WARN", "the device is busy, try again"),
    ("ERROR", "Failed to open the journal: %m"),
    ("ERROR", "%s"),
]


def pairs(text: str, lang: str) -> list[tuple[str, str]]:
    return [(m.level, m.text) for m in extract(text, lang)]


def test_c_calls_give_their_level_and_joined_decoded_message() -> None:
    assert pairs(C_SOURCE, "c") == C_EXPECTED


KERNEL_SOURCE = r"""
static void eh(struct ata_device *dev, struct scsi_cmnd *cmd, struct super_block *sb)
{
    ata_dev_err(dev, "failed command: %s\n", name);
    ata_link_warn(link, "hard resetting link\n");
    sdev_printk(KERN_INFO, sdev, "spinning up disk...");
    scmd_printk(KERN_ERR, cmd, "timing out command, waited %lus\n", wait);
    ext4_msg(sb, KERN_ERR, "unable to read superblock");
    ext4_error(sb, "bad block bitmap checksum");
    xfs_alert(mp, "Corruption of in-memory data detected.  Shutting down filesystem");
    btrfs_warn(fs_info, "csum failed root %llu ino %llu", root, ino);
    dev_printk(KERN_NOTICE, dev, "power state changed by ACPI to D%d\n", state);
    panic("Attempted to kill init! exitcode=0x%08x\n", code);
    WARN(1, "unexpected interrupt %d\n", irq);
    ata_dev_printk_helper(dev, "not a logging call");
}
"""


def test_kernel_subsystem_calls_give_their_level() -> None:
    assert pairs(KERNEL_SOURCE, "c") == [
        ("ERROR", "failed command: %s "),
        ("WARN", "hard resetting link "),
        ("INFO", "spinning up disk..."),
        ("ERROR", "timing out command, waited %lus "),
        ("ERROR", "unable to read superblock"),
        ("ERROR", "bad block bitmap checksum"),
        ("CRITICAL", "Corruption of in-memory data detected.  Shutting down filesystem"),
        ("WARN", "csum failed root %llu ino %llu"),
        ("NOTICE", "power state changed by ACPI to D%d "),
        ("CRITICAL", "Attempted to kill init! exitcode=0x%08x "),
        ("WARN", "unexpected interrupt %d "),
    ]


def test_java_and_scala_calls_with_concatenation_and_wrappers() -> None:
    java = """class Pump {
        void run() {
            LOG.info("pump {} started with {} workers", name, n);
            logger.error(String.format("could not drain %s", q), e);
            log.warn("lost contact with " + peer.host()
                     + " after " + retries + " tries");
            LOG.debug(message);
            System.out.println("not a logger call here");
        }
    }"""
    assert pairs(java, "java") == [
        ("INFO", "pump {} started with {} workers"),
        ("ERROR", "could not drain %s"),
        ("WARN", "lost contact with \x00peer.host\x01 after \x00retries\x01 tries"),
    ]
    scala = 'error(s"replica $id fell behind by ${lag.ms} ms")\nlogger.info("leader elected")'
    assert pairs(scala, "scala") == [("ERROR", "replica \x00id\x01 fell behind by \x00lag.ms\x01 ms"),
                                     ("INFO", "leader elected")]  # fmt: skip


def test_go_calls_through_chains_raw_strings_and_zap() -> None:
    go = """func (s *server) stop() {
        log.G(ctx).WithError(err).Errorf("shim %q did not stop: %w", id, err)
        lg.Warn("apply took too long", zap.Duration("took", d))
        klog.V(2).Infof(`volume %v attached`, v)
        fmt.Printf("not a log line %d\\n", 3)
    }"""
    assert pairs(go, "go") == [
        ("ERROR", "shim %q did not stop: %w"),
        ("WARN", "apply took too long"),
        ("INFO", "volume %v attached"),
    ]


def test_python_calls_with_gettext_fstrings_and_implicit_joins() -> None:
    py = '''
LOG.warning(_("Instance %(uuid)s could not be found on %(host)s"),
            {"uuid": uuid, "host": host})
LOG.error(f"lost the lock after {elapsed:.1f} seconds")
logger.info("cache holds %d entries" % n)
LOG.debug("first half, "
          'second half\\tdone')
print("no logger here at all")
LOG.info(msg)
'''
    assert pairs(py, "python") == [
        ("WARN", "Instance %(uuid)s could not be found on %(host)s"),
        ("ERROR", "lost the lock after \x00elapsed\x01 seconds"),
        ("INFO", "cache holds %d entries"),
        ("DEBUG", "first half, second half done"),
    ]


def test_rendering_fills_each_placeholder_with_a_value_of_its_shape() -> None:
    rng = random.Random(3)
    line = render("peer %pI4 sent %08lx at %p: %d%% done, %.2f s", "c", "INFO", rng)
    assert re.fullmatch(r"peer \d+\.\d+\.\d+\.\d+ sent [0-9a-f]{8} at 0x[0-9a-f]+: \d+% done, \d+\.\d\d s", line), line
    line = render("Instance %(uuid)s failed on port %(port)d", "python", "ERROR", rng)
    assert re.fullmatch(r"Instance [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12} failed on port \d+", line)
    line = render("could not open %s: %m", "c", "ERROR", rng)
    assert line.startswith("could not open /") and line.split(": ", 1)[1] in ERRORS
    line = render("pump {} took {} ms for \x00path\x01", "java", "INFO", rng)
    assert re.fullmatch(r"pump [\w-]+ took \d+ ms for /\S+", line), line
    assert "{" not in render("lost the lock after {elapsed} seconds", "python", "INFO", rng)


def test_rendering_is_reproducible_by_seed() -> None:
    texts = ["worker %d of %s failed: %s", "peer %pI4 port %u", "{} took {} ms", "id %08x state %c"]
    first = [render(t, "c" if "%" in t else "java", "ERROR", random.Random(7)) for t in texts]
    again = [render(t, "c" if "%" in t else "java", "ERROR", random.Random(7)) for t in texts]
    other = [render(t, "c" if "%" in t else "java", "ERROR", random.Random(8)) for t in texts]
    assert first == again and first != other


def write_tree(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "pool.c").write_text(
        'void f(void) {\n  pr_err("pool %s lost its disk %d\\n", a, b);\n  pr_info("pool %s is healthy now", a);\n'
        '  pr_info("ok");\n  pr_warn("pool %s is %d percent full", a, b);\n}\n'
    )
    (root / "src" / "agent.py").write_text('LOG.error("agent could not reach %s", host)\n')
    (root / "src" / "notes.txt").write_text('pr_err("a text file is not source code")\n')
    (root / "tests" / "test_pool.c").write_text('pr_err("test code is skipped entirely");\n')
    return root


def test_a_tree_gives_tagged_templates(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "pooltool")
    lines = source_lines(root, 0)
    assert [level for level, _ in lines] == ["ERROR", "ERROR", "INFO", "WARN"]  # agent.py first; "ok": under 3 words
    assert lines == source_lines(root, 0) and lines != source_lines(root, 1)
    examples = source_examples(root, 0)
    assert len(examples) == 4 and {tag for tag, _ in examples} == {ERROR, INFO, WARN}
    assert any(tag == ERROR and re.search(r"pool \S+ lost its disk <NUM>", text) for tag, text in examples)
    assert not any("skipped" in text or "text file" in text for _, text in examples)


def test_build_corpus_names_each_tree_and_the_bundle_records_counts(tmp_path: Path) -> None:
    a, b = write_tree(tmp_path / "pooltool"), write_tree(tmp_path / "other" / "agentd")
    config = LineLMConfig(n_layer=1, n_head=2, n_embd=16, block_size=48, steps=1, batch_size=4, synthetic_windows=1,
                          val_share=0.0)  # fmt: skip
    corpus = build_corpus(None, config, trees=[a, b])
    assert corpus.sources["source/pooltool"] == corpus.sources["source/agentd"] == source_examples(a, 0)
    from engine.lm.bundle import read_config
    from engine.lm.tokenizer import byte_level_ranks

    tokenizer = line_tokenizer(byte_level_ranks())
    small = Corpus({"source/pooltool": corpus.sources["source/pooltool"]})
    save_line_lm(tmp_path / "bundle", train_line_lm(small, tokenizer, config), tokenizer, small, config)
    data = read_config(tmp_path / "bundle").provenance["data"]
    assert data["source_trees"] == {"source/pooltool": 4}
    assert "lost its disk" not in str(data)  # names and counts, never the strings
