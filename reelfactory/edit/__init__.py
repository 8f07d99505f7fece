"""Editing: the timeline (pure), caption files (pure) and the moviepy writer."""
