from engine.analysis.grounding import check_grounding, fact_tokens


def test_fact_tokens_kinds() -> None:
    text = "10.0.0.7:8080 wrote /var/log/x.log for blk_-123 at 0xdeadbeef, 42 times, 3.5 s"
    assert fact_tokens(text) == ["10.0.0.7:8080", "/var/log/x.log", "blk_-123", "0xdeadbeef", "42", "3.5"]


def test_grounding_counts_tokens_missing_from_sources() -> None:
    g = check_grounding("host 10.0.0.7 failed 12 times on /data, pid 999", ["10.0.0.7 failed", "12x on /data"])
    assert g.checked == 4 and g.ungrounded == ("999",)
    assert g.precision == 0.75


def test_a_reply_without_facts_is_fully_grounded() -> None:
    assert check_grounding("Check the disk.", []).precision == 1.0


def test_numbers_inside_words_are_not_facts() -> None:
    assert fact_tokens("ssh2 md0 sda1 ipv4") == []


def test_counts_written_with_x_are_numbers() -> None:
    assert fact_tokens("- 12x ERROR from line 7") == ["12", "7"]


def test_an_address_is_not_cut_out_of_a_longer_run() -> None:
    assert fact_tokens("ip: 10.10.34.13.24.24 and 10.10.34.135 and 1.10.10.34.13 and 10.10.34.13.example.24") == [
        "10.10.34.13.24.24",
        "10.10.34.135",
        "1.10.10.34.13",
        "10.10.34.13.example.24",
    ]
    assert fact_tokens("took 12.5ms, 3 s at 10.0.0.7. Then") == ["12", "3", "10.0.0.7"]
    assert check_grounding("ip: 10.10.34.13.24.24", ["peer 10.10.34.13"]).ungrounded == ("10.10.34.13.24.24",)
