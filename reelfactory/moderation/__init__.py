"""Moderation: checks that stop a brief or a shot before rendering.

This is the first layer of the stack (blocklists). Classifier layers and frame checks
plug in beside it and contribute findings to the same ``ModerationReport``.
"""

from reelfactory.moderation.blocklist import (
    BUILTIN_BLOCKLIST,
    Blocklist,
    moderate_brief,
    moderate_shots,
    scan,
)

__all__ = ["BUILTIN_BLOCKLIST", "Blocklist", "moderate_brief", "moderate_shots", "scan"]
