"""Serve the flows in this process: ``python -m flows`` (what ``reel up`` runs)."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.produce_video import DEPLOYMENT_NAME, produce_video


def main() -> None:
    deployment = produce_video.to_deployment(name=DEPLOYMENT_NAME)
    assert isinstance(deployment, RunnerDeployment)  # sync call of an async-dispatching method
    serve(deployment, print_starting_message=True)


if __name__ == "__main__":
    main()
