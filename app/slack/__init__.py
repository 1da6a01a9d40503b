"""The Slack app (Bolt): OAuth install, signed events, commands, modals and App Home."""
