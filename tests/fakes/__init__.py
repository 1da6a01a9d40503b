"""Fakes at the network boundary: Slack's Web API (QuickBooks lives in soap.simulator)."""

from tests.fakes.slack_api import Call, FakeSlack, fake_slack_server

__all__ = ["Call", "FakeSlack", "fake_slack_server"]
