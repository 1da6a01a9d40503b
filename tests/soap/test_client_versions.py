"""clientVersion's version reaches the authenticate that follows, in any web process."""

from __future__ import annotations

from soap.client_versions import KEY_PREFIX, ClientVersions, caller_key


def test_a_version_heard_here_or_in_another_process_is_recalled(redis_conn):
    here, there = ClientVersions(redis_conn), ClientVersions(redis_conn)
    here.remember("10.0.0.1:QBWC", "2.3.0.215")
    assert here.recall("10.0.0.1:QBWC") == "2.3.0.215"
    assert there.recall("10.0.0.1:QBWC") == "2.3.0.215"  # through Redis
    assert there.recall("10.0.0.2:QBWC") is None
    here.remember("10.0.0.1:QBWC", "2.3.0.215")  # the repeat costs no Redis write...
    assert (
        redis_conn.ttl(KEY_PREFIX + caller_key("10.0.0.1:QBWC")) > 0
    )  # ...and the value stays there
    here.remember("10.0.0.1:QBWC", "2.4.0.1")  # an upgrade is told at once
    assert there.recall("10.0.0.1:QBWC") == "2.4.0.1"


def test_only_version_numbers_are_kept_and_no_redis_is_fine():
    versions = ClientVersions(None)
    versions.remember("caller", "<script>alert(1)</script>")
    assert versions.recall("caller") is None
    versions.remember("caller", " 2.3.0.215 ")
    assert versions.recall("caller") == "2.3.0.215"
