"""The web front door: the brief form, brief pages, and the same actions as a JSON API.

``create_app`` in ``reelfactory.web.app`` builds the FastAPI app; ``reel web`` serves it.
Runs are started by deployment name (``run_deployment``): nothing here imports torch,
diffusers or moviepy.
"""
